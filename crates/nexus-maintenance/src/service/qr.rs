//! QR codes of assets: each encodes the asset's public address `<base>/a/<qr_code>`,
//! drawn as SVG or PNG on the server.

use axum::http::{HeaderMap, header};
use nexus_core::audit::AuditCtx;
use nexus_core::write::Work;
use nexus_core::{ApiError, ApiResult, AppState, settings};
use qrcode::render::svg;
use qrcode::{Color, EcLevel, QrCode};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::entity::asset;
use crate::model::MaintenanceSettings;

/// The plant-wide setting holding the address people reach Nexus at.
const PUBLIC_URL_KEY: &str = "public_url";
/// Light modules around the code, as the QR standard asks.
const QUIET_ZONE: usize = 4;

pub async fn get_settings(conn: &impl ConnectionTrait) -> ApiResult<MaintenanceSettings> {
    Ok(MaintenanceSettings {
        public_url: settings::get(conn, PUBLIC_URL_KEY).await?,
    })
}

pub async fn set_settings(
    state: &AppState,
    ctx: &AuditCtx,
    req: MaintenanceSettings,
) -> ApiResult<MaintenanceSettings> {
    let new = req.validate()?;
    let work = Work::begin(state, ctx).await?;
    let old = get_settings(&*work).await?;
    settings::set(&*work, PUBLIC_URL_KEY, &new.public_url).await?;
    // One of a kind: audited without an id, announced to nobody.
    work.audit("update", "maintenance_settings", 0, Some(&old), Some(&new))
        .await?;
    work.commit().await?;
    Ok(new)
}

/// The address printed codes point at: the `public_url` setting, else the host this
/// request came to (scheme by whether cookies are marked secure).
pub async fn public_base(state: &AppState, headers: &HeaderMap) -> ApiResult<String> {
    if let Some(url) = get_settings(state.db.read()).await?.public_url {
        return Ok(url.trim_end_matches('/').to_string());
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        })
        .unwrap_or("localhost");
    let scheme = if state.config.secure_cookies {
        "https"
    } else {
        "http"
    };
    Ok(format!("{scheme}://{host}"))
}

/// The asset with this QR token, if any.
pub async fn asset_by_qr(
    conn: &impl ConnectionTrait,
    qr_code: &str,
) -> ApiResult<Option<asset::Model>> {
    Ok(asset::Entity::find()
        .filter(asset::Column::QrCode.eq(qr_code))
        .one(conn)
        .await?)
}

fn code(url: &str) -> ApiResult<QrCode> {
    QrCode::with_error_correction_level(url, EcLevel::M).map_err(ApiError::internal)
}

/// An SVG drawing of the QR code of `url`, scalable to any label size.
pub fn qr_svg(url: &str, size: u32) -> ApiResult<String> {
    Ok(code(url)?
        .render::<svg::Color>()
        .min_dimensions(size, size)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build())
}

/// A black-and-white PNG of the QR code of `url`, `scale` pixels per module.
pub fn qr_png(url: &str, scale: usize) -> ApiResult<Vec<u8>> {
    let code = code(url)?;
    let modules = code.width();
    let colors = code.to_colors();
    let side = (modules + 2 * QUIET_ZONE) * scale;
    let mut pixels = vec![255u8; side * side];
    for (i, color) in colors.iter().enumerate() {
        if *color != Color::Dark {
            continue;
        }
        let (mx, my) = (i % modules + QUIET_ZONE, i / modules + QUIET_ZONE);
        for y in my * scale..(my + 1) * scale {
            pixels[y * side + mx * scale..y * side + (mx + 1) * scale].fill(0);
        }
    }
    let mut out = Vec::new();
    let side = u32::try_from(side).map_err(ApiError::internal)?;
    let mut encoder = png::Encoder::new(&mut out, side, side);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(ApiError::internal)?;
    writer
        .write_image_data(&pixels)
        .map_err(ApiError::internal)?;
    writer.finish().map_err(ApiError::internal)?;
    Ok(out)
}

/// The assets with these ids, in the order asked; unknown ids are left out.
pub async fn assets_by_ids(
    conn: &impl ConnectionTrait,
    ids: &[i64],
) -> ApiResult<Vec<asset::Model>> {
    let found = asset::Entity::find()
        .filter(asset::Column::Id.is_in(ids.iter().copied()))
        .all(conn)
        .await?;
    Ok(ids
        .iter()
        .filter_map(|id| found.iter().find(|a| a.id == *id).cloned())
        .collect())
}
