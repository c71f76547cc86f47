//! A remote package downloaded while it is verified. The bytes arrive
//! into `downloads/<id>-<name>.part` and, at the same time, into the
//! package reader: the signed head is checked before the payload, every
//! member's digest as it ends. A cut connection keeps the part and goes on
//! from its end with a range request (also in a later run); a package that
//! fails verification is deleted and refused. Only a package verified
//! whole becomes `<id>-<name>`.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use hop_artifact::reader::PackageReader;
use hop_artifact::signature::TrustedKeys;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::stall::{Guarded, Poll};
use super::{FetchError, Origin};
use crate::error::Refusal;
use crate::progress::Meter;

/// How many times a cut download is resumed in one run.
const ATTEMPTS: u32 = 6;

/// What a part file is a part of.
#[derive(Debug, Default, Serialize, Deserialize, PartialEq)]
struct PartInfo {
    etag: Option<String>,
    total: Option<u64>,
}

/// Downloads and verifies `origin` into `dir`; the verified file's path.
pub fn fetch(
    origin: &dyn Origin,
    name: &str,
    dir: &Path,
    trusted: &TrustedKeys,
    stall: Duration,
) -> Result<PathBuf, Refusal> {
    // Ctrl-C stops the download at the next chunk, saying so (a verb that
    // only reads has no handler of its own yet).
    crate::interrupt::install();
    let what = origin.describe();
    crate::atomic::private_dir(dir)
        .map_err(|e| Refusal::new(format!("cannot create {}: {e}", dir.display())))?;
    let id: String = Sha256::digest(what.as_bytes())[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let name = sanitize(name);
    let done = dir.join(format!("{id}-{name}"));
    let part = dir.join(format!("{id}-{name}.part"));
    let info_file = dir.join(format!("{id}-{name}.part.json"));
    if done.exists() {
        let same = origin.identity().map_err(FetchError::refusal)?;
        let kept: PartInfo = crate::atomic::read_json(&info_file).unwrap_or_default();
        if same.is_some() && same == kept.etag && crate::package::verify(&done, trusted).is_ok() {
            eprintln!(
                "{what}: already downloaded and verified ({})",
                done.display()
            );
            return Ok(done);
        }
        remove(&[&done, &info_file]);
    }
    let mut attempt = 0;
    loop {
        attempt += 1;
        match attempt_once(origin, &part, &info_file, trusted, stall) {
            Ok(()) => {
                std::fs::rename(&part, &done)
                    .map_err(|e| Refusal::new(format!("cannot keep {}: {e}", done.display())))?;
                let _ = crate::atomic::sync_dir(dir);
                return Ok(done);
            }
            Err(Outcome::Cut(e)) if attempt < ATTEMPTS && e.is_transient() => {
                let have = std::fs::metadata(&part).map_or(0, |m| m.len());
                eprintln!(
                    "{e}; resuming from byte {have} (attempt {} of {ATTEMPTS})",
                    attempt + 1
                );
                std::thread::sleep(Duration::from_millis(200 * u64::from(attempt)));
            }
            Err(Outcome::Cut(e)) => {
                let have = std::fs::metadata(&part).map_or(0, |m| m.len());
                let refusal = e.refusal();
                return Err(match have {
                    0 => refusal,
                    _ => Refusal::new(format!(
                        "{}; the {} downloaded so far are kept in {}",
                        refusal.message,
                        crate::progress::bytes_text(have),
                        part.display()
                    ))
                    .with_hint("run the command again: the download resumes from the kept part"),
                });
            }
            Err(Outcome::Interrupted(at)) => {
                return Err(Refusal::new(format!(
                    "{what}: the download was interrupted by the operator at byte {at}; nothing \
                     on the host changed, and the part downloaded so far is kept in {}",
                    part.display()
                ))
                .with_hint("run the command again: the download resumes from the kept part"));
            }
            Err(Outcome::NoRoom(why)) => {
                return Err(Refusal::new(format!("{what}: {why}")).with_hint(
                    "free space there and run the command again: the part downloaded so far is \
                     kept and the download resumes from it",
                ));
            }
            Err(Outcome::Refused(why)) => {
                remove(&[&part, &info_file]);
                return Err(Refusal::new(format!(
                    "{what} is refused before anything changed: {why}"
                ))
                .with_hint(
                    "do not install it; tell the vendor: the package on the server is not the \
                     one they signed",
                ));
            }
        }
    }
}

/// How one attempt ended badly.
enum Outcome {
    /// The transfer stopped: the part so far is kept.
    Cut(FetchError),
    /// The bytes are not a package signed by a trusted key.
    Refused(String),
    /// The rest would not fit on the state directory's file system.
    NoRoom(String),
    /// The operator interrupted at this byte: the part so far is kept.
    Interrupted(u64),
}

fn attempt_once(
    origin: &dyn Origin,
    part: &Path,
    info_file: &Path,
    trusted: &TrustedKeys,
    stall: Duration,
) -> Result<(), Outcome> {
    let io =
        |e: std::io::Error| Outcome::Cut(FetchError::Setup(format!("{}: {e}", part.display())));
    let kept: PartInfo = crate::atomic::read_json(info_file).unwrap_or_default();
    let mut have = std::fs::metadata(part).map_or(0, |m| m.len());
    let body = origin.open(have).map_err(Outcome::Cut)?;
    let resumable = body.offset == have && body.etag.is_some() && body.etag == kept.etag;
    if !resumable {
        have = 0;
    }
    let body = if have == 0 && body.offset != 0 {
        origin.open(0).map_err(Outcome::Cut)?
    } else {
        body
    };
    if let (Some(total), Some(dir)) = (body.total, part.parent()) {
        crate::package::check_room(dir, total.saturating_sub(have), "the download")
            .map_err(Outcome::NoRoom)?;
    }
    let info = PartInfo {
        etag: body.etag.clone(),
        total: body.total,
    };
    crate::atomic::write(
        info_file,
        &serde_json::to_vec(&info).unwrap_or_default(),
        0o600,
    )
    .map_err(io)?;
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(nix::fcntl::OFlag::O_NOFOLLOW.bits())
        .open(part)
        .map_err(io)?;
    file.set_len(have).map_err(io)?;
    // A handle of its own: a clone would share the write position.
    let kept_bytes = OpenOptions::new()
        .read(true)
        .custom_flags(nix::fcntl::OFlag::O_NOFOLLOW.bits())
        .open(part)
        .map_err(io)?;
    file.seek(SeekFrom::Start(have)).map_err(io)?;
    let mut meter = Meter::new(format!("downloading {}", origin.describe()), body.total);
    meter.resume_from(have);
    let tee = Tee {
        from: Guarded::new(body.reader),
        stall,
        to: file,
        meter: &mut meter,
        expected: body.total,
        seen: have,
        cut: false,
        error: None,
        local_error: None,
        interrupted: false,
    };
    let mut stream = kept_bytes.take(have).chain(tee);
    let result = verify(&mut stream, trusted);
    let (_, tee) = stream.into_inner();
    let (interrupted, seen) = (tee.interrupted, tee.seen);
    let (cut, tee_error, local_error) = (tee.cut, tee.error, tee.local_error);
    meter.finish();
    match result {
        Ok(()) => Ok(()),
        Err(_) if interrupted => Err(Outcome::Interrupted(seen)),
        Err(_) if local_error.is_some() => Err(Outcome::Cut(FetchError::Setup(format!(
            "cannot write {}: {}",
            part.display(),
            local_error.unwrap_or_default()
        )))),
        Err(_) if cut => Err(Outcome::Cut(FetchError::Network {
            what: origin.describe(),
            message: format!(
                "the download was cut: {}",
                tee_error.unwrap_or_else(|| "the connection closed early".into())
            ),
        })),
        Err(why) => Err(Outcome::Refused(why)),
    }
}

/// Reads the whole package from `input`, checking its signature and every
/// member's digest.
fn verify(input: &mut dyn Read, trusted: &TrustedKeys) -> Result<(), String> {
    let reader = PackageReader::open(&mut *input, trusted).map_err(|e| e.to_string())?;
    let verified = reader
        .for_each_member(|_, data| std::io::copy(data, &mut std::io::sink()).map(|_| ()))
        .map_err(|e| e.to_string())?;
    if verified.signer.is_none() {
        return Err("it carries no trusted signature".into());
    }
    // Anything after the last member is not part of a package.
    let mut rest = [0u8; 1];
    match input.read(&mut rest) {
        Ok(0) => Ok(()),
        Ok(_) => Err("it has bytes after its last member".into()),
        Err(e) => Err(e.to_string()),
    }
}

/// Network bytes written to the part file as they are handed on.
struct Tee<'a> {
    from: Guarded,
    /// How long the network may send nothing before the attempt is cut.
    stall: Duration,
    to: File,
    meter: &'a mut Meter,
    expected: Option<u64>,
    seen: u64,
    /// Whether the network stopped before the end.
    cut: bool,
    /// Why the network stopped.
    error: Option<String>,
    /// Why the part file could not be written.
    local_error: Option<String>,
    /// The operator interrupted (Ctrl-C).
    interrupted: bool,
}

