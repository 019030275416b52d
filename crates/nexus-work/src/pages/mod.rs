//! The web pages of activities: the list and its forms, one activity with its timeline,
//! "my work", the calendar and the tags. Handlers parse the form, call the same services
//! as the JSON API and render a template. What they share is here: words for codes, tag
//! chips readable on any colour, people chosen by name, times as forms show them.

mod activities;
mod calendar;
mod my_work;
mod project_forms;
mod projects;
mod tags;
mod tasks;

use askama::Template;
use axum::Router;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::routing::get;
use nexus_core::pages::{OrPage, Page, Web, filled, render};
use nexus_core::{ApiError, ApiResult, AppState, Db, PageParams, Timestamp};
use nexus_identity::model::UserFilter;
use serde::Deserialize;

use crate::model::{Recurrence, TagRef};

pub(crate) const READ: &str = "activities:read";
pub(crate) const WRITE: &str = "activities:write";

/// Every row of a paged list, fetched page after page (a page holds at most 500), so a
/// page of the site never shows part of a list as if it were all of it.
pub(crate) async fn every<T, F, Fut>(mut fetch: F) -> ApiResult<Vec<T>>
where
    F: FnMut(PageParams) -> Fut,
    Fut: std::future::Future<Output = ApiResult<nexus_core::ListResponse<T>>>,
{
    let mut out = Vec::new();
    loop {
        let page = PageParams {
            limit: Some(nexus_core::paging::MAX_LIMIT),
            offset: Some(out.len() as u64),
            sort: None,
        };
        let got = fetch(page).await?.items;
        let last = (got.len() as u64) < nexus_core::paging::MAX_LIMIT;
        out.extend(got);
        if last {
            return Ok(out);
        }
    }
}

/// Every page of activities, my work, the calendar and tags.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(activities::router())
        .merge(calendar::router())
        .merge(my_work::router())
        .merge(tags::router())
        .merge(projects::router())
        .merge(tasks::router())
        .route("/work/people/choices", get(people_choices))
}

// ---------------------------------------------------------------- words

/// An activity's status in words.
pub(crate) fn status_word(status: &str) -> &'static str {
    crate::model::status_label(status)
}

/// An activity's (or a task's) priority in words.
pub(crate) fn priority_word(priority: &str) -> &'static str {
    match priority {
        "low" => "Low",
        "medium" => "Medium",
        "high" => "High",
        "urgent" => "Urgent",
        "critical" => "Critical",
        _ => "Unknown",
    }
}

/// A task's status in words.
pub(crate) fn task_status_word(status: &str) -> String {
    let mut s = status.replace(['_', '-'], " ");
    if let Some(first) = s.get(0..1) {
        let up = first.to_uppercase();
        s.replace_range(0..1, &up);
    }
    s
}

/// How a series repeats, in words: "Every 2 weeks until 2027-03-01".
pub(crate) fn recurrence_words(r: &Recurrence) -> String {
    let unit = r.unit.trim_end_matches('s');
    let every = if r.every == 1 {
        match unit {
            "day" => "Every day".to_string(),
            other => format!("Every {other}"),
        }
    } else {
        format!("Every {} {}s", r.every, unit)
    };
    match r.until {
        Some(d) => format!("{every} until {d}"),
        None => format!("{every}, with no end"),
    }
}

/// An instant as pages show it, in plant time: `2026-11-23 14:05 CET`.
pub(crate) fn when(t: &Timestamp) -> String {
    t.display()
}

/// An instant as a `datetime-local` value, in plant time.
pub(crate) fn local(t: &Timestamp) -> String {
    t.input_value()
}

/// The plant-local time of day of an instant: `14:05`.
pub(crate) fn hour(t: &Timestamp) -> String {
    t.local().format("%H:%M").to_string()
}

/// A span as one line in plant time: `2026-11-23 14:05–16:00 CET`, or both ends in full
/// when it spans days (or the clocks change within it).
pub(crate) fn span(start: &Timestamp, end: &Timestamp) -> String {
    let (s, e) = (start.local(), end.local());
    if s.date_naive() == e.date_naive() && s.offset() == e.offset() {
        format!("{}–{}", s.format("%Y-%m-%d %H:%M"), e.format("%H:%M %Z"))
    } else {
        format!("{} – {}", when(start), when(end))
    }
}

// ---------------------------------------------------------------- tag chips

/// A tag drawn as a chip: its colour behind, black or white text, whichever reads better
/// (either contrasts at least 4.5:1 with one of them, as WCAG AA asks).
pub(crate) struct Chip {
    pub id: i64,
    pub name: String,
    pub color: String,
    pub ink: &'static str,
}

/// The relative luminance of `#RRGGBB` (WCAG 2).
fn luminance(hex: &str) -> f64 {
    let channel = |i: usize| {
        let v = hex
            .get(i..i + 2)
            .and_then(|h| u8::from_str_radix(h, 16).ok())
            .unwrap_or(0);
        let c = f64::from(v) / 255.0;
        if c <= 0.039_28 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5)
}

