//! Stop services (reverse order, drain, graceful stop, then kill) and start
//! them (manifest order). Each undoes the other.

use anyhow::Result;
use hop_artifact::package_manifest::Service;

use super::Context;
use crate::journal::Step;
use crate::services::stop_gracefully;

/// Stops the running version's services, last first.
pub fn stop(cx: &mut Context<'_>) -> Result<()> {
    let services = cx.services_before();
    for (i, s) in services.iter().rev().enumerate() {
        stop_one(cx, s)?;
        if i == 0 {
            cx.fault(Step::StopServices, "mid")?;
        }
    }
    Ok(())
}

/// Starts the new version's services in order.
pub fn start(cx: &mut Context<'_>) -> Result<()> {
    for (i, s) in cx.manifest.services.iter().enumerate() {
        start_fresh(cx, s)?;
        cx.out.step(&format!("    started {}", s.name));
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
