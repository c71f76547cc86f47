//! Running the databases' own tools (`pg_dump`, `pg_restore`, `psql`,
//! `mariadb-dump`, `mariadb`) through a seam the installer fills with its
//! logging runner. Secrets travel in the environment, never in arguments.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// A command to run.
#[derive(Clone, Debug, Default)]
pub struct ToolCommand {
    pub program: String,
    pub args: Vec<String>,
    /// Extra environment, e.g. `PGPASSWORD`: never printed.
    pub env: Vec<(String, String)>,
    /// Feed this file to standard input.
    pub stdin: Option<PathBuf>,
    /// Write standard output to this (existing) file.
    pub stdout: Option<PathBuf>,
}

impl ToolCommand {
    pub fn new(program: &str) -> Self {
        Self {
            program: program.to_owned(),
            ..Default::default()
        }
    }

    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    pub fn args<I: IntoIterator<Item = S>, S: Into<String>>(mut self, args: I) -> Self {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    pub fn secret_env(mut self, key: &str, value: Option<String>) -> Self {
        if let Some(value) = value {
            self.env.push((key.to_owned(), value));
        }
        self
    }
}

impl fmt::Display for ToolCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.program)?;
        for a in &self.args {
            write!(f, " {a}")?;
        }
        if let Some(p) = &self.stdin {
            write!(f, " < {}", p.display())?;
        }
        if let Some(p) = &self.stdout {
            write!(f, " > {}", p.display())?;
        }
        Ok(())
    }
}

/// How a tool ended.
#[derive(Clone, Debug)]
pub struct ToolOutput {
    /// The exit code; `None` when killed by a signal.
    pub code: Option<i32>,
    /// Standard error, and standard output when not redirected.
    pub output: String,
}

impl ToolOutput {
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }
}

/// Runs tools. The installer implements this to log every command.
pub trait Tools {
    fn run(&self, command: &ToolCommand) -> io::Result<ToolOutput>;
}

/// Runs tools directly, logging nothing (tests, simple callers).
pub struct Direct;

impl Tools for Direct {
    fn run(&self, command: &ToolCommand) -> io::Result<ToolOutput> {
        let mut expr = duct::cmd(&command.program, &command.args).unchecked();
        for (k, v) in &command.env {
            expr = expr.env(k, v);
        }
        if let Some(p) = &command.stdin {
            expr = expr.stdin_path(p);
        }
        let out = match &command.stdout {
            Some(p) => expr.stdout_path(p).stderr_capture().run()?,
            None => expr.stderr_to_stdout().stdout_capture().run()?,
        };
        let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.push_str(&String::from_utf8_lossy(&out.stderr));
        Ok(ToolOutput {
            code: out.status.code(),
            output: text,
        })
    }
}
