//! Objects in S3 (or an S3-compatible server) read with rust-s3: requests
//! signed with the standard AWS credential chain (environment, then
//! `~/.aws/credentials` and `AWS_PROFILE`), the region from `AWS_REGION`
//! and a custom endpoint from `AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL`
//! (path-style, as S3-compatible servers expect).

use std::io::{PipeReader, Read};
use std::thread::JoinHandle;

use s3::bucket::Bucket;
use s3::creds::Credentials;
use s3::error::S3Error;
use s3::region::Region;

use super::{Body, FetchError, Origin};

/// One object (or a prefix, for listing) in a bucket.
pub struct S3Object {
    bucket: Box<Bucket>,
    key: String,
}

fn env(names: &[&str]) -> Option<String> {
    names
        .iter()
        .find_map(|n| std::env::var(n).ok().filter(|v| !v.is_empty()))
}

impl S3Object {
    pub fn new(bucket: &str, key: &str) -> Result<Self, FetchError> {
        let what = format!("s3://{bucket}/{key}");
        let credentials = Credentials::default().map_err(|_| {
            FetchError::Setup(format!(
                "{what}: no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, \
                 or AWS_PROFILE with ~/.aws/credentials"
            ))
        })?;
        let name = env(&["AWS_REGION", "AWS_DEFAULT_REGION"]).unwrap_or_else(|| "us-east-1".into());
        let (region, path_style) = match env(&["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"]) {
            Some(endpoint) => (
                Region::Custom {
                    region: name,
                    endpoint,
                },
                true,
            ),
            None => (
                name.parse()
                    .map_err(|e| FetchError::Setup(format!("{what}: region: {e}")))?,
                false,
            ),
        };
        let bucket = Bucket::new(bucket, region, credentials)
            .map_err(|e| FetchError::Setup(format!("{what}: {e}")))?;
        let bucket = if path_style {
            bucket.with_path_style()
        } else {
            bucket
        };
        Ok(Self {
            bucket,
            key: key.to_owned(),
        })
    }

    /// The keys under this prefix with their sizes.
    pub fn list(&self) -> Result<Vec<(String, u64)>, FetchError> {
        let pages = self
            .bucket
            .list(self.key.clone(), None)
            .map_err(|e| self.error(e))?;
        Ok(pages
            .into_iter()
            .flat_map(|p| p.contents)
            .map(|o| (o.key, o.size))
            .collect())
    }

    fn error(&self, e: S3Error) -> FetchError {
        match e {
            S3Error::HttpFailWithBody(status, body) => {
                FetchError::status(self.describe(), status, &body)
            }
            other => FetchError::Network {
                what: self.describe(),
                message: super::redact(&other.to_string()),
            },
        }
    }
}

impl Origin for S3Object {
    fn open(&self, offset: u64) -> Result<Body, FetchError> {
        let (head, _) = self
            .bucket
            .head_object(&self.key)
            .map_err(|e| self.error(e))?;
        let (reader, mut writer) = std::io::pipe().map_err(|e| FetchError::Network {
            what: self.describe(),
            message: e.to_string(),
        })?;
        // The body is bounded by its silence (`--stall-timeout`, in the
        // reader), not by a total time: a long transfer that flows is not
        // cut (rust-s3's default request timeout, 60 s, is the whole GET).
        let mut bucket = self.bucket.clone();
        bucket.set_request_timeout(None);
        let key = self.key.clone();
        // rust-s3 writes the body into a writer: a thread feeds it into a
        // pipe that the verifying reader pulls from.
        let thread = std::thread::spawn(move || {
            bucket
                .get_object_range_to_writer(&key, offset, None, &mut writer)
                .map(|_| ())
                .map_err(|e| super::redact(&e.to_string()))
        });
        Ok(Body {
            reader: Box::new(Feed {
                reader,
                thread: Some(thread),
            }),
            offset,
            total: head.content_length.and_then(|n| u64::try_from(n).ok()),
            etag: head.e_tag,
        })
    }

    fn read_range(&self, offset: u64, len: u64) -> Result<Vec<u8>, FetchError> {
        let last = offset + len.max(1) - 1;
        match self.bucket.get_object_range(&self.key, offset, Some(last)) {
            Ok(response) => Ok(response.bytes().to_vec()),
            Err(S3Error::HttpFailWithBody(416, _)) => Ok(Vec::new()),
            Err(e) => Err(self.error(e)),
        }
    }

    fn identity(&self) -> Result<Option<String>, FetchError> {
        let (head, _) = self
            .bucket
            .head_object(&self.key)
            .map_err(|e| self.error(e))?;
        Ok(head.e_tag)
    }

    fn describe(&self) -> String {
        format!("s3://{}/{}", self.bucket.name, self.key)
    }
}

/// The pipe's reading end; at its end, the download thread's outcome.
struct Feed {
    reader: PipeReader,
    thread: Option<JoinHandle<Result<(), String>>>,
}

impl Read for Feed {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.reader.read(buf)?;
        if n == 0
            && let Some(thread) = self.thread.take()
        {
            match thread.join() {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return Err(std::io::Error::other(e)),
                Err(_) => return Err(std::io::Error::other("the download thread failed")),
            }
        }
        Ok(n)
    }
}
