//! The rules of media: the owner is the company's own, the type is what the
//! file's first bytes say and must match what the caller declared, no file is
//! larger than the configured maximum, and the company's total stays within
//! its `storageBytes`. A refused upload leaves nothing stored.

use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{Stream, StreamExt};
use marquee_guard::AccessContext;
use sea_orm::TransactionTrait;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::store::{MediaStore, StoreError, Upload};
use super::{ALLOWED_TYPES, Media, MediaFilter, OwnerType, UploadIn, Usage, canonical_type, repo};
use crate::domains::activity::{self, Change};
use crate::domains::{artists, events, venues};
use crate::error::Error;
use crate::state::AppState;

/// Enough of a file's start to tell its type by magic number.
const SNIFF_BYTES: usize = 64;

/// What the caller says of the body before it is read.
pub struct Declared {
    pub content_type: Option<String>,
    pub length: Option<u64>,
}

fn storage_limit(ctx: &AccessContext) -> Option<u64> {
    ctx.limit("storageBytes").map(|l| u64::try_from(l).unwrap_or(0))
}

fn limit_reached(limit: u64) -> Error {
    Error::StorageLimitReached(format!("the company's plan allows {limit} bytes of media"))
}

async fn check_owner(state: &AppState, company: Uuid, owner: OwnerType, id: Uuid) -> Result<(), Error> {
    let found = match owner {
        OwnerType::Artist => artists::repo::find(&state.db, company, id).await?.is_some(),
        OwnerType::Event => events::repo::find(&state.db, company, id).await?.is_some(),
        OwnerType::Venue => venues::repo::find(&state.db, company, id).await?.is_some(),
    };
    if found { Ok(()) } else { Err(Error::field("ownerId", format!("no such {} in this company", owner.as_str()))) }
}

/// The type the file's first bytes identify, if it is one we accept.
fn sniff(head: &[u8]) -> Option<&'static str> {
    infer::get(head).map(|t| t.mime_type()).filter(|t| ALLOWED_TYPES.contains(t))
}

pub async fn upload<S>(
    state: &AppState,
    ctx: &AccessContext,
    input: UploadIn,
    declared: Declared,
    mut body: S,
) -> Result<Media, Error>
where
    S: Stream<Item = Result<Bytes, std::io::Error>> + Unpin + Send,
{
    let max = state.config.media.max_bytes;
    let declared_type = declared.content_type.as_deref().map(canonical_type).unwrap_or_default();
    if !ALLOWED_TYPES.contains(&declared_type.as_str()) {
        return Err(Error::UnsupportedType(format!("content-type must be one of {}", ALLOWED_TYPES.join(", "))));
    }
    if declared.length.is_some_and(|n| n > max) {
        return Err(Error::TooLarge(format!("a file may have at most {max} bytes")));
    }
    check_owner(state, ctx.company_id, input.owner_type, input.owner_id).await?;
    let limit = storage_limit(ctx);
    if let (Some(limit), Some(length)) = (limit, declared.length)
        && repo::used(&state.db, ctx.company_id).await?.saturating_add(length) > limit
    {
        return Err(limit_reached(limit));
    }

    // Nothing is written until the first bytes show an accepted type that matches the declared one.
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    let mut rest = None;
    while head.len() < SNIFF_BYTES {
        match body.next().await {
            Some(chunk) => {
                let chunk = chunk.map_err(interrupted)?;
                let take = chunk.len().min(SNIFF_BYTES - head.len());
                head.extend_from_slice(&chunk[..take]);
                if take < chunk.len() {
                    rest = Some(chunk.slice(take..));
                }
            }
            None => break,
        }
    }
    match sniff(&head) {
        Some(found) if found == declared_type => {}
        Some(found) => {
            return Err(Error::UnsupportedType(format!("the file is {found}, not the declared {declared_type}")));
        }
        None => return Err(Error::UnsupportedType("the file's content is not an accepted type".to_owned())),
    }

    let id = Uuid::now_v7();
    let key = MediaStore::key(ctx.company_id, id);
    let mut upload = state.media.start(&key).await?;
    let streamed = stream_into(&mut upload, &head, rest, &mut body, max).await;
    let (size, checksum) = match streamed {
        Ok(done) => done,
        Err(e) => {
            upload.abort().await;
            return Err(e);
        }
    };
    upload.finish().await?;

    let media = Media {
        id,
        owner_type: input.owner_type,
        owner_id: input.owner_id,
        filename: input.filename.trim().to_owned(),
        content_type: declared_type,
        size_bytes: size,
        checksum_sha256: checksum,
        created_by: ctx.user_id,
        created_at: state.clock.now(),
    };
    if let Err(e) = record(state, ctx, &media, &key, limit).await {
        forget(&state.media, &key).await;
        return Err(e);
    }
    Ok(media)
}

