use axum::extract::State;
use axum::http::Method;
use marquee_kit::openapi::DocRouter;
use marquee_kit::{ApiError, Created, Data, Json, PageParams, Paginated, Path, Query};
use serde::Serialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::model::{
    AddMember, Company, Invitation, InvitationIn, Member, MyCompany, NewCompany, Role, RoleEdit, RoleIn,
    TenantAuditEntry, UpdateMember,
};
use super::service;
use crate::domains::sessions::SignedIn;
use crate::domains::users::model::TokenIn;
use crate::state::AppState;

pub fn router() -> DocRouter<AppState> {
    DocRouter::new()
        .route(Method::GET, "/v1/companies", list)
        .route(Method::POST, "/v1/companies", create)
        .route(Method::GET, "/v1/companies/{id}/members", members)
        .route(Method::POST, "/v1/companies/{id}/members", add_member)
        .route(Method::PATCH, "/v1/companies/{id}/members/{user_id}", update_member)
        .route(Method::DELETE, "/v1/companies/{id}/members/{user_id}", remove_member)
        .route(Method::GET, "/v1/companies/{id}/roles", roles)
        .route(Method::POST, "/v1/companies/{id}/roles", create_role)
        .route(Method::PATCH, "/v1/companies/{id}/roles/{role_id}", update_role)
        .route(Method::DELETE, "/v1/companies/{id}/roles/{role_id}", delete_role)
        .route(Method::GET, "/v1/companies/{id}/invitations", invitations)
        .route(Method::POST, "/v1/companies/{id}/invitations", invite)
        .route(Method::DELETE, "/v1/companies/{id}/invitations/{invitation_id}", revoke_invitation)
        .route(Method::POST, "/v1/companies/{id}/invitations/{invitation_id}/resend", resend_invitation)
        .route(Method::GET, "/v1/companies/{id}/audit", audit)
        .route(Method::POST, "/v1/invitations/accept", accept)
}

/// A write's result with the company's new access revision, which the client
/// may send back as `x-access-revision` to read its own write.
#[derive(Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
struct Revised<T: Serialize> {
    #[serde(flatten)]
    item: T,
    revision: u64,
}

async fn create(
    me: SignedIn,
    State(state): State<AppState>,
    Json(body): Json<NewCompany>,
) -> Result<Created<Company>, ApiError> {
    Ok(Created(service::create_company(&state, me.claims.sub, body).await?))
}

async fn list(
    me: SignedIn,
    State(state): State<AppState>,
    Query(page): Query<PageParams>,
) -> Result<Paginated<MyCompany>, ApiError> {
    let all = service::my_companies(&state, me.claims.sub).await?;
    let total = all.len() as u64;
    let items = all.into_iter().skip(page.offset() as usize).take(page.limit() as usize).collect();
    Ok(Paginated { items, page, total })
}

async fn members(
    me: SignedIn,
    State(state): State<AppState>,
    Path(company): Path<Uuid>,
    Query(page): Query<PageParams>,
) -> Result<Paginated<Member>, ApiError> {
    let (items, total) = service::members(&state, company, me.claims.sub, &page).await?;
    Ok(Paginated { items, page, total })
}

async fn add_member(
    me: SignedIn,
    State(state): State<AppState>,
    Path(company): Path<Uuid>,
    Json(body): Json<AddMember>,
) -> Result<Created<Revised<Member>>, ApiError> {
    let (item, revision) = service::add_member(&state, company, me.claims.sub, body).await?;
    Ok(Created(Revised { item, revision }))
}

async fn update_member(
    me: SignedIn,
    State(state): State<AppState>,
    Path((company, user)): Path<(Uuid, Uuid)>,
    Json(body): Json<UpdateMember>,
) -> Result<Data<Revised<Member>>, ApiError> {
    let (item, revision) = service::update_member(&state, company, me.claims.sub, user, body).await?;
    Ok(Data(Revised { item, revision }))
}

