//! supervisord, through its XML-RPC API on the unix socket its conf names
//! (what `supervisorctl` itself speaks, without a Python start per call —
//! which keeps the downtime window short), or through `supervisorctl -c
//! <conf>` when the conf names no unix socket.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow, bail};

mod conf;
mod transport;

pub use conf::{program_setting, socket_of};
use transport::UnixHttp;

use super::{ServiceManager, ServiceState};
use crate::host::Host;
use crate::procfs::Process;
use crate::runner::{Command, Runner};

pub struct Supervisord {
    conf: String,
    /// The conf's text, for the programs' own settings.
    conf_text: String,
    /// The control socket, when the conf names one.
    socket: Option<PathBuf>,
    runner: Runner,
}

/// How much of a program's log a failure shows.
const TAIL_BYTES: usize = 4096;
const DIAGNOSIS_LINES: usize = 15;

/// The last `n` non-empty lines of `text`, indented.
fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..]
        .iter()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// supervisord's fault codes hop acts on.
const FAULT_ALREADY_STARTED: i32 = 60;
const FAULT_NOT_RUNNING: i32 = 70;

impl Supervisord {
    /// supervisord as host.yaml names its config (default
    /// `/etc/supervisord.conf`), resolved inside the host's root.
    pub fn new(host: &Host, runner: Runner) -> Result<Self> {
        let conf = host.supervisord_conf()?;
        let conf_text = std::fs::read_to_string(&conf).unwrap_or_default();
        let socket = socket_of(&conf_text, &conf);
        Ok(Self {
            conf_text,
            conf: conf.display().to_string(),
            socket,
            runner,
        })
    }

    fn ctl(&self, args: &[&str]) -> Command {
        Command::new("supervisorctl")
            .args(["-c", self.conf.as_str()])
            .args(args.iter().copied())
            .timeout(Duration::from_secs(60))
    }

    /// Calls an XML-RPC method, logging it like a command.
    fn call(
        &self,
        socket: &Path,
        method: &str,
        args: &[xmlrpc::Value],
        timeout: Duration,
    ) -> Result<xmlrpc::Value, xmlrpc::Error> {
        let started = Instant::now();
        let mut request = xmlrpc::Request::new(method);
        for a in args {
            request = request.arg(a.clone());
        }
        let result = request.call(UnixHttp { socket, timeout });
        let shown: Vec<String> = args
            .iter()
            .map(|a| a.as_str().map_or_else(|| format!("{a:?}"), str::to_owned))
            .collect();
        self.runner.log.line(&format!(
            "$ supervisord rpc {method}({}) → {} after {}ms",
            shown.join(", "),
            match &result {
                Ok(_) => "ok".to_owned(),
                Err(e) => e.to_string(),
            },
            started.elapsed().as_millis()
        ));
        result
    }
}

/// Maps supervisord's state names.
fn state_of(statename: &str, description: &str, pid: Option<u32>) -> ServiceState {
    match statename {
        "RUNNING" => ServiceState::Running { pid },
        "STARTING" => ServiceState::Starting,
        "STOPPING" => ServiceState::Stopping { pid },
        "STOPPED" => ServiceState::Stopped,
        "EXITED" | "FATAL" | "BACKOFF" => {
            ServiceState::Failed(format!("{statename} {description}").trim().to_owned())
        }
        other => ServiceState::Unknown(other.to_owned()),
    }
}

/// Parses a `supervisorctl status NAME` line.
pub fn parse_status(line: &str) -> ServiceState {
    let mut words = line.split_whitespace();
    let _name = words.next();
    let state = words.next().unwrap_or("");
    let pid = line
        .split("pid ")
        .nth(1)
        .and_then(|r| r.split(',').next())
        .and_then(|p| p.trim().parse().ok());
    let rest = line
        .split_whitespace()
        .skip(2)
        .collect::<Vec<_>>()
        .join(" ");
    state_of(state, &rest, pid)
}

fn fault_code(e: &xmlrpc::Error) -> Option<i32> {
    e.fault().map(|f| f.fault_code)
}

impl Supervisord {
    /// Asks supervisord to `method` the process `name` (with `extra`
    /// arguments); the fault `done` means it already is as asked.
    fn ask(
        &self,
        socket: &Path,
        (method, name, extra): (&str, &str, xmlrpc::Value),
        timeout: Duration,
        done: i32,
    ) -> Result<(), xmlrpc::Error> {
        match self.call(socket, method, &[name.into(), extra], timeout) {
            Err(e) if fault_code(&e) != Some(done) => Err(e),
            _ => Ok(()),
        }
    }
}

impl ServiceManager for Supervisord {
    fn status(&self, name: &str) -> Result<ServiceState> {
        if let Some(socket) = &self.socket {
            let info = self
                .call(
                    socket,
                    "supervisor.getProcessInfo",
                    &[name.into()],
                    Duration::from_secs(10),
                )
                .map_err(|e| anyhow!("supervisord at {}: {e}", socket.display()))?;
            let text = |k: &str| {
                info.get(k)
                    .and_then(|v| v.as_str())
                    .unwrap_or("")
                    .to_owned()
            };
            let pid = info
                .get("pid")
                .and_then(|v| v.as_i32())
                .filter(|p| *p > 0)
                .map(|p| p as u32);
            return Ok(state_of(&text("statename"), &text("description"), pid));
        }
        let out = self.runner.run(&self.ctl(&["status", name]))?;
        let text = out.text.trim();
        if text.contains("no such process") || text.contains("ERROR (no such") {
            return Ok(ServiceState::Unknown(format!(
                "supervisord has no program {name}"
            )));
        }
        if text.contains("refused connection")
            || text.contains("no such file")
            || text.contains("SHUTDOWN_STATE")
        {
            bail!("supervisord is not reachable through {}: {text}", self.conf);
        }
        Ok(parse_status(text.lines().next().unwrap_or("")))
    }