fn interrupted(e: std::io::Error) -> Error {
    tracing::debug!(error = %e, "upload body failed");
    Error::field("body", "the upload was interrupted")
}

/// Streams the body into the store, hashing and counting; refuses past `max`.
async fn stream_into<S>(
    upload: &mut Upload,
    head: &[u8],
    rest: Option<Bytes>,
    body: &mut S,
    max: u64,
) -> Result<(u64, String), Error>
where
    S: Stream<Item = Result<Bytes, std::io::Error>> + Unpin + Send,
{
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    let too_large = || Error::TooLarge(format!("a file may have at most {max} bytes"));
    let mut put = |chunk: &[u8], upload: &mut Upload| -> Result<(), Error> {
        size += chunk.len() as u64;
        if size > max {
            return Err(too_large());
        }
        hasher.update(chunk);
        upload.write(chunk);
        Ok(())
    };
    put(head, upload)?;
    if let Some(rest) = rest {
        put(&rest, upload)?;
    }
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(interrupted)?;
        put(&chunk, upload)?;
        upload.backpressure().await?;
    }
    Ok((size, format!("{:x}", hasher.finalize())))
}

/// The row, the company's total and the activity entry, in one transaction.
async fn record(
    state: &AppState,
    ctx: &AccessContext,
    media: &Media,
    key: &str,
    limit: Option<u64>,
) -> Result<(), Error> {
    let txn = state.db.begin().await?;
    if !repo::reserve(&txn, ctx.company_id, media.size_bytes, limit).await? {
        return Err(limit_reached(limit.unwrap_or(0)));
    }
    repo::insert(&txn, ctx.company_id, media, key).await?;
    let change = Change {
        at: media.created_at,
        entity: "media",
        entity_id: media.id,
        action: "uploaded",
        before: serde_json::Value::Null,
        after: serde_json::to_value(media).unwrap_or_default(),
    };
    activity::record(&txn, ctx, change).await?;
    txn.commit().await?;
    Ok(())
}

/// Removes an object no row refers to; a failure leaves an unreachable object, logged.
async fn forget(store: &MediaStore, key: &str) {
    if let Err(e) = store.delete(key).await {
        tracing::warn!(error = %e, "could not remove an unrecorded object");
    }
}

pub async fn get(state: &AppState, ctx: &AccessContext, id: Uuid) -> Result<Media, Error> {
    Ok(repo::find(&state.db, ctx.company_id, id).await?.ok_or(Error::NotFound("media"))?.0)
}

pub async fn list(
    state: &AppState,
    ctx: &AccessContext,
    filter: &MediaFilter,
    offset: u64,
    limit: u64,
) -> Result<(Vec<Media>, u64), Error> {
    Ok(repo::list(&state.db, ctx.company_id, filter, offset, limit).await?)
}

/// The media and its bytes, streamed from the store.
pub async fn download(
    state: &AppState,
    ctx: &AccessContext,
    id: Uuid,
) -> Result<(Media, BoxStream<'static, Result<Bytes, StoreError>>), Error> {
    let (media, key) = repo::find(&state.db, ctx.company_id, id).await?.ok_or(Error::NotFound("media"))?;
    let bytes = state.media.read(&key).await?;
    Ok((media, bytes))
}

pub async fn usage(state: &AppState, ctx: &AccessContext) -> Result<Usage, Error> {
    Ok(Usage { used_bytes: repo::used(&state.db, ctx.company_id).await?, limit_bytes: storage_limit(ctx) })
}

pub async fn delete(state: &AppState, ctx: &AccessContext, id: Uuid) -> Result<(), Error> {
    let (media, key) = repo::find(&state.db, ctx.company_id, id).await?.ok_or(Error::NotFound("media"))?;
    let txn = state.db.begin().await?;
    if !repo::delete(&txn, ctx.company_id, id).await? {
        return Err(Error::NotFound("media"));
    }
    repo::release(&txn, ctx.company_id, media.size_bytes).await?;
    let change = Change {
        at: state.clock.now(),
        entity: "media",
        entity_id: id,
        action: "deleted",
        before: serde_json::to_value(&media).unwrap_or_default(),
        after: serde_json::Value::Null,
    };
    activity::record(&txn, ctx, change).await?;
    txn.commit().await?;
    // The row is gone first, so no reference ever points at a missing object.
    forget(&state.media, &key).await;
    Ok(())
}
