//! Turns a command's package argument into a local file: a remote one
//! (`https://…`, `s3://…`) is downloaded into the host's state directory
//! and verified on the way, before the command looks at it.

use std::path::{Path, PathBuf};

use hop_artifact::signature::TrustedKeys;

use crate::error::Refusal;
use crate::package::Scratch;
use crate::remote::{FetchError, FetchOptions, Source};
use crate::session::Session;

/// A package argument made local.
pub struct Fetched {
    pub path: PathBuf,
    /// A download made off a manager host, removed when this goes.
    _scratch: Option<Scratch>,
}

/// The local file for `package`, verified against `trusted` (the host's
/// trusted keys when `None`) if it had to be downloaded. Off a manager
/// host (`verify URL --key K`), the download goes into a private
/// temporary directory removed afterwards.
pub fn package(
    root: &Path,
    package: &Path,
    trusted: Option<&TrustedKeys>,
    options: &FetchOptions,
) -> Result<Fetched, Refusal> {
    let source = Source::parse(package).map_err(FetchError::refusal)?;
    if !source.is_remote() {
        return Ok(Fetched {
            path: package.to_path_buf(),
            _scratch: None,
        });
    }
    match (Session::reading(root), trusted) {
        (Ok(session), trusted) => {
            session.state.ensure().map_err(|e| {
                Refusal::from_error(&e)
                    .with_hint("downloads are kept in the state directory; run as root")
            })?;
            let host_keys;
            let trusted = match trusted {
                Some(t) => t,
                None => {
                    host_keys = crate::trust::host_keys(&session.host)?;
                    &host_keys
                }
            };
            let path = crate::remote::localize(package, &session.state.dir, trusted, options)?;
            Ok(Fetched {
                path,
                _scratch: None,
            })
        }
        (Err(_), Some(trusted)) => {
            // A new directory of a random name (0700): nobody can have
            // put it, or anything in it, there first.
            let dir = tempfile::Builder::new()
                .prefix("hop-download-")
                .tempdir()
                .map_err(|e| Refusal::new(format!("cannot create a download directory: {e}")))?
                .keep();
            let scratch = Scratch(dir);
            let path = crate::remote::localize(package, &scratch.0, trusted, options)?;
            Ok(Fetched {
                path,
                _scratch: Some(scratch),
            })
        }
        (Err(e), None) => Err(e),
    }
}
