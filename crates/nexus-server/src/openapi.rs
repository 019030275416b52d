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
    components(schemas(nexus_core::error::Problem, nexus_core::FieldError)),
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

/// Documents on every operation the refusals the kernel gives any route, so that the
/// document names every status an operation can answer: 401 and 403 where it needs a
/// token or a permission, 404 where the path names a record, 400, 413, 415 and 422 where
/// it takes a body or parameters, 429 at sign-in, 503 while the database is away. Each is
/// a problem+json document.
pub fn with_refusals(doc: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    let mut json = serde_json::to_value(&doc).unwrap_or_default();
    let problem = serde_json::json!({
        "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
    });
    if let Some(paths) = json["paths"].as_object_mut() {
        for (path, item) in paths.iter_mut() {
            for op in item
                .as_object_mut()
                .into_iter()
                .flat_map(|i| i.values_mut())
            {
                let public = op["security"] == serde_json::json!([{}]);
                let scoped = op["security"].as_array().is_some_and(|reqs| {
                    reqs.iter().any(|r| {
                        r.as_object().is_some_and(|r| {
                            r.values()
                                .any(|s| s.as_array().is_some_and(|s| !s.is_empty()))
                        })
                    })
                });
                let body = op.get("requestBody").is_some();
                let json_body = op["requestBody"]["content"]
                    .get("application/json")
                    .is_some();
                let params = op["parameters"].as_array().is_some_and(|p| !p.is_empty());
                let refusals = [
                    ("400", body, "Malformed body"),
                    ("401", !public, "Not signed in"),
                    ("403", scoped, "Signed in without the permission"),
                    ("404", path.contains('{'), "No such record, or not visible"),
                    ("413", body, "Body too large"),
                    ("415", json_body, "Body not sent as application/json"),
                    ("422", body || params, "Invalid field or parameter"),
                    ("429", path.ends_with("/auth/login"), "Too many attempts"),
                    (
                        "503",
                        path.starts_with("/api/"),
                        "The database is unavailable; retry after Retry-After seconds",
                    ),
                ];
                let Some(responses) = op["responses"].as_object_mut() else {
                    continue;
                };
                // Error answers declared without a body are problem documents too.
                for (status, response) in responses.iter_mut() {
                    if status.starts_with('4') && response.get("content").is_none() {
                        response["content"] = problem.clone();
                    }
                }
                for (status, applies, description) in refusals {
                    if applies && !responses.contains_key(status) {
                        responses.insert(
                            status.into(),
                            serde_json::json!({"description": description, "content": problem}),
                        );
                    }
                }
            }
        }
    }
    serde_json::from_value(json).unwrap_or(doc)
}

/// The offline docs, serving `doc`.
pub fn router(doc: utoipa::openapi::OpenApi) -> Router<AppState> {
    Router::new().merge(SwaggerUi::new("/api/docs").url("/api/openapi.json", doc))
}