impl Read for Tee<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = loop {
            if crate::interrupt::requested() {
                self.interrupted = true;
                // Not ErrorKind::Interrupted: readers retry on that.
                return Err(std::io::Error::other("interrupted by the operator"));
            }
            match self.from.poll(buf, Duration::from_secs(1)) {
                Poll::Data(0) if self.expected.is_some_and(|t| self.seen < t) => {
                    self.cut = true;
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "the connection closed early",
                    ));
                }
                Poll::Data(n) => break n,
                Poll::Failed(e) => {
                    self.cut = true;
                    self.error = Some(e.to_string());
                    return Err(e);
                }
                Poll::Idle(idle) => {
                    // Progress lines go on (at 0 B/s) while nothing comes.
                    self.meter.set(self.seen);
                    if idle >= self.stall {
                        self.cut = true;
                        let why = format!(
                            "the server sent nothing for {} at byte {} (--stall-timeout)",
                            hop_artifact::duration_text::format(&idle),
                            self.seen
                        );
                        self.error = Some(why.clone());
                        return Err(std::io::Error::new(std::io::ErrorKind::TimedOut, why));
                    }
                }
            }
        };
        if let Err(e) = self.to.write_all(&buf[..n]) {
            self.local_error = Some(e.to_string());
            return Err(e);
        }
        self.seen += n as u64;
        self.meter.set(self.seen);
        Ok(n)
    }
}

/// A file name made only of safe characters.
fn sanitize(name: &str) -> String {
    let clean: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    match clean.trim_start_matches('.') {
        "" => "package.hop".to_owned(),
        rest => rest.to_owned(),
    }
}

fn remove(paths: &[&Path]) {
    for p in paths {
        let _ = std::fs::remove_file(p);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_download_keeps_a_safe_file_name() {
        assert_eq!(
            sanitize("manager-4.0.1-to-4.1.1.hop"),
            "manager-4.0.1-to-4.1.1.hop"
        );
        assert_eq!(sanitize("../../etc/passwd"), "_.._etc_passwd");
        assert_eq!(sanitize(""), "package.hop");
    }
}
