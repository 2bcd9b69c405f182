use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::TryStreamExt;
use marquee_guard::Ctx;
use marquee_kit::{ApiError, Created, Data, Deleted, PageParams, Paginated, Path, Query};
use uuid::Uuid;

use super::service::{self, Declared};
use super::{Media, MediaFilter, UploadIn, Usage};
use crate::state::AppState;

/// `POST /v1/media?ownerType=…&ownerId=…&filename=…` with the file as the body.
pub async fn upload(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Query(input): Query<UploadIn>,
    headers: HeaderMap,
    body: Body,
) -> Result<Created<Media>, ApiError> {
    let text = |name| headers.get(name).and_then(|v: &HeaderValue| v.to_str().ok());
    let declared = Declared {
        content_type: text(header::CONTENT_TYPE).map(str::to_owned),
        length: text(header::CONTENT_LENGTH).and_then(|v| v.parse().ok()),
    };
    let stream = body.into_data_stream().map_err(std::io::Error::other);
    Ok(Created(service::upload(&state, &ctx, input, declared, stream).await?))
}

pub async fn list(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Query(page): Query<PageParams>,
    Query(filter): Query<MediaFilter>,
) -> Result<Paginated<Media>, ApiError> {
    let (items, total) = service::list(&state, &ctx, &filter, page.offset(), page.limit()).await?;
    Ok(Paginated { items, page, total })
}

pub async fn show(Ctx(ctx): Ctx, State(state): State<AppState>, Path(id): Path<Uuid>) -> Result<Data<Media>, ApiError> {
    Ok(Data(service::get(&state, &ctx, id).await?))
}

pub async fn usage(Ctx(ctx): Ctx, State(state): State<AppState>) -> Result<Data<Usage>, ApiError> {
    Ok(Data(service::usage(&state, &ctx).await?))
}

/// The bytes, streamed, as an attachment of the type found at upload.
pub async fn content(Ctx(ctx): Ctx, State(state): State<AppState>, Path(id): Path<Uuid>) -> Result<Response, ApiError> {
    let (media, bytes) = service::download(&state, &ctx, id).await?;
    let body = Body::from_stream(bytes.map_err(std::io::Error::other));
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    let values = [
        (header::CONTENT_TYPE, media.content_type.clone()),
        (header::CONTENT_LENGTH, media.size_bytes.to_string()),
        (header::CONTENT_DISPOSITION, attachment(&media.filename)),
        (header::ETAG, format!("\"{}\"", media.checksum_sha256)),
    ];
    for (name, value) in values {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    }
    Ok(response)
}

pub async fn delete(
    Ctx(ctx): Ctx,
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
) -> Result<Data<Deleted>, ApiError> {
    service::delete(&state, &ctx, id).await?;
    Ok(Deleted::YES)
}

/// `attachment` with an ASCII fallback name and the exact one (RFC 6266 / 8187).
fn attachment(filename: &str) -> String {
    let fallback: String = filename
        .chars()
        .map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' })
        .collect();
    let mut exact = String::new();
    for b in filename.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            exact.push(char::from(b));
        } else {
            exact.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{exact}")
}
