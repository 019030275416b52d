//! The plant: its currency and time zone, one setting (`settings` key `plant`) every
//! domain reads. Each server holds it in memory ([`PlantCell`] in `AppState`), loaded at
//! start and reloaded on every node when `plant.updated` is heard. Pages see it without
//! being handed it: the server runs each request inside [`scope`], and [`current`] (and
//! through it [`Timestamp::display`], [`crate::pages::money`] and
//! [`crate::pages::instant`]) reads it from there; outside a request it is UTC and USD.

use std::sync::{Arc, LazyLock, RwLock};

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::audit::AuditCtx;
use crate::error::ApiResult;
use crate::events::{self, Audience};
use crate::state::AppState;
use crate::time::Timestamp;
use crate::validate::Validator;
use crate::write::Work;

/// The `settings` key the plant is stored under.
pub const KEY: &str = "plant";

/// The plant's currency and time zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plant {
    /// ISO 4217 code, `EUR`.
    pub currency: String,
    pub timezone: Tz,
}

impl Default for Plant {
    /// US dollars and UTC, until an admin says otherwise.
    fn default() -> Self {
        Self {
            currency: "USD".into(),
            timezone: Tz::UTC,
        }
    }
}

impl Plant {
    /// As stored and as the API answers.
    pub fn settings(&self) -> PlantSettings {
        PlantSettings {
            currency: self.currency.clone(),
            timezone: self.timezone.name().to_string(),
        }
    }

    /// The plant-local time of an instant.
    pub fn local(&self, t: Timestamp) -> DateTime<Tz> {
        t.to_datetime().with_timezone(&self.timezone)
    }

    /// An instant as pages show it: plant-local, with the zone's abbreviation,
    /// `2026-12-07 09:05 CET`.
    pub fn display(&self, t: Timestamp) -> String {
        self.local(t).format("%Y-%m-%d %H:%M %Z").to_string()
    }

    /// Today's date at the plant.
    pub fn today(&self) -> NaiveDate {
        Utc::now().with_timezone(&self.timezone).date_naive()
    }

    /// The instant a plant-local wall-clock time names: the earlier of two when the
    /// clocks go back, `None` for a time skipped when they go forward.
    pub fn instant_of(&self, local: NaiveDateTime) -> Option<Timestamp> {
        self.timezone
            .from_local_datetime(&local)
            .earliest()
            .map(|t| Timestamp::from_datetime(t.with_timezone(&Utc)))
    }

    /// The instant a plant-local day starts (its first minute when midnight is skipped).
    pub fn day_start(&self, day: NaiveDate) -> Timestamp {
        let midnight = day.and_hms_opt(0, 0, 0).unwrap_or_default();
        (0..=180)
            .step_by(15)
            .find_map(|m| self.instant_of(midnight + chrono::TimeDelta::minutes(m)))
            .unwrap_or_else(|| Timestamp::from_datetime(midnight.and_utc()))
    }

    /// Minor units (hundredths) as money in the plant's currency: `€1,234.50`,
    /// `1,234.50 CHF`.
    pub fn money(&self, minor: i64) -> String {
        format_money(minor, &self.currency)
    }
}

/// The plant as stored and as `GET/PUT /api/v1/plant` carry it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
#[schema(as = Plant)]
pub struct PlantSettings {
    /// ISO 4217 currency code that amounts are in, e.g. `EUR`; amounts are kept in
    /// hundredths of it.
    #[schema(example = "EUR")]
    pub currency: String,
    /// IANA time zone that pages show times and count days in, e.g. `Europe/Berlin`.
    #[schema(example = "Europe/Berlin")]
    pub timezone: String,
}

/// An IANA time zone name (`Europe/Berlin`), any case.
pub fn parse_timezone(name: &str) -> Option<Tz> {
    let name = name.trim();
    name.parse::<Tz>().ok().or_else(|| {
        chrono_tz::TZ_VARIANTS
            .iter()
            .find(|tz| tz.name().eq_ignore_ascii_case(name))
            .copied()
    })
}

/// The time zones a form offers: the `Area/Place` names and `UTC`.
pub fn timezone_names() -> impl Iterator<Item = &'static str> {
    std::iter::once("UTC").chain(
        chrono_tz::TZ_VARIANTS
            .iter()
            .map(|tz| tz.name())
            .filter(|n| n.contains('/') && !n.starts_with("Etc/")),
    )
}

