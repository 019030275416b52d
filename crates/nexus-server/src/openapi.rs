//! The OpenAPI 3.1 document of every domain, at `/api/openapi.json`, and offline docs at
//! `/api/docs`.

use axum::Router;
use nexus_core::AppState;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_swagger_ui::SwaggerUi;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        let mut http = Http::new(HttpAuthScheme::Bearer);
        http.bearer_format = Some("JWT".into());
        http.description = Some(
            "Access token from /api/v1/auth/login; the scopes listed on an operation are the \
             permissions it requires."
                .into(),
        );
        components.add_security_scheme("bearer", SecurityScheme::Http(http));
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Nexus", description = "Manufacturing operations platform API"),
    paths(crate::health::healthz, crate::health::readyz, crate::metrics::scrape, crate::live::sse, crate::live::websocket),
    modifiers(&BearerAuth),
    tags((name = "operations", description = "Health and metrics"))
)]
struct ServerDoc;

/// The complete document.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ServerDoc::openapi();
    doc.merge(nexus_identity::ApiDoc::openapi());
    doc.merge(nexus_production::ApiDoc::openapi());
    doc.merge(nexus_maintenance::openapi());
    doc.merge(nexus_telemetry::openapi());
    doc.merge(nexus_content::openapi());
    doc
}

pub fn router() -> Router<AppState> {
    Router::new().merge(SwaggerUi::new("/api/docs").url("/api/openapi.json", document()))
}
