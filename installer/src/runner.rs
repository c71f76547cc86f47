//! Runs the host's tools (`rpm`, `supervisorctl`, `systemctl`, `pg_dump`,
//! hook scripts…) with a timeout, logging each command, its exit code and
//! its output.
//!
//! Every tool runs in a process group of its own (a Ctrl-C at the terminal
//! reaches hop, which stops at a safe point, not `rpm` mid-transaction),
//! gets SIGKILL if hop-install dies (so nothing hop started goes on
//! changing the host behind a later `resume`), and — during an operation —
//! is recorded in the operation's ledger of child processes until it has
//! been waited for (`children`). A timeout kills the whole group.

use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow};
pub use hop_exec::{Command, Output};
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

use crate::children::Ledger;
use crate::log::Log;

/// Output kept in the log and in errors.
const MAX_OUTPUT: usize = 16 * 1024;

/// Runs commands and logs them.
#[derive(Clone)]
pub struct Runner {
    /// Where each command and its output is written.
    pub log: Log,
    ledger: Option<Arc<Ledger>>,
}

impl Runner {
    /// A runner that logs to `log` and records no children.
    pub fn new(log: Log) -> Self {
        Self { log, ledger: None }
    }

    /// Records every process group in `ledger` while it runs.
    pub fn with_ledger(mut self, ledger: Ledger) -> Self {
        self.ledger = Some(Arc::new(ledger));
        self
    }

    fn expression(&self, cmd: &Command) -> Result<duct::Expression> {
        let expr = cmd.expression();
        let expr = match (&cmd.output_file, &cmd.stdout) {
            (Some(path), _) => {
                let file = crate::atomic::create_private(path)?;
                // duct applies the outer redirection first: join stderr
                // into stdout, then point stdout at the file.
                expr.stdin_null().stderr_to_stdout().stdout_file(file)
            }
            (None, Some(p)) => expr.stdout_path(p).stderr_capture(),
            (None, None) => expr.stderr_to_stdout().stdout_capture(),
        };
        let parent = nix::unistd::getpid();
        Ok(expr.before_spawn(move |c| {
            c.process_group(0);
            // SAFETY: the closure runs in the forked child before exec,
            // where only async-signal-safe calls are allowed: it makes two
            // raw system calls (prctl, getppid) and builds an io::Error
            // from an errno, none of which allocates or takes a lock.
            unsafe {
                c.pre_exec(move || {
                    nix::sys::prctl::set_pdeathsig(Signal::SIGKILL)?;
                    // hop may have died between fork and prctl.
                    if nix::unistd::getppid() != parent {
                        return Err(io::Error::from_raw_os_error(libc_esrch()));
                    }
                    Ok(())
                });
            }
            Ok(())
        }))
    }

    /// Starts a command without waiting (to observe or kill it).
    pub fn start(&self, cmd: &Command) -> Result<duct::Handle> {
        self.log
            .line(&format!("$ {}", self.log.redact(&cmd.line())));
        let handle = self
            .expression(cmd)?
            .start()
            .map_err(|e| anyhow!("cannot run {}: {e}", cmd.program))?;
        if let (Some(ledger), Some(pid)) = (&self.ledger, handle.pids().first()) {
            ledger.started(*pid)?;
        }
        Ok(handle)
    }

    /// Runs a command to completion or its timeout; a non-zero exit is an
    /// `Ok` output (see [`Runner::check`]). A command that must leave
    /// nothing behind runs under `containment`'s subreaper.
    pub fn run(&self, cmd: &Command) -> Result<Output> {
        if cmd.reap_all || cmd.user.is_some() {
            let out = self.run_plain(&crate::containment::wrap(cmd))?;
            if out.code == Some(crate::containment::TIMED_OUT) {
                return Err(self.timed_out(cmd));
            }
            return Ok(out);
        }
        self.run_plain(cmd)
    }

    /// The error of a command stopped at its timeout.
    fn timed_out(&self, cmd: &Command) -> anyhow::Error {
        let why = format!(
            "timed out after {}",
            humantime::format_duration(cmd.timeout)
        );
        self.log
            .line(&format!("  {why}; its processes were killed"));
        anyhow!(
            "`{}` {why}{}",
            self.log.redact(&cmd.line()),
            cmd.output_file
                .as_ref()
                .map(|p| tail_of(p))
                .filter(|t| !t.is_empty())
                .map(|t| format!("; its last output:\n{}", indent(&t)))
                .unwrap_or_default()
        )
    }

