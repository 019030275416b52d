//! The OpenAPI 3.1 document of every domain, at `/api/openapi.json`, and offline docs at
//! `/api/docs`.

use axum::Router;
use nexus_core::AppState;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
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
    modifiers(&BearerAuth),
    tags((name = "operations", description = "Health and metrics"))
)]
struct ServerDoc;

/// The server's own documented routes (health, metrics, live events) with the
/// document's title and security scheme; each domain's API is merged into it.
pub fn operations() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ServerDoc::openapi())
        .routes(routes!(crate::health::healthz))
        .routes(routes!(crate::health::readyz))
        .routes(routes!(crate::metrics::scrape))
        .routes(routes!(crate::live::sse))
        .routes(routes!(crate::live::websocket))
}

/// The offline docs, serving `doc`.
pub fn router(doc: utoipa::openapi::OpenApi) -> Router<AppState> {
    Router::new().merge(SwaggerUi::new("/api/docs").url("/api/openapi.json", doc))
}
