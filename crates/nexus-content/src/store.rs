//! Blob storage by content hash through `object_store`: a local folder by default, or any
//! S3-compatible service when `NEXUS_FILES_URL` is `s3://bucket/prefix`.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream::{BoxStream, StreamExt, TryStreamExt};
use nexus_core::{ApiError, ApiResult, Config};
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::prefix::PrefixStore;
use object_store::{
    BackoffConfig, ClientConfigKey, ObjectStore, PutMode, PutOptions, PutPayload, RetryConfig,
};

/// Connecting to an object store gives up after this long.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// One request to an object store gives up after this long.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// The start-up check gives up after this long, retries included, so a wrong endpoint
/// stops the start with a message instead of hanging it.
const CHECK_TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Clone)]
pub struct Store {
    inner: Arc<dyn ObjectStore>,
}

impl Store {
    pub fn new(inner: Arc<dyn ObjectStore>) -> Self {
        Self { inner }
    }

    /// The store `config` names: `files_url` (`s3://bucket/prefix`) when set, checked with
    /// one listing so a wrong endpoint, bucket or credentials stop the start with the
    /// reason; `<data dir>/files` otherwise.
    pub async fn open(config: &Config) -> ApiResult<Self> {
        let Some(url) = &config.files_url else {
            return Self::local(&config.data_dir.join("files"));
        };
        let store = Self::s3(url, &config.files_options)?;
        let problem = |why: String| {
            ApiError::BadRequest(format!(
                "NEXUS_FILES_URL {url}: {why} (check AWS_ENDPOINT_URL, AWS_REGION, \
                 AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and that the bucket exists)"
            ))
        };
        match tokio::time::timeout(CHECK_TIMEOUT, store.inner.list_with_delimiter(None)).await {
            Ok(Ok(_)) => Ok(store),
            Ok(Err(e)) => Err(problem(format!("listing the bucket failed: {e}"))),
            Err(_) => Err(problem(format!(
                "no answer within {} s",
                CHECK_TIMEOUT.as_secs()
            ))),
        }
    }

    /// Blobs under `s3://bucket/prefix`, configured by the `AWS_*` environment variables
    /// and then `options` (object_store's `aws_*` keys). Plain-http endpoints are allowed
    /// for servers on the local network; requests and retries are bounded.
    fn s3(url: &str, options: &[(String, String)]) -> ApiResult<Self> {
        let invalid = |why: String| ApiError::BadRequest(format!("NEXUS_FILES_URL {url}: {why}"));
        let Some(rest) = url.strip_prefix("s3://") else {
            return Err(invalid("expected s3://bucket/prefix".into()));
        };
        let client = |key| AmazonS3ConfigKey::Client(key);
        let mut builder = AmazonS3Builder::from_env()
            .with_url(url)
            .with_allow_http(true)
            .with_config(
                client(ClientConfigKey::ConnectTimeout),
                format!("{}s", CONNECT_TIMEOUT.as_secs()),
            )
            .with_config(
                client(ClientConfigKey::Timeout),
                format!("{}s", REQUEST_TIMEOUT.as_secs()),
            )
            .with_retry(RetryConfig {
                backoff: BackoffConfig::default(),
                max_retries: 3,
                retry_timeout: Duration::from_secs(15),
            });
        for (key, value) in options {
            let key: AmazonS3ConfigKey = key
                .parse()
                .map_err(|_| invalid(format!("unknown S3 setting {key}")))?;
            builder = builder.with_config(key, value);
        }
        let s3 = builder.build().map_err(|e| invalid(e.to_string()))?;
        let prefix = rest
            .split_once('/')
            .map_or("", |(_, p)| p)
            .trim_matches('/');
        Ok(if prefix.is_empty() {
            Self::new(Arc::new(s3))
        } else {
            Self::new(Arc::new(PrefixStore::new(s3, prefix)))
        })
    }

    /// Blobs in `dir` (created when missing).
    pub fn local(dir: &Path) -> ApiResult<Self> {
        std::fs::create_dir_all(dir).map_err(ApiError::internal)?;
        let fs = LocalFileSystem::new_with_prefix(dir).map_err(ApiError::internal)?;
        Ok(Self::new(Arc::new(fs)))
    }

    /// The hash of every blob in the store, in no particular order. Anything not named by
    /// a digest (a local write still in progress, say) is left out.
    pub fn hashes(&self) -> BoxStream<'_, ApiResult<String>> {
        self.inner
            .list(None)
            .map_err(ApiError::internal)
            .try_filter_map(|meta| async move {
                Ok(meta
                    .location
                    .filename()
                    .filter(|name| is_digest(name))
                    .map(str::to_owned))
            })
            .boxed()
    }

    /// `ab/cd/abcd...`: two levels of folders keep directories small.
    pub fn key(hash: &str) -> ApiResult<ObjectPath> {
        if !is_digest(hash) {
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
    pub async fn put(&self, hash: &str, bytes: impl Into<Bytes>) -> ApiResult<()> {
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
            .put_opts(&key, PutPayload::from(bytes.into()), opts)
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

/// The folder of the store where objects are kept under a path of their own rather than
/// their hash: files that other domains write to be read by people's tools as well as by
/// Nexus (metric archives). Blob listings ([`Store::hashes`]) and the sweep of orphaned
/// blobs leave them alone; backups copy them ([`Store::objects`]).
pub const ARCHIVE: &str = "archive";

impl Store {
    /// The paths of the objects under folder `prefix` (such as [`ARCHIVE`]).
    pub fn objects(&self, prefix: &str) -> BoxStream<'_, ApiResult<String>> {
        self.inner
            .list(Some(&ObjectPath::from(prefix)))
            .map_err(ApiError::internal)
            .map_ok(|meta| meta.location.to_string())
            .boxed()
    }

    /// Stores `bytes` at `path`, replacing what was there.
    pub async fn put_at(&self, path: &str, bytes: impl Into<Bytes>) -> ApiResult<()> {
        self.inner
            .put(&ObjectPath::from(path), PutPayload::from(bytes.into()))
            .await
            .map(|_| ())
            .map_err(ApiError::internal)
    }

    /// The object at `path`.
    pub async fn get_at(&self, path: &str) -> ApiResult<Bytes> {
        let found = self
            .inner
            .get(&ObjectPath::from(path))
            .await
            .map_err(ApiError::internal)?;
        found.bytes().await.map_err(ApiError::internal)
    }

    /// Removes the object at `path` (gone already: nothing to do).
    pub async fn delete_at(&self, path: &str) -> ApiResult<()> {
        match self.inner.delete(&ObjectPath::from(path)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(ApiError::internal(e)),
        }
    }
}

fn is_digest(name: &str) -> bool {
    name.len() == 64 && name.bytes().all(|b| b.is_ascii_hexdigit())
}
