//! Authentication primitives: argon2id password hashing on blocking threads, signed access
//! tokens, the cached `Principal` behind every token, CSRF tokens, and the `CurrentUser`
//! extractor with `require`, the one place permissions are checked.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, LazyLock, Mutex, RwLock};
use std::time::{Duration, Instant};

use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Argon2, Block, Params, Version};
use axum::extract::FromRequestParts;
use axum::http::{Method, header, request::Parts};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::db::Db;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Name of the web session cookie (HttpOnly, SameSite=Lax).
pub const SESSION_COOKIE: &str = "nexus_session";
/// Header carrying the CSRF token on cookie-authenticated API writes.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Minimum password length, per the security rules.
pub const MIN_PASSWORD_LEN: usize = 10;

/// Argon2 slots and their working memories (19 MiB each), kept for reuse: once glibc
/// has freed one such block it keeps later ones resident in every arena that held one.
struct Hashing {
    slots: tokio::sync::Semaphore,
    memory: Mutex<Vec<Vec<Block>>>,
}

/// Argon2 runs at most on all cores but one, so a flood of sign-ins queues here instead
/// of starving every other request of CPU.
static HASHING: LazyLock<Hashing> = LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    Hashing {
        slots: tokio::sync::Semaphore::new(cores.saturating_sub(1).max(1)),
        memory: Mutex::new(Vec::new()),
    }
});

/// Runs one argon2 computation on a blocking thread, once a hashing slot is free, with
/// that slot's memory. The slot is held until the computation ends, even if the caller
/// goes away, so there are never more computations or memories than slots.
async fn with_hashing_slot<T: Send + 'static>(
    f: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
) -> ApiResult<T> {
    let slot = HASHING.slots.acquire().await.map_err(ApiError::internal)?;
    tokio::task::spawn_blocking(move || {
        let _slot = slot;
        let pool = || HASHING.memory.lock().unwrap_or_else(|e| e.into_inner());
        let mut memory = pool().pop().unwrap_or_default();
        let out = f(&mut memory);
        pool().push(memory);
        out
    })
    .await
    .map_err(ApiError::internal)
}

/// Runs `argon2` into `out`, growing `memory` to what its parameters need.
fn argon2_into(
    argon2: &Argon2,
    memory: &mut Vec<Block>,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> argon2::Result<()> {
    let blocks = argon2.params().block_count();
    if memory.len() < blocks {
        memory.resize(blocks, Block::new());
    }
    argon2.hash_password_into_with_memory(password, salt, out, &mut memory[..])
}

/// Hashes a password with argon2id (default parameters) into a PHC string.
fn hash_with(memory: &mut Vec<Block>, password: &[u8]) -> ApiResult<String> {
    let mut salt = [0u8; argon2::RECOMMENDED_SALT_LEN];
    rand::rngs::OsRng.fill_bytes(&mut salt);
    let argon2 = Argon2::default();
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    argon2_into(&argon2, memory, password, &salt, &mut out).map_err(ApiError::internal)?;
    let salt = SaltString::encode_b64(&salt).map_err(ApiError::internal)?;
    let phc = PasswordHash {
        algorithm: argon2::Algorithm::default().ident(),
        version: Some(Version::default().into()),
        params: ParamsString::try_from(argon2.params()).map_err(ApiError::internal)?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(ApiError::internal)?),
    };
    Ok(phc.to_string())
}

/// Whether `password` matches the PHC string `hash`, under the parameters it names;
/// `None` when `hash` cannot be read.
fn verify_with(memory: &mut Vec<Block>, password: &[u8], hash: &str) -> Option<bool> {
    let parsed = PasswordHash::new(hash).ok()?;
    let expected = parsed.hash?;
    let mut salt = [0u8; 64];
    let salt = parsed.salt?.decode_b64(&mut salt).ok()?;
    let argon2 = Argon2::new(
        argon2::Algorithm::try_from(parsed.algorithm).ok()?,
        parsed
            .version
            .map_or(Ok(Version::default()), Version::try_from)
            .ok()?,
        Params::try_from(&parsed).ok()?,
    );
    let mut out = vec![0u8; expected.len()];
    argon2_into(&argon2, memory, password, salt, &mut out).ok()?;
    Some(out.ct_eq(expected.as_bytes()).into())
}

/// Hashes a password with argon2id on a blocking thread.
pub async fn hash_password(password: String) -> ApiResult<String> {
    with_hashing_slot(move |memory| hash_with(memory, password.as_bytes())).await?
}

/// The hash of a random password, verified against when the user is unknown so that an
/// unknown user and a wrong password take the same time.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$8kA0frprhkFTpMW58PGCNQ$+i1Sx7DU+LdyzB4ms3fhGLijOePHgPY8GzaeZWqlv7Q";

/// Verifies a password against a stored hash (or the dummy hash when `hash` is `None`)
/// on a blocking thread, comparing in constant time.
pub async fn verify_password(password: String, hash: Option<String>) -> ApiResult<bool> {
    with_hashing_slot(move |memory| {
        let stored = hash.as_deref().unwrap_or(DUMMY_HASH);
        let ok = verify_with(memory, password.as_bytes(), stored).unwrap_or(false);
        hash.is_some() && ok
    })
    .await
}