/// Checks a plant sent by a client: a currency of three letters (ISO 4217; any case) and
/// an IANA time zone, each refused on its field.
pub fn validate(req: &PlantSettings) -> ApiResult<Plant> {
    let mut v = Validator::new();
    let currency = req.currency.trim().to_ascii_uppercase();
    v.check(
        currency.len() == 3 && currency.bytes().all(|b| b.is_ascii_uppercase()),
        "currency",
        format!(
            "'{}' is not an ISO 4217 currency code like EUR or USD",
            req.currency.trim()
        ),
    );
    let timezone = parse_timezone(&req.timezone);
    v.check(
        timezone.is_some(),
        "timezone",
        format!(
            "'{}' is not an IANA time zone like Europe/Berlin",
            req.timezone.trim()
        ),
    );
    v.finish()?;
    Ok(Plant {
        currency,
        timezone: timezone.unwrap_or(Tz::UTC),
    })
}

/// Minor units (hundredths) as money in `currency`, thousands grouped: a symbol before
/// the amount for a few common currencies (`€1,234.50`, `-$0.05`), else the code after
/// it (`1,234.50 CHF`).
pub fn format_money(minor: i64, currency: &str) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let amount = grouped(minor.unsigned_abs());
    match symbol(currency) {
        Some(s) => format!("{sign}{s}{amount}"),
        None => format!("{sign}{amount} {currency}"),
    }
}

