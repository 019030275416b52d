//! The calendar feed: each user may subscribe their calendar app to an iCalendar
//! (RFC 5545) URL of their activities and tasks. The URL holds a secret token kept only
//! hashed; resetting it makes a new one and the old URL stops working.

use chrono::{TimeDelta, Utc};
use nexus_core::audit::AuditCtx;
use nexus_core::auth::{random_token, sha256_hex};
use nexus_core::events::Audience;
use nexus_core::write::Work;
use nexus_core::{ApiError, ApiResult, AppState, CurrentUser, Timestamp};
use nexus_identity::entity::user;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    QueryFilter, QueryOrder,
};

use crate::entity::{activity, calendar_feed, project, task};
use crate::model::*;

/// The path of a feed, to put after the server's address.
pub fn feed_path(token: &str) -> String {
    format!("/api/v1/calendar-feeds/{token}.ics")
}

/// Whether `user` has a feed, and since when.
pub async fn calendar_feed(
    conn: &impl ConnectionTrait,
    user: &CurrentUser,
) -> ApiResult<CalendarFeed> {
    let feed = calendar_feed::Entity::find_by_id(user.id())
        .one(conn)
        .await?;
    Ok(CalendarFeed {
        active: feed.is_some(),
        created_at: feed.map(|f| f.created_at),
        path: None,
    })
}

/// Makes a new feed URL for `user`, replacing the old one (which stops working). The
/// answer is the only time the URL is shown.
pub async fn reset_calendar_feed(
    state: &AppState,
    ctx: &AuditCtx,
    user: &CurrentUser,
) -> ApiResult<CalendarFeed> {
    let token = random_token(24);
    let now = Timestamp::now();
    let mut work = Work::begin(state, ctx).await?;
    calendar_feed::Entity::delete_by_id(user.id())
        .exec(&*work)
        .await?;
    calendar_feed::ActiveModel {
        user_id: Set(user.id()),
        token_hash: Set(sha256_hex(&token)),
        created_at: Set(now),
    }
    .insert(&*work)
    .await?;
    let shown = serde_json::json!({"active": true, "created_at": now});
    work.record(
        "reset",
        "reset",
        "calendar_feed",
        user.id(),
        None,
        Some(&shown),
        Audience::Users(vec![user.id()]),
    )
    .await?;
    work.commit().await?;
    Ok(CalendarFeed {
        active: true,
        created_at: Some(now),
        path: Some(feed_path(&token)),
    })
}

/// Turns `user`'s feed off.
pub async fn delete_calendar_feed(
    state: &AppState,
    ctx: &AuditCtx,
    user: &CurrentUser,
) -> ApiResult<()> {
    let work = Work::begin(state, ctx).await?;
    let gone = calendar_feed::Entity::delete_by_id(user.id())
        .exec(&*work)
        .await?;
    if gone.rows_affected == 0 {
        return Err(ApiError::not_found("calendar feed"));
    }
    work.audit::<()>("delete", "calendar_feed", user.id(), None, None)
        .await?;
    work.commit().await
}

/// How far back and ahead a feed reaches.
const FEED_PAST_DAYS: i64 = 90;
const FEED_AHEAD_DAYS: i64 = 365;