/// A random URL-safe token of `bytes` random bytes.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

/// SHA-256 of a token, hex encoded: how refresh tokens are stored.
pub fn sha256_hex(value: &str) -> String {
    let digest = Sha256::digest(value.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Claims of an access token or web session token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// User id.
    pub sub: i64,
    /// Session id: revoking the session ends every token issued for it.
    pub sid: i64,
    pub iat: i64,
    pub exp: i64,
}

/// Who is behind a token: the user, their role and permissions, and their profile as
/// served by `/auth/me`, loaded once per session and cached.
#[derive(Debug)]
pub struct Principal {
    pub user_id: i64,
    pub session_id: i64,
    pub username: String,
    pub role: String,
    pub permissions: HashSet<String>,
    /// The user's profile serialized as JSON, ready to send.
    pub profile_json: Arc<str>,
}

impl Principal {
    /// Whether this principal holds `permission` (`resource:action`), directly, through
    /// `resource:*`, or through `*`.
    pub fn can(&self, permission: &str) -> bool {
        if self.permissions.contains("*") || self.permissions.contains(permission) {
            return true;
        }
        permission
            .split_once(':')
            .is_some_and(|(resource, _)| self.permissions.contains(&format!("{resource}:*")))
    }
}

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Loads the principal of a live session; implemented by the identity domain.
pub trait PrincipalLoader: Send + Sync + 'static {
    /// `Ok(None)` when the session is revoked or expired or the user is inactive.
    fn load<'a>(
        &'a self,
        db: &'a Db,
        user_id: i64,
        session_id: i64,
    ) -> BoxFuture<'a, ApiResult<Option<Principal>>>;
}

struct Cached {
    principal: Arc<Principal>,
    loaded: Instant,
}

/// Token signing and verification plus the principal cache, so that checking a token does
/// not touch the database on every request.
pub struct Auth {
    secret: Vec<u8>,
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    loader: Arc<dyn PrincipalLoader>,
    cache: RwLock<HashMap<i64, Cached>>,
    /// How long a cached principal is trusted; bounds staleness across nodes.
    cache_ttl: Duration,
}

impl Auth {
    pub fn new(secret: &[u8], loader: Arc<dyn PrincipalLoader>) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        validation.set_required_spec_claims(&["exp"]);
        Self {
            secret: secret.to_vec(),
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            loader,
            cache: RwLock::new(HashMap::new()),
            cache_ttl: Duration::from_secs(30),
        }
    }

    /// Signs a token for `user_id` in session `session_id`, valid for `ttl_secs`.
    pub fn issue(&self, user_id: i64, session_id: i64, ttl_secs: i64) -> ApiResult<String> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: user_id,
            sid: session_id,
            iat: now,
            exp: now + ttl_secs,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(ApiError::internal)
    }

    pub fn decode(&self, token: &str) -> ApiResult<Claims> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|d| d.claims)
            .map_err(|_| ApiError::Unauthorized("invalid or expired token".into()))
    }

    /// Verifies `token` and returns its principal, from the cache when fresh.
    pub async fn authenticate(&self, db: &Db, token: &str) -> ApiResult<Arc<Principal>> {
        let claims = self.decode(token)?;
        if let Some(hit) = self.cached(claims.sid)
            && hit.user_id == claims.sub
        {
            return Ok(hit);
        }
        self.reload(db, claims.sub, claims.sid)
            .await?
            .ok_or_else(|| ApiError::Unauthorized("session has ended; sign in again".into()))
    }

    /// The principal of a session read afresh from the database (and cached); `None` once
    /// the session has ended or the user was deactivated.
    pub async fn reload(
        &self,
        db: &Db,
        user_id: i64,
        session_id: i64,
    ) -> ApiResult<Option<Arc<Principal>>> {
        let Some(principal) = self.loader.load(db, user_id, session_id).await? else {
            return Ok(None);
        };
        let principal = Arc::new(principal);
        self.cache
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(
                session_id,
                Cached {
                    principal: principal.clone(),
                    loaded: Instant::now(),
                },
            );
        Ok(Some(principal))
    }

    fn cached(&self, sid: i64) -> Option<Arc<Principal>> {
        let cache = self.cache.read().unwrap_or_else(|e| e.into_inner());
        cache
            .get(&sid)
            .filter(|c| c.loaded.elapsed() < self.cache_ttl)
            .map(|c| c.principal.clone())
    }

    /// Drops cached principals of one user (profile, role or status changed).
    pub fn invalidate_user(&self, user_id: i64) {
        self.cache
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|_, c| c.principal.user_id != user_id);
    }

    /// Drops one session's cached principal (signed out or revoked).
    pub fn invalidate_session(&self, session_id: i64) {
        self.cache
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&session_id);
    }

    /// Drops every cached principal (a role's permissions changed).
    pub fn invalidate_all(&self) {
        self.cache
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// The CSRF token bound to a session: an HMAC of its id, so nothing is stored.
    pub fn csrf_token(&self, session_id: i64) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.secret).expect("hmac takes any key");
        mac.update(format!("csrf:{session_id}").as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    pub fn verify_csrf(&self, session_id: i64, token: &str) -> bool {
        let expected = self.csrf_token(session_id);
        expected.as_bytes().ct_eq(token.as_bytes()).into()
    }
}

