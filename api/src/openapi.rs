//! The OpenAPI document, generated from the handlers' annotations (OPS-4).

use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(title = "DocuVault API", description = "Self-hosted, privacy-first document vault."),
    paths(
        crate::routes::auth::register,
        crate::routes::handles::availability,
        crate::routes::ops::health,
        crate::routes::ops::ready,
        crate::routes::ops::metrics,
    ),
    components(schemas(crate::error::ErrorBody)),
    tags((name = "auth", description = "Accounts"), (name = "ops", description = "Operations"))
)]
pub struct ApiDoc;

pub async fn document() -> axum::Json<utoipa::openapi::OpenApi> {
    axum::Json(ApiDoc::openapi())
}
