//! Objects behind `https://` (and `http://`, for a mirror on a private
//! network) read with ureq: TLS verified against the system's CAs plus
//! any `--ca-file`, ranges for resuming, the ETag to resume only the same
//! object.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig};

use super::{Body, FetchError, FetchOptions, Origin, redact};

/// One object at a URL.
pub struct HttpObject {
    url: url::Url,
    agent: ureq::Agent,
}

impl HttpObject {
    pub fn new(url: url::Url, options: &FetchOptions) -> Result<Self, FetchError> {
        Ok(Self {
            url,
            agent: agent(options.ca_file.as_deref())?,
        })
    }

    /// Reads a small document (an index) whole.
    pub fn read_small(&self, limit: u64) -> Result<Vec<u8>, FetchError> {
        let response = self
            .agent
            .get(self.url.as_str())
            .call()
            .map_err(|e| network(&self.describe(), &e))?;
        let response = checked(&self.describe(), response)?;
        let mut data = Vec::new();
        std::io::Read::read_to_end(
            &mut response
                .into_body()
                .into_with_config()
                .limit(limit)
                .reader(),
            &mut data,
        )
        .map_err(|e| FetchError::Network {
            what: self.describe(),
            message: e.to_string(),
        })?;
        Ok(data)
    }
}

impl Origin for HttpObject {
    fn open(&self, offset: u64) -> Result<Body, FetchError> {
        let mut request = self.agent.get(self.url.as_str());
        if offset > 0 {
            request = request.header("Range", format!("bytes={offset}-"));
        }
        let response = request.call().map_err(|e| network(&self.describe(), &e))?;
        let response = checked(&self.describe(), response)?;
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let etag = header("etag");
        let length = header("content-length").and_then(|v| v.parse::<u64>().ok());
        let (start, total) = if response.status().as_u16() == 206 {
            // "bytes START-END/TOTAL"
            let range = header("content-range").unwrap_or_default();
            let start = range
                .trim_start_matches("bytes ")
                .split('-')
                .next()
                .and_then(|s| s.parse().ok());
            let total = range.rsplit('/').next().and_then(|s| s.parse().ok());
            (start.unwrap_or(u64::MAX), total)
        } else {
            (0, length)
        };
        Ok(Body {
            reader: Box::new(
                response
                    .into_body()
                    .into_with_config()
                    .limit(u64::MAX)
                    .reader(),
            ),
            offset: start,
            total,
            etag,
        })
    }

    fn read_range(&self, offset: u64, len: u64) -> Result<Vec<u8>, FetchError> {
        let last = offset + len.max(1) - 1;
        let response = self
            .agent
            .get(self.url.as_str())
            .header("Range", format!("bytes={offset}-{last}"))
            .call()
            .map_err(|e| network(&self.describe(), &e))?;
        if response.status().as_u16() == 416 {
            return Ok(Vec::new());
        }
        let response = checked(&self.describe(), response)?;
        // A server that ignores ranges sends the object from byte 0: read
        // up to the end of the range and keep the range.
        let skip = match response.status().as_u16() {
            206 => 0,
            _ => offset,
        };
        let mut data = Vec::new();
        let body = response
            .into_body()
            .into_with_config()
            .limit(u64::MAX)
            .reader();
        std::io::Read::read_to_end(&mut std::io::Read::take(body, skip + len), &mut data).map_err(
            |e| FetchError::Network {
                what: self.describe(),
                message: e.to_string(),
            },
        )?;
        Ok(data.split_off(usize::try_from(skip).unwrap_or(usize::MAX).min(data.len())))
    }

    fn identity(&self) -> Result<Option<String>, FetchError> {
        let response = self
            .agent
            .head(self.url.as_str())
            .call()
            .map_err(|e| network(&self.describe(), &e))?;
        let response = checked(&self.describe(), response)?;
        Ok(response
            .headers()
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned))
    }

    fn describe(&self) -> String {
        redact(self.url.as_str())
    }
}

/// The response when its status is a success, else why not.
fn checked(
    what: &str,
    response: ureq::http::Response<ureq::Body>,
) -> Result<ureq::http::Response<ureq::Body>, FetchError> {
    let status = response.status().as_u16();
    if (200..300).contains(&status) {
        return Ok(response);
    }
    let body = response
        .into_body()
        .into_with_config()
        .limit(64 * 1024)
        .read_to_string()
        .unwrap_or_default();
    Err(FetchError::status(what.to_owned(), status, &body))
}

/// A transport failure, without the URL ureq may put in its message.
fn network(what: &str, e: &ureq::Error) -> FetchError {
    let text = e.to_string();
    if matches!(e, ureq::Error::Tls(_)) || text.contains("certificate") {
        return FetchError::Tls {
            what: what.to_owned(),
            message: format!("TLS: {}", redact(&text)),
        };
    }
    let message = match e {
        ureq::Error::Io(io) => io.to_string(),
        ureq::Error::Tls(t) => format!("TLS: {t}"),
        ureq::Error::Timeout(t) => format!("timed out ({t})"),
        ureq::Error::HostNotFound => "host not found".to_owned(),
        ureq::Error::ConnectionFailed => "connection failed".to_owned(),
        other => redact(&other.to_string()),
    };
    FetchError::Network {
        what: what.to_owned(),
        message,
    }
}

/// An agent that trusts the system's CAs and those in `ca_file`.
fn agent(ca_file: Option<&Path>) -> Result<ureq::Agent, FetchError> {
    let mut roots: Vec<Certificate<'static>> = rustls_native_certs::load_native_certs()
        .certs
        .iter()
        .map(|der| Certificate::from_der(der.as_ref()).to_owned())
        .collect();
    if let Some(file) = ca_file {
        let bad = |why: String| FetchError::Setup(format!("--ca-file {}: {why}", file.display()));
        let pem = std::fs::read(file).map_err(|e| bad(e.to_string()))?;
        let before = roots.len();
        for item in ureq::tls::parse_pem(&pem) {
            if let PemItem::Certificate(cert) = item.map_err(|e| bad(e.to_string()))? {
                roots.push(cert);
            }
        }
        if roots.len() == before {
            return Err(bad("no PEM certificate in it".into()));
        }
    }
    let tls = TlsConfig::builder()
        .root_certs(RootCerts::Specific(Arc::new(roots)))
        .build();
    Ok(ureq::Agent::config_builder()
        .tls_config(tls)
        .http_status_as_error(false)
        .timeout_connect(Some(Duration::from_secs(20)))
        .timeout_recv_response(Some(Duration::from_secs(60)))
        .build()
        .into())
}