/// The iCalendar document of the feed with `token` (a trailing `.ics` is ignored): the
/// activities its user is assigned to or created and the tasks assigned to them, from 90
/// days back to a year ahead. 404 for an unknown token or an inactive user.
pub async fn feed_ics(conn: &impl ConnectionTrait, token: &str) -> ApiResult<String> {
    let token = token.strip_suffix(".ics").unwrap_or(token);
    let feed = calendar_feed::Entity::find()
        .filter(calendar_feed::Column::TokenHash.eq(sha256_hex(token)))
        .one(conn)
        .await?
        .ok_or_else(|| ApiError::not_found("calendar feed"))?;
    let owner = user::Entity::find_by_id(feed.user_id)
        .one(conn)
        .await?
        .filter(|u| u.is_active)
        .ok_or_else(|| ApiError::not_found("calendar feed"))?;
    let now = Utc::now();
    let from = Timestamp::from_datetime(now - TimeDelta::days(FEED_PAST_DAYS));
    let to = Timestamp::from_datetime(now + TimeDelta::days(FEED_AHEAD_DAYS));
    let activities = activity::Entity::find()
        .filter(
            Condition::any()
                .add(activity::Column::AssignedToId.eq(owner.id))
                .add(activity::Column::CreatedById.eq(owner.id)),
        )
        .filter(activity::Column::StartTime.gte(from))
        .filter(activity::Column::StartTime.lt(to))
        .order_by_asc(activity::Column::StartTime)
        .order_by_asc(activity::Column::Id)
        .all(conn)
        .await?;
    let day = |t: Timestamp| t.to_datetime().date_naive().format("%Y-%m-%d").to_string();
    let tasks = task::Entity::find()
        .filter(task::Column::AssigneeId.eq(owner.id))
        .filter(task::Column::DueDate.gte(day(from)))
        .filter(task::Column::StartDate.lt(day(to)))
        .order_by_asc(task::Column::StartDate)
        .order_by_asc(task::Column::Id)
        .all(conn)
        .await?;
    let projects: std::collections::HashMap<i64, String> = project::Entity::find()
        .filter(project::Column::Id.is_in(tasks.iter().map(|t| t.project_id)))
        .all(conn)
        .await?
        .into_iter()
        .map(|p| (p.id, p.name))
        .collect();

    let mut ics = Ics::default();
    ics.line("BEGIN:VCALENDAR");
    ics.line("VERSION:2.0");
    ics.line("PRODID:-//Nexus//Activities and tasks//EN");
    ics.line("CALSCALE:GREGORIAN");
    ics.line("METHOD:PUBLISH");
    ics.prop("X-WR-CALNAME", &format!("Nexus: {}", owner.username));
    let stamp = instant(Timestamp::now());
    for a in &activities {
        ics.line("BEGIN:VEVENT");
        ics.line(&format!("UID:activity-{}@nexus", a.id));
        ics.line(&format!("DTSTAMP:{stamp}"));
        ics.line(&format!("DTSTART:{}", instant(a.start_time)));
        ics.line(&format!("DTEND:{}", instant(a.end_time)));
        ics.line(&format!("LAST-MODIFIED:{}", instant(a.updated_at)));
        ics.line(&format!("SEQUENCE:{}", a.version - 1));
        ics.prop("SUMMARY", &a.title);
        if !a.description.is_empty() {
            ics.prop("DESCRIPTION", &a.description);
        }
        ics.prop("CATEGORIES", &a.activity_type);
        ics.line(&format!("PRIORITY:{}", ical_priority(&a.priority)));
        ics.line(&format!("STATUS:{}", ical_status(&a.status)));
        ics.line("END:VEVENT");
    }
    for t in &tasks {
        let (Ok(start), Ok(due)) = (
            t.start_date.parse::<chrono::NaiveDate>(),
            t.due_date.parse::<chrono::NaiveDate>(),
        ) else {
            continue;
        };
        let project = projects
            .get(&t.project_id)
            .map(String::as_str)
            .unwrap_or("");
        ics.line("BEGIN:VEVENT");
        ics.line(&format!("UID:task-{}@nexus", t.id));
        ics.line(&format!("DTSTAMP:{stamp}"));
        ics.line(&format!("DTSTART;VALUE=DATE:{}", start.format("%Y%m%d")));
        // All-day events end the day after their last day.
        ics.line(&format!(
            "DTEND;VALUE=DATE:{}",
            (due + TimeDelta::days(1)).format("%Y%m%d")
        ));
        ics.line(&format!("LAST-MODIFIED:{}", instant(t.updated_at)));
        ics.line(&format!("SEQUENCE:{}", t.version - 1));
        ics.prop("SUMMARY", &format!("Task: {} ({project})", t.title));
        if !t.description.is_empty() {
            ics.prop("DESCRIPTION", &t.description);
        }
        let status = match t.status.as_str() {
            "done" => "CONFIRMED",
            "cancelled" => "CANCELLED",
            _ => "TENTATIVE",
        };
        ics.line(&format!("STATUS:{status}"));
        ics.line("END:VEVENT");
    }
    ics.line("END:VCALENDAR");
    Ok(ics.out)
}

/// An instant as iCalendar writes UTC: `20261206T083000Z`.
fn instant(t: Timestamp) -> String {
    t.to_datetime().format("%Y%m%dT%H%M%SZ").to_string()
}

/// RFC 5545 priorities run from 1 (highest) to 9 (lowest).
fn ical_priority(p: &str) -> u8 {
    match p {
        "urgent" => 1,
        "high" => 3,
        "low" => 9,
        _ => 5,
    }
}

fn ical_status(s: &str) -> &'static str {
    match s {
        "cancelled" => "CANCELLED",
        "planned" => "TENTATIVE",
        _ => "CONFIRMED",
    }
}

/// An iCalendar document: CRLF line ends, lines folded at 75 octets, texts escaped.
#[derive(Default)]
struct Ics {
    out: String,
}

impl Ics {
    /// A text property, escaped as RFC 5545 §3.3.11 says.
    fn prop(&mut self, name: &str, text: &str) {
        let mut escaped = String::with_capacity(text.len());
        for c in text.chars() {
            match c {
                '\\' => escaped.push_str("\\\\"),
                ';' => escaped.push_str("\\;"),
                ',' => escaped.push_str("\\,"),
                '\n' => escaped.push_str("\\n"),
                '\r' => {}
                c => escaped.push(c),
            }
        }
        self.line(&format!("{name}:{escaped}"));
    }

    /// One content line, folded so no physical line passes 75 octets, never inside a
    /// character.
    fn line(&mut self, line: &str) {
        let mut width = 0;
        for c in line.chars() {
            let n = c.len_utf8();
            if width + n > 75 {
                self.out.push_str("\r\n ");
                width = 1;
            }
            self.out.push(c);
            width += n;
        }
        self.out.push_str("\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_fold_at_75_octets_and_texts_are_escaped() {
        let mut ics = Ics::default();
        ics.prop("SUMMARY", &format!("{}; é, done\nnext", "x".repeat(80)));
        for physical in ics.out.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(physical.len() <= 75, "{physical:?}");
        }
        let unfolded = ics.out.replace("\r\n ", "");
        assert_eq!(
            unfolded,
            format!("SUMMARY:{}\\; é\\, done\\nnext\r\n", "x".repeat(80))
        );
    }
}
