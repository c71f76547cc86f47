//! # hop-exec
//!
//! The one way hop's crates describe an outside program to run — `rpm`,
//! `pg_dump`, `systemctl`, a package's hook — and the one trait that runs
//! it. The migration engine builds [`Command`]s for its backups; the
//! installer's runner runs them with a timeout, in their own process
//! group, logged, and recorded while they run.
//!
//! ```no_run
//! use hop_exec::{Command, Direct, Run};
//! let dump = Command::new("pg_dump")
//!     .args(["-Fc", "--no-password"])
//!     .secret_env("PGPASSWORD", Some("s3cret".into()));
//! let out = Direct.run(&dump)?;
//! assert!(out.success(), "{}", out.text);
//! # Ok::<(), std::io::Error>(())
//! ```

#![deny(missing_docs)]

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What a tool gets of hop's own environment: the search path, the
/// locale, the time zone, who and where root is — never the rest, which
/// may hold secrets (an `AWS_SECRET_ACCESS_KEY`, a `PGPASSWORD` the
/// operator exported) or hop's own settings. Variables named `LC_…` pass
/// too. A command that needs more says so with [`Command::env`].
pub const PASSED_ON: [&str; 10] = [
    "PATH",
    "HOME",
    "LANG",
    "LANGUAGE",
    "TZ",
    "TMPDIR",
    "USER",
    "LOGNAME",
    "TERM",
    "GNUPGHOME",
];

/// The part of this process's environment every tool gets.
pub fn passed_on() -> Vec<(String, String)> {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .filter(|(k, _)| is_passed_on(k))
        .collect()
}

/// Whether a variable of hop's environment reaches its tools.
pub fn is_passed_on(name: &str) -> bool {
    PASSED_ON.contains(&name) || name.starts_with("LC_")
}

/// A command line and how to run it.
#[derive(Clone, Debug)]
pub struct Command {
    /// The program (a name looked up in `PATH`, or a path).
    pub program: String,
    /// Its arguments.
    pub args: Vec<String>,
    /// The environment beyond what every tool gets from hop's own
    /// ([`PASSED_ON`]); with [`Command::clear_env`], the whole of it.
    pub env: Vec<(String, String)>,
    /// Names of `env` entries whose values are secrets (never logged).
    pub secrets: Vec<String>,
    /// Start from an empty environment, not even [`PASSED_ON`] (hooks,
    /// health commands, programs run as another user).
    pub clear_env: bool,
    /// How long it may run before it is killed.
    pub timeout: Duration,
    /// Standard input from this file.
    pub stdin: Option<PathBuf>,
    /// Standard output into this (existing) file; standard error is
    /// captured.
    pub stdout: Option<PathBuf>,
    /// Standard output and error into this file instead of a pipe: the
    /// runner then waits for the process to exit, not for the pipe to
    /// close, so a background job the command leaves cannot hold it up.
    pub output_file: Option<PathBuf>,
    /// Kill what is left of the process group once the command exited.
    pub end_group: bool,
    /// Leave nothing it started running once it ended, also what left its
    /// process group (`setsid`): the installer's runner starts it under a
    /// child subreaper that kills and reaps every process below it.
    pub reap_all: bool,
    /// Run as this (uid, gid) instead of hop's own, supplementary groups
    /// dropped.
    pub user: Option<(u32, u32)>,
    /// The working directory.
    pub cwd: Option<PathBuf>,
}

impl Command {
    /// A command with no arguments and a ten-minute timeout.
    pub fn new(program: &str) -> Self {
        Self {
            program: program.to_owned(),
            args: Vec::new(),
            env: Vec::new(),
            secrets: Vec::new(),
            clear_env: false,
            timeout: Duration::from_secs(600),
            stdin: None,
            stdout: None,
            output_file: None,
            end_group: false,
            reap_all: false,
            user: None,
            cwd: None,
        }
    }

    /// Adds one argument.
    pub fn arg(mut self, a: impl Into<String>) -> Self {
        self.args.push(a.into());
        self
    }

    /// Adds arguments.
    pub fn args<I: IntoIterator<Item = S>, S: Into<String>>(mut self, args: I) -> Self {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Sets an environment variable.
    pub fn env(mut self, k: &str, v: impl Into<String>) -> Self {
        self.env.push((k.to_owned(), v.into()));
        self
    }

    /// Sets a secret environment variable (a password), when there is one.
    pub fn secret_env(mut self, key: &str, value: Option<String>) -> Self {
        if let Some(value) = value {
            self.secrets.push(key.to_owned());
            self.env.push((key.to_owned(), value));
        }
        self
    }

    /// The values of the secret environment variables.
    pub fn secret_values(&self) -> impl Iterator<Item = &str> {
        self.env
            .iter()
            .filter(|(k, _)| self.secrets.contains(k))
            .map(|(_, v)| v.as_str())
    }

    /// Sets how long it may run.
    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = t;
        self
    }

