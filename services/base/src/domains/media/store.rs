//! Where media bytes live: one object store behind one trait
//! (`object_store::ObjectStore`), a local folder by default or an
//! S3-compatible bucket when configured. Objects are written as multipart
//! uploads, so a file is streamed through in bounded chunks and an aborted
//! upload leaves nothing behind.

use std::sync::Arc;

use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, WriteMultipart};
use uuid::Uuid;

use crate::config::{MediaBackend, S3Settings};

/// Object storage for media.
#[derive(Clone)]
pub struct MediaStore {
    inner: Arc<dyn ObjectStore>,
}

/// A failure of the object store, with its cause for the log.
#[derive(Debug, thiserror::Error)]
#[error("object storage: {0}")]
pub struct StoreError(#[from] object_store::Error);

/// An upload in progress; [`Upload::abort`] or dropping it leaves nothing stored.
pub struct Upload {
    writer: WriteMultipart,
}

impl Upload {
    pub fn write(&mut self, chunk: &[u8]) {
        self.writer.write(chunk);
    }

    /// Waits while too many parts are in flight, so memory stays bounded.
    pub async fn backpressure(&mut self) -> Result<(), StoreError> {
        Ok(self.writer.wait_for_capacity(2).await?)
    }

    pub async fn finish(self) -> Result<(), StoreError> {
        self.writer.finish().await?;
        Ok(())
    }

    pub async fn abort(self) {
        if let Err(e) = self.writer.abort().await {
            tracing::warn!(error = %e, "aborting an upload failed");
        }
    }
}

impl MediaStore {
    pub fn open(backend: &MediaBackend) -> anyhow::Result<Self> {
        let inner: Arc<dyn ObjectStore> = match backend {
            MediaBackend::Local { dir } => {
                std::fs::create_dir_all(dir).map_err(|e| anyhow::anyhow!("MEDIA_DIR {dir}: {e}"))?;
                Arc::new(LocalFileSystem::new_with_prefix(dir)?.with_automatic_cleanup(true))
            }
            MediaBackend::S3(s3) => Arc::new(s3_store(s3)?),
        };
        Ok(Self { inner })
    }

    /// Where a company's object is kept: ids only, never a name a caller chose.
    pub fn key(company: Uuid, id: Uuid) -> String {
        format!("{company}/{id}")
    }

    pub async fn start(&self, key: &str) -> Result<Upload, StoreError> {
        let upload = self.inner.put_multipart(&Path::from(key)).await?;
        Ok(Upload { writer: WriteMultipart::new(upload) })
    }

    pub async fn read(&self, key: &str) -> Result<BoxStream<'static, Result<Bytes, StoreError>>, StoreError> {
        let found = self.inner.get(&Path::from(key)).await?;
        Ok(found.into_stream().map_err(StoreError).boxed())
    }

    pub async fn delete(&self, key: &str) -> Result<(), StoreError> {
        match self.inner.delete(&Path::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

fn s3_store(s3: &S3Settings) -> anyhow::Result<object_store::aws::AmazonS3> {
    let mut builder = AmazonS3Builder::new()
        .with_bucket_name(&s3.bucket)
        .with_region(&s3.region)
        .with_access_key_id(&s3.access_key_id)
        .with_secret_access_key(s3.secret_access_key.expose());
    if let Some(endpoint) = &s3.endpoint {
        builder = builder.with_endpoint(endpoint).with_allow_http(endpoint.starts_with("http://"));
    }
    Ok(builder.build()?)
}
