//! Live progress of long work (downloads, dumps, restores, migrations):
//! on a terminal a bar with how far, how fast and an estimate; off a
//! terminal a line on stderr (and in the operation log) every few seconds,
//! so an operator watching a log knows the work is alive.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::log::Log;

/// How often a line is written off a terminal (`HOP_PROGRESS_SECONDS`
/// changes it; tests set it low).
fn line_interval() -> Duration {
    std::env::var("HOP_PROGRESS_SECONDS")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|s| *s > 0.0)
        .map_or(Duration::from_secs(5), Duration::from_secs_f64)
}

/// Bytes of one piece of long work (a download), measured.
pub struct Meter {
    label: String,
    total: Option<u64>,
    done: u64,
    last_line: Instant,
    /// `done` when the last line was printed (the rate is over that time).
    done_at_last_line: u64,
    every: Duration,
    bar: Option<ProgressBar>,
}

impl Meter {
    /// A meter over `total` bytes (unknown: `None`), labelled `label`.
    pub fn new(label: impl Into<String>, total: Option<u64>) -> Self {
        let label = label.into();
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr());
            let template = if total.is_some() {
                "{msg} [{bar:28}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}"
            } else {
                "{spinner} {msg} {bytes} {bytes_per_sec}"
            };
            if let Ok(style) = ProgressStyle::with_template(template) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_message(label.clone());
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        let now = Instant::now();
        Self {
            label,
            total,
            done: 0,
            last_line: now,
            done_at_last_line: 0,
            every: line_interval(),
            bar,
        }
    }

    /// Starts at `done` bytes already there (a resumed download): they
    /// count in the amount, not in the rate.
    pub fn resume_from(&mut self, done: u64) {
        self.done = done;
        self.done_at_last_line = done;
        if let Some(bar) = &self.bar {
            bar.set_position(done);
            bar.reset_eta();
        }
    }

    /// Sets how many bytes are done; called with the same count while
    /// nothing arrives, it still prints its line when due (0 B/s).
    pub fn set(&mut self, done: u64) {
        self.done = done;
        if let Some(bar) = &self.bar {
            bar.set_position(done);
        } else if self.last_line.elapsed() >= self.every {
            eprintln!("progress: {}", self.describe());
            self.last_line = Instant::now();
            self.done_at_last_line = done;
        }
    }

    /// Where the work is, as one line: "restoring: 512.0 MiB of 1.0 GiB
    /// (50%), 98.1 MiB/s, about 5s left".
    pub fn describe(&self) -> String {
        // The rate since the last line (since the start before the first):
        // what the link does now, and 0 B/s while it stalls.
        let secs = self.last_line.elapsed().as_secs_f64().max(0.001);
        let rate = self.done.saturating_sub(self.done_at_last_line) as f64 / secs;
        let amount = bytes_text;
        let mut text = format!("{}: {}", self.label, amount(self.done));
        if let Some(total) = self.total.filter(|t| *t > 0) {
            let pct = self.done as f64 * 100.0 / total as f64;
            text.push_str(&format!(" of {} ({pct:.0}%)", amount(total)));
            if rate > 0.0 && total > self.done {
                let left = (total - self.done) as f64 / rate;
                text.push_str(&format!(", about {left:.0}s left"));
            }
        }
        format!("{text}, {}/s", bytes_text(rate as u64))
    }

    /// Ends the bar (the caller prints the result).
    pub fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}