    /// Runs a program hop did not write (a hook, a health command): an
    /// empty environment but `PATH` and what was set, in `cwd`, its output
    /// in `output`, and nothing of its process group left when it ends.
    pub fn contained(mut self, cwd: &Path, output: PathBuf) -> Self {
        self.clear_env = true;
        self.env
            .insert(0, ("PATH".into(), "/usr/sbin:/usr/bin:/sbin:/bin".into()));
        self.cwd = Some(cwd.to_path_buf());
        self.output_file = Some(output);
        self.end_group = true;
        self.reap_all = true;
        self
    }

    /// Runs as another user (through `runuser`, which hands its
    /// environment on): only a plain `PATH` and the locale, so nothing of
    /// root's reaches a process that user can read (`/proc/PID/environ`).
    pub fn for_another_user(mut self) -> Self {
        self.clear_env = true;
        let mut env = vec![(
            "PATH".to_owned(),
            "/usr/sbin:/usr/bin:/sbin:/bin".to_owned(),
        )];
        env.extend(
            passed_on()
                .into_iter()
                .filter(|(k, _)| k == "LANG" || k.starts_with("LC_")),
        );
        env.append(&mut self.env);
        self.env = env;
        self
    }

    /// The command line as shown in logs and errors (no environment, so no
    /// secret).
    pub fn line(&self) -> String {
        std::iter::once(self.program.as_str())
            .chain(self.args.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// How a command ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Output {
    /// The exit code; `None` when a signal ended it.
    pub code: Option<i32>,
    /// Standard error, and standard output when not redirected.
    pub text: String,
}

impl Output {
    /// Whether it exited 0.
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }
}

/// Runs commands. A non-zero exit is an `Ok` output; an `Err` means the
/// command could not run or did not end in time.
pub trait Run {
    /// Runs `command` to its end.
    fn run(&self, command: &Command) -> io::Result<Output>;
}

/// Runs commands directly, with no timeout and no log (tests, tools).
pub struct Direct;

impl Command {
    /// The command as a `duct` expression with its environment, working
    /// directory and standard input; a non-zero exit is not an error. The
    /// caller chooses where its output goes.
    pub fn expression(&self) -> duct::Expression {
        let mut expr = duct::cmd(&self.program, &self.args).unchecked();
        let base = if self.clear_env {
            Vec::new()
        } else {
            passed_on()
        };
        expr = expr.full_env(base.into_iter().chain(self.env.iter().cloned()));
        if let Some(dir) = &self.cwd {
            expr = expr.dir(dir);
        }
        if let Some(p) = &self.stdin {
            expr = expr.stdin_path(p);
        }
        expr
    }
}

impl Run for Direct {
    fn run(&self, command: &Command) -> io::Result<Output> {
        let mut expr = command.expression();
        if let Some((uid, gid)) = command.user {
            use std::os::unix::process::CommandExt;
            expr = expr.before_spawn(move |c| {
                c.uid(uid).gid(gid);
                Ok(())
            });
        }
        let out = match &command.stdout {
            Some(p) => expr.stdout_path(p).stderr_capture().run()?,
            None => expr.stderr_to_stdout().stdout_capture().run()?,
        };
        let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.push_str(&String::from_utf8_lossy(&out.stderr));
        Ok(Output {
            code: out.status.code(),
            text,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_and_keeps_secrets_out_of_the_line() {
        let cmd = Command::new("sh")
            .args(["-c", "echo \"$P\""])
            .secret_env("P", Some("hunter2".into()));
        assert_eq!(cmd.line(), "sh -c echo \"$P\"");
        assert_eq!(cmd.secret_values().collect::<Vec<_>>(), ["hunter2"]);
        let out = Direct.run(&cmd).unwrap();
        assert!(out.success());
        assert_eq!(out.text.trim(), "hunter2");
    }

    #[test]
    fn a_tool_gets_only_what_it_needs_of_hops_environment() {
        for kept in [
            "PATH",
            "HOME",
            "LANG",
            "LC_ALL",
            "LC_MESSAGES",
            "TZ",
            "GNUPGHOME",
        ] {
            assert!(is_passed_on(kept), "{kept}");
        }
        for secret in [
            "AWS_SECRET_ACCESS_KEY",
            "AWS_ACCESS_KEY_ID",
            "PGPASSWORD",
            "MYSQL_PWD",
            "HOP_FAULT",
            "LD_PRELOAD",
        ] {
            assert!(!is_passed_on(secret), "{secret}");
        }
        let env = Direct.run(&Command::new("env")).unwrap().text;
        assert!(env.lines().any(|l| l.starts_with("PATH=")), "{env}");
        assert!(
            env.lines()
                .filter_map(|l| l.split('=').next())
                .all(is_passed_on),
            "{env}"
        );
        let other = Command::new("env").env("PGDATA", "/x").for_another_user();
        assert!(other.clear_env);
        let names: Vec<&str> = other.env.iter().map(|(k, _)| k.as_str()).collect();
        assert!(
            names
                .iter()
                .all(|n| ["PATH", "PGDATA", "LANG"].contains(n) || n.starts_with("LC_")),
            "{names:?}"
        );
    }
}
