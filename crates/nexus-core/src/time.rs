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

    /// Short human form for pages, in the plant's time zone with its abbreviation:
    /// `2026-12-07 09:05 CET` (see [`crate::plant::current`]).
    pub fn display(self) -> String {
        crate::plant::current().display(self)
    }

    /// The plant-local time of this instant.
    pub fn local(self) -> DateTime<chrono_tz::Tz> {
        crate::plant::current().local(self)
    }

    /// The plant-local day of this instant.
    pub fn local_day(self) -> chrono::NaiveDate {
        self.local().date_naive()
    }

    /// This instant as a `datetime-local` input's value, in plant time: `2026-12-07T09:05`.
    pub fn input_value(self) -> String {
        self.local().format("%Y-%m-%dT%H:%M").to_string()
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

    #[tokio::test]
    async fn shown_in_the_plant_time_zone() {
        let t = Timestamp::parse("2026-12-07T08:05:09Z").unwrap();
        assert_eq!(t.display(), "2026-12-07 08:05 UTC");
        assert_eq!(t.input_value(), "2026-12-07T08:05");
        let berlin = crate::plant::validate(&crate::plant::PlantSettings {
            currency: "EUR".into(),
            timezone: "Europe/Berlin".into(),
        })
        .unwrap();
        let shown = crate::plant::scope(std::sync::Arc::new(berlin), async move {
            (
                t.display(),
                t.input_value(),
                Timestamp::parse("2026-07-01T22:30:00Z").unwrap().display(),
            )
        })
        .await;
        assert_eq!(shown.0, "2026-12-07 09:05 CET");
        assert_eq!(shown.1, "2026-12-07T09:05");
        assert_eq!(shown.2, "2026-07-02 00:30 CEST");
    }
}
