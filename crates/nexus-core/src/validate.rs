//! `Validator`: collects every field error of a request so the client sees them all at once.

use crate::error::{ApiError, FieldError};

/// A PATCH field: replaces `slot` when the request carried the field (absent fields stay).
pub fn patch<T>(slot: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *slot = v;
    }
}

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

    /// A value from a fixed list, matched without regard to case and surrounding spaces
    /// and rewritten to the list's own spelling.
    pub fn choice(&mut self, field: &str, value: &mut String, allowed: &[&str]) {
        match allowed
            .iter()
            .find(|a| a.eq_ignore_ascii_case(value.trim()))
        {
            Some(a) => *value = (*a).to_string(),
            None => self.add(field, format!("must be one of {}", allowed.join(", "))),
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

/// The first character text may not hold, if any: control characters other than tab,
/// line feed and carriage return (NUL among them; PostgreSQL cannot store it), the byte
/// order mark, and the bidirectional overrides and isolates that make text display
/// other than it reads.
pub fn forbidden_char(text: &str) -> Option<char> {
    text.chars().find(|&c| {
        (c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
            || matches!(c, '\u{feff}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}')
    })
}

/// 422 naming `field` when `text` holds a character it may not ([`forbidden_char`]).
pub fn check_chars(field: &str, text: &str) -> Result<(), ApiError> {
    match forbidden_char(text) {
        Some(c) => Err(ApiError::invalid(
            field,
            format!("must not contain the control character U+{:04X}", c as u32),
        )),
        None => Ok(()),
    }
}

/// The path (`items[2].name`) and character of the first string in `value` that holds a
/// forbidden character.
pub fn find_forbidden(value: &serde_json::Value, path: &str) -> Option<(String, char)> {
    use serde_json::Value;
    let join = |key: &str| {
        if path.is_empty() {
            key.to_string()
        } else {
            format!("{path}.{key}")
        }
    };
    match value {
        Value::String(s) => forbidden_char(s).map(|c| (path.to_string(), c)),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| find_forbidden(v, &format!("{path}[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            forbidden_char(k)
                .map(|c| (join(k), c))
                .or_else(|| find_forbidden(v, &join(k)))
        }),
        _ => None,
    }
}

#[cfg(test)]
mod chars {
    use super::*;

    #[test]
    fn refuses_controls_and_bidi_but_keeps_line_breaks() {
        assert_eq!(forbidden_char("ad\u{0}min"), Some('\u{0}'));
        assert_eq!(forbidden_char("\u{feff}Press"), Some('\u{feff}'));
        assert_eq!(forbidden_char("abc\u{202e}gpj.exe"), Some('\u{202e}'));
        assert_eq!(forbidden_char("line one\nline two\ttab\r\n"), None);
        assert_eq!(forbidden_char("Prüfstand Ø 40 mm — 温度"), None);
        let body = serde_json::json!({"items": [{"name": "ok"}, {"name": "b\u{1}ad"}]});
        assert_eq!(
            find_forbidden(&body, ""),
            Some(("items[1].name".into(), '\u{1}'))
        );
    }
}
