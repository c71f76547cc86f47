//! Why a remote source could not be read. Every message names the source
//! as `Source::display` shows it (no credentials) and says what to do.

use crate::error::Refusal;

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The server refused who we are (HTTP 401/403).
    #[error("{what}: the server refused access (HTTP {status}{detail})")]
    Denied {
        what: String,
        status: u16,
        detail: String,
    },
    /// Nothing there (HTTP 404).
    #[error("{0}: not found on the server (HTTP 404)")]
    NotFound(String),
    /// Any other answer hop cannot use.
    #[error("{what}: the server answered HTTP {status}{detail}")]
    Status {
        what: String,
        status: u16,
        detail: String,
    },
    /// The connection failed or was cut: worth another try.
    #[error("{what}: {message}")]
    Network { what: String, message: String },
    /// The server's certificate is not one this host trusts.
    #[error("{what}: {message}")]
    Tls { what: String, message: String },
    /// A bad URL, CA file or configuration.
    #[error("{0}")]
    Setup(String),
}

impl FetchError {
    /// An HTTP status with the server's own words (an S3 error's code and
    /// message only: its other fields may echo request details).
    pub fn status(what: String, status: u16, body: &str) -> Self {
        let detail = match (xml_field(body, "Code"), xml_field(body, "Message")) {
            (Some(code), Some(message)) => format!(": {code}: {message}"),
            (Some(code), None) => format!(": {code}"),
            _ => String::new(),
        };
        // The server's words reach a terminal: control characters shown.
        let detail = crate::terminal::printable(&detail);
        match status {
            401 | 403 => Self::Denied {
                what,
                status,
                detail,
            },
            404 => Self::NotFound(what),
            _ => Self::Status {
                what,
                status,
                detail,
            },
        }
    }

    /// Whether trying again (resuming) may help.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Network { .. } => true,
            Self::Status { status, .. } => *status >= 500,
            _ => false,
        }
    }

    /// The refusal a command prints (exit 2), with what to do about it.
    pub fn refusal(self) -> Refusal {
        let hint = match &self {
            Self::Denied { what, .. } if what.starts_with("s3://") => {
                "check the credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and \
                 AWS_SESSION_TOKEN), or AWS_PROFILE and ~/.aws/credentials"
            }
            Self::Denied { .. } => "check that the URL grants access (a pre-signed URL expires)",
            Self::NotFound(_) => {
                "check the URL; `hop-install path --to VERSION URL/` lists what is there"
            }
            Self::Network { .. } | Self::Status { .. } => {
                "run the command again: a download resumes where it stopped"
            }
            Self::Tls { .. } => {
                "the server's certificate is not signed by a CA this host trusts: pass \
                 --ca-file CA.pem (S3 endpoints: SSL_CERT_FILE)"
            }
            Self::Setup(_) => "see `hop-install help apply` for the sources hop reads",
        };
        Refusal::new(self.to_string()).with_hint(hint)
    }
}

/// The text of the first `<name>…</name>` in an XML body.
fn xml_field(body: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let start = body.find(&open)? + open.len();
    let end = body[start..].find(&format!("</{name}>"))? + start;
    Some(body[start..end].trim().to_owned()).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_s3_error_keeps_only_its_code_and_message() {
        let body = "<?xml version=\"1.0\"?><Error><Code>SignatureDoesNotMatch</Code>\
            <Message>The request signature we calculated does not match</Message>\
            <StringToSign>AWS4-HMAC-SHA256 …</StringToSign></Error>";
        let e = FetchError::status("s3://b/k.hop".into(), 403, body);
        let text = e.to_string();
        assert_eq!(
            text,
            "s3://b/k.hop: the server refused access (HTTP 403: SignatureDoesNotMatch: \
             The request signature we calculated does not match)"
        );
        assert!(!e.is_transient());
        let refusal = e.refusal();
        assert!(
            refusal
                .hint
                .unwrap_or_default()
                .contains("AWS_ACCESS_KEY_ID")
        );
    }

    #[test]
    fn server_errors_and_cuts_are_worth_a_retry_and_not_found_is_not() {
        assert!(FetchError::status("x".into(), 503, "").is_transient());
        assert!(!FetchError::status("x".into(), 404, "").is_transient());
        let cut = FetchError::Network {
            what: "x".into(),
            message: "connection reset".into(),
        };
        assert!(cut.is_transient());
    }
}
