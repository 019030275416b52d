//! Business rules of the identity domain: first-start defaults, sign-in with lockout and
//! rate limit, sessions and refresh-token rotation, users, roles and departments.

use std::collections::{HashMap, HashSet};

use nexus_core::audit::{self, AuditCtx};
use nexus_core::auth::{self, Principal};
use nexus_core::domain::PermissionDef;
use nexus_core::events::{self, Audience, Heard};
use nexus_core::extract::IfMatch;
use nexus_core::paging::page_of;
use nexus_core::write::{Work, delete_versioned, find_current, lock_invariant, update_versioned};
use nexus_core::{
    ApiError, ApiResult, AppState, ClientInfo, Db, ListResponse, PageParams, Timestamp, Validator,
};
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};

use crate::entity::{department, permission, refresh_token, role, role_permission, session, user};
use crate::model::*;

/// The departments created on first start (`004_cce711f8dcf04044.txt`).
pub const DEFAULT_DEPARTMENTS: [&str; 6] = [
    "Engineering",
    "Production",
    "Quality Control",
    "Maintenance",
    "Operations",
    "Management",
];

/// Whether a session belongs to the web UI (cookie) or an API client (tokens).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionKind {
    Api,
    Web,
}

impl SessionKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Api => "api",
            Self::Web => "web",
        }
    }
}

// ---------------------------------------------------------------- first start