/// `n` bytes for a person: "1.5 GiB", "12.0 MiB", "900 B".
pub fn bytes_text(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut value = n as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// A sign of life for work that reports nothing while it runs (one long
/// SQL statement, a dump): on a terminal a spinner with the elapsed time;
/// off a terminal, every few seconds, the line `status()` gives (written
/// to stderr and the log too). Stops when dropped.
pub struct Ticker {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
    bar: Option<ProgressBar>,
}

impl Ticker {
    /// Starts ticking for `label`; `status` says where the work is (e.g.
    /// bytes written so far), given the seconds elapsed.
    pub fn start(
        label: impl Into<String>,
        log: Option<&Log>,
        status: impl Fn(f64) -> String + Send + 'static,
    ) -> Self {
        use std::sync::atomic::Ordering;
        let label = label.into();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        if std::io::stderr().is_terminal() {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
                bar.set_style(style);
            }
            bar.set_message(label);
            bar.enable_steady_tick(Duration::from_millis(200));
            return Self {
                stop,
                thread: None,
                bar: Some(bar),
            };
        }
        let every = line_interval();
        let log = log.cloned();
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let started = Instant::now();
            let mut next = every;
            while !flag.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(50).min(every));
                if started.elapsed() >= next {
                    next += every;
                    let secs = started.elapsed().as_secs_f64();
                    let line = format!("progress: {label}: {}", status(secs));
                    eprintln!("{line}");
                    if let Some(log) = &log {
                        log.line(&line);
                    }
                }
            }
        });
        Self {
            stop,
            thread: Some(thread),
            bar: None,
        }
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

/// "running for 12s".
pub fn running_for(secs: f64) -> String {
    format!("running for {secs:.0}s")
}

/// "running for 12s of about 30s (as rehearsed)" when a rehearsal of
/// this package measured the same work, else "running for 12s".
pub fn running_for_of(secs: f64, expected_ms: Option<u64>) -> String {
    match expected_ms.filter(|ms| *ms >= 1000) {
        Some(ms) => format!(
            "running for {secs:.0}s of about {:.0}s (as rehearsed)",
            ms as f64 / 1000.0
        ),
        None => running_for(secs),
    }
}

/// A status of a file growing as a tool writes it: "120.0 MiB written
/// (of about 300.0 MiB, as rehearsed), 40.0 MiB/s, running for 3s".
pub fn file_growth(
    path: std::path::PathBuf,
    expected_bytes: Option<u64>,
) -> impl Fn(f64) -> String + Send + 'static {
    move |secs| {
        let n = std::fs::metadata(&path).map_or(0, |m| m.len());
        let of = expected_bytes
            .filter(|b| *b > 0)
            .map(|b| format!(" of about {}, as rehearsed", bytes_text(b)))
            .unwrap_or_default();
        format!(
            "{} written{of}, {}/s, {}",
            bytes_text(n),
            bytes_text((n as f64 / secs.max(0.001)) as u64),
            running_for(secs)
        )
    }
}

/// The sign of life of one running migration: its rows so far (batched
/// migrations count them in `rows`) or how long it has run.
pub fn migration_ticker(
    file: &str,
    log: &Log,
    rows: std::sync::Arc<std::sync::atomic::AtomicU64>,
    expected_ms: Option<u64>,
) -> Ticker {
    Ticker::start(format!("migration {file}"), Some(log), move |secs| {
        let done = rows.load(std::sync::atomic::Ordering::SeqCst);
        let running = running_for_of(secs, expected_ms);
        if done == 0 {
            running
        } else {
            format!(
                "{done} rows, {:.0} rows/s, {running}",
                done as f64 / secs.max(0.001)
            )
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_read_as_a_person_would_say_them() {
        assert_eq!(bytes_text(900), "900 B");
        assert_eq!(bytes_text(1536), "1.5 KiB");
        assert_eq!(bytes_text(3 << 30), "3.0 GiB");
    }

    #[test]
    fn a_rehearsed_step_says_how_long_it_should_take() {
        assert_eq!(
            running_for_of(4.2, Some(9_400)),
            "running for 4s of about 9s (as rehearsed)"
        );
        assert_eq!(running_for_of(4.2, Some(300)), "running for 4s");
        assert_eq!(running_for_of(4.2, None), "running for 4s");
    }

    #[test]
    fn a_line_says_how_far_and_how_fast() {
        let mut meter = Meter::new("downloading x.hop", Some(4 << 20));
        meter.set(1 << 20);
        let line = meter.describe();
        assert!(
            line.starts_with("downloading x.hop: 1.0 MiB of 4.0 MiB (25%), about "),
            "{line}"
        );
        assert!(line.ends_with("/s"), "{line}");
    }
}