/// How the request proved who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    Bearer,
    Cookie,
}

/// The signed-in user of a request; rejects with 401 when there is none.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub principal: Arc<Principal>,
    pub credential: Credential,
}

impl CurrentUser {
    pub fn id(&self) -> i64 {
        self.principal.user_id
    }

    /// The one permission check: 403 unless the user holds `permission`.
    pub fn require(&self, permission: &str) -> ApiResult<()> {
        if self.principal.can(permission) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "this action needs the `{permission}` permission"
            )))
        }
    }

    pub fn can(&self, permission: &str) -> bool {
        self.principal.can(permission)
    }
}

/// The session token from the cookie header, if any.
pub fn session_cookie(parts: &Parts) -> Option<String> {
    let jar = axum_extra::extract::cookie::CookieJar::from_headers(&parts.headers);
    jar.get(SESSION_COOKIE).map(|c| c.value().to_string())
}

fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        if let Some(token) = bearer(parts) {
            let principal = state.auth.authenticate(&state.db, token).await?;
            return Ok(Self {
                principal,
                credential: Credential::Bearer,
            });
        }
        let Some(token) = session_cookie(parts) else {
            return Err(ApiError::Unauthorized("sign in first".into()));
        };
        let principal = state.auth.authenticate(&state.db, &token).await?;
        // Cookies ride along on cross-site requests: API writes with one need the CSRF header.
        let unsafe_method = !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if unsafe_method && parts.uri.path().starts_with("/api/") {
            let sent = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            if !state.auth.verify_csrf(principal.session_id, sent) {
                return Err(ApiError::Forbidden("missing or wrong CSRF token".into()));
            }
        }
        Ok(Self {
            principal,
            credential: Credential::Cookie,
        })
    }
}

impl axum::extract::OptionalFromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Option<Self>> {
        match <Self as FromRequestParts<AppState>>::from_request_parts(parts, state).await {
            Ok(user) => Ok(Some(user)),
            Err(ApiError::Unauthorized(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// A permission as a type, so a handler declares what it needs in its signature.
pub trait Permission: Send + Sync + 'static {
    /// `resource:action`.
    const NAME: &'static str;
}

/// Declares permission types: `permissions! { UsersRead = "users:read"; }`.
#[macro_export]
macro_rules! permissions {
    ($($(#[$meta:meta])* $ty:ident = $name:literal;)*) => {
        $(
            $(#[$meta])*
            pub struct $ty;
            impl $crate::auth::Permission for $ty {
                const NAME: &'static str = $name;
            }
        )*
    };
}

/// The signed-in user, already checked to hold `P`. As an extractor it runs before the
/// body is read, so a caller without the permission gets 403 whatever they sent.
pub struct Require<P: Permission>(pub CurrentUser, pub std::marker::PhantomData<P>);

impl<P: Permission> FromRequestParts<AppState> for Require<P> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let user =
            <CurrentUser as FromRequestParts<AppState>>::from_request_parts(parts, state).await?;
        user.require(P::NAME)?;
        Ok(Self(user, std::marker::PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use argon2::password_hash::{PasswordHasher, PasswordVerifier};

    use super::*;

    #[test]
    fn hashes_keep_their_format_both_ways() {
        let mut memory = Vec::new();
        let ours = hash_with(&mut memory, b"correct horse").unwrap();
        assert!(
            ours.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{ours}"
        );
        let parsed = PasswordHash::new(&ours).unwrap();
        // The dummy hash costs what a stored one does.
        assert_eq!(PasswordHash::new(DUMMY_HASH).unwrap().params, parsed.params);
        assert!(
            Argon2::default()
                .verify_password(b"correct horse", &parsed)
                .is_ok()
        );
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        let theirs = Argon2::default()
            .hash_password(b"correct horse", &salt)
            .unwrap()
            .to_string();
        assert_eq!(
            verify_with(&mut memory, b"correct horse", &theirs),
            Some(true)
        );
        assert_eq!(
            verify_with(&mut memory, b"wrong horse", &theirs),
            Some(false)
        );
        assert_eq!(
            verify_with(&mut memory, b"correct horse", "not a hash"),
            None
        );
        assert_eq!(memory.len(), Params::default().block_count());
    }

    #[tokio::test]
    async fn unknown_users_never_verify() {
        let hash = hash_password("correct horse".into()).await.unwrap();
        assert!(
            verify_password("correct horse".into(), Some(hash.clone()))
                .await
                .unwrap()
        );
        assert!(
            !verify_password("wrong horse".into(), Some(hash))
                .await
                .unwrap()
        );
        assert!(!verify_password("correct horse".into(), None).await.unwrap());
    }
}
