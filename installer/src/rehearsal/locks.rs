//! How long the rehearsal's migrations waited for locks, sampled.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Context, Result};
use hop_migrate::url::DatabaseUrl;
use hop_migrate::{Migrator, Options};

/// Samples, every 100 ms, whether a session on the scratch database waits
/// for a lock (PostgreSQL: `pg_stat_activity`; MariaDB: the process
/// list), adding up the time. SQLite keeps no such record.
pub(super) struct LockSampler {
    pub(super) total: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    pub(super) measured: bool,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl LockSampler {
    const EVERY: Duration = Duration::from_millis(100);

    pub(super) fn start(scratch: &DatabaseUrl) -> Result<Self> {
        let total = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let Some(sql) = hop_migrate::dialect::dialect(scratch.backend()).lock_waits() else {
            return Ok(Self {
                total,
                stop,
                measured: false,
                thread: None,
            });
        };
        let (t, s) = (total.clone(), stop.clone());
        let url = scratch.clone();
        let (ready, connected) = std::sync::mpsc::channel();
        // A connection of its own, made in its thread (they are not Send).
        let thread = std::thread::spawn(move || {
            let mut conn = match Migrator::connect(&url, Options::default()) {
                Ok(c) => {
                    let _ = ready.send(Ok(()));
                    c
                }
                Err(e) => {
                    let _ = ready.send(Err(e));
                    return;
                }
            };
            while !s.load(Ordering::SeqCst) {
                let waiting = conn
                    .query_read_only(sql)
                    .ok()
                    .and_then(|rows| rows.first().and_then(|r| r.first().cloned()).flatten())
                    .and_then(|n| n.parse::<u64>().ok())
                    .unwrap_or(0);
                if waiting > 0 {
                    t.fetch_add(Self::EVERY.as_millis() as u64, Ordering::SeqCst);
                }
                std::thread::sleep(Self::EVERY);
            }
        });
        connected
            .recv()
            .context("the lock sampler did not start")?
            .context("the lock sampler cannot connect to the scratch database")?;
        Ok(Self {
            total,
            stop,
            measured: true,
            thread: Some(thread),
        })
    }
}

impl Drop for LockSampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
