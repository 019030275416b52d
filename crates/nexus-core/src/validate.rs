//! `Validator`: collects every field error of a request so the client sees them all at once.

use crate::error::{ApiError, FieldError};

#[derive(Debug, Default)]
pub struct Validator {
    errors: Vec<FieldError>,
}

impl Validator {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, message));
    }

    /// Adds `message` for `field` unless `ok`.
    pub fn check(&mut self, ok: bool, field: &str, message: impl Into<String>) {
        if !ok {
            self.add(field, message);
        }
    }

    /// A required text field of `min..=max` characters (after trimming).
    pub fn text(&mut self, field: &str, value: &str, min: usize, max: usize) {
        let n = value.trim().chars().count();
        if n == 0 && min > 0 {
            self.add(field, "is required");
        } else if n < min {
            self.add(field, format!("must be at least {min} characters"));
        } else if n > max {
            self.add(field, format!("must be at most {max} characters"));
        }
    }

    /// An optional text field of at most `max` characters.
    pub fn opt_text(&mut self, field: &str, value: Option<&str>, max: usize) {
        if let Some(v) = value
            && v.trim().chars().count() > max
        {
            self.add(field, format!("must be at most {max} characters"));
        }
    }

    /// An optional email address: one `@`, something on both sides, a dot in the domain.
    pub fn email(&mut self, field: &str, value: Option<&str>) {
        if let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) {
            let ok = v.chars().count() <= 255
                && !v.contains(char::is_whitespace)
                && v.split_once('@').is_some_and(|(local, domain)| {
                    !local.is_empty()
                        && domain.contains('.')
                        && !domain.starts_with('.')
                        && !domain.ends_with('.')
                        && !domain.contains('@')
                });
            self.check(ok, field, "must be a valid email address");
        }
    }

    /// 422 with every error collected, or Ok.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Validation(self.errors))
        }
    }
}

/// Trims a string, turning an empty result into `None`.
pub fn clean(value: Option<String>) -> Option<String> {
    value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_every_error() {
        let mut v = Validator::new();
        v.text("username", "ab", 3, 80);
        v.email("email", Some("not-an-email"));
        v.email("email2", Some("a@b.co"));
        v.opt_text("phone", Some("123456789012345678901"), 20);
        match v.finish() {
            Err(ApiError::Validation(errors)) => {
                let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
                assert_eq!(fields, ["username", "email", "phone"]);
            }
            other => panic!("expected validation errors, got {other:?}"),
        }
    }
}