/// The text colour that reads best on `background`.
pub(crate) fn ink(background: &str) -> &'static str {
    let l = luminance(background);
    let on_black = (l + 0.05) / 0.05;
    let on_white = 1.05 / (l + 0.05);
    if on_black >= on_white {
        "#000000"
    } else {
        "#FFFFFF"
    }
}

pub(crate) fn chip(id: i64, name: &str, color: &str) -> Chip {
    let color = if crate::model::is_hex_colour(color) {
        color.to_string()
    } else {
        "#6B7280".into()
    };
    Chip {
        id,
        name: name.to_string(),
        ink: ink(&color),
        color,
    }
}

pub(crate) fn chips(tags: &[TagRef]) -> Vec<Chip> {
    tags.iter().map(|t| chip(t.id, &t.name, &t.color)).collect()
}

// ---------------------------------------------------------------- people by name

/// People a datalist offers at most; typing more narrows them.
const OFFERED: u64 = 30;

/// An active user as offered: the username to type, and the full name.
pub(crate) struct Person {
    pub username: String,
    pub name: String,
}

/// The active users matching `text` (username, e-mail, first or last name), and how many
/// there are.
pub(crate) async fn people(db: &Db, text: &str, limit: u64) -> ApiResult<(Vec<Person>, u64)> {
    let f = UserFilter {
        q: filled(text),
        is_active: Some(true),
        ..UserFilter::default()
    };
    let page = PageParams {
        limit: Some(limit),
        offset: None,
        sort: Some("username".into()),
    };
    let list = nexus_identity::service::list_users(db, &f, &page).await?;
    let found = list
        .items
        .into_iter()
        .map(|u| Person {
            username: u.username,
            name: u.name,
        })
        .collect();
    Ok((found, list.total))
}

/// The active user typed into `field`: their username (any case), or the one person
/// whose name matches; 422 on `field` otherwise.
pub(crate) async fn person(db: &Db, field: &str, text: &str) -> ApiResult<i64> {
    let Some(text) = filled(text) else {
        return Err(ApiError::invalid(field, "choose a person by name"));
    };
    let f = UserFilter {
        q: Some(text.clone()),
        is_active: Some(true),
        ..UserFilter::default()
    };
    let page = PageParams {
        limit: Some(OFFERED),
        offset: None,
        sort: Some("username".into()),
    };
    let list = nexus_identity::service::list_users(db, &f, &page).await?;
    if let Some(u) = list
        .items
        .iter()
        .find(|u| u.username.eq_ignore_ascii_case(&text))
    {
        return Ok(u.id);
    }
    match list.items.as_slice() {
        [one] => Ok(one.id),
        [] => Err(ApiError::invalid(
            field,
            format!("no active user is called “{text}”"),
        )),
        _ => Err(ApiError::invalid(
            field,
            format!("choose one of the {} people matching “{text}”", list.total),
        )),
    }
}

/// The people a datalist offers for what was typed.
#[derive(Default)]
pub(crate) struct Choices {
    pub people: Vec<Person>,
    pub total: u64,
}

impl Choices {
    pub fn more(&self) -> bool {
        self.total > self.people.len() as u64
    }
}

pub(crate) async fn choices(db: &Db, text: &str) -> ApiResult<Choices> {
    let (people, total) = people(db, text, OFFERED).await?;
    Ok(Choices { people, total })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ChoicesQuery {
    q: String,
}

#[derive(Template)]
#[template(
    source = "{% for p in choices.people %}<option value=\"{{ p.username }}\">{{ p.name }}</option>\n{% endfor %}",
    ext = "html"
)]
struct ChoicesFragment {
    choices: Choices,
}

/// The options of a people datalist for what was typed (the search as you type).
async fn people_choices(web: Web, Query(q): Query<ChoicesQuery>) -> Page {
    web.require(READ)?;
    let choices = choices(&web.state.db, &q.q).await.or_page(&web)?;
    Ok(render(StatusCode::OK, &ChoicesFragment { choices }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chips_read_on_any_colour() {
        assert_eq!(ink("#FFFFFF"), "#000000");
        assert_eq!(ink("#000000"), "#FFFFFF");
        assert_eq!(ink("#2563EB"), "#FFFFFF");
        assert_eq!(ink("#FACC15"), "#000000");
        for c in [
            "#16A34A", "#DC2626", "#EA580C", "#6B7280", "#3B82F6", "#777777",
        ] {
            let l = luminance(c);
            let best = ((l + 0.05) / 0.05).max(1.05 / (l + 0.05));
            assert!(best >= 4.5, "{c}: {best}");
        }
    }

    #[test]
    fn recurrence_in_words() {
        let r = |every, unit: &str, until: Option<&str>| Recurrence {
            every,
            unit: unit.into(),
            until: until.map(|d| d.parse().unwrap()),
        };
        assert_eq!(
            recurrence_words(&r(2, "weeks", Some("2027-03-01"))),
            "Every 2 weeks until 2027-03-01"
        );
        assert_eq!(
            recurrence_words(&r(1, "days", None)),
            "Every day, with no end"
        );
        assert_eq!(
            recurrence_words(&r(1, "months", None)),
            "Every month, with no end"
        );
    }
}
