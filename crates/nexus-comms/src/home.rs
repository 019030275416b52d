//! Comms on the home page and the navigation: my unread notifications (the newest few
//! listed), my unread announcements and those waiting for my acknowledgement.

use nexus_core::PageParams;
use nexus_core::auth::BoxFuture;
use nexus_core::home::{Count, Home, Row, Tone, Want, Widget, nothing_about};
use nexus_core::{ApiResult, AppState, CurrentUser};

use crate::model::NotificationFilter;
use crate::service::{notifications, updates};

/// Notifications the panel lists at most; its count says how many are unread in all.
const ROWS: u64 = 5;

/// The inbox panel and the events that change it.
pub const HOME: Home = Home {
    widgets,
    about: nothing_about,
    events: &[
        "notification.created",
        "notification.updated",
        "update.published",
        "update.updated",
    ],
};

fn widgets<'a>(
    state: &'a AppState,
    user: &'a CurrentUser,
    want: Want,
) -> BoxFuture<'a, ApiResult<Vec<Widget>>> {
    Box::pin(async move {
        let db = state.db.read();
        let unread = NotificationFilter {
            is_read: Some(false),
            ..Default::default()
        };
        let page = PageParams {
            limit: Some(ROWS),
            offset: None,
            sort: None,
        };
        // The count alone is one index range; the newest rows only for the panel.
        let (total, newest) = match want {
            Want::Counts => (
                notifications::unread_count(db, user.id()).await?,
                Vec::new(),
            ),
            Want::Panels => {
                let page = notifications::list(db, user.id(), &unread, &page).await?;
                (page.total, page.items)
            }
        };
        let mut counts = vec![
            Count::new(
                "notifications.unread",
                "Unread notifications",
                total,
                "/notifications",
                Tone::Notice,
            )
            .on_nav("/notifications"),
        ];
        if user.can("updates:read") {
            let news = updates::unread_count(db, user).await?;
            counts.push(
                Count::new(
                    "updates.unread",
                    "Unread announcements",
                    news.unread,
                    "/updates",
                    Tone::Notice,
                )
                .on_nav("/updates"),
            );
            counts.push(
                Count::new(
                    "updates.unacknowledged",
                    "Announcements to acknowledge",
                    news.unacknowledged,
                    "/updates",
                    Tone::Warning,
                )
                .on_nav("/updates"),
            );
        }
        let rows = newest
            .into_iter()
            .map(|n| Row {
                href: n.link.unwrap_or_else(|| "/notifications".into()),
                label: n.title,
                detail: n.message,
                tone: match n.r#type.as_str() {
                    "alert" => Tone::Critical,
                    "warning" => Tone::Warning,
                    _ => Tone::Notice,
                },
            })
            .collect();
        Ok(vec![Widget {
            title: "Inbox".into(),
            rank: 5,
            counts,
            rows,
            empty: "No unread notifications.".into(),
            links: vec![
                ("/notifications".into(), "All notifications".into()),
                ("/feed".into(), "Activity feed".into()),
            ],
        }])
    })
}
