//! The packages a route can be found in: local files and directories, and
//! remote ones. An `s3://bucket/prefix/` is listed by the S3 API; an
//! `https://…/dir/` by the `hop-index.json` that `hop-build index` writes
//! there. Only each package's signed head is read (a few KiB); the
//! packages on the route are downloaded later.

use std::path::PathBuf;

use hop_artifact::reader::PackageReader;
use hop_artifact::signature::TrustedKeys;
use serde::Deserialize;

use super::{FetchError, FetchOptions, Source, http::HttpObject, origin, s3::S3Object};
use crate::route::{self, Hop, Ignored};

/// The name of a remote directory's index.
pub const INDEX: &str = "hop-index.json";

/// `hop-index.json`: the packages in a directory served over HTTPS.
#[derive(Deserialize)]
struct Index {
    packages: Vec<IndexEntry>,
}

#[derive(Deserialize)]
struct IndexEntry {
    file: String,
}

/// Reads the heads of the packages in `inputs` (local or remote files and
/// directories), keeping those of `product` signed by a trusted key. A
/// remote hop's `path` is its source as given; it is downloaded once it
/// is on the route.
pub fn collect(
    inputs: &[PathBuf],
    trusted: &TrustedKeys,
    product: &str,
    options: &FetchOptions,
) -> Result<(Vec<Hop>, Vec<Ignored>), FetchError> {
    let mut local = Vec::new();
    let mut remote = Vec::new();
    for input in inputs {
        match Source::parse(input)? {
            Source::Local(p) => local.push(p),
            source => remote.extend(expand(&source, options)?),
        }
    }
    let (mut hops, mut ignored) = route::collect(&local, trusted, product);
    for source in remote {
        let path = PathBuf::from(source.display());
        match head(&source, trusted, options) {
            Ok(m) if m.product != product => ignored.push(Ignored {
                path,
                reason: format!("a package for {}, not {product}", m.product),
            }),
            Ok(m) => hops.push(Hop {
                path: source_path(&source),
                pins: m.pins_during_roll(),
                from: m.from,
                to: m.to,
            }),
            Err(reason) => ignored.push(Ignored { path, reason }),
        }
    }
    Ok((hops, ignored))
}

/// How a remote source is kept in a `Hop` (the URL as given, so a
/// pre-signed query still works when it is downloaded).
fn source_path(source: &Source) -> PathBuf {
    match source {
        Source::Https(url) => PathBuf::from(url.as_str()),
        other => PathBuf::from(other.display()),
    }
}

/// The package sources a remote input stands for: itself when it names a
/// `.hop`, else the packages listed under it.
fn expand(source: &Source, options: &FetchOptions) -> Result<Vec<Source>, FetchError> {
    if source.file_name().ends_with(".hop") {
        return Ok(vec![source.clone()]);
    }
    let names: Vec<String> = match source {
        Source::S3 { bucket, key } => {
            let prefix = if key.is_empty() || key.ends_with('/') {
                key.clone()
            } else {
                format!("{key}/")
            };
            let listed = S3Object::new(bucket, &prefix)?.list()?;
            listed
                .into_iter()
                .filter_map(|(k, _)| k.strip_prefix(&prefix).map(str::to_owned))
                .filter(|k| !k.contains('/') && k.ends_with(".hop"))
                .collect()
        }
        Source::Https(_) => {
            let Source::Https(url) = source.join(INDEX) else {
                return Ok(Vec::new());
            };
            let what = super::redact(url.as_str());
            let text = HttpObject::new(url, options)?.read_small(16 << 20)?;
            let index: Index = serde_json::from_slice(&text)
                .map_err(|e| FetchError::Setup(format!("{what}: not a hop index: {e}")))?;
            index.packages.into_iter().map(|p| p.file).collect()
        }
        Source::Local(_) => Vec::new(),
    };
    let mut names: Vec<String> = names
        .into_iter()
        .filter(|n| !n.contains('/') && !n.starts_with('.') && n.ends_with(".hop"))
        .collect();
    names.sort();
    Ok(names.iter().map(|n| source.join(n)).collect())
}

/// The signed head of a remote package, read by ranged GETs of a few KiB
/// as the reader asks for them (its payload is not read).
fn head(
    source: &Source,
    trusted: &TrustedKeys,
    options: &FetchOptions,
) -> Result<hop_artifact::PackageManifest, String> {
    let origin = origin(source, options).map_err(|e| e.to_string())?;
    let ranged = Ranged {
        origin: origin.as_ref(),
        offset: 0,
    };
    let reader = PackageReader::open(ranged, trusted).map_err(|e| e.to_string())?;
    Ok(reader.manifest().clone())
}

/// How much one ranged read of a head asks for: a demo package's head
/// (hop.yaml, its signature and their tar headers) fits in one or two.
pub const HEAD_CHUNK: u64 = 8 << 10;

/// An object read by ranged GETs of [`HEAD_CHUNK`] bytes, from the start.
struct Ranged<'a> {
    origin: &'a dyn super::Origin,
    offset: u64,
}

impl std::io::Read for Ranged<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let want = HEAD_CHUNK.min(buf.len() as u64);
        let data = self
            .origin
            .read_range(self.offset, want)
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let n = data.len().min(buf.len());
        buf[..n].copy_from_slice(&data[..n]);
        self.offset += n as u64;
        Ok(n)
    }
}
