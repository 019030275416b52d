//! What the project and task pages share: words for codes, money typed in currency units,
//! typed numbers and dates that report every error at once, the API's field names as the
//! forms name them, and the "tasks moved" sentence after a change pushed followers.

use axum::response::{IntoResponse, Redirect};
use chrono::{Datelike, NaiveDate};
use nexus_core::pages::{Page, filled, query_string, typed_date};
use nexus_core::{ApiError, ApiResult, CurrentUser, FieldError, Validator};

use crate::model::{MovedTask, PROJECTS_MANAGE, ProjectOut, TaskOut};

pub(crate) const READ: &str = "projects:read";
pub(crate) const WRITE: &str = "projects:write";

/// A project's status in words.
pub(crate) fn project_status_word(status: &str) -> &'static str {
    match status {
        "planning" => "Planning",
        "active" => "Active",
        "on-hold" => "On hold",
        "completed" => "Completed",
        "cancelled" => "Cancelled",
        _ => "Unknown",
    }
}

/// A task's status in words.
pub(crate) fn task_status_word(status: &str) -> &'static str {
    match status {
        "todo" => "To do",
        "in-progress" => "In progress",
        "blocked" => "Blocked",
        "done" => "Done",
        "cancelled" => "Cancelled",
        _ => "Unknown",
    }
}

/// How a dependency ties two tasks, as a choice.
pub(crate) fn kind_word(kind: &str) -> &'static str {
    match kind {
        "finish-to-start" => "Starts after the other finishes",
        "start-to-start" => "Starts when the other starts",
        "finish-to-finish" => "Finishes when the other finishes",
        "start-to-finish" => "Finishes when the other starts",
        _ => "Unknown",
    }
}

/// A dependency as a sentence around the two titles: "(successor) starts after
/// (predecessor) finishes".
pub(crate) fn kind_parts(kind: &str) -> (&'static str, &'static str) {
    match kind {
        "start-to-start" => ("starts when", "starts"),
        "finish-to-finish" => ("finishes when", "finishes"),
        "start-to-finish" => ("finishes when", "starts"),
        _ => ("starts after", "finishes"),
    }
}

/// (code, word) pairs for a select.
pub(crate) fn options(codes: &[&str], word: fn(&str) -> &'static str) -> Vec<(String, String)> {
    codes
        .iter()
        .map(|c| (c.to_string(), word(c).to_string()))
        .collect()
}

/// Minor units as money in the plant's currency, thousands grouped: `1250000` is
/// `$12,500.00`.
pub(crate) use nexus_core::pages::money;

/// Money typed in currency units (`12,500.00`, `12500`, `99.5`) as minor units; commas
/// and spaces group thousands. Empty is `None`; anything else is refused on `field`.
pub(crate) fn minor_units(field: &str, text: &str) -> ApiResult<Option<i64>> {
    let Some(t) = filled(text) else {
        return Ok(None);
    };
    let t: String = t.chars().filter(|c| !matches!(c, ',' | ' ')).collect();
    let bad = || ApiError::invalid(field, "must be an amount like 12,500.00");
    let (whole, frac) = t.split_once('.').unwrap_or((&t, ""));
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if whole.is_empty() || frac.len() > 2 || !digits(whole) || !digits(frac) {
        return Err(bad());
    }
    let whole: i64 = whole.parse().map_err(|_| bad())?;
    let frac: i64 = format!("{frac:0<2}").parse().map_err(|_| bad())?;
    whole
        .checked_mul(100)
        .and_then(|w| w.checked_add(frac))
        .map(Some)
        .ok_or_else(bad)
}

/// A date that must be there.
pub(crate) fn required_date(v: &mut Validator, field: &str, text: &str) -> Option<NaiveDate> {
    if filled(text).is_none() {
        v.add(field, "is required");
        return None;
    }
    typed_date(v, field, text)
}

/// The API's field names as the forms name them, and the words for the fields that
/// messages name.
const FIELDS: &[(&str, &str)] = &[
    ("manager_id", "manager"),
    ("budget_minor", "budget"),
    ("assignee_id", "assignee"),
    ("tag_ids", "tags"),
    ("amount_minor", "amount"),
    ("predecessor_id", "predecessor"),
    ("successor_id", "successor"),
];

const WORDS: &[(&str, &str)] = &[
    ("start_date", "the start date"),
    ("end_date", "the end date"),
    ("due_date", "the due date"),
];

