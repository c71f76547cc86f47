//! The health decision for one service: healthy once its probe has
//! passed for the settle time, as the same running process, the whole time.

use std::time::Duration;

use hop_artifact::package_manifest::HealthCheck;

use super::Answer;
use crate::services::ServiceState;

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

#[cfg(test)]
mod tests {
    use super::*;
    use hop_artifact::package_manifest::Probe;

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