    fn run_plain(&self, cmd: &Command) -> Result<Output> {
        let started = Instant::now();
        let handle = self.start(cmd)?;
        let pid = handle.pids().first().copied().unwrap_or(0);
        let finished = handle.wait_timeout(cmd.timeout);
        let group = Pid::from_raw(i32::try_from(pid).unwrap_or(0));
        let Ok(Some(out)) = finished else {
            let _ = killpg(group, Signal::SIGKILL);
            let _ = handle.kill();
            self.forget(pid)?;
            if let Err(e) = finished {
                self.log
                    .line(&format!("  failed: {e}; its process group was killed"));
                return Err(anyhow!("`{}` failed: {e}", self.log.redact(&cmd.line())));
            }
            return Err(self.timed_out(cmd));
        };
        if cmd.end_group && killpg(group, None).is_ok() {
            let _ = killpg(group, Signal::SIGKILL);
            self.log
                .line("  it left processes behind in its group: killed them");
        }
        self.forget(pid)?;
        let mut text = match &cmd.output_file {
            Some(p) => tail_of(p),
            None => String::from_utf8_lossy(&out.stdout).into_owned(),
        };
        text.push_str(&String::from_utf8_lossy(&out.stderr));
        let text = keep_tail(text);
        let code = out.status.code();
        self.log.line(&format!(
            "  exit {} after {}ms{}",
            code.map_or("signal".into(), |c| c.to_string()),
            started.elapsed().as_millis(),
            if text.trim().is_empty() {
                String::new()
            } else {
                format!("\n{}", indent(text.trim_end()))
            }
        ));
        Ok(Output { code, text })
    }

    fn forget(&self, pid: u32) -> Result<()> {
        match &self.ledger {
            Some(l) => l.finished(pid),
            None => Ok(()),
        }
    }

    /// Runs a command that must succeed; returns its output.
    pub fn check(&self, cmd: &Command) -> Result<String> {
        let out = self.run(cmd)?;
        if !out.success() {
            return Err(anyhow!(
                "`{}` failed (exit {}): {}",
                self.log.redact(&cmd.line()),
                out.code.map_or("signal".into(), |c| c.to_string()),
                self.log.redact(out.text.trim())
            ));
        }
        Ok(out.text)
    }
}

fn libc_esrch() -> i32 {
    nix::errno::Errno::ESRCH as i32
}

/// The last `MAX_OUTPUT` bytes of a command's output file.
fn tail_of(path: &Path) -> String {
    let Ok(mut f) = std::fs::File::open(path) else {
        return String::new();
    };
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let _ = f.seek(SeekFrom::Start(len.saturating_sub(MAX_OUTPUT as u64)));
    let mut bytes = Vec::new();
    let _ = f.read_to_end(&mut bytes);
    String::from_utf8_lossy(&bytes).into_owned()
}

fn keep_tail(text: String) -> String {
    if text.len() <= MAX_OUTPUT {
        return text;
    }
    let cut = text.len() - MAX_OUTPUT;
    let cut = (cut..text.len())
        .find(|i| text.is_char_boundary(*i))
        .unwrap_or(cut);
    format!("…{}", &text[cut..])
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The database tools the migration engine runs (dumps, restores) go
/// through the runner too, so they are logged, recorded and killed with
/// hop; their secrets are masked from then on.
impl hop_exec::Run for Runner {
    fn run(&self, command: &Command) -> io::Result<Output> {
        for secret in command.secret_values() {
            self.log.add_secret(secret);
        }
        let long = Command {
            timeout: Duration::from_secs(6 * 3600),
            ..command.clone()
        };
        Runner::run(self, &long).map_err(|e| io::Error::other(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The runner's own handling of a contained command: the subreaper
    /// is `hop-install` itself, which a unit test binary is not (the
    /// integration tests run it).
    trait WithoutSubreaper {
        fn without_subreaper(self) -> Self;
    }

    impl WithoutSubreaper for Command {
        fn without_subreaper(mut self) -> Self {
            self.reap_all = false;
            self
        }
    }

    fn runner() -> Runner {
        Runner::new(Log::new())
    }

    #[test]
    fn a_contained_command_is_not_held_up_by_its_background_job() {
        let dir = tempfile::tempdir().unwrap();
        let cmd = Command::new("/bin/sh")
            .args(["-c", "sleep 30 & echo started"])
            .timeout(Duration::from_secs(20))
            .contained(dir.path(), dir.path().join("out"))
            .without_subreaper();
        let begun = Instant::now();
        let out = runner().run(&cmd).unwrap();
        assert!(out.success());
        assert_eq!(out.text.trim(), "started");
        assert!(
            begun.elapsed() < Duration::from_secs(5),
            "{:?}",
            begun.elapsed()
        );
    }

    #[test]
    fn a_timeout_kills_the_whole_group() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("survived");
        let script = format!("(sleep 2; touch {}) & sleep 30", marker.display());
        let cmd = Command::new("/bin/sh")
            .args(["-c", script.as_str()])
            .timeout(Duration::from_millis(300))
            .contained(dir.path(), dir.path().join("out"))
            .without_subreaper();
        let err = runner().run(&cmd).unwrap_err();
        assert!(err.to_string().contains("timed out after 300ms"), "{err}");
        std::thread::sleep(Duration::from_secs(3));
        assert!(
            !marker.exists(),
            "a process of the group outlived the timeout"
        );
    }

    #[test]
    fn a_contained_command_gets_a_clean_environment_and_its_directory() {
        let dir = tempfile::tempdir().unwrap();
        let cmd = Command::new("/bin/sh")
            .args(["-c", "echo \"$HOME|$(pwd)|$PATH\""])
            .contained(dir.path(), dir.path().join("out"))
            .without_subreaper();
        let out = runner().run(&cmd).unwrap();
        let real = std::fs::canonicalize(dir.path()).unwrap();
        assert_eq!(
            out.text.trim(),
            format!("|{}|/usr/sbin:/usr/bin:/sbin:/bin", real.display())
        );
    }
}
