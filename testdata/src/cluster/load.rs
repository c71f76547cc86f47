//! A load generator: clients that send `GET /whoami` (a node's version
//! and the format it answers in) through the balancer without pause, and
//! count every request that did not get a 200.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What the clients saw.
#[derive(Clone, Debug, Default)]
pub struct LoadReport {
    /// Requests sent.
    pub requests: u64,
    /// Requests that got no answer or an answer other than 200.
    pub failed: u64,
    /// The slowest request.
    pub worst: Duration,
    /// The first few failures, for the message.
    pub failures: Vec<String>,
    /// Answers per version (which node versions served).
    pub versions: BTreeMap<String, u64>,
    /// When each `VERSION FORMAT` was first and last served.
    pub seen: BTreeMap<String, (Instant, Instant)>,
}

impl LoadReport {
    fn merge(&mut self, other: LoadReport) {
        self.requests += other.requests;
        self.failed += other.failed;
        self.worst = self.worst.max(other.worst);
        self.failures.extend(
            other
                .failures
                .into_iter()
                .take(10 - self.failures.len().min(10)),
        );
        for (v, n) in other.versions {
            *self.versions.entry(v).or_default() += n;
        }
        for (k, (first, last)) in other.seen {
            let e = self.seen.entry(k).or_insert((first, last));
            *e = (e.0.min(first), e.1.max(last));
        }
    }

    /// One line for people.
    pub fn summary(&self) -> String {
        format!(
            "{} requests, {} failed, worst latency {} ms, served by {:?}",
            self.requests,
            self.failed,
            self.worst.as_millis(),
            self.versions
        )
    }
}

/// Clients running until [`Load::stop`].
pub struct Load {
    stop: Arc<AtomicBool>,
    clients: Vec<JoinHandle<LoadReport>>,
}

impl Load {
    /// Starts `clients` clients against `127.0.0.1:port`.
    pub fn start(port: u16, clients: usize) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let clients = (0..clients)
            .map(|_| {
                let stop = stop.clone();
                std::thread::spawn(move || client(port, &stop))
            })
            .collect();
        Self { stop, clients }
    }

    /// Stops the clients; what they saw.
    pub fn stop(self) -> LoadReport {
        self.stop.store(true, Ordering::Relaxed);
        let mut report = LoadReport::default();
        for c in self.clients {
            if let Ok(r) = c.join() {
                report.merge(r);
            }
        }
        report
    }
}

/// Two seconds of load at steady state, then load for as long as `work`
/// runs: (what `work` returned, steady state, during `work`).
pub fn steady_then_during<T>(port: u16, work: impl FnOnce() -> T) -> (T, LoadReport, LoadReport) {
    let steady = Load::start(port, 2);
    std::thread::sleep(Duration::from_secs(2));
    let steady = steady.stop();
    let load = Load::start(port, 2);
    let result = work();
    (result, steady, load.stop())
}

fn client(port: u16, stop: &AtomicBool) -> LoadReport {
    let mut report = LoadReport::default();
    while !stop.load(Ordering::Relaxed) {
        let started = Instant::now();
        let answer = get(port, "/whoami");
        report.requests += 1;
        report.worst = report.worst.max(started.elapsed());
        match answer {
            Ok(whoami) => {
                let now = Instant::now();
                let e = report.seen.entry(whoami.clone()).or_insert((now, now));
                e.1 = now;
                let version = whoami.split(' ').next().unwrap_or("").to_owned();
                *report.versions.entry(version).or_default() += 1
            }
            Err(e) => {
                report.failed += 1;
                if report.failures.len() < 10 {
                    report.failures.push(e);
                }
            }
        }
        // A little room for the upgrade itself on a small machine.
        std::thread::sleep(Duration::from_millis(5));
    }
    report
}

/// One HTTP/1.0 GET; the body of a 200 answer, else why not.
fn get(port: u16, path: &str) -> Result<String, String> {
    let mut stream =
        TcpStream::connect(("127.0.0.1", port)).map_err(|e| format!("connect: {e}"))?;
    let timeout = Some(Duration::from_secs(10));
    stream
        .set_read_timeout(timeout)
        .and_then(|()| stream.set_write_timeout(timeout))
        .map_err(|e| e.to_string())?;
    stream
        .write_all(format!("GET {path} HTTP/1.0\r\nHost: manager\r\n\r\n").as_bytes())
        .map_err(|e| format!("send: {e}"))?;
    let mut answer = String::new();
    stream
        .read_to_string(&mut answer)
        .map_err(|e| format!("read: {e}"))?;
    let status = answer.lines().next().unwrap_or("");
    if !status.contains(" 200 ") {
        return Err(format!("answer: {status:?}"));
    }
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or("").trim();
    Ok(body.to_owned())
}