/// `1234567` (hundredths) as `12,345.67`.
fn grouped(minor: u64) -> String {
    let units = (minor / 100).to_string();
    let mut out = String::with_capacity(units.len() + units.len() / 3 + 3);
    for (i, c) in units.chars().enumerate() {
        if i > 0 && (units.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    format!("{out}.{:02}", minor % 100)
}

/// The symbol written before amounts of `currency`, for the common ones whose symbol
/// is not easily mistaken.
fn symbol(currency: &str) -> Option<&'static str> {
    Some(match currency {
        "USD" => "$",
        "EUR" => "€",
        "GBP" => "£",
        "JPY" => "¥",
        "CNY" => "CN¥",
        "INR" => "₹",
        "KRW" => "₩",
        "BRL" => "R$",
        "CAD" => "CA$",
        "AUD" => "A$",
        "MXN" => "MX$",
        _ => return None,
    })
}

/// The plant every server of this process knows, for one `AppState`.
pub struct PlantCell(RwLock<Arc<Plant>>);

impl PlantCell {
    pub fn new(plant: Plant) -> Self {
        Self(RwLock::new(Arc::new(plant)))
    }

    pub fn get(&self) -> Arc<Plant> {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn set(&self, plant: Plant) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(plant);
    }
}

impl Default for PlantCell {
    fn default() -> Self {
        Self::new(Plant::default())
    }
}

/// The stored plant, or the default when none was set (or it no longer reads).
pub async fn load<C: sea_orm::ConnectionTrait>(conn: &C) -> ApiResult<Plant> {
    let stored: Option<PlantSettings> = crate::settings::get(conn, KEY).await?;
    Ok(stored.and_then(|s| validate(&s).ok()).unwrap_or_default())
}

/// Stores `after` inside `work`, audited as the change from `before`; `plant.updated` is
/// published once `work` commits. The caller installs `after` in `state.plant` then.
pub async fn write(work: &mut Work<'_>, before: &Plant, after: &Plant) -> ApiResult<()> {
    crate::settings::set(&**work, KEY, &after.settings()).await?;
    work.updated(
        "plant",
        0,
        &before.settings(),
        &after.settings(),
        Audience::All,
    )
    .await
}

/// Changes the plant: checked, stored, audited, announced to every node.
pub async fn update(state: &AppState, ctx: &AuditCtx, req: &PlantSettings) -> ApiResult<Plant> {
    let after = validate(req)?;
    let before = state.plant.get();
    let mut work = Work::begin(state, ctx).await?;
    write(&mut work, &before, &after).await?;
    work.commit().await?;
    state.plant.set(after.clone());
    Ok(after)
}

/// Keeps `state.plant` true to changes made on any node.
pub fn watch(state: &AppState) {
    let (db, cell) = (state.db.clone(), state.plant.clone());
    // The event or a gap (`Heard::Missed`): either way the table has the truth.
    events::on(&state.events, &["plant.updated"], move |_heard| {
        let (db, cell) = (db.clone(), cell.clone());
        async move {
            match load(db.read()).await {
                Ok(plant) => cell.set(plant),
                Err(e) => tracing::warn!(error = %e, "reloading the plant settings"),
            }
        }
    });
}

tokio::task_local! {
    static CURRENT: Arc<Plant>;
}

/// Runs `fut` with `plant` as the [`current`] plant (the server wraps every request).
pub async fn scope<F: std::future::Future>(plant: Arc<Plant>, fut: F) -> F::Output {
    CURRENT.scope(plant, fut).await
}

static FALLBACK: LazyLock<Arc<Plant>> = LazyLock::new(|| Arc::new(Plant::default()));

/// The plant of the request being served; UTC and USD outside one.
pub fn current() -> Arc<Plant> {
    CURRENT
        .try_with(Arc::clone)
        .unwrap_or_else(|_| FALLBACK.clone())
}

/// The current plant's time zone.
pub fn timezone() -> Tz {
    current().timezone
}

/// Today's date at the current plant.
pub fn today() -> NaiveDate {
    current().today()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plant(currency: &str, timezone: &str) -> ApiResult<Plant> {
        validate(&PlantSettings {
            currency: currency.into(),
            timezone: timezone.into(),
        })
    }

    #[test]
    fn money_with_symbols_and_codes() {
        assert_eq!(format_money(123_450, "EUR"), "€1,234.50");
        assert_eq!(format_money(5, "USD"), "$0.05");
        assert_eq!(format_money(-123_456_789, "GBP"), "-£1,234,567.89");
        assert_eq!(format_money(100_000, "CHF"), "1,000.00 CHF");
        assert_eq!(format_money(0, "SEK"), "0.00 SEK");
        assert_eq!(format_money(-1205, "PLN"), "-12.05 PLN");
        assert_eq!(format_money(i64::MIN, "USD"), "-$92,233,720,368,547,758.08");
    }

    #[test]
    fn plants_are_checked_per_field() {
        let p = plant(" eur ", "europe/berlin").unwrap();
        assert_eq!(p.currency, "EUR");
        assert_eq!(p.timezone, chrono_tz::Europe::Berlin);
        assert_eq!(p.settings().timezone, "Europe/Berlin");
        assert_eq!(plant("USD", "UTC").unwrap().timezone, Tz::UTC);
        let fields = |r: ApiResult<Plant>| -> Vec<String> {
            r.unwrap_err()
                .field_errors()
                .into_iter()
                .map(|f| f.field)
                .collect()
        };
        assert_eq!(fields(plant("EURO", "UTC")), ["currency"]);
        assert_eq!(fields(plant("E1R", "UTC")), ["currency"]);
        assert_eq!(fields(plant("", "UTC")), ["currency"]);
        assert_eq!(fields(plant("EUR", "Mars/Olympus")), ["timezone"]);
        assert_eq!(fields(plant("EUR", "")), ["timezone"]);
        assert_eq!(fields(plant("€", "Nowhere")), ["currency", "timezone"]);
        assert!(timezone_names().any(|n| n == "Europe/Berlin"));
        assert!(timezone_names().all(|n| parse_timezone(n).is_some()));
    }

    #[test]
    fn local_times_and_days() {
        let berlin = plant("EUR", "Europe/Berlin").unwrap();
        let at = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M").unwrap();
        // Winter: one hour ahead of UTC.
        assert_eq!(
            berlin
                .instant_of(at("2026-12-07T09:05"))
                .unwrap()
                .to_rfc3339(),
            "2026-12-07T08:05:00.000000Z"
        );
        // The clocks go forward at 02:00 on 29 March 2026: 02:30 never happens.
        assert_eq!(berlin.instant_of(at("2026-03-29T02:30")), None);
        // They go back at 03:00 on 25 October 2026: 02:30 happens twice, the earlier wins.
        assert_eq!(
            berlin
                .instant_of(at("2026-10-25T02:30"))
                .unwrap()
                .to_rfc3339(),
            "2026-10-25T00:30:00.000000Z"
        );
        let day = NaiveDate::from_ymd_opt(2026, 7, 1).unwrap();
        assert_eq!(
            berlin.day_start(day).to_rfc3339(),
            "2026-06-30T22:00:00.000000Z"
        );
        // Santiago skipped midnight on 7 September 2025: the day starts at 01:00.
        let santiago = plant("CLP", "America/Santiago").unwrap();
        let day = NaiveDate::from_ymd_opt(2025, 9, 7).unwrap();
        assert_eq!(
            santiago.day_start(day).to_rfc3339(),
            "2025-09-07T04:00:00.000000Z"
        );
    }

    #[tokio::test]
    async fn the_current_plant_is_the_scope_s() {
        assert_eq!(*current(), Plant::default());
        let berlin = Arc::new(plant("EUR", "Europe/Berlin").unwrap());
        let inside = scope(berlin.clone(), async { current() }).await;
        assert_eq!(inside, berlin);
        assert_eq!(timezone(), Tz::UTC);
    }
}
