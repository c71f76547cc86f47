//! A client of the product's services, outside hop: it asks each
//! service's `/readyz` every 5 ms (from inside the sandbox's network
//! namespace when it has one) and says how long it went unanswered while
//! hop worked — the window as clients saw it, to hold hop's report to.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

/// Whether the service on `port` answers `GET /readyz` with 200.
pub fn ready(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
    if s.write_all(b"GET /readyz HTTP/1.0\r\n\r\n").is_err() {
        return false;
    }
    let mut buf = [0u8; 12];
    s.read_exact(&mut buf).is_ok() && buf.ends_with(b"200")
}

/// The polling client, running until [`ServedWatch::end`].
pub struct ServedWatch {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<Result<Option<Duration>>>,
}

impl ServedWatch {
    /// How often every port is asked.
    pub const EVERY: Duration = Duration::from_millis(5);

    /// Starts asking `ports`, in network namespace `netns` if given.
    pub fn start(netns: Option<&str>, ports: &[u16]) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let (flag, ports, netns) = (stop.clone(), ports.to_vec(), netns.map(str::to_owned));
        let thread = std::thread::spawn(move || {
            if let Some(ns) = netns {
                // setns(CLONE_NEWNET) moves only this thread.
                let file = std::fs::File::open(format!("/run/netns/{ns}"))
                    .with_context(|| format!("opening network namespace {ns}"))?;
                nix::sched::setns(&file, nix::sched::CloneFlags::CLONE_NEWNET)
                    .with_context(|| format!("entering network namespace {ns}"))?;
            }
            let (mut first, mut last) = (None, None);
            while !flag.load(Ordering::Acquire) {
                let at = Instant::now();
                if !ports.iter().all(|p| ready(*p)) {
                    first.get_or_insert(at);
                    last = Some(at);
                }
                std::thread::sleep(Self::EVERY);
            }
            Ok(first.zip(last).map(|(f, l)| l - f + Self::EVERY))
        });
        Self { stop, thread }
    }

    /// Stops asking: from the first unanswered ask to the last, plus one
    /// interval (`None`: every ask was answered).
    pub fn end(self) -> Result<Option<Duration>> {
        self.stop.store(true, Ordering::Release);
        self.thread
            .join()
            .map_err(|_| anyhow::anyhow!("the polling client panicked"))?
    }
}
