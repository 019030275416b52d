//! Email digests: when `NEXUS_SMTP_URL` is set, each user with an email address gets their
//! new unread notifications (of the kinds they take by email) in one email, at most every
//! `NEXUS_DIGEST_MINUTES`. One node runs each pass (`comms.digests`); besides, a user's
//! digest is sent by the one node whose guarded UPDATE claimed it, and a failed send
//! releases the claim for the next pass.

use std::collections::HashSet;
use std::time::Duration;

use lettre::message::{Mailbox, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use nexus_core::audit::AuditCtx;
use nexus_core::auth::random_token;
use nexus_core::jobs::{self, Job};
use nexus_core::write::Work;
use nexus_core::{ApiError, ApiResult, AppState, Timestamp};
use nexus_identity::entity::user;
use sea_orm::sea_query::{Expr, ExprTrait, Func, OnConflict, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, JoinType, QueryFilter,
    QueryOrder, QuerySelect, Value,
};

use crate::entity::{digest, notification};
use crate::service::notifications;

/// How often one node looks for digests that are due.
const PASS: Duration = Duration::from_secs(60);
/// How long a claim holds: longer than any send, short enough that a node dying mid-send
/// delays that digest only a little.
const CLAIM_SECS: i64 = 5 * 60;
/// Notifications listed in one email; the rest are counted.
const LISTED: usize = 50;

/// How digests leave: the SMTP transport and the sender, built once from the settings.
struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

/// The mailer of this node, or none when `NEXUS_SMTP_URL` is unset.
struct Outbox(Option<Mailer>);

/// Checks the mail settings and, when `NEXUS_SMTP_URL` is set, starts the pass that sends
/// due digests every minute. A bad URL or sender fails the start.
pub fn start(state: &AppState) -> ApiResult<()> {
    let config = &state.config;
    let mailer = match config.smtp_url.as_deref() {
        None => None,
        Some(url) => Some(Mailer {
            transport: AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                .map_err(|e| ApiError::internal(format!("NEXUS_SMTP_URL: {e}")))?
                .build(),
            from: config
                .mail_from
                .parse()
                .map_err(|e| ApiError::internal(format!("NEXUS_MAIL_FROM: {e}")))?,
        }),
    };
    let on = mailer.is_some();
    state.domains.insert(Outbox(mailer));
    if on && state.config.digest_passes {
        let job = Job {
            name: "comms.digests",
            every: PASS,
            once_across_nodes: true,
            at_start: false,
        };
        jobs::every(state, job, |s| async move { send_due(&s).await });
    }
    Ok(())
}

/// Sends every digest that is due and this node claims; how many emails went out. None
/// without `NEXUS_SMTP_URL`. A failed send is logged and retried on a later pass.
pub async fn send_due(state: &AppState) -> ApiResult<usize> {
    let outbox = state.domains.get::<Outbox>();
    let Some(mailer) = &outbox.0 else {
        return Ok(0);
    };
    let now = Timestamp::now();
    let sent_before = now.plus_seconds(-(state.config.digest_minutes as i64) * 60);
    let mut sent = 0;
    for user_id in due(state.db.read(), now, sent_before).await? {
        let Some(after) = claim(state, user_id, sent_before).await? else {
            continue;
        };
        match send_one(state, mailer, user_id, after).await {
            Ok(outcome) => {
                sent += usize::from(outcome.is_some_and(|o| o.sent));
                settle(state, user_id, outcome).await?;
            }
            Err(e) => {
                tracing::warn!(user = user_id, error = %e, "notification digest not sent");
                settle(state, user_id, None).await?;
            }
        }
    }
    Ok(sent)
}

/// Users with an email address, no digest within the interval and none being sent, who
/// have unread notifications newer than their last digest: one index probe each on
/// `(user_id, is_read, id)`.
async fn due(
    conn: &impl ConnectionTrait,
    now: Timestamp,
    sent_before: Timestamp,
) -> ApiResult<Vec<i64>> {
    use notification::Column as N;
    let newer = Query::select()
        .expr(Expr::val(1))
        .from(notification::Entity)
        .and_where(
            Expr::col((notification::Entity, N::UserId)).equals((user::Entity, user::Column::Id)),
        )
        .and_where(Expr::col((notification::Entity, N::IsRead)).eq(false))
        .and_where(Expr::col((notification::Entity, N::IsDismissed)).eq(false))
        .and_where(Expr::col((notification::Entity, N::Id)).gt(Func::coalesce([
            Expr::col((digest::Entity, digest::Column::LastNotificationId)),
            Expr::val(0),
        ])))
        .to_owned();
    let free = Condition::any().add(digest::Column::UserId.is_null()).add(
        Condition::all()
            .add(digest::Column::LastSentAt.lte(sent_before))
            .add(
                Condition::any()
                    .add(digest::Column::ClaimedUntil.is_null())
                    .add(digest::Column::ClaimedUntil.lt(now)),
            ),
    );
    Ok(user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .join(
            JoinType::LeftJoin,
            user::Entity::belongs_to(digest::Entity)
                .from(user::Column::Id)
                .to(digest::Column::UserId)
                .into(),
        )
        .filter(user::Column::IsActive.eq(true))
        .filter(user::Column::Email.is_not_null())
        .filter(user::Column::Email.ne(""))
        .filter(free)
        .filter(Expr::exists(newer))
        .order_by_asc(user::Column::Id)
        .into_tuple()
        .all(conn)
        .await?)
}

/// Claims `user_id`'s next digest for this node; the last notification their previous
/// digest covered. `None` for every node but the one whose guarded UPDATE changed the row
/// (no live claim, none sent within the interval).
async fn claim(state: &AppState, user_id: i64, sent_before: Timestamp) -> ApiResult<Option<i64>> {
    let now = Timestamp::now();
    let ctx = AuditCtx::default();
    let w = Work::begin(state, &ctx).await?;
    digest::Entity::insert(digest::ActiveModel {
        user_id: Set(user_id),
        last_sent_at: Set(Timestamp(0)),
        last_notification_id: Set(0),
        claimed_until: Set(None),
    })
    .on_conflict(
        OnConflict::column(digest::Column::UserId)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(&*w)
    .await?;
    let claimed = digest::Entity::update_many()
        .col_expr(
            digest::Column::ClaimedUntil,
            Expr::value(now.plus_seconds(CLAIM_SECS)),
        )
        .filter(digest::Column::UserId.eq(user_id))
        .filter(digest::Column::LastSentAt.lte(sent_before))
        .filter(
            Condition::any()
                .add(digest::Column::ClaimedUntil.is_null())
                .add(digest::Column::ClaimedUntil.lt(now)),
        )
        .exec(&*w)
        .await?
        .rows_affected;
    let after = if claimed == 1 {
        digest::Entity::find_by_id(user_id)
            .one(&*w)
            .await?
            .map(|d| d.last_notification_id)
    } else {
        None
    };
    w.commit().await?;
    Ok(after)
}

/// What a claimed pass did: the newest notification it looked at, and whether it emailed.
#[derive(Clone, Copy)]
struct Outcome {
    newest: i64,
    sent: bool,
}

/// Emails `user_id` their unread notifications newer than `after` of the kinds they take
/// by email; `None` when nothing is new.
async fn send_one(
    state: &AppState,
    mailer: &Mailer,
    user_id: i64,
    after: i64,
) -> ApiResult<Option<Outcome>> {
    let conn = state.db.read();
    let fresh: Vec<(i64, String)> = notification::Entity::find()
        .select_only()
        .column(notification::Column::Id)
        .column(notification::Column::Kind)
        .filter(notification::Column::UserId.eq(user_id))
        .filter(notification::Column::IsRead.eq(false))
        .filter(notification::Column::IsDismissed.eq(false))
        .filter(notification::Column::Id.gt(after))
        .order_by_desc(notification::Column::Id)
        .into_tuple()
        .all(conn)
        .await?;
    let Some(&(newest, _)) = fresh.first() else {
        return Ok(None);
    };
    let by_email: HashSet<String> = notifications::preferences(conn, user_id)
        .await?
        .into_iter()
        .filter(|p| p.email)
        .map(|p| p.kind)
        .collect();
    let ids: Vec<i64> = fresh
        .into_iter()
        .filter(|(_, kind)| by_email.contains(kind))
        .map(|(id, _)| id)
        .collect();
    if ids.is_empty() {
        return Ok(Some(Outcome {
            newest,
            sent: false,
        }));
    }
    let listed = notification::Entity::find()
        .filter(notification::Column::Id.is_in(ids.iter().take(LISTED).copied()))
        .order_by_desc(notification::Column::Id)
        .all(conn)
        .await?;
    let who = user::Entity::find_by_id(user_id)
        .one(conn)
        .await?
        .ok_or_else(|| ApiError::not_found("user"))?;
    let address = who.email.as_deref().unwrap_or_default().trim();
    let to = Mailbox::new(
        Some(name_of(&who)),
        address
            .parse()
            .map_err(|e| ApiError::internal(format!("email address {address:?}: {e}")))?,
    );
    let n = ids.len();
    let email = Message::builder()
        .message_id(Some(format!(
            "<{}@{}>",
            random_token(16),
            mailer.from.email.domain()
        )))
        .from(mailer.from.clone())
        .to(to)
        .subject(format!(
            "Nexus: {n} unread notification{}",
            if n == 1 { "" } else { "s" }
        ))
        .header(ContentType::TEXT_PLAIN)
        .body(body(
            &state.config.public_url,
            &state.plant.get(),
            &listed,
            n,
        ))
        .map_err(ApiError::internal)?;
    mailer
        .transport
        .send(email)
        .await
        .map_err(ApiError::internal)?;
    Ok(Some(Outcome { newest, sent: true }))
}

/// How the email addresses a user: their full name, else their username.
fn name_of(u: &user::Model) -> String {
    nexus_identity::model::full_name(u.first_name.as_deref(), u.last_name.as_deref())
        .unwrap_or_else(|| u.username.clone())
}

/// The plain-text digest: the newest notifications listed with their links, the rest
/// counted, and where to read them all and choose what comes by email. Times are the
/// plant's.
fn body(
    public_url: &str,
    plant: &nexus_core::plant::Plant,
    listed: &[notification::Model],
    total: usize,
) -> String {
    let base = public_url.trim_end_matches('/');
    let mut out = format!(
        "You have {total} new unread notification{} in Nexus.\n\n",
        if total == 1 { "" } else { "s" }
    );
    for n in listed {
        out.push_str(&format!("* {}\n", n.title));
        for line in n.message.lines().filter(|l| !l.trim().is_empty()) {
            out.push_str(&format!("  {line}\n"));
        }
        if let Some(link) = &n.link {
            out.push_str(&format!("  {base}{link}\n"));
        }
        out.push_str(&format!("  {}\n\n", plant.display(n.created_at)));
    }
    if total > listed.len() {
        out.push_str(&format!("... and {} more.\n\n", total - listed.len()));
    }
    out.push_str(&format!(
        "Read them all: {base}/notifications\n\
         Choose what comes by email: {base}/notifications#preferences\n"
    ));
    out
}

/// Ends `user_id`'s claim. After a pass that looked at notifications up to `newest`, the
/// next digest covers only newer ones, and one that emailed starts the interval; after a
/// failure nothing moves and the next pass retries.
async fn settle(state: &AppState, user_id: i64, outcome: Option<Outcome>) -> ApiResult<()> {
    let ctx = AuditCtx::default();
    let w = Work::begin(state, &ctx).await?;
    let mut q = digest::Entity::update_many()
        .col_expr(
            digest::Column::ClaimedUntil,
            Expr::value(Value::BigInt(None)),
        )
        .filter(digest::Column::UserId.eq(user_id));
    if let Some(o) = outcome {
        q = q.col_expr(digest::Column::LastNotificationId, Expr::value(o.newest));
        if o.sent {
            q = q.col_expr(digest::Column::LastSentAt, Expr::value(Timestamp::now()));
        }
    }
    q.exec(&*w).await?;
    w.commit().await
}