/// `err` with its fields named as the form names them; `own` renames more (the cost
/// form's `description`, the member form's `user_id`).
pub(crate) fn for_form(err: ApiError, own: &[(&str, &str)]) -> ApiError {
    let field = |f: &str| {
        own.iter()
            .chain(FIELDS)
            .find(|(api, _)| *api == f)
            .map_or(f, |(_, form)| form)
            .to_string()
    };
    let words = |m: String| {
        WORDS
            .iter()
            .fold(m, |m, (code, word)| m.replace(code, word))
    };
    match err {
        ApiError::Validation(fields) => ApiError::Validation(
            fields
                .into_iter()
                .map(|f| FieldError::new(field(&f.field), words(f.message)))
                .collect(),
        ),
        ApiError::Conflict {
            message,
            field: Some(f),
        } => ApiError::Conflict {
            field: Some(field(&f)),
            message,
        },
        other => other,
    }
}

/// A day as pages show it: `12 May 2026`.
pub(crate) fn day(d: &NaiveDate) -> String {
    d.format("%-d %b %Y").to_string()
}

/// Two days as one span: `12–14 May 2026`, `30 May – 2 Jun 2026`, or one day.
pub(crate) fn days(from: &NaiveDate, to: &NaiveDate) -> String {
    if from == to {
        day(from)
    } else if from.year() != to.year() {
        format!("{} – {}", day(from), day(to))
    } else if from.month() != to.month() {
        format!("{} – {}", from.format("%-d %b"), day(to))
    } else {
        format!("{}–{}", from.day(), day(to))
    }
}

/// Hours as pages show them: `4.5 h`.
pub(crate) fn hours_text(h: &f64) -> String {
    let h = (*h * 100.0).round() / 100.0;
    format!("{h} h")
}

/// Whether `user` may change `p` itself: its fields, team and costs (the service decides;
/// this only offers the forms).
pub(crate) fn may_manage(user: &CurrentUser, p: &ProjectOut) -> bool {
    user.can(WRITE) && (p.manager_id == user.id() || user.can(PROJECTS_MANAGE))
}

/// Whether `user` may work on the tasks of `p`: its manager and team.
pub(crate) fn may_work(user: &CurrentUser, p: &ProjectOut) -> bool {
    may_manage(user, p) || (user.can(WRITE) && p.team.iter().any(|m| m.user_id == user.id()))
}

/// The ids of moved tasks carried by a redirect (`?moved=3,5`), at most a page's worth.
pub(crate) fn moved_ids(text: &str) -> Vec<i64> {
    text.split(',')
        .filter_map(|s| s.trim().parse().ok())
        .take(50)
        .collect()
}

/// Back to `path` after a change that may have pushed tasks: `?done=` names the change
/// and `?moved=` carries the moved tasks' ids, so the page can say where they went.
pub(crate) fn after_moves(path: &str, done: &str, moved: &[MovedTask], anchor: &str) -> Page {
    let ids: Vec<String> = moved.iter().map(|m| m.id.to_string()).collect();
    let query = query_string(&[("done", done), ("moved", &ids.join(","))]);
    Ok(Redirect::to(&format!("{path}?{query}{anchor}")).into_response())
}

/// "Moved 2 following tasks: Paint (now 12–14 May 2026), Assemble (now 15 May 2026)."
pub(crate) fn moved_sentence(tasks: &[TaskOut]) -> Option<String> {
    if tasks.is_empty() {
        return None;
    }
    let list: Vec<String> = tasks
        .iter()
        .map(|t| format!("{} (now {})", t.title, days(&t.start_date, &t.due_date)))
        .collect();
    let count = if tasks.len() == 1 {
        "1 following task".to_string()
    } else {
        format!("{} following tasks", tasks.len())
    };
    Some(format!("Moved {count}: {}.", list.join(", ")))
}

/// The success message and the moved sentence as one flash.
pub(crate) fn flash(done: Option<&str>, moved: Option<String>) -> Option<String> {
    match (done, moved) {
        (Some(d), Some(m)) => Some(format!("{d} {m}")),
        (Some(d), None) => Some(d.to_string()),
        (None, Some(m)) => Some(m),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_both_ways() {
        assert_eq!(money(1_250_000), "$12,500.00");
        assert_eq!(money(5), "$0.05");
        assert_eq!(money(-123_456_789), "-$1,234,567.89");
        assert_eq!(minor_units("b", "12,500.00").unwrap(), Some(1_250_000));
        assert_eq!(minor_units("b", "99.5").unwrap(), Some(9950));
        assert_eq!(minor_units("b", " 7 ").unwrap(), Some(700));
        assert_eq!(minor_units("b", "").unwrap(), None);
        for bad in ["12.345", "-5", "abc", ".5", "1.2.3"] {
            assert!(minor_units("b", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn spans_in_words() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(days(&d("2026-05-12"), &d("2026-05-14")), "12–14 May 2026");
        assert_eq!(
            days(&d("2026-05-30"), &d("2026-06-02")),
            "30 May – 2 Jun 2026"
        );
        assert_eq!(days(&d("2026-05-12"), &d("2026-05-12")), "12 May 2026");
    }
}