async fn remove_member(
    me: SignedIn,
    State(state): State<AppState>,
    Path((company, user)): Path<(Uuid, Uuid)>,
) -> Result<Data<Value>, ApiError> {
    let revision = service::remove_member(&state, company, me.claims.sub, user).await?;
    Ok(Data(json!({"removed": true, "revision": revision})))
}

async fn roles(
    me: SignedIn,
    State(state): State<AppState>,
    Path(company): Path<Uuid>,
) -> Result<Data<Vec<Role>>, ApiError> {
    Ok(Data(service::roles(&state, company, me.claims.sub).await?))
}

async fn create_role(
    me: SignedIn,
    State(state): State<AppState>,
    Path(company): Path<Uuid>,
    Json(body): Json<RoleIn>,
) -> Result<Created<Revised<Role>>, ApiError> {
    let (item, revision) = service::create_role(&state, company, me.claims.sub, body).await?;
    Ok(Created(Revised { item, revision }))
}

async fn update_role(
    me: SignedIn,
    State(state): State<AppState>,
    Path((company, role)): Path<(Uuid, Uuid)>,
    Json(body): Json<RoleEdit>,
) -> Result<Data<Revised<Role>>, ApiError> {
    let (item, revision) = service::update_role(&state, company, me.claims.sub, role, body).await?;
    Ok(Data(Revised { item, revision }))
}

async fn delete_role(
    me: SignedIn,
    State(state): State<AppState>,
    Path((company, role)): Path<(Uuid, Uuid)>,
) -> Result<Data<Value>, ApiError> {
    let revision = service::delete_role(&state, company, me.claims.sub, role).await?;
    Ok(Data(json!({"deleted": true, "revision": revision})))
}

async fn invite(
    me: SignedIn,
    State(state): State<AppState>,
    Path(company): Path<Uuid>,
    Json(body): Json<InvitationIn>,
) -> Result<Created<Revised<Invitation>>, ApiError> {
    let (item, revision) = service::invite(&state, company, me.claims.sub, body).await?;
    Ok(Created(Revised { item, revision }))
}

async fn invitations(
    me: SignedIn,
    State(state): State<AppState>,
    Path(company): Path<Uuid>,
    Query(page): Query<PageParams>,
) -> Result<Paginated<Invitation>, ApiError> {
    let (items, total) = service::invitations(&state, company, me.claims.sub, page.offset(), page.limit()).await?;
    Ok(Paginated { items, page, total })
}

async fn revoke_invitation(
    me: SignedIn,
    State(state): State<AppState>,
    Path((company, id)): Path<(Uuid, Uuid)>,
) -> Result<Data<Value>, ApiError> {
    let revision = service::revoke_invitation(&state, company, me.claims.sub, id).await?;
    Ok(Data(json!({"revoked": true, "revision": revision})))
}

async fn resend_invitation(
    me: SignedIn,
    State(state): State<AppState>,
    Path((company, id)): Path<(Uuid, Uuid)>,
) -> Result<Data<Revised<Invitation>>, ApiError> {
    let (item, revision) = service::resend_invitation(&state, company, me.claims.sub, id).await?;
    Ok(Data(Revised { item, revision }))
}

async fn accept(
    me: SignedIn,
    State(state): State<AppState>,
    Json(body): Json<TokenIn>,
) -> Result<Data<Company>, ApiError> {
    // A company carries its revision already: the one after joining.
    let (company, revision) = service::accept_invitation(&state, me.claims.sub, &body.token).await?;
    Ok(Data(Company { revision, ..company }))
}

async fn audit(
    me: SignedIn,
    State(state): State<AppState>,
    Path(company): Path<Uuid>,
    Query(page): Query<PageParams>,
) -> Result<Paginated<TenantAuditEntry>, ApiError> {
    let (items, total) = service::audit(&state, company, me.claims.sub, page.offset(), page.limit()).await?;
    Ok(Paginated { items, page, total })
}
