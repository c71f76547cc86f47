//! The health gate: every service of the new version must pass its health
//! check within its timeout, or the upgrade rolls back.

use anyhow::Result;
use hop_artifact::package_manifest::Service;

use super::Context;
use crate::journal::Step;

pub fn apply(cx: &mut Context<'_>) -> Result<()> {
    let services = cx.manifest.services.clone();
    check_all(cx, &services, Some(Step::HealthGate))
}

/// Waits for each of `services` to be healthy. With `fault_step` (the
/// forward health gate) an interrupt cuts the wait short; without it (a
/// rollback bringing the old version back) nothing does.
pub fn check_all(cx: &Context<'_>, services: &[Service], fault_step: Option<Step>) -> Result<()> {
    let cancelled = || fault_step.is_some() && crate::interrupt::requested();
    for (i, s) in services.iter().enumerate() {
        let took = crate::health::wait_healthy(
            &s.health,
            &cx.runner,
            cx.services.as_ref(),
            &s.name,
            &cancelled,
        )
        .map_err(|e| {
            let diagnosis = cx.services.diagnose(&s.name);
            let sep = if diagnosis.is_empty() { "" } else { "\n" };
            anyhow::anyhow!("service {} is not healthy: {e:#}{sep}{diagnosis}", s.name)
        })?;
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
