use crate::domains::sessions::SignedInAdmin;
use axum::extract::State;
use axum::http::Method;
use marquee_kit::ApiError;
use marquee_kit::openapi::DocRouter;

use crate::client::ClientMeta;
use crate::domains::audit::{AuditEntry, repo as audit};
use crate::error::Error;
use crate::state::AppState;

pub fn router() -> DocRouter<AppState> {
    DocRouter::new().undocumented("/.well-known/jwks.json", axum::routing::get(jwks)).route(
        Method::POST,
        "/v1/admin/keys/rotate",
        rotate,
    )
}

/// Public keys, raw JSON (the JWKS format, no envelope), cacheable briefly.
async fn jwks(State(state): State<AppState>) -> impl axum::response::IntoResponse {
    ([(axum::http::header::CACHE_CONTROL, "public, max-age=60")], axum::Json(state.keys.jwks()))
}

async fn rotate(
    operator: SignedInAdmin,
    State(state): State<AppState>,
    client: ClientMeta,
) -> Result<marquee_kit::Data<serde_json::Value>, ApiError> {
    let now = state.clock.now();
    let (kid, published_at) = state.keys.rotate(&state.db, &state.config.sealer, now).await.map_err(Error::from)?;
    let entry =
        AuditEntry::new("keys.rotated", now, &client).by(operator.claims.sub).detail(serde_json::json!({"kid": kid}));
    audit::insert(&state.db, &entry).await.map_err(Error::from)?;
    tracing::info!(%kid, "next signing key published");
    let lead = chrono::Duration::from_std(state.config.key_publish_lead).unwrap_or(chrono::Duration::zero());
    // The earliest moment: the key is promoted at the first reload after it.
    Ok(marquee_kit::Data(serde_json::json!({"kid": kid, "signsFrom": published_at + lead})))
}
