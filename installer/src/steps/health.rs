//! The health gate: every service of the new version must pass its health
//! check within its timeout, or the upgrade rolls back.

use anyhow::{Context as _, Result};
use hop_artifact::package_manifest::Service;

use super::Context;
use crate::journal::Step;

pub fn apply(cx: &mut Context<'_>) -> Result<()> {
    let services = cx.manifest.services.clone();
    check_all(cx, &services, Some(Step::HealthGate))
}

/// Waits for each of `services` to be healthy.
pub fn check_all(cx: &Context<'_>, services: &[Service], fault_step: Option<Step>) -> Result<()> {
    for (i, s) in services.iter().enumerate() {
        let took = crate::health::wait_healthy(&s.health, &cx.runner, &crate::interrupt::requested)
            .with_context(|| format!("service {} is not healthy", s.name))?;
        cx.out.step(&format!(
            "    {} healthy after {}ms",
            s.name,
            took.as_millis()
        ));
        if i == 0
            && let Some(step) = fault_step
        {
            cx.fault(step, "mid")?;
        }
    }
    Ok(())
}
