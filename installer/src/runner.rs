//! Runs the host's tools (`rpm`, `supervisorctl`, `systemctl`, `pg_dump`…)
//! with a timeout, in their own process group (a Ctrl-C at the terminal
//! reaches hop, which stops at a safe point, not `rpm` mid-transaction),
//! logging each command, its exit code and its output.

use std::io;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow};
use hop_migrate::tools::{ToolCommand, ToolOutput, Tools};

use crate::log::Log;

/// Output kept in the log and in errors.
const MAX_OUTPUT: usize = 16 * 1024;

/// A command line.
#[derive(Clone, Debug)]
pub struct Cmd {
    pub program: String,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    /// Start from an empty environment (hook scripts).
    pub clear_env: bool,
    pub timeout: Duration,
    pub stdin: Option<PathBuf>,
    pub stdout: Option<PathBuf>,
}

impl Cmd {
    pub fn new(program: &str) -> Self {
        Self {
            program: program.to_owned(),
            args: Vec::new(),
            env: Vec::new(),
            clear_env: false,
            timeout: Duration::from_secs(600),
            stdin: None,
            stdout: None,
        }
    }

    pub fn arg(mut self, a: impl Into<String>) -> Self {
        self.args.push(a.into());
        self
    }

    pub fn args<I: IntoIterator<Item = S>, S: Into<String>>(mut self, args: I) -> Self {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    pub fn env(mut self, k: &str, v: impl Into<String>) -> Self {
        self.env.push((k.to_owned(), v.into()));
        self
    }

    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = t;
        self
    }

    /// The command line as shown in logs and errors.
    pub fn line(&self) -> String {
        std::iter::once(self.program.as_str())
            .chain(self.args.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// How a command ended.
#[derive(Clone, Debug)]
pub struct Output {
    pub code: Option<i32>,
    pub text: String,
}

impl Output {
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }
}

/// Runs commands and logs them.
#[derive(Clone)]
pub struct Runner {
    pub log: Log,
}

impl Runner {
    pub fn new(log: Log) -> Self {
        Self { log }
    }

    fn expression(&self, cmd: &Cmd) -> duct::Expression {
        let mut expr = duct::cmd(&cmd.program, &cmd.args).unchecked();
        if cmd.clear_env {
            expr = expr.full_env(cmd.env.iter().cloned());
        } else {
            for (k, v) in &cmd.env {
                expr = expr.env(k, v);
            }
        }
        if let Some(p) = &cmd.stdin {
            expr = expr.stdin_path(p);
        }
        expr = match &cmd.stdout {
            Some(p) => expr.stdout_path(p).stderr_capture(),
            None => expr.stderr_to_stdout().stdout_capture(),
        };
        expr.before_spawn(|c| {
            c.process_group(0);
            Ok(())
        })
    }

    /// Starts a command without waiting (to observe or kill it).
    pub fn start(&self, cmd: &Cmd) -> io::Result<duct::Handle> {
        self.log.line(&format!("$ {}", cmd.line()));
        self.expression(cmd).start()
    }

    /// Runs a command to completion or its timeout; a non-zero exit is an
    /// `Ok` output (see [`Runner::check`]).
    pub fn run(&self, cmd: &Cmd) -> Result<Output> {
        let started = Instant::now();
        let handle = self
            .start(cmd)
            .map_err(|e| anyhow!("cannot run {}: {e}", cmd.program))?;
        let finished = handle.wait_timeout(cmd.timeout)?;
        let Some(out) = finished else {
            let _ = handle.kill();
            self.log.line(&format!(
                "  timed out after {}s, killed",
                cmd.timeout.as_secs()
            ));
            return Err(anyhow!(
                "`{}` timed out after {}s",
                self.log.redact(&cmd.line()),
                cmd.timeout.as_secs()
            ));
        };
        let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.push_str(&String::from_utf8_lossy(&out.stderr));
        if text.len() > MAX_OUTPUT {
            let cut = text.len() - MAX_OUTPUT;
            let cut = (cut..text.len())
                .find(|i| text.is_char_boundary(*i))
                .unwrap_or(cut);
            text = format!("…{}", &text[cut..]);
        }
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

    /// Runs a command that must succeed; returns its output.
    pub fn check(&self, cmd: &Cmd) -> Result<String> {
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

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Database tools run through the runner, so backups are logged too.
impl Tools for Runner {
    fn run(&self, command: &ToolCommand) -> io::Result<ToolOutput> {
        for (_, secret) in &command.env {
            self.log.add_secret(secret);
        }
        let cmd = Cmd {
            program: command.program.clone(),
            args: command.args.clone(),
            env: command.env.clone(),
            clear_env: false,
            timeout: Duration::from_secs(6 * 3600),
            stdin: command.stdin.clone(),
            stdout: command.stdout.clone(),
        };
        let out = Runner::run(self, &cmd).map_err(|e| io::Error::other(e.to_string()))?;
        Ok(ToolOutput {
            code: out.code,
            output: out.text,
        })
    }
}
