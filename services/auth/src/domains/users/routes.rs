use crate::domains::sessions::SignedInAdmin;
use axum::extract::State;
use axum::http::Method;
use marquee_kit::openapi::DocRouter;
use marquee_kit::{Accepted, ApiError, Created, Data, Json, Path};
use serde_json::{Value, json};
use uuid::Uuid;

use super::model::{Me, PasswordChangeIn, ProfileIn, ResetConfirmIn, ResetRequestIn, SignupIn, TokenIn};
use super::service;
use crate::client::ClientMeta;
use crate::domains::sessions::SignedIn;
use crate::state::AppState;

pub fn router() -> DocRouter<AppState> {
    DocRouter::new()
        .route(Method::POST, "/v1/auth/signup", signup)
        .route(Method::GET, "/v1/auth/me", me)
        .route(Method::PATCH, "/v1/auth/me", update_me)
        .route(Method::POST, "/v1/auth/password", change_password)
        .route(Method::POST, "/v1/auth/password/reset", request_reset)
        .route(Method::POST, "/v1/auth/password/reset/confirm", confirm_reset)
        .route(Method::POST, "/v1/auth/email/verify", verify_email)
        .route(Method::POST, "/v1/auth/email/verify/resend", resend_verification)
        .route(Method::POST, "/v1/admin/users/{id}/disable", disable)
}

async fn signup(
    State(state): State<AppState>,
    client: ClientMeta,
    Json(body): Json<SignupIn>,
) -> Result<Created<Me>, ApiError> {
    Ok(Created(service::signup(&state, body, &client).await?))
}

async fn me(me: SignedIn, State(state): State<AppState>) -> Result<Data<Me>, ApiError> {
    Ok(Data(service::me(&state, me.claims.sub).await?))
}

async fn update_me(
    me: SignedIn,
    State(state): State<AppState>,
    Json(body): Json<ProfileIn>,
) -> Result<Data<Me>, ApiError> {
    Ok(Data(service::update_profile(&state, me.claims.sub, body).await?))
}

async fn change_password(
    me: SignedIn,
    State(state): State<AppState>,
    client: ClientMeta,
    Json(body): Json<PasswordChangeIn>,
) -> Result<Data<Value>, ApiError> {
    let revoked = service::change_password(&state, me.claims.sub, me.claims.sid, body, &client).await?;
    Ok(Data(json!({"changed": true, "otherSessionsRevoked": revoked})))
}

/// 202 whether or not the email belongs to an account.
async fn request_reset(
    State(state): State<AppState>,
    client: ClientMeta,
    Json(body): Json<ResetRequestIn>,
) -> Result<Accepted, ApiError> {
    service::request_reset(&state, &body.email, &client).await?;
    Ok(Accepted("if the address belongs to an account, a reset link is on its way"))
}

async fn confirm_reset(
    State(state): State<AppState>,
    client: ClientMeta,
    Json(body): Json<ResetConfirmIn>,
) -> Result<Data<Value>, ApiError> {
    service::confirm_reset(&state, body, &client).await?;
    Ok(Data(json!({"reset": true})))
}

async fn verify_email(
    State(state): State<AppState>,
    client: ClientMeta,
    Json(body): Json<TokenIn>,
) -> Result<Data<Value>, ApiError> {
    service::verify_email(&state, &body.token, &client).await?;
    Ok(Data(json!({"verified": true})))
}

async fn resend_verification(me: SignedIn, State(state): State<AppState>) -> Result<Data<Value>, ApiError> {
    service::resend_verification(&state, me.claims.sub).await?;
    Ok(Data(json!({"sent": true})))
}

async fn disable(
    admin: SignedInAdmin,
    State(state): State<AppState>,
    client: ClientMeta,
    Path(user): Path<Uuid>,
) -> Result<Data<Value>, ApiError> {
    service::disable(&state, admin.claims.sub, user, &client).await?;
    Ok(Data(json!({"disabled": true})))
}
