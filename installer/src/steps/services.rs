//! Stop services (reverse order, drain, graceful stop, then kill) and start
//! them (manifest order). Each undoes the other.

use anyhow::Result;
use hop_artifact::package_manifest::Service;

use super::{Context, shown};
use crate::action::Action;
use crate::journal::Step;
use crate::services::stop_gracefully;

/// The stops of the running version's services (`before`), last first,
/// each with its drain.
pub fn stops(before: &[Service]) -> Vec<(&Service, Action)> {
    before
        .iter()
        .rev()
        .map(|s| {
            let stop = Action::Stop {
                service: s.name.clone(),
                drain: s
                    .drain
                    .as_ref()
                    .map(|d| format!("{} ≤{}", d.signal, shown(&d.timeout))),
                within: shown(&s.stop_timeout),
            };
            (s, stop)
        })
        .collect()
}

/// The starts of the new version's services, in order.
pub fn starts(services: &[Service]) -> Vec<(&Service, Action)> {
    services
        .iter()
        .map(|s| {
            let start = Action::Start {
                service: s.name.clone(),
            };
            (s, start)
        })
        .collect()
}

/// Stops the running version's services, last first.
pub fn stop(cx: &mut Context<'_>) -> Result<()> {
    let before = cx.services_before();
    for (i, (s, action)) in stops(&before).into_iter().enumerate() {
        stop_one(cx, s)?;
        cx.did(action);
        if i == 0 {
            cx.fault(Step::StopServices, "mid")?;
        }
    }
    Ok(())
}

/// Starts the new version's services in order.
pub fn start(cx: &mut Context<'_>) -> Result<()> {
    let services = cx.manifest.services.clone();
    for (i, (s, action)) in starts(&services).into_iter().enumerate() {
        start_fresh(cx, s)?;
        cx.out.step(&format!("    started {}", s.name));
        cx.did(action);
        if i == 0 {
            cx.fault(Step::StartServices, "mid")?;
        }
    }
    Ok(())
}

/// Stops every one of `services` that runs (rollback: whatever version).
pub fn stop_all(cx: &Context<'_>, services: &[Service]) -> Result<()> {
    for s in services.iter().rev() {
        stop_one(cx, s)?;
    }
    Ok(())
}

/// Starts every one of `services` (rollback: the old version).
pub fn start_all(cx: &Context<'_>, services: &[Service]) -> Result<()> {
    for s in services {
        start_fresh(cx, s)?;
    }
    Ok(())
}

/// Starts a service so that it runs the code now on disk: one the service
/// manager brought back on its own meanwhile (supervisord restarts a
/// process that died unexpectedly, say from a drain signal that came before
/// its handler was installed) is stopped first.
fn start_fresh(cx: &Context<'_>, s: &Service) -> Result<()> {
    if cx.services.status(&s.name)?.is_running() {
        cx.services.stop(&s.name, s.stop_timeout)?;
    }
    cx.services.start(&s.name)
}

fn stop_one(cx: &Context<'_>, s: &Service) -> Result<()> {
    let drain = s.drain.as_ref().map(|d| (d.signal.as_str(), d.timeout));
    let how = stop_gracefully(cx.services.as_ref(), &s.name, drain, s.stop_timeout)?;
    cx.out.step(&format!("    {}: {how}", s.name));
    Ok(())
}
