//! One operation at a time per host: an exclusive lock on
//! `var/lib/hop/lock`, released by the kernel if the process dies.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};

use crate::error::Failure;
use crate::state::{StateDir, now};

/// Held for the life of an operation.
pub struct HostLock {
    _file: File,
}

impl HostLock {
    /// Takes the lock or refuses, naming the operation that holds it.
    pub fn acquire(dir: &StateDir, what: &str) -> Result<Self, Failure> {
        dir.ensure()
            .map_err(|e| Failure::refused(format!("{e:#}")))?;
        let path = dir.lock_file();
        let mut file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| Failure::refused(format!("cannot open {}: {e}", path.display())))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                return Err(Failure::refused(format!(
                    "another operation is running on this host ({}); nothing was changed",
                    holder.trim()
                ))
                .with_hint("wait for it to finish; `hop-install status` shows it"));
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(Failure::refused(format!(
                    "cannot lock {}: {e}",
                    path.display()
                )));
            }
        }
        let _ = file.set_len(0);
        let _ = file.seek(SeekFrom::Start(0));
        let _ = write!(
            file,
            "pid {}, hop-install {what}, since {}",
            std::process::id(),
            now()
        );
        let _ = file.sync_all();
        Ok(Self { _file: file })
    }
}
