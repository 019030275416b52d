//! Request and response types of the identity domain, their validation, and the
//! permission catalogue with the grants of the built-in roles.

use nexus_core::domain::PermissionDef;
use nexus_core::validate::{Validator, clean};
use nexus_core::{ApiResult, Timestamp};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The built-in roles, from most to least powerful.
pub const BUILTIN_ROLES: [(&str, &str); 5] = [
    ("admin", "Full access to everything"),
    (
        "manager",
        "Runs departments: reads everything, manages operations and departments",
    ),
    ("staff", "Staff member: reads and records operations"),
    ("user", "Regular user: records own work"),
    ("guest", "Read-only access"),
];

/// Permission types of this domain, for `Require<...>` in handlers.
pub mod perm {
    nexus_core::permissions! {
        UsersRead = "users:read";
        UsersWrite = "users:write";
        RolesRead = "roles:read";
        RolesWrite = "roles:write";
        DepartmentsRead = "departments:read";
        DepartmentsWrite = "departments:write";
        AuditRead = "audit:read";
        PlantConfigure = "plant:configure";
    }
}

/// The identity domain's permissions. Other domains declare theirs the same way.
pub const PERMISSIONS: &[PermissionDef] = &[
    PermissionDef {
        name: "users:read",
        description: "List and view user accounts",
        granted_to: &["manager", "staff"],
    },
    PermissionDef {
        name: "users:write",
        description: "Create and update user accounts, reset passwords",
        granted_to: &[],
    },
    PermissionDef {
        name: "roles:read",
        description: "List and view roles and permissions",
        granted_to: &["manager"],
    },
    PermissionDef {
        name: "roles:write",
        description: "Create, change and delete custom roles",
        granted_to: &[],
    },
    PermissionDef {
        name: "departments:read",
        description: "List and view departments",
        granted_to: &["manager", "staff", "user", "guest"],
    },
    PermissionDef {
        name: "departments:write",
        description: "Create, change and delete departments",
        granted_to: &["manager"],
    },
    PermissionDef {
        name: "audit:read",
        description: "Read the audit trail",
        granted_to: &["manager"],
    },
    PermissionDef {
        name: "plant:configure",
        description: "Change the plant's currency and time zone",
        granted_to: &[],
    },
];

/// Deserializes a present field (even `null`) as `Some`, so PATCH can tell "clear" from "absent".
pub fn present<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

fn valid_username(v: &mut Validator, username: &str) {
    v.text("username", username, 3, 80);
    v.check(
        username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@')),
        "username",
        "may contain letters, digits, '.', '_', '-' and '@' only",
    );
}

pub fn valid_password(v: &mut Validator, field: &str, password: &str) {
    let n = password.chars().count();
    v.check(
        n >= nexus_core::auth::MIN_PASSWORD_LEN,
        field,
        format!(
            "must be at least {} characters",
            nexus_core::auth::MIN_PASSWORD_LEN
        ),
    );
    v.check(n <= 256, field, "must be at most 256 characters");
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Username or email address.
    pub username: String,
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    pub refresh_token: String,
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    pub current_password: String,
    pub new_password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetPasswordRequest {
    pub new_password: String,
}

/// A user account as the API shows it (never the password hash).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserOut {
    pub id: i64,
    pub username: String,
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// First and last name, or the username when both are empty.
    pub name: String,
    pub phone: Option<String>,
    pub department_id: Option<i64>,
    pub department: Option<String>,
    pub position: Option<String>,
    pub avatar_url: Option<String>,
    #[schema(value_type = Object)]
    pub preferences: serde_json::Value,
    pub role: String,
    pub is_admin: bool,
    pub is_active: bool,
    pub email_verified: bool,
    pub locked_until: Option<Timestamp>,
    pub last_login: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i32,
}

/// The signed-in user with their permissions.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeOut {
    #[serde(flatten)]
    pub user: UserOut,
    pub permissions: Vec<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    pub username: String,
    pub password: String,
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub department_id: Option<i64>,
    pub position: Option<String>,
    pub avatar_url: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub preferences: Option<serde_json::Value>,
    /// Role name; `user` when absent.
    pub role: Option<String>,
    pub is_active: Option<bool>,
}

impl CreateUser {
    /// Trims text fields and checks them all; the username is kept lower-case.
    pub fn validate(&mut self) -> ApiResult<()> {
        self.username = self.username.trim().to_lowercase();
        self.email = clean(self.email.take()).map(|e| e.to_lowercase());
        for f in [
            &mut self.first_name,
            &mut self.last_name,
            &mut self.phone,
            &mut self.position,
            &mut self.avatar_url,
            &mut self.role,
        ] {
            *f = clean(f.take());
        }
        let mut v = Validator::new();
        valid_username(&mut v, &self.username);
        valid_password(&mut v, "password", &self.password);
        v.email("email", self.email.as_deref());
        profile_checks(
            &mut v,
            self.first_name.as_deref(),
            self.last_name.as_deref(),
            self.phone.as_deref(),
            self.position.as_deref(),
            self.avatar_url.as_deref(),
            self.preferences.as_ref(),
        );
        v.finish()
    }
}

