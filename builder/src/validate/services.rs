//! `services`: unique names, a valid health check, durations that parse,
//! `after` naming only services listed earlier (so the list is an order
//! that respects it, and it has no cycle).

use std::collections::BTreeSet;
use std::time::Duration;

use hop_artifact::duration_text;
use hop_artifact::package_manifest::{Drain, HealthCheck, Probe, Service};
use hop_artifact::source_manifest::{SourceHealth, SourceService};

use super::Context;

const DEFAULT_STOP_TIMEOUT: Duration = Duration::from_secs(30);
const DEFAULT_HEALTH_TIMEOUT: Duration = Duration::from_secs(60);

/// Signals a service may be drained with.
pub const DRAIN_SIGNALS: [&str; 6] = [
    "SIGUSR1", "SIGUSR2", "SIGHUP", "SIGINT", "SIGQUIT", "SIGWINCH",
];

pub(super) fn check(cx: &mut Context<'_>, services: &[SourceService]) -> Vec<Service> {
    let mut names = BTreeSet::new();
    let mut out = Vec::new();
    for (i, s) in services.iter().enumerate() {
        let field = format!("services[{i}]");
        if s.name.is_empty()
            || !s
                .name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.@".contains(&b))
        {
            cx.problems.add(
                format!("{field}.name"),
                format!(
                    "{:?} is not a service name (letters, digits, - _ . @)",
                    s.name
                ),
            );
        }
        for (j, first) in s.after.iter().enumerate() {
            if !names.contains(first.as_str()) {
                cx.problems.add(
                    format!("{field}.after[{j}]"),
                    format!(
                        "{first} is not a service listed before {}: `after` names services \
                         earlier in the list, which start first",
                        s.name
                    ),
                );
            }
        }
        if !names.insert(s.name.as_str()) {
            cx.problems.add(
                format!("{field}.name"),
                format!("service {} is listed twice", s.name),
            );
        }
        let stop_timeout = duration(
            cx,
            &format!("{field}.stop_timeout"),
            s.stop_timeout.as_deref(),
            DEFAULT_STOP_TIMEOUT,
        );
        let health = match &s.health {
            Some(h) => health(cx, &format!("{field}.health"), h),
            None => {
                cx.problems.add(
                    format!("{field}.health"),
                    "every service needs a health check (http, tcp or command) for the health gate",
                );
                None
            }
        };
        let drain = s.drain.as_ref().and_then(|d| {
            if !DRAIN_SIGNALS.contains(&d.signal.as_str()) {
                cx.problems.add(
                    format!("{field}.drain.signal"),
                    format!("{:?} is not one of {}", d.signal, DRAIN_SIGNALS.join(", ")),
                );
            }
            let timeout = duration(
                cx,
                &format!("{field}.drain.timeout"),
                Some(&d.timeout),
                DEFAULT_STOP_TIMEOUT,
            )?;
            Some(Drain {
                signal: d.signal.clone(),
                timeout,
            })
        });
        if let (Some(stop_timeout), Some(health)) = (stop_timeout, health) {
            out.push(Service {
                name: s.name.clone(),
                after: s.after.clone(),
                stop_timeout,
                health,
                drain,
            });
        }
    }
    out
}

fn duration(
    cx: &mut Context<'_>,
    field: &str,
    text: Option<&str>,
    default: Duration,
) -> Option<Duration> {
    let Some(text) = text else {
        return Some(default);
    };
    match duration_text::parse(text) {
        Ok(d) if d.is_zero() => {
            cx.problems.add(field, "must be longer than zero");
            None
        }
        Ok(d) => Some(d),
        Err(e) => {
            cx.problems.add(field, e);
            None
        }
    }
}

fn health(cx: &mut Context<'_>, field: &str, h: &SourceHealth) -> Option<HealthCheck> {
    let mut given: Vec<&str> = [("http", &h.http), ("tcp", &h.tcp), ("command", &h.command)]
        .into_iter()
        .filter_map(|(name, v)| v.as_ref().map(|_| name))
        .collect();
    if h.notify == Some(true) {
        given.push("notify");
    }
    if given.len() != 1 {
        cx.problems.add(
            field,
            format!(
                "give exactly one of http, tcp, command or notify: true (found {})",
                if given.is_empty() {
                    "none".into()
                } else {
                    given.join(" and ")
                }
            ),
        );
        return None;
    }
    let probe = if let Some(url) = &h.http {
        let rest = url.strip_prefix("http://");
        let authority = rest.map(|r| r.split('/').next().unwrap_or(""));
        match authority {
            Some(a) if valid_host_port(a) => Probe::Http(url.clone()),
            _ => {
                cx.problems.add(
                    format!("{field}.http"),
                    format!("{url:?} is not an http:// URL with host and port"),
                );
                return None;
            }
        }
    } else if h.notify == Some(true) {
        Probe::Notify(true)
    } else if let Some(addr) = &h.tcp {
        if !valid_host_port(addr) {
            cx.problems
                .add(format!("{field}.tcp"), format!("{addr:?} is not host:port"));
            return None;
        }
        Probe::Tcp(addr.clone())
    } else {
        let command = h.command.clone().unwrap_or_default();
        if command.trim().is_empty() {
            cx.problems
                .add(format!("{field}.command"), "the command is empty");
            return None;
        }
        Probe::Command(command)
    };
    let timeout = duration(
        cx,
        &format!("{field}.timeout"),
        h.timeout.as_deref(),
        DEFAULT_HEALTH_TIMEOUT,
    )?;
    let settle = duration(
        cx,
        &format!("{field}.settle"),
        h.settle.as_deref(),
        hop_artifact::package_manifest::DEFAULT_SETTLE,
    )?;
    if settle >= timeout {
        cx.problems.add(
            format!("{field}.settle"),
            format!(
                "settle {} must be shorter than the timeout {}: the service must settle within it",
                hop_artifact::duration_text::format(&settle),
                hop_artifact::duration_text::format(&timeout)
            ),
        );
        return None;
    }
    Some(HealthCheck {
        probe,
        timeout,
        settle,
    })
}

fn valid_host_port(text: &str) -> bool {
    let Some((host, port)) = text.rsplit_once(':') else {
        return false;
    };
    !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0)
}
