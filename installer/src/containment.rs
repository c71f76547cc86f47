//! Containing a program hop did not write (a package's hook, a vendor's
//! check script): when it ends — by itself, at its timeout, or because hop
//! went — nothing it started is left running, also what escaped its
//! process group with `setsid` or a double fork.
//!
//! The runner starts such a program through `hop-install __contain`, a
//! small process that makes itself the child subreaper of everything below
//! it (`PR_SET_CHILD_SUBREAPER`, Linux 3.4): an orphan anywhere beneath is
//! handed to it, not to init. Once the program ended it kills every process
//! still below it and reaps them, then exits with the program's status
//! ([`TIMED_OUT`] when it enforced the timeout). It optionally runs the
//! program as another user.

use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill, killpg};
use nix::sys::wait::{WaitPidFlag, waitpid};
use nix::unistd::Pid;

use hop_exec::Command;

/// The hidden first argument that runs the containing process.
pub const VERB: &str = "__contain";

/// How the containing process's own lines in the program's output begin.
pub const NOTE: &str = "hop-install: ";

/// A contained program's output: its own last non-empty line, and the
/// containing process's notes.
pub fn last_line_and_notes(text: &str) -> (String, Vec<String>) {
    let (notes, own): (Vec<&str>, Vec<&str>) = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .partition(|l| l.starts_with(NOTE));
    (
        own.last().copied().unwrap_or("").to_owned(),
        notes.iter().map(|n| n[NOTE.len()..].to_owned()).collect(),
    )
}

/// The exit status when the program was stopped at its timeout (as
/// coreutils' `timeout` says it).
pub const TIMED_OUT: i32 = 124;

/// `cmd` run through the containing process of this very binary: the
/// timeout is enforced inside (the runner's own is a backstop), and the
/// user, if any, is switched to there.
pub fn wrap(cmd: &Command) -> Command {
    let exe = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "hop-install".into());
    let mut args = vec![
        VERB.to_owned(),
        "--timeout-ms".into(),
        cmd.timeout.as_millis().to_string(),
    ];
    if let Some((uid, gid)) = cmd.user {
        args.extend([
            "--uid".into(),
            uid.to_string(),
            "--gid".into(),
            gid.to_string(),
        ]);
    }
    args.push("--".into());
    args.push(cmd.program.clone());
    args.extend(cmd.args.iter().cloned());
    Command {
        program: exe,
        args,
        user: None,
        reap_all: false,
        timeout: cmd.timeout.saturating_add(Duration::from_secs(15)),
        ..cmd.clone()
    }
}

/// What the containing process was asked.
#[derive(Debug, PartialEq)]
struct Request {
    timeout: Duration,
    user: Option<(u32, u32)>,
    program: Vec<String>,
}

fn parse(args: &[String]) -> Result<Request, String> {
    let mut timeout = None;
    let (mut uid, mut gid) = (None, None);
    let mut i = 0;
    while i < args.len() {
        let value = || args.get(i + 1).ok_or(format!("{} needs a value", args[i]));
        match args[i].as_str() {
            "--timeout-ms" => timeout = Some(value()?.parse().map_err(|e| format!("{e}"))?),
            "--uid" => uid = Some(value()?.parse().map_err(|e| format!("{e}"))?),
            "--gid" => gid = Some(value()?.parse().map_err(|e| format!("{e}"))?),
            "--" => break,
            other => return Err(format!("unknown argument {other}")),
        }
        i += 2;
    }
    let program = args.get(i + 1..).unwrap_or_default().to_vec();
    if program.is_empty() {
        return Err("no program after --".into());
    }
    Ok(Request {
        timeout: Duration::from_millis(timeout.ok_or("--timeout-ms is required")?),
        user: uid.zip(gid),
        program,
    })
}

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_term(_: nix::libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

/// The containing process: `args` are what follows [`VERB`].
pub fn main(args: &[String]) -> ExitCode {
    let request = match parse(args) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("hop-install {VERB}: {e}");
            return ExitCode::from(2);
        }
    };
    ExitCode::from(u8::try_from(run(&request)).unwrap_or(1))
}

