//! Blob storage by content hash through `object_store`: a local folder today, any
//! S3-compatible store later by building `Store` over another `ObjectStore`.

use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use nexus_core::{ApiError, ApiResult};
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, PutMode, PutOptions, PutPayload};

#[derive(Clone)]
pub struct Store {
    inner: Arc<dyn ObjectStore>,
}

impl Store {
    pub fn new(inner: Arc<dyn ObjectStore>) -> Self {
        Self { inner }
    }

    /// Blobs in `dir` (created when missing).
    pub fn local(dir: &Path) -> ApiResult<Self> {
        std::fs::create_dir_all(dir).map_err(ApiError::internal)?;
        let fs = LocalFileSystem::new_with_prefix(dir).map_err(ApiError::internal)?;
        Ok(Self::new(Arc::new(fs)))
    }

    /// `ab/cd/abcd...`: two levels of folders keep directories small.
    fn key(hash: &str) -> ApiResult<ObjectPath> {
        if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ApiError::internal(format!(
                "not a SHA-256 hex digest: {hash}"
            )));
        }
        Ok(ObjectPath::from(format!(
            "{}/{}/{hash}",
            &hash[..2],
            &hash[2..4]
        )))
    }

    /// Stores `bytes` under their hash unless a blob with that hash is already there.
    pub async fn put(&self, hash: &str, bytes: Bytes) -> ApiResult<()> {
        let key = Self::key(hash)?;
        match self.inner.head(&key).await {
            Ok(_) => return Ok(()),
            Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(ApiError::internal(e)),
        }
        let opts = PutOptions {
            mode: PutMode::Create,
            ..Default::default()
        };
        match self
            .inner
            .put_opts(&key, PutPayload::from(bytes), opts)
            .await
        {
            // Another upload of the same bytes won the race: same content, nothing to do.
            Ok(_) | Err(object_store::Error::AlreadyExists { .. }) => Ok(()),
            Err(e) => Err(ApiError::internal(e)),
        }
    }

    /// Removes the blob with this hash (gone already: nothing to do).
    pub async fn delete(&self, hash: &str) -> ApiResult<()> {
        match self.inner.delete(&Self::key(hash)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(ApiError::internal(e)),
        }
    }

    /// The blob with this hash.
    pub async fn get(&self, hash: &str) -> ApiResult<Bytes> {
        let key = Self::key(hash)?;
        let found = self.inner.get(&key).await.map_err(ApiError::internal)?;
        found.bytes().await.map_err(ApiError::internal)
    }
}
