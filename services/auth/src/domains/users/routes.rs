use crate::domains::sessions::SignedInAdmin;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use marquee_kit::{ApiError, Created, Json, Ok, Path};
use serde_json::{Value, json};
use uuid::Uuid;

use super::model::{Me, PasswordChangeIn, ProfileIn, ResetConfirmIn, ResetRequestIn, SignupIn, TokenIn};
use super::service;
use crate::client::ClientMeta;
use crate::domains::sessions::SignedIn;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/auth/signup", post(signup))
        .route("/v1/auth/me", get(me).patch(update_me))
        .route("/v1/auth/password", post(change_password))
        .route("/v1/auth/password/reset", post(request_reset))
        .route("/v1/auth/password/reset/confirm", post(confirm_reset))
        .route("/v1/auth/email/verify", post(verify_email))
        .route("/v1/auth/email/verify/resend", post(resend_verification))
        .route("/v1/admin/users/{id}/disable", post(disable))
}

async fn signup(
    State(state): State<AppState>,
    client: ClientMeta,
    Json(body): Json<SignupIn>,
) -> Result<Created<Me>, ApiError> {
    Result::Ok(Created(service::signup(&state, body, &client).await?))
}

async fn me(me: SignedIn, State(state): State<AppState>) -> Result<Ok<Me>, ApiError> {
    Result::Ok(Ok(service::me(&state, me.claims.sub).await?))
}

async fn update_me(
    me: SignedIn,
    State(state): State<AppState>,
    Json(body): Json<ProfileIn>,
) -> Result<Ok<Me>, ApiError> {
    Result::Ok(Ok(service::update_profile(&state, me.claims.sub, body).await?))
}

async fn change_password(
    me: SignedIn,
    State(state): State<AppState>,
    client: ClientMeta,
    Json(body): Json<PasswordChangeIn>,
) -> Result<Ok<Value>, ApiError> {
    let revoked = service::change_password(&state, me.claims.sub, me.claims.sid, body, &client).await?;
    Result::Ok(Ok(json!({"changed": true, "otherSessionsRevoked": revoked})))
}

/// 202 whether or not the email belongs to an account.
async fn request_reset(
    State(state): State<AppState>,
    client: ClientMeta,
    Json(body): Json<ResetRequestIn>,
) -> Result<impl IntoResponse, ApiError> {
    service::request_reset(&state, &body.email, &client).await?;
    Result::Ok((
        StatusCode::ACCEPTED,
        axum::Json(
            json!({"success": true, "data": null, "message": "if the address belongs to an account, a reset link is on its way"}),
        ),
    ))
}

async fn confirm_reset(
    State(state): State<AppState>,
    client: ClientMeta,
    Json(body): Json<ResetConfirmIn>,
) -> Result<Ok<Value>, ApiError> {
    service::confirm_reset(&state, body, &client).await?;
    Result::Ok(Ok(json!({"reset": true})))
}

async fn verify_email(
    State(state): State<AppState>,
    client: ClientMeta,
    Json(body): Json<TokenIn>,
) -> Result<Ok<Value>, ApiError> {
    service::verify_email(&state, &body.token, &client).await?;
    Result::Ok(Ok(json!({"verified": true})))
}

async fn resend_verification(me: SignedIn, State(state): State<AppState>) -> Result<Ok<Value>, ApiError> {
    service::resend_verification(&state, me.claims.sub).await?;
    Result::Ok(Ok(json!({"sent": true})))
}

async fn disable(
    admin: SignedInAdmin,
    State(state): State<AppState>,
    client: ClientMeta,
    Path(user): Path<Uuid>,
) -> Result<Ok<Value>, ApiError> {
    service::disable(&state, admin.claims.sub, user, &client).await?;
    Result::Ok(Ok(json!({"disabled": true})))
}
