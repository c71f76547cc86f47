//! Packages where customers get them: `https://` URLs and `s3://bucket/key`
//! objects (and directory-like prefixes of either). A remote package is
//! downloaded into the state directory while it is verified (the signed
//! head first, then every member's digest as it arrives), resuming with
//! range requests after a cut; from then on it is a local file like any
//! other. Credentials never appear in what hop prints or logs: a source
//! is shown without its user, password or query.

mod download;
mod error;
mod http;
mod listing;
mod s3;
mod stall;

use std::io::Read;
use std::path::{Path, PathBuf};

pub use error::FetchError;
pub use listing::collect;

/// Where a package (or a directory of packages) is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    Local(PathBuf),
    Https(url::Url),
    S3 { bucket: String, key: String },
}

impl Source {
    /// Reads a command-line argument: a URL with `https://`, `http://` or
    /// `s3://`, else a local path.
    pub fn parse(arg: &Path) -> Result<Self, FetchError> {
        let Some(text) = arg.to_str().filter(|t| t.contains("://")) else {
            return Ok(Self::Local(arg.to_path_buf()));
        };
        let bad = |why: &str| FetchError::Setup(format!("{}: {why}", redact(text)));
        let url = url::Url::parse(text).map_err(|e| bad(&e.to_string()))?;
        match url.scheme() {
            "https" | "http" => Ok(Self::Https(url)),
            "s3" => {
                let bucket = url
                    .host_str()
                    .filter(|b| !b.is_empty())
                    .ok_or_else(|| bad("an s3:// URL names a bucket: s3://BUCKET/KEY"))?;
                Ok(Self::S3 {
                    bucket: bucket.to_owned(),
                    key: url.path().trim_start_matches('/').to_owned(),
                })
            }
            other => Err(bad(&format!(
                "hop reads https://, http:// and s3:// sources, not {other}://"
            ))),
        }
    }

    pub fn is_remote(&self) -> bool {
        !matches!(self, Self::Local(_))
    }

    /// The source as hop shows it: no user, password or query string.
    pub fn display(&self) -> String {
        match self {
            Self::Local(p) => p.display().to_string(),
            Self::Https(url) => redact(url.as_str()),
            Self::S3 { bucket, key } => format!("s3://{bucket}/{key}"),
        }
    }

    /// The last path segment: the file name a download keeps.
    pub fn file_name(&self) -> String {
        let path = match self {
            Self::Local(p) => return crate::route::file_name(p),
            Self::Https(url) => url.path().to_owned(),
            Self::S3 { key, .. } => key.clone(),
        };
        path.rsplit('/').next().unwrap_or_default().to_owned()
    }

    /// The same source with `name` appended to its directory-like path.
    fn join(&self, name: &str) -> Self {
        match self {
            Self::Local(p) => Self::Local(p.join(name)),
            Self::Https(url) => {
                let mut url = url.clone();
                if !url.path().ends_with('/') {
                    let path = format!("{}/", url.path());
                    url.set_path(&path);
                }
                Self::Https(url.join(name).unwrap_or(url))
            }
            Self::S3 { bucket, key } => Self::S3 {
                bucket: bucket.clone(),
                key: if key.is_empty() || key.ends_with('/') {
                    format!("{key}{name}")
                } else {
                    format!("{key}/{name}")
                },
            },
        }
    }
}

/// A URL without user, password or query: safe to print and log.
pub fn redact(text: &str) -> String {
    match url::Url::parse(text) {
        Ok(mut url) => {
            let _ = url.set_username("");
            let _ = url.set_password(None);
            url.set_query(None);
            url.set_fragment(None);
            url.to_string()
        }
        Err(_) => text.split(['?', '#']).next().unwrap_or_default().to_owned(),
    }
}

/// A package argument as people may see it: a URL without its user,
/// password, query (a pre-signed URL's signature) or fragment; a local
/// path as it is. Machine output (`--json`) keeps the source as given, so
/// a script can pass it back.
pub fn shown(source: &Path) -> String {
    let text = source.to_string_lossy();
    if text.starts_with("https://") || text.starts_with("http://") || text.starts_with("s3://") {
        redact(&text)
    } else {
        text.into_owned()
    }
}

/// How remote sources are reached.
#[derive(Clone, Debug)]
pub struct FetchOptions {
    /// CA certificates (PEM) trusted for https:// besides the system's.
    pub ca_file: Option<PathBuf>,
    /// How long a transfer may send nothing before it counts as cut.
    pub stall: std::time::Duration,
}

/// The default of `--stall-timeout`.
pub const DEFAULT_STALL: std::time::Duration = std::time::Duration::from_secs(60);

impl Default for FetchOptions {
    fn default() -> Self {
        Self {
            ca_file: None,
            stall: DEFAULT_STALL,
        }
    }
}

/// A response body from some offset of a remote object.
pub struct Body {
    pub reader: Box<dyn Read + Send>,
    /// The first byte this body carries (0 when the server ignored a range).
    pub offset: u64,
    /// The size of the whole object, when the server said.
    pub total: Option<u64>,
    /// The object version's identity (ETag), to resume only the same one.
    pub etag: Option<String>,
}

/// A remote object hop can read from any offset.
pub trait Origin {
    /// Opens the object from byte `offset`.
    fn open(&self, offset: u64) -> Result<Body, FetchError>;
    /// Reads bytes `offset..offset + len` (fewer at the object's end, none
    /// past it) with one ranged GET: what a package's head needs, without
    /// opening the rest.
    fn read_range(&self, offset: u64, len: u64) -> Result<Vec<u8>, FetchError>;
    /// The object's current identity (ETag) without reading it.
    fn identity(&self) -> Result<Option<String>, FetchError>;
    /// The object as hop shows it.
    fn describe(&self) -> String;
}

/// The origin of a remote source.
fn origin(source: &Source, options: &FetchOptions) -> Result<Box<dyn Origin>, FetchError> {
    match source {
        Source::Local(p) => Err(FetchError::Setup(format!(
            "{} is a local file, not a download",
            p.display()
        ))),
        Source::Https(url) => Ok(Box::new(http::HttpObject::new(url.clone(), options)?)),
        Source::S3 { bucket, key } => Ok(Box::new(s3::S3Object::new(bucket, key)?)),
    }
}

/// The local file for `arg`: itself when local, else the verified
/// download of it in the state directory `state_dir` (exit 2 on a
/// tampered or unreachable package, before anything on the host changed).
pub fn localize(
    arg: &Path,
    state_dir: &Path,
    trusted: &hop_artifact::signature::TrustedKeys,
    options: &FetchOptions,
) -> Result<PathBuf, crate::error::Refusal> {
    let source = Source::parse(arg).map_err(FetchError::refusal)?;
    if !source.is_remote() {
        return Ok(arg.to_path_buf());
    }
    let origin = origin(&source, options).map_err(FetchError::refusal)?;
    download::fetch(
        origin.as_ref(),
        &source.file_name(),
        &crate::state_dir::StateDir {
            dir: state_dir.to_path_buf(),
        }
        .downloads(),
        trusted,
        options.stall,
    )
}