fn profile_checks(
    v: &mut Validator,
    first_name: Option<&str>,
    last_name: Option<&str>,
    phone: Option<&str>,
    position: Option<&str>,
    avatar_url: Option<&str>,
    preferences: Option<&serde_json::Value>,
) {
    v.opt_text("first_name", first_name, 50);
    v.opt_text("last_name", last_name, 50);
    v.opt_text("phone", phone, 20);
    if let Some(p) = phone {
        v.check(
            p.chars()
                .all(|c| c.is_ascii_digit() || " +-().".contains(c)),
            "phone",
            "may contain digits, spaces and + - ( ) . only",
        );
    }
    v.opt_text("position", position, 100);
    v.opt_text("avatar_url", avatar_url, 255);
    if let Some(u) = avatar_url {
        v.check(
            u.starts_with("https://") || u.starts_with("http://") || u.starts_with('/'),
            "avatar_url",
            "must be an http(s) URL or a path",
        );
    }
    if let Some(p) = preferences {
        v.check(p.is_object(), "preferences", "must be a JSON object");
        v.check(
            p.to_string().len() <= 16 * 1024,
            "preferences",
            "must be at most 16 KiB",
        );
    }
}

/// Changes to a user; absent fields stay, `null` clears an optional one.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub first_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub last_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>)]
    pub department_id: Option<Option<i64>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub position: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub avatar_url: Option<Option<String>>,
    #[schema(value_type = Option<Object>)]
    pub preferences: Option<serde_json::Value>,
    pub role: Option<String>,
    pub is_active: Option<bool>,
    pub email_verified: Option<bool>,
}

/// Changes a user makes to their own profile; absent fields stay, `null` clears one. Role,
/// department, position and the active flag are an administrator's to change.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateProfile {
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub first_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub last_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub avatar_url: Option<Option<String>>,
    #[schema(value_type = Option<Object>)]
    pub preferences: Option<serde_json::Value>,
}

impl From<UpdateProfile> for UpdateUser {
    fn from(p: UpdateProfile) -> Self {
        Self {
            email: p.email,
            first_name: p.first_name,
            last_name: p.last_name,
            phone: p.phone,
            avatar_url: p.avatar_url,
            preferences: p.preferences,
            ..Self::default()
        }
    }
}

impl UpdateUser {
    pub fn validate(&mut self) -> ApiResult<()> {
        for f in [
            &mut self.email,
            &mut self.first_name,
            &mut self.last_name,
            &mut self.phone,
            &mut self.position,
            &mut self.avatar_url,
        ] {
            if let Some(inner) = f.as_mut() {
                *inner = clean(inner.take());
            }
        }
        if let Some(Some(e)) = self.email.as_mut() {
            *e = e.to_lowercase();
        }
        self.role = self.role.take().map(|r| r.trim().to_string());
        let mut v = Validator::new();
        v.email("email", self.email.clone().flatten().as_deref());
        profile_checks(
            &mut v,
            self.first_name.clone().flatten().as_deref(),
            self.last_name.clone().flatten().as_deref(),
            self.phone.clone().flatten().as_deref(),
            self.position.clone().flatten().as_deref(),
            self.avatar_url.clone().flatten().as_deref(),
            self.preferences.as_ref(),
        );
        v.finish()
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserFilter {
    /// Matches username, email, first or last name (case-insensitive substring).
    pub q: Option<String>,
    pub role: Option<String>,
    pub department_id: Option<i64>,
    pub is_active: Option<bool>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RoleOut {
    pub id: i64,
    pub name: String,
    pub description: Option<String>,
    pub is_builtin: bool,
    pub permissions: Vec<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i32,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRole {
    pub name: String,
    pub description: Option<String>,
    /// Permission names, `resource:action`.
    pub permissions: Vec<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateRole {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    pub permissions: Option<Vec<String>>,
}

pub fn valid_role_name(v: &mut Validator, name: &str) {
    v.text("name", name, 2, 50);
    v.check(
        name.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-')),
        "name",
        "may contain letters, digits, '_' and '-' only",
    );
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PermissionOut {
    pub name: String,
    pub resource: String,
    pub action: String,
    pub description: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DepartmentOut {
    pub id: i64,
    pub name: String,
    pub description: Option<String>,
    pub is_active: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i32,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateDepartment {
    pub name: String,
    pub description: Option<String>,
    pub is_active: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateDepartment {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    pub is_active: Option<bool>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DepartmentFilter {
    pub q: Option<String>,
    pub is_active: Option<bool>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    pub entity_type: Option<String>,
    pub entity_id: Option<i64>,
    pub actor_id: Option<i64>,
    pub action: Option<String>,
    /// Entries at or after this instant (RFC 3339).
    pub from: Option<Timestamp>,
    /// Entries before this instant (RFC 3339).
    pub to: Option<Timestamp>,
    /// The previous page's `next_after`.
    pub after: Option<i64>,
    pub limit: Option<u64>,
}

/// A page of the audit trail; pass `next_after` as `after` for the next page.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    pub items: Vec<nexus_core::audit::AuditEntry>,
    pub limit: u64,
    pub next_after: Option<i64>,
}

/// A person's first and last names joined, `None` when they have neither.
pub fn full_name(first: Option<&str>, last: Option<&str>) -> Option<String> {
    let full = [first, last]
        .into_iter()
        .flatten()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    (!full.is_empty()).then_some(full)
}
