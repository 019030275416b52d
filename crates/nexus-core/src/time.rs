//! `Timestamp`: UTC instants stored as microseconds since the Unix epoch in a BIGINT, so they
//! sort and compare identically on SQLite and PostgreSQL; sent as RFC 3339 with `Z`.

use chrono::{DateTime, SecondsFormat, Utc};
use sea_orm::DeriveValueType;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, DeriveValueType)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn now() -> Self {
        Self(Utc::now().timestamp_micros())
    }

    pub fn from_datetime(dt: DateTime<Utc>) -> Self {
        Self(dt.timestamp_micros())
    }

    pub fn to_datetime(self) -> DateTime<Utc> {
        DateTime::from_timestamp_micros(self.0).unwrap_or_default()
    }

    /// Parses RFC 3339 (any offset, converted to UTC).
    pub fn parse(s: &str) -> Option<Self> {
        DateTime::parse_from_rfc3339(s.trim())
            .ok()
            .map(|d| Self::from_datetime(d.with_timezone(&Utc)))
    }

    pub fn plus_seconds(self, secs: i64) -> Self {
        Self(self.0 + secs * 1_000_000)
    }

    pub fn seconds_until(self, later: Timestamp) -> i64 {
        (later.0 - self.0).div_euclid(1_000_000)
    }

    pub fn to_rfc3339(self) -> String {
        self.to_datetime()
            .to_rfc3339_opts(SecondsFormat::Micros, true)
    }

    /// Short human form for pages: `2026-11-23 14:05 UTC`.
    pub fn display(self) -> String {
        self.to_datetime().format("%Y-%m-%d %H:%M UTC").to_string()
    }
}

impl std::fmt::Display for Timestamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_rfc3339())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).ok_or_else(|| serde::de::Error::custom("expected an RFC 3339 timestamp"))
    }
}

/// Reads a [`Timestamp`] as stored (microseconds since the epoch), for rows SQLite hands
/// over packed as JSON: `#[serde(deserialize_with = "nexus_core::time::from_micros")]`.
pub fn from_micros<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
    i64::deserialize(d).map(Timestamp)
}

impl utoipa::PartialSchema for Timestamp {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                utoipa::openapi::KnownFormat::DateTime,
            )))
            .into()
    }
}

impl utoipa::ToSchema for Timestamp {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_orders() {
        let a = Timestamp::parse("2026-01-02T03:04:05.123456Z").unwrap();
        assert_eq!(a.to_rfc3339(), "2026-01-02T03:04:05.123456Z");
        let b = Timestamp::parse("2026-01-02T04:04:05+01:00").unwrap();
        assert!(b < a);
        assert!(Timestamp::parse("yesterday").is_none());
    }
}
