//! Health: a service is healthy once its probe (an HTTP GET that answers
//! 2xx, a TCP connect, a command that exits 0, systemd's readiness) has
//! passed continuously for its settle time while the service manager shows
//! it running, as the same process, the whole time. A release that passes
//! one probe and dies a second later is not healthy.
//!
//! [`Settling`] is the decision, fed one observation at a time (a unit
//! test drives it with made-up ones); [`wait_all`] feeds it real probes of
//! every service at once, so the services settle together.

use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use hop_artifact::package_manifest::{HealthCheck, Probe};

use crate::runner::{Command, Runner};
use crate::services::{ServiceManager, ServiceState};

const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(2);
/// How often a service is probed.
const INTERVAL: Duration = Duration::from_millis(50);

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

/// How a service came to be healthy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Healthy {
    /// From the start of the gate to its first passing probe (when clients
    /// could first be served).
    pub first_ok: Duration,
    /// From the start of the gate until it had settled.
    pub settled: Duration,
}

/// What the gate does next for one service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Keep probing.
    Wait,
    /// Healthy and settled.
    Healthy(Healthy),
    /// Not healthy: why.
    Failed(String),
}

/// The health decision for one service, fed observations in time order.
#[derive(Clone, Debug)]
pub struct Settling {
    timeout: Duration,
    settle: Duration,
    /// When the current unbroken run of passing probes began, and the
    /// process it began with.
    run: Option<(Duration, Option<u32>)>,
    /// The first passing probe ever.
    first_ok: Option<Duration>,
    last: String,
    /// The process last seen, and how often another one appeared, or the
    /// service was seen down, before it ever was healthy.
    seen_pid: Option<Option<u32>>,
    restarts: u32,
}

/// How many restarts before a first healthy answer mean the service does
/// not start (rather than is still starting).
const RESTARTS_BEFORE_GIVING_UP: u32 = 3;

impl Settling {
    pub fn new(check: &HealthCheck) -> Self {
        Self {
            timeout: check.timeout,
            settle: check.settle,
            run: None,
            first_ok: None,
            last: "no answer yet".into(),
            seen_pid: None,
            restarts: 0,
        }
    }

    /// One observation `at` (since the gate began): the probe's answer
    /// and what the service manager said.
    pub fn observe(&mut self, at: Duration, answer: &Answer, state: &ServiceState) -> Verdict {
        let pid = match state {
            ServiceState::Running { pid } => Some(*pid),
            _ => None,
        };
        if let Some((since, first_pid)) = self.run {
            // Healthy before: the same process must still run.
            match pid {
                Some(now) if now == first_pid => {}
                _ => {
                    return Verdict::Failed(format!(
                        "it stopped being healthy {:.1}s after its first healthy answer: the \
                         service manager says {} — it died or was restarted",
                        at.saturating_sub(since).as_secs_f64(),
                        describe(state, first_pid)
                    ));
                }
            }
        }
        if self.run.is_none() {
            // Not healthy yet: a service that keeps dying does not start.
            let now = pid.flatten();
            match (self.seen_pid, now) {
                (Some(Some(before)), Some(n)) if before != n => self.restarts += 1,
                (Some(Some(_)), None) => self.restarts += 1,
                _ => {}
            }
            if now.is_some() || self.seen_pid.is_none() {
                self.seen_pid = Some(now);
            } else if let Some(Some(_)) = self.seen_pid {
                self.seen_pid = Some(None);
            }
            if self.restarts >= RESTARTS_BEFORE_GIVING_UP {
                return Verdict::Failed(format!(
                    "it does not start: it exited {} times before it ever answered healthy \
                     (the service manager now says {}); last answer: {answer}",
                    self.restarts,
                    match state {
                        ServiceState::Running { pid } => format!(
                            "it runs again as pid {}",
                            pid.map_or("?".into(), |p| p.to_string())
                        ),
                        other => describe(other, None),
                    },
                    answer = match answer {
                        Ok(()) => "healthy".to_owned(),
                        Err(why) => why.clone(),
                    }
                ));
            }
        }
        match answer {
            Ok(()) if pid.is_some() => {
                let (since, _) = *self.run.get_or_insert((at, pid.flatten()));
                let first_ok = *self.first_ok.get_or_insert(at);
                if at.saturating_sub(since) >= self.settle {
                    return Verdict::Healthy(Healthy {
                        first_ok,
                        settled: at,
                    });
                }
            }
            Ok(()) => {
                self.last = format!(
                    "the probe passes but the service manager says {}",
                    describe(state, None)
                );
                self.run = None;
            }
            Err(why) => {
                if let Some((since, _)) = self.run.take() {
                    self.last = format!(
                        "{why} ({:.1}s after it answered healthy)",
                        at.saturating_sub(since).as_secs_f64()
                    );
                } else {
                    self.last = why.clone();
                }
            }
        }
        if at >= self.timeout {
            let settled = if self.first_ok.is_some() {
                format!(
                    "it answered healthy but did not stay so for {}; ",
                    humantime::format_duration(self.settle)
                )
            } else {
                String::new()
            };
            return Verdict::Failed(format!(
                "not healthy within {}: {settled}{}",
                humantime::format_duration(self.timeout),
                self.last
            ));
        }
        Verdict::Wait
    }

    /// The last reason it was not healthy (for progress lines).
    pub fn last(&self) -> &str {
        &self.last
    }
}

