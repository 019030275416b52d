//! The web shell shared by every domain's pages: the layout's context (title, signed-in
//! user, CSRF token, navigation, messages) and the not-found and error pages.

use askama::Template;

use crate::auth::CurrentUser;
use crate::state::AppState;

/// Navigation entries: (path, label, permission needed to see it).
pub const NAV: &[(&str, &str, Option<&str>)] = &[
    ("/", "Home", None),
    ("/admin/users", "Users", Some("users:read")),
    ("/admin/roles", "Roles", Some("roles:read")),
    (
        "/admin/departments",
        "Departments",
        Some("departments:read"),
    ),
    ("/admin/audit", "Audit log", Some("audit:read")),
    ("/profile", "Profile", None),
];

pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub active: bool,
}

/// What the layout (`base.html`) needs on every page.
pub struct Shell {
    pub title: String,
    /// Display name of the signed-in user; `None` on the sign-in page.
    pub user_name: Option<String>,
    pub csrf: String,
    pub nav: Vec<NavItem>,
    /// A success message ("Saved.") shown above the content.
    pub flash: Option<String>,
    /// A failure that belongs to no single field, shown above the content.
    pub error: Option<String>,
}

impl Shell {
    /// The shell for a signed-in user on the page at `path`.
    pub fn new(state: &AppState, user: &CurrentUser, title: &str, path: &str) -> Self {
        let nav = NAV
            .iter()
            .filter(|(_, _, perm)| perm.is_none_or(|p| user.can(p)))
            .map(|(href, label, _)| NavItem {
                href,
                label,
                active: *href == path || (*href != "/" && path.starts_with(href)),
            })
            .collect();
        Self {
            title: title.to_string(),
            user_name: Some(user.principal.username.clone()),
            csrf: state.auth.csrf_token(user.principal.session_id),
            nav,
            flash: None,
            error: None,
        }
    }

    /// The shell for a visitor who is not signed in.
    pub fn anonymous(title: &str) -> Self {
        Self {
            title: title.to_string(),
            user_name: None,
            csrf: String::new(),
            nav: Vec::new(),
            flash: None,
            error: None,
        }
    }

    pub fn with_flash(mut self, flash: impl Into<String>) -> Self {
        self.flash = Some(flash.into());
        self
    }

    pub fn with_error(mut self, error: impl Into<String>) -> Self {
        self.error = Some(error.into());
        self
    }
}

#[derive(Template)]
#[template(path = "not_found.html")]
struct NotFound {
    shell: Shell,
}

/// The HTML 404 page.
pub fn not_found_html() -> String {
    NotFound {
        shell: Shell::anonymous("Not found"),
    }
    .render()
    .unwrap_or_else(|_| "not found".into())
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    shell: Shell,
    message: &'a str,
}

/// A page in the layout that says why a request failed (403, 404, 409, ...).
pub fn error_html(shell: Shell, message: &str) -> String {
    ErrorPage { shell, message }
        .render()
        .unwrap_or_else(|_| message.to_string())
}
