//! The OpenAPI document, generated from the handlers' annotations (OPS-4).

use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(title = "DocuVault API", description = "Self-hosted, privacy-first document vault."),
    paths(
        crate::routes::auth::register,
        crate::routes::sessions::login,
        crate::routes::sessions::second_factor,
        crate::routes::email_links::verify_email,
        crate::routes::email_links::resend_verification,
        crate::routes::email_links::request_reset,
        crate::routes::email_links::confirm_reset,
        crate::routes::email_links::request_email_change,
        crate::routes::email_links::confirm_email_change,
        crate::routes::sessions::refresh,
        crate::routes::sessions::logout,
        crate::routes::sessions::logout_all,
        crate::routes::account::me,
        crate::routes::account::list_sessions,
        crate::routes::account::end_session,
        crate::routes::account::change_password,
        crate::routes::admin::list_users,
        crate::routes::admin::create_user,
        crate::routes::admin::disable,
        crate::routes::admin::enable,
        crate::routes::admin::set_role,
        crate::routes::admin::set_quota,
        crate::routes::admin::assign_ai,
        crate::routes::admin::audit,
        crate::routes::admin::settings,
        crate::routes::admin::update_settings,
        crate::routes::admin::invite,
        crate::routes::auth::registration_status,
        crate::routes::leaving::delete_own,
        crate::routes::leaving::delete_by_admin,
        crate::routes::leaving::export,
        crate::routes::account::update_profile,
        crate::routes::second_factor::setup,
        crate::routes::second_factor::confirm,
        crate::routes::second_factor::regenerate,
        crate::routes::second_factor::disable,
        crate::routes::handles::availability,
        crate::routes::documents::list,
        crate::routes::documents::usage,
        crate::routes::documents::initiate,
        crate::routes::documents::confirm,
        crate::routes::documents::detail,
        crate::routes::documents::rename,
        crate::routes::documents::delete,
        crate::routes::documents::content,
        crate::routes::documents::download_link,
        crate::routes::folders::list,
        crate::routes::folders::create,
        crate::routes::folders::rename,
        crate::routes::folders::move_folder,
        crate::routes::folders::delete,
        crate::routes::folders::file_document,
        crate::routes::ops::health,
        crate::routes::ops::ready,
        crate::routes::ops::metrics,
    ),
    components(schemas(crate::error::ErrorBody)),
    tags((name = "auth", description = "Registration, sign-in and sessions"), (name = "account", description = "The signed-in person's account"), (name = "admin", description = "User management for administrators"), (name = "documents", description = "Your documents: upload, list, rename, move, delete, content"), (name = "folders", description = "Your folders"), (name = "ops", description = "Operations"))
)]
pub struct ApiDoc;

pub async fn document() -> axum::Json<utoipa::openapi::OpenApi> {
    axum::Json(ApiDoc::openapi())
}