fn describe(state: &ServiceState, first_pid: Option<u32>) -> String {
    match state {
        ServiceState::Running { pid } => format!(
            "it runs as another process now (pid {} → {})",
            first_pid.map_or("?".into(), |p| p.to_string()),
            pid.map_or("?".into(), |p| p.to_string())
        ),
        ServiceState::Starting => "it is starting again".into(),
        ServiceState::Stopping { .. } => "it is stopping".into(),
        ServiceState::Stopped => "it is stopped".into(),
        ServiceState::Failed(how) | ServiceState::Unknown(how) => how.clone(),
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

    fn check(settle: u64, timeout: u64) -> HealthCheck {
        HealthCheck {
            probe: Probe::Tcp("127.0.0.1:1".into()),
            timeout: Duration::from_secs(timeout),
            settle: Duration::from_secs(settle),
        }
    }

    fn s(secs: f64) -> Duration {
        Duration::from_secs_f64(secs)
    }

    const RUNNING: ServiceState = ServiceState::Running { pid: Some(42) };

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

    #[test]
    fn healthy_once_the_probe_passed_for_the_settle_time() {
        let mut g = Settling::new(&check(3, 60));
        assert_eq!(
            g.observe(s(0.0), &Err("503".into()), &RUNNING),
            Verdict::Wait
        );
        assert_eq!(g.observe(s(1.0), &Ok(()), &RUNNING), Verdict::Wait);
        assert_eq!(g.observe(s(3.5), &Ok(()), &RUNNING), Verdict::Wait);
        assert_eq!(
            g.observe(s(4.0), &Ok(()), &RUNNING),
            Verdict::Healthy(Healthy {
                first_ok: s(1.0),
                settled: s(4.0)
            })
        );
    }

    #[test]
    fn a_service_that_dies_after_its_first_good_probe_fails_at_once() {
        let mut g = Settling::new(&check(3, 60));
        assert_eq!(g.observe(s(0.5), &Ok(()), &RUNNING), Verdict::Wait);
        // supervisord restarted it: another pid.
        let again = ServiceState::Running { pid: Some(43) };
        let Verdict::Failed(why) = g.observe(s(1.7), &Ok(()), &again) else {
            panic!("a restart passed the gate");
        };
        assert!(why.contains("1.2s after its first healthy answer"), "{why}");
        assert!(why.contains("pid 42 → 43"), "{why}");
        // Or it is simply down.
        let mut g = Settling::new(&check(3, 60));
        g.observe(s(0.5), &Ok(()), &RUNNING);
        let Verdict::Failed(why) = g.observe(
            s(0.9),
            &Err("refused".into()),
            &ServiceState::Failed("BACKOFF Exited too quickly".into()),
        ) else {
            panic!("a dead service passed");
        };
        assert!(why.contains("BACKOFF"), "{why}");
    }

    #[test]
    fn a_probe_that_stops_passing_starts_the_settle_time_again() {
        let mut g = Settling::new(&check(3, 10));
        g.observe(s(0.0), &Ok(()), &RUNNING);
        g.observe(s(2.0), &Err("answered 503".into()), &RUNNING);
        assert_eq!(g.observe(s(4.0), &Ok(()), &RUNNING), Verdict::Wait);
        assert_eq!(g.observe(s(6.5), &Ok(()), &RUNNING), Verdict::Wait);
        assert!(
            matches!(g.observe(s(7.0), &Ok(()), &RUNNING), Verdict::Healthy(h) if h.first_ok == s(0.0))
        );
        // Flapping until the timeout fails, saying so.
        let mut g = Settling::new(&check(3, 10));
        let mut verdict = Verdict::Wait;
        for i in 0..=20 {
            let answer = if i % 2 == 0 {
                Ok(())
            } else {
                Err("answered 503: warming up".into())
            };
            verdict = g.observe(s(f64::from(i) * 0.5), &answer, &RUNNING);
        }
        let Verdict::Failed(why) = verdict else {
            panic!("{verdict:?}");
        };
        assert!(why.contains("did not stay so for 3s"), "{why}");
        assert!(why.contains("warming up"), "{why}");
    }

    #[test]
    fn a_service_that_keeps_exiting_before_it_is_healthy_does_not_start() {
        let mut g = Settling::new(&check(3, 60));
        let down = ServiceState::Failed("EXITED exit status 1".into());
        let mut verdict = Verdict::Wait;
        for (i, state) in [
            RUNNING,
            down.clone(),
            ServiceState::Running { pid: Some(43) },
            down.clone(),
            ServiceState::Running { pid: Some(44) },
            down,
        ]
        .iter()
        .enumerate()
        {
            verdict = g.observe(s(i as f64 * 0.2), &Err("connection refused".into()), state);
        }
        let Verdict::Failed(why) = verdict else {
            panic!("{verdict:?}");
        };
        assert!(
            why.contains("exited 3 times before it ever answered healthy"),
            "{why}"
        );
        // One slow start with the same process is just waiting.
        let mut g = Settling::new(&check(3, 60));
        for i in 0..20 {
            assert_eq!(
                g.observe(s(f64::from(i) * 0.2), &Err("503".into()), &RUNNING),
                Verdict::Wait
            );
        }
    }

    #[test]
    fn a_passing_probe_of_a_service_the_manager_does_not_run_is_not_health() {
        let mut g = Settling::new(&check(0, 2));
        assert_eq!(
            g.observe(s(0.0), &Ok(()), &ServiceState::Starting),
            Verdict::Wait
        );
        assert!(matches!(
            g.observe(s(0.1), &Ok(()), &RUNNING),
            Verdict::Healthy(_)
        ));
    }
}
