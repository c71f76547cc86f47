//! Health: a service is healthy once its probe (an HTTP GET that answers
//! 2xx, a TCP connect, a command that exits 0, systemd's readiness) has
//! passed continuously for its settle time while the service manager shows
//! it running, as the same process, the whole time. A release that passes
//! one probe and dies a second later is not healthy.
//!
//! [`Settling`] (`settle.rs`) is the decision, fed one observation at a time (a unit
//! test drives it with made-up ones); [`wait_all`] feeds it real probes of
//! every service at once, so the services settle together.

use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use hop_artifact::package_manifest::{HealthCheck, Probe};

use crate::runner::{Command, Runner};
use crate::services::{ServiceManager, ServiceState};

mod settle;

pub use settle::{Healthy, Settling, Verdict};

const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(2);
/// How often a service is probed.
pub const INTERVAL: Duration = Duration::from_millis(50);

/// What one probe found: `Ok(())` when healthy, else why not.
pub type Answer = Result<(), String>;

/// One attempt at `service`'s probe.
pub fn probe_once(
    probe: &Probe,
    runner: &Runner,
    manager: &dyn ServiceManager,
    service: &str,
) -> Answer {
    match probe {
        Probe::Notify(_) => match manager.is_ready(service) {
            Ok(true) => Ok(()),
            Ok(false) => Err(format!("{service} has not reported ready")),
            Err(e) => Err(format!("{e:#}")),
        },
        Probe::Http(url) => {
            let agent: ureq::Agent = ureq::Agent::config_builder()
                .timeout_global(Some(ATTEMPT_TIMEOUT))
                .http_status_as_error(false)
                .build()
                .into();
            match agent.get(url).call() {
                Ok(r) if r.status().is_success() => Ok(()),
                Ok(r) => {
                    let code = r.status().as_u16();
                    let body = r
                        .into_body()
                        .into_with_config()
                        .limit(512)
                        .read_to_string()
                        .unwrap_or_default();
                    let body = crate::terminal::printable(body.trim()).replace('\n', " ");
                    if body.is_empty() {
                        Err(format!("{url} answered {code}"))
                    } else {
                        Err(format!("{url} answered {code}: {body}"))
                    }
                }
                Err(e) => Err(format!("{url}: {e}")),
            }
        }
        Probe::Tcp(addr) => {
            let addrs: Vec<_> = addr
                .to_socket_addrs()
                .map_err(|e| format!("{addr}: {e}"))?
                .collect();
            for a in &addrs {
                if TcpStream::connect_timeout(a, ATTEMPT_TIMEOUT).is_ok() {
                    return Ok(());
                }
            }
            Err(format!("nothing accepts connections on {addr}"))
        }
        Probe::Command(command) => {
            // The package's command gets PATH only, not hop's environment
            // (which may hold a database password).
            let cmd = Command {
                clear_env: true,
                cwd: Some("/".into()),
                ..Command::new("/bin/sh")
                    .args(["-c", command.as_str()])
                    .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
                    .timeout(ATTEMPT_TIMEOUT * 5)
            };
            match runner.run(&cmd) {
                Ok(o) if o.success() => Ok(()),
                Ok(o) => Err(format!(
                    "`{command}` exited {:?}: {}",
                    o.code,
                    o.text.trim()
                )),
                Err(e) => Err(e.to_string()),
            }
        }
    }
}

/// `probe` as another node answers it at `address`: an HTTP or TCP probe
/// with its host replaced; `None` for probes only the node itself can
/// run (a command, systemd's readiness).
pub fn at_address(probe: &Probe, address: &str) -> Option<Probe> {
    let host = if address.contains(':') {
        format!("[{address}]")
    } else {
        address.to_owned()
    };
    let port_of = |authority: &str| authority.rsplit_once(':').map(|(_, p)| p.to_owned());
    match probe {
        Probe::Http(url) => {
            let rest = url.strip_prefix("http://")?;
            let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
            Some(Probe::Http(format!(
                "http://{host}:{}/{path}",
                port_of(authority)?
            )))
        }
        Probe::Tcp(addr) => Some(Probe::Tcp(format!("{host}:{}", port_of(addr)?))),
        Probe::Command(_) | Probe::Notify(_) => None,
    }
}

/// Told, each round, how long the gate has waited and which services it
/// still waits for, with why (for progress lines).
pub type Tick<'t> = dyn FnMut(Duration, &[(&str, &str)]) + 't;

/// One service the gate waits for.
pub struct Gated<'a> {
    pub name: &'a str,
    pub check: &'a HealthCheck,
}

/// Probes every service until each is healthy and settled, or one fails
/// (its name and why); `tick` is told each round's unsettled services and
/// why (for progress), `cancelled` may cut the wait short.
pub fn wait_all(
    services: &[Gated<'_>],
    runner: &Runner,
    manager: &dyn ServiceManager,
    cancelled: &dyn Fn() -> bool,
    tick: &mut Tick<'_>,
) -> Result<Vec<Healthy>, (String, String)> {
    let start = Instant::now();
    let mut settling: Vec<Settling> = services.iter().map(|s| Settling::new(s.check)).collect();
    let mut done: Vec<Option<Healthy>> = vec![None; services.len()];
    loop {
        for (i, s) in services.iter().enumerate() {
            if done[i].is_some() {
                continue;
            }
            let answer = probe_once(&s.check.probe, runner, manager, s.name);
            let state = manager
                .status(s.name)
                .unwrap_or_else(|e| ServiceState::Unknown(format!("{e:#}")));
            match settling[i].observe(start.elapsed(), &answer, &state) {
                Verdict::Wait => {}
                Verdict::Healthy(h) => done[i] = Some(h),
                Verdict::Failed(why) => return Err((s.name.to_owned(), why)),
            }
        }
        if done.iter().all(Option::is_some) {
            return Ok(done.into_iter().flatten().collect());
        }
        if cancelled() {
            let (i, _) = done
                .iter()
                .enumerate()
                .find(|(_, d)| d.is_none())
                .unwrap_or((0, &None));
            return Err((
                services[i].name.to_owned(),
                format!(
                    "interrupted while waiting for health: {}",
                    settling[i].last()
                ),
            ));
        }
        let waiting: Vec<(&str, &str)> = services
            .iter()
            .zip(&settling)
            .zip(&done)
            .filter(|(_, d)| d.is_none())
            .map(|((s, st), _)| (s.name, st.last()))
            .collect();
        tick(start.elapsed(), &waiting);
        std::thread::sleep(INTERVAL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_probe_is_asked_of_another_node_at_its_address() {
        assert_eq!(
            at_address(
                &Probe::Http("http://127.0.0.1:8101/readyz".into()),
                "10.1.2.2"
            ),
            Some(Probe::Http("http://10.1.2.2:8101/readyz".into()))
        );
        assert_eq!(
            at_address(&Probe::Tcp("localhost:8102".into()), "fd00::2"),
            Some(Probe::Tcp("[fd00::2]:8102".into()))
        );
        assert_eq!(at_address(&Probe::Command("true".into()), "10.1.2.2"), None);
    }
}
