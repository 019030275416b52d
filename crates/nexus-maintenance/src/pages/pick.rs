//! What every maintenance form shares: records chosen by what people call them (an
//! asset by its name, tag or serial number, typed, with matches offered in a datalist),
//! the one place where the API's field names become the forms' field names, and the
//! parsing of typed numbers and dates that reports every error at once.

use nexus_core::pages::{absorb, filled};
use nexus_core::{ApiError, ApiResult, FieldError, Validator};
use sea_orm::ConnectionTrait;

use crate::model::AssetOut;
use crate::service;

/// The asset form's fields named differently from the API's (API name, form name).
pub(super) const ASSET_FIELDS: &[(&str, &str)] = &[
    ("parent_asset_id", "parent"),
    ("purchase_cost_cents", "purchase_cost"),
];

/// The part form's fields named differently from the API's.
pub(super) const PART_FIELDS: &[(&str, &str)] = &[("unit_cost_cents", "unit_cost")];

/// The work order forms' fields named differently from the API's; every checklist
/// step's error (`checklist[2].task`) belongs to the one checklist box.
pub(super) const WORK_ORDER_FIELDS: &[(&str, &str)] =
    &[("asset_id", "asset"), ("checklist", "checklist")];

/// The add-a-step form: a step's own fields (`checklist[0].task` is `task`).
pub(super) const STEP_FIELDS: &[(&str, &str)] = &[("checklist", "*")];

/// The form's name of the API's `field`, by `map`. A list item's field
/// (`checklist[1].task`) maps by its list's name; `*` keeps the item's own field name.
pub(super) fn form_field(field: &str, map: &[(&str, &str)]) -> String {
    let (base, item) = match field.split_once('[') {
        Some((base, rest)) => (base, rest.split_once("].").map(|(_, f)| f)),
        None => (field, None),
    };
    match map.iter().find(|(api, _)| *api == base) {
        Some((_, "*")) => item.unwrap_or(base).to_string(),
        Some((_, to)) => to.to_string(),
        None => field.to_string(),
    }
}

/// `err` with its fields named as the form names them (see [`form_field`]); a list item's
/// message says which item (`step 2: is required`).
pub(super) fn for_form(err: ApiError, map: &[(&str, &str)]) -> ApiError {
    let rename = |f: FieldError| {
        let field = form_field(&f.field, map);
        let message = match f.field.split_once('[').and_then(|(_, r)| r.split_once(']')) {
            Some((i, _)) if field != f.field => match i.parse::<usize>() {
                Ok(i) => format!("step {}: {}", i + 1, f.message),
                Err(_) => f.message,
            },
            _ => f.message,
        };
        FieldError::new(field, message)
    };
    match err {
        ApiError::Validation(fields) => {
            ApiError::Validation(fields.into_iter().map(rename).collect())
        }
        ApiError::Conflict {
            message,
            field: Some(f),
        } => ApiError::Conflict {
            field: Some(form_field(&f, map)),
            message,
        },
        other => other,
    }
}

/// Money typed into `field` (`12.50`) in cents; empty is `None`.
pub(super) fn money(v: &mut Validator, field: &str, text: &str) -> Option<i64> {
    absorb(v, super::inventory::cents(field, text))
        .ok()
        .flatten()
        .flatten()
}

// ---------------------------------------------------------------- assets by name

/// Matches a datalist offers at most; more are counted, and narrowed by typing more.
const OFFERED: u64 = 30;

/// How an asset is shown where it is chosen.
pub(super) fn asset_label(a: &AssetOut) -> String {
    service::asset_label(a)
}

/// The asset chosen in a form's `field`: `text` as typed, and `shown_id`, the asset the
/// page itself filled in (a prefill or the stored value), trusted only while the text
/// still shows that asset. `None` when the text is blank; 422 on `field` when the text
/// names no asset or several.
pub(super) async fn asset(
    conn: &impl ConnectionTrait,
    field: &str,
    text: &str,
    shown_id: &str,
) -> ApiResult<Option<AssetOut>> {
    let Some(text) = filled(text) else {
        return Ok(None);
    };
    if let Ok(id) = shown_id.trim().parse::<i64>()
        && let Ok(a) = service::get_asset(conn, id).await
        && asset_label(&a) == text
    {
        return Ok(Some(a));
    }
    service::resolve_asset(conn, field, &text).await.map(Some)
}

/// The choices a datalist offers for what was typed.
#[derive(Default)]
pub struct Choices {
    pub options: Vec<String>,
    /// How many assets match in all.
    pub total: u64,
}

impl Choices {
    /// Whether there are more matches than offered.
    pub fn more(&self) -> bool {
        self.total > self.options.len() as u64
    }
}

/// The assets matching `text` (its name part, when it is a label), as datalist options.
pub(super) async fn asset_choices(conn: &impl ConnectionTrait, text: &str) -> ApiResult<Choices> {
    let text = text.trim();
    let text = text.rsplit_once(" · ").map_or(text, |(name, _)| name);
    let (found, total) = service::suggest_assets(conn, text, OFFERED).await?;
    Ok(Choices {
        options: found.iter().map(asset_label).collect(),
        total,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_fields_become_form_fields() {
        assert_eq!(form_field("parent_asset_id", ASSET_FIELDS), "parent");
        assert_eq!(form_field("name", ASSET_FIELDS), "name");
        assert_eq!(
            form_field("checklist[3].task", WORK_ORDER_FIELDS),
            "checklist"
        );
        assert_eq!(form_field("checklist[0].kind", STEP_FIELDS), "kind");
        let err = for_form(
            ApiError::invalid("checklist[1].task", "is required"),
            WORK_ORDER_FIELDS,
        );
        assert_eq!(
            err.field_errors(),
            vec![FieldError::new("checklist", "step 2: is required")]
        );
        let err = for_form(ApiError::conflict_on("unit_cost_cents", "no"), PART_FIELDS);
        assert_eq!(err.field_errors()[0].field, "unit_cost");
    }
}