/// Creates what a fresh installation needs and keeps built-in roles in step with the
/// permission catalogue. Returns the generated admin password when one was made.
pub async fn bootstrap(
    db: &Db,
    catalogue: &[&[PermissionDef]],
    admin_password: Option<&str>,
) -> ApiResult<Option<String>> {
    let txn = db.write().begin().await?;
    let now = Timestamp::now();

    let mut perms: HashMap<String, i64> = permission::Entity::find()
        .all(&txn)
        .await?
        .into_iter()
        .map(|p| (p.name, p.id))
        .collect();
    let all_defs: Vec<&PermissionDef> = catalogue.iter().flat_map(|c| c.iter()).collect();
    let wanted = std::iter::once(("*", "Everything"))
        .chain(all_defs.iter().map(|d| (d.name, d.description)));
    for (name, description) in wanted {
        if perms.contains_key(name) {
            continue;
        }
        let (resource, action) = name.split_once(':').unwrap_or(("*", "*"));
        let row = permission::ActiveModel {
            name: Set(name.to_string()),
            resource: Set(resource.to_string()),
            action: Set(action.to_string()),
            description: Set(Some(description.to_string())),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        perms.insert(row.name, row.id);
    }

    let mut role_ids = HashMap::new();
    for (name, description) in BUILTIN_ROLES {
        let existing = role::Entity::find()
            .filter(role::Column::Name.eq(name))
            .one(&txn)
            .await?;
        let id = match existing {
            Some(r) => r.id,
            None => {
                role::ActiveModel {
                    name: Set(name.to_string()),
                    description: Set(Some(description.to_string())),
                    is_builtin: Set(true),
                    created_at: Set(now),
                    updated_at: Set(now),
                    version: Set(1),
                    ..Default::default()
                }
                .insert(&txn)
                .await?
                .id
            }
        };
        role_ids.insert(name, id);
        let desired: HashSet<i64> = if name == "admin" {
            HashSet::from([perms["*"]])
        } else {
            all_defs
                .iter()
                .filter(|d| d.granted_to.contains(&name))
                .map(|d| perms[d.name])
                .collect()
        };
        let current: HashSet<i64> = role_permission::Entity::find()
            .filter(role_permission::Column::RoleId.eq(id))
            .all(&txn)
            .await?
            .into_iter()
            .map(|rp| rp.permission_id)
            .collect();
        for pid in desired.difference(&current) {
            role_permission::ActiveModel {
                role_id: Set(id),
                permission_id: Set(*pid),
                created_at: Set(now),
            }
            .insert(&txn)
            .await?;
        }
        let extra: Vec<i64> = current.difference(&desired).copied().collect();
        if !extra.is_empty() {
            role_permission::Entity::delete_many()
                .filter(role_permission::Column::RoleId.eq(id))
                .filter(role_permission::Column::PermissionId.is_in(extra))
                .exec(&txn)
                .await?;
        }
    }

    let mut generated = None;
    if user::Entity::find().count(&txn).await? == 0 {
        for name in DEFAULT_DEPARTMENTS {
            let exists = department::Entity::find()
                .filter(department::Column::Name.eq(name))
                .one(&txn)
                .await?
                .is_some();
            if !exists {
                department::ActiveModel {
                    name: Set(name.to_string()),
                    is_active: Set(true),
                    created_at: Set(now),
                    updated_at: Set(now),
                    version: Set(1),
                    ..Default::default()
                }
                .insert(&txn)
                .await?;
            }
        }
        let password = match admin_password {
            Some(p) => p.to_string(),
            None => {
                let p = auth::random_token(15);
                generated = Some(p.clone());
                p
            }
        };
        let mut v = Validator::new();
        valid_password(&mut v, "NEXUS_ADMIN_PASSWORD", &password);
        v.finish()?;
        let admin = user::ActiveModel {
            username: Set("admin".into()),
            password_hash: Set(auth::hash_password(password).await?),
            first_name: Set(Some("System".into())),
            last_name: Set(Some("Administrator".into())),
            preferences: Set("{}".into()),
            role_id: Set(role_ids["admin"]),
            is_active: Set(true),
            email_verified: Set(false),
            failed_logins: Set(0),
            created_at: Set(now),
            updated_at: Set(now),
            version: Set(1),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        audit::record(
            &txn,
            &AuditCtx::default(),
            "create",
            "user",
            Some(admin.id),
            None,
            Some(serde_json::json!({"username": "admin", "role": "admin"})),
        )
        .await?;
    }
    txn.commit().await?;
    Ok(generated)
}

// ---------------------------------------------------------------- lookups

struct Names {
    roles: HashMap<i64, String>,
    departments: HashMap<i64, String>,
}

async fn names<C: ConnectionTrait>(conn: &C) -> ApiResult<Names> {
    let roles = role::Entity::find()
        .all(conn)
        .await?
        .into_iter()
        .map(|r| (r.id, r.name))
        .collect();
    let departments = department::Entity::find()
        .all(conn)
        .await?
        .into_iter()
        .map(|d| (d.id, d.name))
        .collect();
    Ok(Names { roles, departments })
}

fn user_out(u: user::Model, names: &Names) -> UserOut {
    let role = names.roles.get(&u.role_id).cloned().unwrap_or_default();
    let name = match (&u.first_name, &u.last_name) {
        (None, None) => u.username.clone(),
        (f, l) => [f.as_deref(), l.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" "),
    };
    UserOut {
        id: u.id,
        department: u
            .department_id
            .and_then(|d| names.departments.get(&d).cloned()),
        is_admin: role == "admin",
        role,
        name,
        username: u.username,
        email: u.email,
        first_name: u.first_name,
        last_name: u.last_name,
        phone: u.phone,
        department_id: u.department_id,
        position: u.position,
        avatar_url: u.avatar_url,
        preferences: serde_json::from_str(&u.preferences).unwrap_or_else(|_| serde_json::json!({})),
        is_active: u.is_active,
        email_verified: u.email_verified,
        locked_until: u.locked_until,
        last_login: u.last_login,
        created_at: u.created_at,
        updated_at: u.updated_at,
        version: u.version,
    }
}

async fn role_permissions<C: ConnectionTrait>(conn: &C, role_id: i64) -> ApiResult<Vec<String>> {
    let ids: Vec<i64> = role_permission::Entity::find()
        .filter(role_permission::Column::RoleId.eq(role_id))
        .all(conn)
        .await?
        .into_iter()
        .map(|rp| rp.permission_id)
        .collect();
    let mut names: Vec<String> = permission::Entity::find()
        .filter(permission::Column::Id.is_in(ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|p| p.name)
        .collect();
    names.sort();
    Ok(names)
}

/// The principal behind a live session, or `None` when it ended or the user is inactive.
pub async fn load_principal(
    db: &Db,
    user_id: i64,
    session_id: i64,
) -> ApiResult<Option<Principal>> {
    let conn = db.read();
    let Some(s) = session::Entity::find_by_id(session_id).one(conn).await? else {
        return Ok(None);
    };
    if s.user_id != user_id || s.revoked_at.is_some() || s.expires_at <= Timestamp::now() {
        return Ok(None);
    }
    let Some(u) = user::Entity::find_by_id(user_id).one(conn).await? else {
        return Ok(None);
    };
    if !u.is_active {
        return Ok(None);
    }
    let permissions = role_permissions(conn, u.role_id).await?;
    let out = user_out(u, &names(conn).await?);
    let me = MeOut {
        user: out.clone(),
        permissions: permissions.clone(),
    };
    Ok(Some(Principal {
        user_id,
        session_id,
        username: out.username,
        role: out.role,
        permissions: permissions.into_iter().collect(),
        profile_json: serde_json::to_string(&me)
            .map_err(ApiError::internal)?
            .into(),
    }))
}

// ---------------------------------------------------------------- sign-in and sessions

/// What a successful sign-in yields.
pub struct LoginOutcome {
    pub user_id: i64,
    pub session_id: i64,
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub expires_in: i64,
}

const BAD_CREDENTIALS: &str = "invalid username or password";

/// Signs a user in: rate limit per IP, lockout after repeated failures, the same answer
/// for an unknown user, a wrong password and a locked account; a new session on success.
pub async fn login(
    state: &AppState,
    client: &ClientInfo,
    req: LoginRequest,
    kind: SessionKind,
) -> ApiResult<LoginOutcome> {
    let db = state.db.write();
    let cfg = &state.config;
    let ident = req.username.trim().to_lowercase();
    let attempt = serde_json::json!({"username": ident});
    if let Err(wait) = state
        .login_limiter
        .hit(client.ip.as_deref().unwrap_or("unknown"))
    {
        let ctx = client.audit(None);
        let work = Work::begin(state, &ctx).await?;
        work.audit("login_rate_limited", "auth", 0, None, Some(&attempt))
            .await?;
        work.commit().await?;
        return Err(ApiError::TooManyRequests {
            message: "too many sign-in attempts; wait before trying again".into(),
            retry_after: wait,
        });
    }
    if ident.is_empty() || ident.len() > 255 || req.password.len() > 1024 {
        return Err(ApiError::Unauthorized(BAD_CREDENTIALS.into()));
    }
    let found = user::Entity::find()
        .filter(
            Condition::any()
                .add(user::Column::Username.eq(ident.clone()))
                .add(user::Column::Email.eq(ident.clone())),
        )
        .one(db)
        .await?;
    let now = Timestamp::now();
    // The password is checked even on a locked account, so that neither the answer nor
    // its timing tells a locked account from a wrong password or an unknown name.
    let ok = auth::verify_password(
        req.password,
        found.as_ref().map(|u| u.password_hash.clone()),
    )
    .await?;
    let locked = |u: &user::Model| u.locked_until.is_some_and(|t| t > now);
    let user = match found {
        Some(u) if ok && u.is_active && !locked(&u) => u,
        other => {
            let ctx = client.audit(other.as_ref().map(|u| u.id));
            let work = Work::begin(state, &ctx).await?;
            // Attempts on a locked account do not extend the lock.
            if let Some(u) = other.filter(|u| u.is_active && !locked(u)) {
                record_failure(state, &work, &u, now).await?;
            }
            work.audit("login_failed", "auth", 0, None, Some(&attempt))
                .await?;
            work.commit().await?;
            return Err(ApiError::Unauthorized(BAD_CREDENTIALS.into()));
        }
    };

    let ttl = match kind {
        SessionKind::Api => cfg.refresh_token_ttl_secs,
        SessionKind::Web => cfg.web_session_ttl_secs,
    };
    let ctx = client.audit(Some(user.id));
    let work = Work::begin(state, &ctx).await?;
    let txn = &*work;
    user::Entity::update_many()
        .col_expr(user::Column::FailedLogins, Expr::value(0))
        .col_expr(user::Column::LockedUntil, Expr::value(Option::<i64>::None))
        .col_expr(user::Column::LastLogin, Expr::value(now.0))
        .filter(user::Column::Id.eq(user.id))
        .exec(txn)
        .await?;
    let session = session::ActiveModel {
        user_id: Set(user.id),
        kind: Set(kind.as_str().into()),
        ip_address: Set(client.ip.clone()),
        user_agent: Set(client.user_agent.clone()),
        created_at: Set(now),
        expires_at: Set(now.plus_seconds(ttl)),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    let refresh = match kind {
        SessionKind::Api => Some(new_refresh_token(txn, session.id, now).await?),
        SessionKind::Web => None,
    };
    let signed_in = serde_json::json!({"kind": kind.as_str()});
    work.audit("login", "session", session.id, None, Some(&signed_in))
        .await?;
    work.commit().await?;

    let access_ttl = match kind {
        SessionKind::Api => cfg.access_token_ttl_secs,
        SessionKind::Web => cfg.web_session_ttl_secs,
    };
    Ok(LoginOutcome {
        user_id: user.id,
        session_id: session.id,
        access_token: state.auth.issue(user.id, session.id, access_ttl)?,
        refresh_token: refresh,
        expires_in: access_ttl,
    })
}

/// Counts a failed sign-in atomically and locks the account at the threshold.
async fn record_failure(
    state: &AppState,
    work: &Work<'_>,
    u: &user::Model,
    now: Timestamp,
) -> ApiResult<()> {
    let txn = &**work;
    user::Entity::update_many()
        .col_expr(
            user::Column::FailedLogins,
            Expr::col(user::Column::FailedLogins).add(1),
        )
        .filter(user::Column::Id.eq(u.id))
        .exec(txn)
        .await?;
    let failures = user::Entity::find_by_id(u.id)
        .one(txn)
        .await?
        .map(|u| u.failed_logins)
        .unwrap_or(0);
    if failures >= state.config.lockout_threshold {
        let until = now.plus_seconds(state.config.lockout_minutes * 60);
        user::Entity::update_many()
            .col_expr(user::Column::FailedLogins, Expr::value(0))
            .col_expr(user::Column::LockedUntil, Expr::value(until.0))
            .filter(user::Column::Id.eq(u.id))
            .exec(txn)
            .await?;
        let locked = serde_json::json!({"locked_until": until, "failed_logins": failures});
        work.audit("account_locked", "user", u.id, None, Some(&locked))
            .await?;
    }
    Ok(())
}

async fn new_refresh_token<C: ConnectionTrait>(
    conn: &C,
    session_id: i64,
    now: Timestamp,
) -> ApiResult<String> {
    let token = format!("{session_id}.{}", auth::random_token(32));
    refresh_token::ActiveModel {
        session_id: Set(session_id),
        token_hash: Set(auth::sha256_hex(&token)),
        created_at: Set(now),
        used_at: Set(None),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(token)
}

async fn revoke_sessions<C: ConnectionTrait>(
    conn: &C,
    cond: Condition,
    reason: &str,
) -> ApiResult<Vec<i64>> {
    let ids: Vec<i64> = session::Entity::find()
        .filter(cond)
        .filter(session::Column::RevokedAt.is_null())
        .all(conn)
        .await?
        .into_iter()
        .map(|s| s.id)
        .collect();
    if !ids.is_empty() {
        session::Entity::update_many()
            .col_expr(session::Column::RevokedAt, Expr::value(Timestamp::now().0))
            .col_expr(session::Column::RevokedReason, Expr::value(reason))
            .filter(session::Column::Id.is_in(ids.clone()))
            .exec(conn)
            .await?;
    }
    Ok(ids)
}

/// Keeps the principal cache true to changes made on any node: local changes invalidate
/// directly, and this drops what other nodes' events make stale.
pub fn spawn_cache_invalidation(state: &AppState) {
    let auth = state.auth.clone();
    events::on(
        &state.events,
        &["session", "user", "role", "department"],
        move |heard| {
            match heard {
                Heard::Event(e) => match e.entity.as_str() {
                    "session" => auth.invalidate_session(e.id),
                    "user" => auth.invalidate_user(e.id),
                    _ => auth.invalidate_all(),
                },
                // Missed events: forget everything rather than trust a stale entry.
                Heard::Missed => auth.invalidate_all(),
            }
            std::future::ready(())
        },
    );
}

/// Rotates a refresh token. A token used twice revokes its whole session.
pub async fn refresh(
    state: &AppState,
    client: &ClientInfo,
    token: &str,
) -> ApiResult<TokenResponse> {
    let invalid = || ApiError::Unauthorized("invalid or expired refresh token".into());
    let db = state.db.write();
    let now = Timestamp::now();
    let Some(rt) = refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(auth::sha256_hex(token.trim())))
        .one(db)
        .await?
    else {
        return Err(invalid());
    };
    let Some(s) = session::Entity::find_by_id(rt.session_id).one(db).await? else {
        return Err(invalid());
    };
    if s.revoked_at.is_some() || s.expires_at <= now {
        return Err(invalid());
    }
    let ctx = client.audit(Some(s.user_id));
    let mut work = Work::begin(state, &ctx).await?;
    // Claimed once: of two requests with the same token, the second finds it used.
    let claimed = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::UsedAt, Expr::value(now.0))
        .filter(refresh_token::Column::Id.eq(rt.id))
        .filter(refresh_token::Column::UsedAt.is_null())
        .exec(&*work)
        .await?
        .rows_affected
        == 1;
    if !claimed {
        revoke_sessions(
            &*work,
            Condition::all().add(session::Column::Id.eq(s.id)),
            "refresh_token_reuse",
        )
        .await?;
        let owner = serde_json::json!({"user_id": s.user_id});
        work.record(
            "refresh_token_reuse",
            "revoked",
            "session",
            s.id,
            None,
            Some(&owner),
            Audience::Users(vec![s.user_id]),
        )
        .await?;
        work.commit().await?;
        state.auth.invalidate_session(s.id);
        return Err(ApiError::Unauthorized(
            "refresh token was already used; the session has been revoked, sign in again".into(),
        ));
    }
    let user_ok = user::Entity::find_by_id(s.user_id)
        .one(&*work)
        .await?
        .is_some_and(|u| u.is_active);
    if !user_ok {
        return Err(invalid());
    }
    let next = new_refresh_token(&*work, s.id, now).await?;
    work.commit().await?;
    let ttl = state.config.access_token_ttl_secs;
    Ok(TokenResponse {
        access_token: state.auth.issue(s.user_id, s.id, ttl)?,
        refresh_token: next,
        token_type: "Bearer",
        expires_in: ttl,
    })
}

/// Ends the caller's session.
pub async fn logout(state: &AppState, client: &ClientInfo, principal: &Principal) -> ApiResult<()> {
    let ctx = client.audit(Some(principal.user_id));
    let mut work = Work::begin(state, &ctx).await?;
    revoke_sessions(
        &*work,
        Condition::all().add(session::Column::Id.eq(principal.session_id)),
        "logout",
    )
    .await?;
    let owner = serde_json::json!({"user_id": principal.user_id});
    work.record(
        "logout",
        "revoked",
        "session",
        principal.session_id,
        None,
        Some(&owner),
        Audience::Users(vec![principal.user_id]),
    )
    .await?;
    work.commit().await?;
    state.auth.invalidate_session(principal.session_id);
    Ok(())
}

/// Changes the caller's own password; their other sessions end.
pub async fn change_password(
    state: &AppState,
    client: &ClientInfo,
    principal: &Principal,
    req: ChangePasswordRequest,
) -> ApiResult<()> {
    let mut v = Validator::new();
    valid_password(&mut v, "new_password", &req.new_password);
    v.check(
        req.new_password != req.current_password,
        "new_password",
        "must differ from the current password",
    );
    v.finish()?;
    let db = state.db.write();
    let u = user::Entity::find_by_id(principal.user_id)
        .one(db)
        .await?
        .ok_or_else(|| ApiError::not_found("user"))?;
    if !auth::verify_password(req.current_password, Some(u.password_hash.clone())).await? {
        return Err(ApiError::invalid(
            "current_password",
            "is not your current password",
        ));
    }
    let hash = auth::hash_password(req.new_password).await?;
    let ctx = client.audit(Some(u.id));
    let mut work = Work::begin(state, &ctx).await?;
    user::Entity::update_many()
        .col_expr(user::Column::PasswordHash, Expr::value(hash))
        .col_expr(user::Column::UpdatedAt, Expr::value(Timestamp::now().0))
        .col_expr(
            user::Column::Version,
            Expr::col(user::Column::Version).add(1),
        )
        .filter(user::Column::Id.eq(u.id))
        .exec(&*work)
        .await?;
    let ended = revoke_sessions(
        &*work,
        Condition::all()
            .add(session::Column::UserId.eq(u.id))
            .add(session::Column::Id.ne(principal.session_id)),
        "password_change",
    )
    .await?;
    let change = serde_json::json!({"sessions_ended": ended.len()});
    work.record(
        "password_change",
        "sessions_revoked",
        "user",
        u.id,
        None,
        Some(&change),
        Audience::Users(vec![u.id]),
    )
    .await?;
    work.commit().await?;
    state.auth.invalidate_user(u.id);
    Ok(())
}

/// An admin sets someone's password: the account is unlocked and all its sessions end.
pub async fn reset_password(
    state: &AppState,
    ctx: &AuditCtx,
    user_id: i64,
    req: ResetPasswordRequest,
) -> ApiResult<()> {
    let mut v = Validator::new();
    valid_password(&mut v, "new_password", &req.new_password);
    v.finish()?;
    let db = state.db.write();
    user::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .ok_or_else(|| ApiError::not_found("user"))?;
    let hash = auth::hash_password(req.new_password).await?;
    let mut work = Work::begin(state, ctx).await?;
    user::Entity::update_many()
        .col_expr(user::Column::PasswordHash, Expr::value(hash))
        .col_expr(user::Column::FailedLogins, Expr::value(0))
        .col_expr(user::Column::LockedUntil, Expr::value(Option::<i64>::None))
        .col_expr(user::Column::UpdatedAt, Expr::value(Timestamp::now().0))
        .col_expr(user::Column::UpdatedBy, Expr::value(ctx.actor_id))
        .col_expr(
            user::Column::Version,
            Expr::col(user::Column::Version).add(1),
        )
        .filter(user::Column::Id.eq(user_id))
        .exec(&*work)
        .await?;
    revoke_sessions(
        &*work,
        Condition::all().add(session::Column::UserId.eq(user_id)),
        "password_reset",
    )
    .await?;
    work.record::<()>(
        "password_reset",
        "sessions_revoked",
        "user",
        user_id,
        None,
        None,
        Audience::Users(vec![user_id]),
    )
    .await?;
    work.commit().await?;
    state.auth.invalidate_user(user_id);
    Ok(())
}

// ---------------------------------------------------------------- users

pub async fn list_users(
    db: &Db,
    f: &UserFilter,
    page: &PageParams,
) -> ApiResult<ListResponse<UserOut>> {
    let conn = db.read();
    let mut cond = Condition::all();
    if let Some(q) = f.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        let mut any = Condition::any();
        for col in [
            user::Column::Username,
            user::Column::Email,
            user::Column::FirstName,
            user::Column::LastName,
        ] {
            any = any
                .add(Expr::expr(Func::lower(Expr::col(col))).like(nexus_core::contains_pattern(q)));
        }
        cond = cond.add(any);
    }
    if let Some(r) = &f.role {
        let rid = role::Entity::find()
            .filter(role::Column::Name.eq(r.trim()))
            .one(conn)
            .await?
            .map(|r| r.id)
            .unwrap_or(-1);
        cond = cond.add(user::Column::RoleId.eq(rid));
    }
    if let Some(d) = f.department_id {
        cond = cond.add(user::Column::DepartmentId.eq(d));
    }
    if let Some(a) = f.is_active {
        cond = cond.add(user::Column::IsActive.eq(a));
    }
    let rows = page_of(
        conn,
        user::Entity::find().filter(cond),
        page,
        &["id", "username", "created_at", "last_login"],
        ("id", false),
    )
    .await?;
    let names = names(conn).await?;
    Ok(rows.map(|u| user_out(u, &names)))
}

pub async fn get_user(db: &Db, id: i64) -> ApiResult<UserOut> {
    let conn = db.read();
    let u = user::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| ApiError::not_found("user"))?;
    Ok(user_out(u, &names(conn).await?))
}

/// Usernames of the users `ids` (`None`s and unknown ids left out), for showing people by
/// name on other domains' pages.
pub async fn usernames(
    conn: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = Option<i64>>,
) -> ApiResult<HashMap<i64, String>> {
    let mut ids: Vec<i64> = ids.into_iter().flatten().collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    // Two columns, not the whole profile: lists call this for every page they show.
    let pairs: Vec<(i64, String)> = user::Entity::find()
        .select_only()
        .columns([user::Column::Id, user::Column::Username])
        .filter(user::Column::Id.is_in(ids))
        .into_tuple()
        .all(conn)
        .await?;
    Ok(pairs.into_iter().collect())
}

/// The id of the user called `username`, if there is one.
pub async fn user_id_by_username(db: &Db, username: &str) -> ApiResult<Option<i64>> {
    Ok(user::Entity::find()
        .filter(user::Column::Username.eq(username))
        .one(db.read())
        .await?
        .map(|u| u.id))
}

async fn role_by_name<C: ConnectionTrait>(conn: &C, name: &str) -> ApiResult<role::Model> {
    role::Entity::find()
        .filter(role::Column::Name.eq(name))
        .one(conn)
        .await?
        .ok_or_else(|| ApiError::invalid("role", format!("no role named '{name}'")))
}

/// 422 unless `id` is absent or names a department.
pub async fn check_department<C: ConnectionTrait>(conn: &C, id: Option<i64>) -> ApiResult<()> {
    if let Some(id) = id
        && department::Entity::find_by_id(id)
            .one(conn)
            .await?
            .is_none()
    {
        return Err(ApiError::invalid(
            "department_id",
            format!("no department with id {id}"),
        ));
    }
    Ok(())
}

async fn check_unique_user<C: ConnectionTrait>(
    conn: &C,
    username: Option<&str>,
    email: Option<&str>,
    except: Option<i64>,
) -> ApiResult<()> {
    let not_self = |c: Condition| match except {
        Some(id) => c.add(user::Column::Id.ne(id)),
        None => c,
    };
    if let Some(name) = username {
        let taken = user::Entity::find()
            .filter(not_self(
                Condition::all().add(user::Column::Username.eq(name)),
            ))
            .count(conn)
            .await?
            > 0;
        if taken {
            return Err(ApiError::conflict_on(
                "username",
                format!("username '{name}' is taken"),
            ));
        }
    }
    if let Some(email) = email {
        let taken = user::Entity::find()
            .filter(not_self(
                Condition::all().add(user::Column::Email.eq(email)),
            ))
            .count(conn)
            .await?
            > 0;
        if taken {
            return Err(ApiError::conflict_on(
                "email",
                format!("email '{email}' is already in use"),
            ));
        }
    }
    Ok(())
}

pub async fn create_user(
    state: &AppState,
    ctx: &AuditCtx,
    mut req: CreateUser,
) -> ApiResult<UserOut> {
    req.validate()?;
    let hash = auth::hash_password(req.password.clone()).await?;
    let mut work = Work::begin(state, ctx).await?;
    let txn = &*work;
    let role = role_by_name(txn, req.role.as_deref().unwrap_or("user")).await?;
    check_department(txn, req.department_id).await?;
    check_unique_user(txn, Some(&req.username), req.email.as_deref(), None).await?;
    let now = Timestamp::now();
    let created = user::ActiveModel {
        username: Set(req.username),
        email: Set(req.email),
        password_hash: Set(hash),
        first_name: Set(req.first_name),
        last_name: Set(req.last_name),
        phone: Set(req.phone),
        department_id: Set(req.department_id),
        position: Set(req.position),
        avatar_url: Set(req.avatar_url),
        preferences: Set(req
            .preferences
            .unwrap_or_else(|| serde_json::json!({}))
            .to_string()),
        role_id: Set(role.id),
        is_active: Set(req.is_active.unwrap_or(true)),
        email_verified: Set(false),
        failed_logins: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
        created_by: Set(ctx.actor_id),
        updated_by: Set(ctx.actor_id),
        version: Set(1),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    let out = user_out(created, &names(txn).await?);
    work.created("user", out.id, &out, users_audience()).await?;
    work.commit().await?;
    Ok(out)
}

/// Who hears of changes to accounts.
fn users_audience() -> Audience {
    Audience::Permission("users:read".into())
}

/// Who hears of changes to roles.
fn roles_audience() -> Audience {
    Audience::Permission("roles:read".into())
}

/// Active admins, counted under the admin role's row lock so that two transactions each
/// removing a different admin cannot both see the other one still there.
async fn active_admins<C: ConnectionTrait>(conn: &C) -> ApiResult<u64> {
    let admin = role_by_name(conn, "admin").await?;
    lock_invariant(conn, "roles", admin.id).await?;
    Ok(user::Entity::find()
        .filter(user::Column::RoleId.eq(admin.id))
        .filter(user::Column::IsActive.eq(true))
        .count(conn)
        .await?)
}

pub async fn update_user(
    state: &AppState,
    ctx: &AuditCtx,
    id: i64,
    if_match: IfMatch,
    mut req: UpdateUser,
) -> ApiResult<UserOut> {
    req.validate()?;
    let mut work = Work::begin(state, ctx).await?;
    let txn = &*work;
    let current = find_current::<user::Entity, _>(txn, id, if_match, "user").await?;
    let before_names = names(txn).await?;
    let before = user_out(current.clone(), &before_names);

    let mut am: user::ActiveModel = current.clone().into();
    if let Some(email) = req.email {
        check_unique_user(txn, None, email.as_deref(), Some(id)).await?;
        am.email = Set(email);
    }
    if let Some(v) = req.first_name {
        am.first_name = Set(v);
    }
    if let Some(v) = req.last_name {
        am.last_name = Set(v);
    }
    if let Some(v) = req.phone {
        am.phone = Set(v);
    }
    if let Some(v) = req.department_id {
        check_department(txn, v).await?;
        am.department_id = Set(v);
    }
    if let Some(v) = req.position {
        am.position = Set(v);
    }
    if let Some(v) = req.avatar_url {
        am.avatar_url = Set(v);
    }
    if let Some(v) = req.preferences {
        am.preferences = Set(v.to_string());
    }
    if let Some(v) = req.email_verified {
        am.email_verified = Set(v);
    }
    let mut losing_admin = false;
    if let Some(name) = req.role.as_deref() {
        let r = role_by_name(txn, name).await?;
        losing_admin |= before.is_admin && r.name != "admin";
        am.role_id = Set(r.id);
    }
    if let Some(active) = req.is_active {
        if !active && ctx.actor_id == Some(id) {
            return Err(ApiError::conflict_on(
                "is_active",
                "you cannot deactivate your own account",
            ));
        }
        losing_admin |= before.is_admin && before.is_active && !active;
        am.is_active = Set(active);
    }
    if losing_admin && active_admins(txn).await? <= 1 {
        return Err(ApiError::conflict(
            "this is the last active admin; make another admin first",
        ));
    }
    am.updated_at = Set(Timestamp::now());
    am.updated_by = Set(ctx.actor_id);
    let after = user_out(
        update_versioned(txn, am, current.version).await?,
        &before_names,
    );
    if before.is_active && !after.is_active {
        revoke_sessions(
            txn,
            Condition::all().add(session::Column::UserId.eq(id)),
            "deactivated",
        )
        .await?;
    }
    work.updated("user", id, &before, &after, users_audience())
        .await?;
    work.commit().await?;
    state.auth.invalidate_user(id);
    Ok(after)
}

// ---------------------------------------------------------------- roles and permissions

pub async fn list_permissions(db: &Db) -> ApiResult<Vec<PermissionOut>> {
    Ok(permission::Entity::find()
        .order_by_asc(permission::Column::Name)
        .all(db.read())
        .await?
        .into_iter()
        .map(|p| PermissionOut {
            name: p.name,
            resource: p.resource,
            action: p.action,
            description: p.description,
        })
        .collect())
}

async fn role_out<C: ConnectionTrait>(conn: &C, r: role::Model) -> ApiResult<RoleOut> {
    Ok(RoleOut {
        permissions: role_permissions(conn, r.id).await?,
        id: r.id,
        name: r.name,
        description: r.description,
        is_builtin: r.is_builtin,
        created_at: r.created_at,
        updated_at: r.updated_at,
        version: r.version,
    })
}

pub async fn list_roles(db: &Db) -> ApiResult<Vec<RoleOut>> {
    let conn = db.read();
    let mut out = Vec::new();
    for r in role::Entity::find()
        .order_by_asc(role::Column::Id)
        .all(conn)
        .await?
    {
        out.push(role_out(conn, r).await?);
    }
    Ok(out)
}

pub async fn get_role(db: &Db, id: i64) -> ApiResult<RoleOut> {
    let conn = db.read();
    let r = role::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| ApiError::not_found("role"))?;
    role_out(conn, r).await
}

/// Resolves permission names to ids; 422 naming any that do not exist.
async fn permission_ids<C: ConnectionTrait>(conn: &C, names: &[String]) -> ApiResult<Vec<i64>> {
    let wanted: HashSet<&str> = names.iter().map(|n| n.trim()).collect();
    let known: HashMap<String, i64> = permission::Entity::find()
        .all(conn)
        .await?
        .into_iter()
        .map(|p| (p.name, p.id))
        .collect();
    let unknown: Vec<&str> = wanted
        .iter()
        .filter(|n| !known.contains_key(**n))
        .copied()
        .collect();
    if !unknown.is_empty() {
        let mut unknown = unknown;
        unknown.sort();
        return Err(ApiError::invalid(
            "permissions",
            format!("unknown permission(s): {}", unknown.join(", ")),
        ));
    }
    Ok(wanted.iter().map(|n| known[*n]).collect())
}

async fn set_role_permissions<C: ConnectionTrait>(
    conn: &C,
    role_id: i64,
    ids: &[i64],
) -> ApiResult<()> {
    role_permission::Entity::delete_many()
        .filter(role_permission::Column::RoleId.eq(role_id))
        .exec(conn)
        .await?;
    let now = Timestamp::now();
    for pid in ids {
        role_permission::ActiveModel {
            role_id: Set(role_id),
            permission_id: Set(*pid),
            created_at: Set(now),
        }
        .insert(conn)
        .await?;
    }
    Ok(())
}

pub async fn create_role(state: &AppState, ctx: &AuditCtx, req: CreateRole) -> ApiResult<RoleOut> {
    let name = req.name.trim().to_string();
    let description = nexus_core::validate::clean(req.description);
    let mut v = Validator::new();
    valid_role_name(&mut v, &name);
    v.opt_text("description", description.as_deref(), 1000);
    v.finish()?;
    let mut work = Work::begin(state, ctx).await?;
    let txn = &*work;
    nexus_core::unique::ensure_free::<role::Entity, _>(
        txn,
        role::Column::Name,
        role::Column::Id,
        &name,
        None,
        "name",
        format!("a role named '{}' exists", &name),
    )
    .await?;
    let ids = permission_ids(txn, &req.permissions).await?;
    let now = Timestamp::now();
    let r = role::ActiveModel {
        name: Set(name),
        description: Set(description),
        is_builtin: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    set_role_permissions(txn, r.id, &ids).await?;
    let out = role_out(txn, r).await?;
    work.created("role", out.id, &out, roles_audience()).await?;
    work.commit().await?;
    Ok(out)
}

pub async fn update_role(
    state: &AppState,
    ctx: &AuditCtx,
    id: i64,
    if_match: IfMatch,
    req: UpdateRole,
) -> ApiResult<RoleOut> {
    let mut work = Work::begin(state, ctx).await?;
    let txn = &*work;
    let current = find_current::<role::Entity, _>(txn, id, if_match, "role").await?;
    if current.is_builtin {
        return Err(ApiError::conflict(
            "built-in roles cannot be changed; create a custom role instead",
        ));
    }
    let before = role_out(txn, current.clone()).await?;
    let mut am: role::ActiveModel = current.clone().into();
    let mut v = Validator::new();
    if let Some(name) = &req.name {
        valid_role_name(&mut v, name.trim());
    }
    let description = req.description.map(nexus_core::validate::clean);
    if let Some(d) = &description {
        v.opt_text("description", d.as_deref(), 1000);
    }
    v.finish()?;
    if let Some(name) = req.name {
        nexus_core::unique::ensure_free::<role::Entity, _>(
            txn,
            role::Column::Name,
            role::Column::Id,
            name.trim(),
            Some(id),
            "name",
            format!("a role named '{}' exists", name.trim()),
        )
        .await?;
        am.name = Set(name.trim().to_string());
    }
    if let Some(d) = description {
        am.description = Set(d);
    }
    if let Some(perms) = &req.permissions {
        let ids = permission_ids(txn, perms).await?;
        set_role_permissions(txn, id, &ids).await?;
    }
    am.updated_at = Set(Timestamp::now());
    let updated = update_versioned(txn, am, current.version).await?;
    let after = role_out(txn, updated).await?;
    work.updated("role", id, &before, &after, roles_audience())
        .await?;
    work.commit().await?;
    state.auth.invalidate_all();
    Ok(after)
}

pub async fn delete_role(
    state: &AppState,
    ctx: &AuditCtx,
    id: i64,
    if_match: IfMatch,
) -> ApiResult<()> {
    let mut work = Work::begin(state, ctx).await?;
    let txn = &*work;
    let current = find_current::<role::Entity, _>(txn, id, if_match, "role").await?;
    if current.is_builtin {
        return Err(ApiError::conflict("built-in roles cannot be deleted"));
    }
    let holders = user::Entity::find()
        .filter(user::Column::RoleId.eq(id))
        .count(txn)
        .await?;
    if holders > 0 {
        return Err(ApiError::conflict(format!(
            "{holders} user(s) hold this role; give them another role first"
        )));
    }
    let before = role_out(txn, current).await?;
    delete_versioned::<role::Entity, _>(txn, id, before.version).await?;
    work.deleted("role", id, &before, roles_audience()).await?;
    work.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------- departments

fn department_out(d: department::Model) -> DepartmentOut {
    DepartmentOut {
        id: d.id,
        name: d.name,
        description: d.description,
        is_active: d.is_active,
        created_at: d.created_at,
        updated_at: d.updated_at,
        version: d.version,
    }
}

pub async fn list_departments(
    db: &Db,
    f: &DepartmentFilter,
    page: &PageParams,
) -> ApiResult<ListResponse<DepartmentOut>> {
    let mut cond = Condition::all();
    if let Some(q) = f.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        cond = cond.add(
            Expr::expr(Func::lower(Expr::col(department::Column::Name)))
                .like(nexus_core::contains_pattern(q)),
        );
    }
    if let Some(a) = f.is_active {
        cond = cond.add(department::Column::IsActive.eq(a));
    }
    let rows = page_of(
        db.read(),
        department::Entity::find().filter(cond),
        page,
        &["id", "name", "created_at"],
        ("name", false),
    )
    .await?;
    Ok(rows.map(department_out))
}

/// Every department, by name: the complete choice list of forms, never cut short.
pub async fn all_departments(db: &Db) -> ApiResult<Vec<DepartmentOut>> {
    Ok(department::Entity::find()
        .order_by_asc(department::Column::Name)
        .order_by_asc(department::Column::Id)
        .all(db.read())
        .await?
        .into_iter()
        .map(department_out)
        .collect())
}

pub async fn get_department(db: &Db, id: i64) -> ApiResult<DepartmentOut> {
    department::Entity::find_by_id(id)
        .one(db.read())
        .await?
        .map(department_out)
        .ok_or_else(|| ApiError::not_found("department"))
}

pub async fn create_department(
    state: &AppState,
    ctx: &AuditCtx,
    req: CreateDepartment,
) -> ApiResult<DepartmentOut> {
    let name = req.name.trim().to_string();
    let description = nexus_core::validate::clean(req.description);
    let mut v = Validator::new();
    v.text("name", &name, 1, 100);
    v.opt_text("description", description.as_deref(), 1000);
    v.finish()?;
    let mut work = Work::begin(state, ctx).await?;
    let txn = &*work;
    nexus_core::unique::ensure_free::<department::Entity, _>(
        txn,
        department::Column::Name,
        department::Column::Id,
        &name,
        None,
        "name",
        format!("a department named '{}' exists", &name),
    )
    .await?;
    let now = Timestamp::now();
    let d = department::ActiveModel {
        name: Set(name),
        description: Set(description),
        is_active: Set(req.is_active.unwrap_or(true)),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    let out = department_out(d);
    work.created("department", out.id, &out, Audience::All)
        .await?;
    work.commit().await?;
    Ok(out)
}

pub async fn update_department(
    state: &AppState,
    ctx: &AuditCtx,
    id: i64,
    if_match: IfMatch,
    req: UpdateDepartment,
) -> ApiResult<DepartmentOut> {
    let name = req.name.map(|n| n.trim().to_string());
    let description = req.description.map(nexus_core::validate::clean);
    let mut v = Validator::new();
    if let Some(n) = &name {
        v.text("name", n, 1, 100);
    }
    if let Some(d) = &description {
        v.opt_text("description", d.as_deref(), 1000);
    }
    v.finish()?;
    let mut work = Work::begin(state, ctx).await?;
    let txn = &*work;
    let current = find_current::<department::Entity, _>(txn, id, if_match, "department").await?;
    let before = department_out(current.clone());
    let mut am: department::ActiveModel = current.clone().into();
    if let Some(n) = name {
        nexus_core::unique::ensure_free::<department::Entity, _>(
            txn,
            department::Column::Name,
            department::Column::Id,
            &n,
            Some(id),
            "name",
            format!("a department named '{n}' exists"),
        )
        .await?;
        am.name = Set(n);
    }
    if let Some(d) = description {
        am.description = Set(d);
    }
    if let Some(a) = req.is_active {
        am.is_active = Set(a);
    }
    am.updated_at = Set(Timestamp::now());
    let after = department_out(update_versioned(txn, am, current.version).await?);
    work.updated("department", id, &before, &after, Audience::All)
        .await?;
    work.commit().await?;
    state.auth.invalidate_all();
    Ok(after)
}

pub async fn delete_department(
    state: &AppState,
    ctx: &AuditCtx,
    id: i64,
    if_match: IfMatch,
) -> ApiResult<()> {
    let mut work = Work::begin(state, ctx).await?;
    let txn = &*work;
    let current = find_current::<department::Entity, _>(txn, id, if_match, "department").await?;
    let members = user::Entity::find()
        .filter(user::Column::DepartmentId.eq(id))
        .count(txn)
        .await?;
    if members > 0 {
        return Err(ApiError::conflict(format!(
            "{members} user(s) belong to this department; move them or deactivate the department instead"
        )));
    }
    delete_versioned::<department::Entity, _>(txn, id, current.version).await?;
    work.deleted("department", id, &department_out(current), Audience::All)
        .await?;
    work.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------- audit trail

pub async fn audit_page(db: &Db, q: AuditQuery) -> ApiResult<AuditPage> {
    let limit = q
        .limit
        .unwrap_or(nexus_core::paging::DEFAULT_LIMIT)
        .clamp(1, nexus_core::paging::MAX_LIMIT);
    if let (Some(from), Some(to)) = (q.from, q.to)
        && from > to
    {
        return Err(ApiError::invalid("to", "must not be before `from`"));
    }
    let items = audit::list(
        db.read(),
        &audit::AuditFilter {
            entity_type: q.entity_type,
            entity_id: q.entity_id,
            actor_id: q.actor_id,
            action: q.action,
            from: q.from,
            to: q.to,
            after: q.after,
            limit,
        },
    )
    .await?;
    let next_after = (items.len() as u64 == limit)
        .then(|| items.last().map(|e| e.id))
        .flatten();
    Ok(AuditPage {
        items,
        limit,
        next_after,
    })
}

// ---------------------------------------------------------------- generated people

/// Ids of `n` generated people (`{prefix}00001` …, role `user`, spread over the
/// departments, a password that matches nothing until an admin sets one), written many
/// per statement; those that exist already are kept. For `nexus seed` and benchmarks.
pub async fn seed_people(state: &AppState, prefix: &str, n: u64) -> ApiResult<Vec<i64>> {
    use nexus_core::seeding::{insert_rows, sync_sequence};
    let conn = state.db.write();
    let name = |i: u64| format!("{prefix}{i:05}");
    let existing: HashMap<String, i64> = user::Entity::find()
        .select_only()
        .column(user::Column::Username)
        .column(user::Column::Id)
        .filter(user::Column::Username.starts_with(prefix))
        .into_tuple::<(String, i64)>()
        .all(conn)
        .await?
        .into_iter()
        .collect();
    let role = role::Entity::find()
        .filter(role::Column::Name.eq("user"))
        .one(conn)
        .await?
        .ok_or_else(|| ApiError::internal("the built-in role user is missing"))?;
    let departments: Vec<i64> = department::Entity::find()
        .select_only()
        .column(department::Column::Id)
        .into_tuple()
        .all(conn)
        .await?;
    let next = user::Entity::find()
        .select_only()
        .column_as(user::Column::Id.max(), "id")
        .into_tuple::<Option<i64>>()
        .one(conn)
        .await?
        .flatten()
        .unwrap_or(0)
        + 1;
    let now = Timestamp::now();
    let mut ids = Vec::with_capacity(n as usize);
    let mut rows = Vec::new();
    for i in 1..=n {
        if let Some(id) = existing.get(&name(i)) {
            ids.push(*id);
            continue;
        }
        let id = next + rows.len() as i64;
        let department = departments
            .get(i as usize % departments.len().max(1))
            .copied();
        rows.push(vec![
            id.into(),
            name(i).into(),
            "!".into(),
            Some("Reader".to_string()).into(),
            Some(format!("{i:05}")).into(),
            department.into(),
            "{}".into(),
            role.id.into(),
            true.into(),
            now.into(),
            now.into(),
        ]);
        ids.push(id);
    }
    let columns = [
        "id",
        "username",
        "password_hash",
        "first_name",
        "last_name",
        "department_id",
        "preferences",
        "role_id",
        "is_active",
        "created_at",
        "updated_at",
    ];
    insert_rows(conn, "users", &columns, rows).await?;
    sync_sequence(conn, "users").await?;
    Ok(ids)
}
