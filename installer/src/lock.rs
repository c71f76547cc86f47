//! One operation at a time per host: an exclusive `flock` on the state
//! directory itself, released by the kernel if the process dies. While it
//! is held, `lock.holder` says who holds it; an operation refused before it
//! changed anything leaves no file behind.

use std::fs::File;
use std::path::PathBuf;

use crate::clock::now;
use crate::error::Refusal;
use crate::state_dir::StateDir;

/// Held for the life of an operation.
pub struct HostLock {
    _dir: File,
    holder: PathBuf,
}

impl HostLock {
    /// Takes the lock or refuses, naming the operation that holds it.
    pub fn acquire(sd: &StateDir, what: &str) -> Result<Self, Refusal> {
        sd.ensure().map_err(|e| Refusal::new(format!("{e:#}")))?;
        let dir = File::open(&sd.dir)
            .map_err(|e| Refusal::new(format!("cannot open {}: {e}", sd.dir.display())))?;
        let holder = sd.lock_holder();
        match dir.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let who = std::fs::read_to_string(&holder).unwrap_or_default();
                return Err(Refusal::new(format!(
                    "another operation is running on this host ({}); nothing was changed",
                    if who.trim().is_empty() {
                        "starting"
                    } else {
                        who.trim()
                    }
                ))
                .with_hint("wait for it to finish; `hop-install status` shows it"));
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(Refusal::new(format!(
                    "cannot lock {}: {e}",
                    sd.dir.display()
                )));
            }
        }
        let who = format!(
            "pid {}, hop-install {what}, since {}",
            std::process::id(),
            now()
        );
        let _ = crate::atomic::write(&holder, who.as_bytes(), 0o600);
        Ok(Self { _dir: dir, holder })
    }
}

impl Drop for HostLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.holder);
    }
}