    fn start(&self, name: &str) -> Result<()> {
        let failed = |why: String| {
            let diagnosis = self.diagnose(name);
            let sep = if diagnosis.is_empty() { "" } else { "\n" };
            anyhow!("{why}{sep}{diagnosis}")
        };
        if let Some(socket) = &self.socket {
            let start = ("supervisor.startProcess", name, true.into());
            return self
                .ask(
                    socket,
                    start,
                    Duration::from_secs(120),
                    FAULT_ALREADY_STARTED,
                )
                .map_err(|e| failed(format!("starting {name}: {e}")));
        }
        let out = self.runner.run(&self.ctl(&["start", name]))?;
        if out.success() || out.text.contains("already started") {
            return Ok(());
        }
        Err(failed(format!(
            "supervisorctl start {name}: {}",
            out.text.trim()
        )))
    }

    fn start_wait(&self, name: &str) -> Option<Duration> {
        // supervisord's default startsecs is 1 (seconds; included programs
        // are not looked at: the default is then assumed).
        let secs = program_setting(&self.conf_text, name, "startsecs")
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(1.0);
        Some(Duration::from_secs_f64(secs.clamp(0.0, 3600.0)))
    }

    fn diagnose(&self, name: &str) -> String {
        // The program's own last lines, from the log supervisord keeps
        // of its output (stderr too where the conf redirects it).
        let text = match &self.socket {
            Some(socket) => self
                .call(
                    socket,
                    "supervisor.tailProcessStdoutLog",
                    &[name.into(), 0.into(), (TAIL_BYTES as i32).into()],
                    Duration::from_secs(10),
                )
                .ok()
                .and_then(|v| {
                    v.as_array()
                        .and_then(|a| a.first()?.as_str().map(str::to_owned))
                }),
            None => self
                .runner
                .run(&self.ctl(&["tail", name]))
                .ok()
                .map(|o| o.text),
        };
        let lines = last_lines(&text.unwrap_or_default(), DIAGNOSIS_LINES);
        if lines.is_empty() {
            format!(
                "(`supervisorctl -c {} tail {name}` shows no output of it)",
                self.conf
            )
        } else {
            format!(
                "last lines of its output (`supervisorctl -c {} tail {name}`):\n{}",
                self.conf,
                crate::terminal::printable(&lines)
            )
        }
    }

    fn stop(&self, name: &str, timeout: Duration) -> Result<()> {
        // supervisord returns once the process is down (it sends SIGKILL
        // after the program's stopwaitsecs); past `timeout` the caller
        // kills it itself.
        if let Some(socket) = &self.socket {
            let stop = ("supervisor.stopProcess", name, true.into());
            return match self.ask(socket, stop, timeout, FAULT_NOT_RUNNING) {
                Err(e) if e.fault().is_some() => Err(anyhow!("stopping {name}: {e}")),
                // A transport timeout: the caller looks at the state.
                _ => Ok(()),
            };
        }
        match self.runner.run(&self.ctl(&["stop", name]).timeout(timeout)) {
            Ok(o) if o.success() || o.text.contains("not running") => Ok(()),
            Ok(o) => bail!("supervisorctl stop {name}: {}", o.text.trim()),
            Err(_) => Ok(()),
        }
    }

    fn signal(&self, name: &str, signal: &str) -> Result<()> {
        let sig = signal.trim_start_matches("SIG");
        if let Some(socket) = &self.socket {
            let signal = ("supervisor.signalProcess", name, sig.into());
            return self
                .ask(socket, signal, Duration::from_secs(10), FAULT_NOT_RUNNING)
                .map_err(|e| anyhow!("signalling {name}: {e}"));
        }
        let out = self.runner.run(&self.ctl(&["signal", sig, name]))?;
        if out.success() {
            Ok(())
        } else {
            bail!("supervisorctl signal {sig} {name}: {}", out.text.trim())
        }
    }

    fn kill(&self, name: &str) -> Result<()> {
        // Running or still stopping: the process supervisord names now.
        if let Some(process) = self.status(name)?.pid().and_then(Process::of) {
            self.runner.log.line(&format!(
                "$ kill -KILL {} ({name}, through its process record)",
                process.pid
            ));
            process.kill();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_supervisorctl_status_lines() {
        assert_eq!(
            parse_status("rest-service                     RUNNING   pid 4242, uptime 0:01:02"),
            ServiceState::Running { pid: Some(4242) }
        );
        assert_eq!(
            parse_status("mgmtworker STOPPED   Nov 21 10:00 AM"),
            ServiceState::Stopped
        );
        assert!(matches!(
            parse_status("x FATAL Exited too quickly"),
            ServiceState::Failed(_)
        ));
        assert_eq!(parse_status("x STARTING"), ServiceState::Starting);
        // Asked to stop but still running: not down.
        let stopping = parse_status("x STOPPING   pid 77, uptime 0:00:03");
        assert_eq!(stopping, ServiceState::Stopping { pid: Some(77) });
        assert!(stopping.is_running());
    }
}
