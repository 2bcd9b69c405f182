//! Success envelopes: `{"success": true, "data": ..., "message": ...}`, and
//! the paginated list shape with `pagination`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::pagination::PageParams;

#[derive(Serialize)]
struct Envelope<'a, T: Serialize> {
    success: bool,
    data: &'a T,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
}

fn envelope<T: Serialize>(status: StatusCode, data: &T, message: Option<&str>) -> Response {
    (status, axum::Json(Envelope { success: true, data, message })).into_response()
}

/// 200 with the data in the envelope.
pub struct Data<T>(pub T);

impl<T: Serialize> IntoResponse for Data<T> {
    fn into_response(self) -> Response {
        envelope(StatusCode::OK, &self.0, None)
    }
}

/// What a delete answers: `{"data": {"deleted": true}}`.
#[derive(Debug, Clone, Copy, serde::Serialize, schemars::JsonSchema)]
pub struct Deleted {
    pub deleted: bool,
}

impl Deleted {
    pub const YES: Data<Deleted> = Data(Deleted { deleted: true });
}

/// 201 with the created resource in the envelope.
pub struct Created<T>(pub T);

impl<T: Serialize> IntoResponse for Created<T> {
    fn into_response(self) -> Response {
        envelope(StatusCode::CREATED, &self.0, Some("created"))
    }
}

/// 202: taken in, carried out later (or not, without saying which), with a
/// message and no data.
pub struct Accepted(pub &'static str);

impl IntoResponse for Accepted {
    fn into_response(self) -> Response {
        envelope(StatusCode::ACCEPTED, &(), Some(self.0))
    }
}

/// A page of a list, with the page it is and the total.
pub struct Paginated<T> {
    pub items: Vec<T>,
    pub page: PageParams,
    pub total: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PaginationOut {
    page: u64,
    limit: u64,
    total: u64,
    total_pages: u64,
}

#[derive(Serialize)]
struct PageEnvelope<'a, T: Serialize> {
    success: bool,
    data: &'a [T],
    pagination: PaginationOut,
}

impl<T: Serialize> IntoResponse for Paginated<T> {
    fn into_response(self) -> Response {
        let limit = self.page.limit();
        let body = PageEnvelope {
            success: true,
            data: &self.items,
            pagination: PaginationOut {
                page: self.page.page(),
                limit,
                total: self.total,
                total_pages: self.total.div_ceil(limit),
            },
        };
        (StatusCode::OK, axum::Json(body)).into_response()
    }
}