fn run(request: &Request) -> i32 {
    // If hop goes, end everything here first rather than die at once.
    let _ = nix::sys::prctl::set_pdeathsig(Signal::SIGTERM);
    // SAFETY: the handler only stores to an atomic, which is
    // async-signal-safe; it is installed before any thread exists.
    unsafe {
        let handler = nix::sys::signal::SigHandler::Handler(on_term);
        let _ = nix::sys::signal::signal(Signal::SIGTERM, handler);
    }
    if let Err(e) = nix::sys::prctl::set_child_subreaper(true) {
        eprintln!("hop-install {VERB}: cannot become a subreaper: {e}");
        return 1;
    }
    let mut command = std::process::Command::new(&request.program[0]);
    command
        .args(&request.program[1..])
        .stdin(std::process::Stdio::null());
    if let Some((uid, gid)) = request.user {
        // std drops supplementary groups too when root sets a uid.
        command.uid(uid).gid(gid);
    }
    let mut child = match command.spawn() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("hop-install {VERB}: cannot run {}: {e}", request.program[0]);
            return 126;
        }
    };
    let deadline = Instant::now() + request.timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status.code().or(status.signal().map(|s| 128 + s)),
            Ok(None) => {}
            Err(_) => break None,
        }
        if STOP.load(Ordering::SeqCst) || Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let ended = end_everything_below();
    if ended > 0 {
        eprintln!("{NOTE}the program left {ended} process(es) running; they were killed");
    }
    match status {
        Some(code) => code,
        None => TIMED_OUT,
    }
}

/// Kills and reaps every process below this one; how many there were.
fn end_everything_below() -> usize {
    let me = std::process::id();
    let mut ended = 0;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let children: Vec<u32> = children_of(me);
        if children.is_empty() {
            // Reap whatever exited meanwhile; done when nothing is left.
            match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
                Ok(nix::sys::wait::WaitStatus::StillAlive) => {}
                Ok(_) => continue,
                Err(_) => return ended,
            }
        }
        for pid in &children {
            let pid = Pid::from_raw(*pid as i32);
            // Its whole group first, so its own children go with it.
            let _ = killpg(pid, Signal::SIGKILL);
            let _ = kill(pid, Signal::SIGKILL);
            ended += 1;
        }
        while let Ok(status) = waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
            if status == nix::sys::wait::WaitStatus::StillAlive {
                break;
            }
        }
        if Instant::now() > deadline {
            return ended;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Live processes whose parent is `pid`.
fn children_of(pid: u32) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|p| crate::procfs::stat(*p).is_some_and(|s| s.ppid == pid && s.state != 'Z'))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_its_arguments() {
        let args: Vec<String> = [
            "--timeout-ms",
            "2000",
            "--uid",
            "65534",
            "--gid",
            "65534",
            "--",
            "/bin/sh",
            "-c",
            "x",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(
            parse(&args).unwrap(),
            Request {
                timeout: Duration::from_secs(2),
                user: Some((65534, 65534)),
                program: vec!["/bin/sh".into(), "-c".into(), "x".into()],
            }
        );
        assert!(parse(&["--".into()]).is_err());
        assert!(parse(&["--", "x"].map(String::from)).is_err());
    }

    #[test]
    fn a_wrapped_command_keeps_its_environment_and_output() {
        let cmd = Command::new("/bin/true")
            .timeout(Duration::from_secs(3))
            .contained(std::path::Path::new("/"), "/tmp/x".into());
        let wrapped = wrap(&cmd);
        assert_eq!(wrapped.args[..3], [VERB, "--timeout-ms", "3000"]);
        assert_eq!(wrapped.args.last().map(String::as_str), Some("/bin/true"));
        assert!(wrapped.clear_env && !wrapped.reap_all);
        assert_eq!(wrapped.output_file, cmd.output_file);
        assert!(wrapped.timeout > cmd.timeout);
    }
}
