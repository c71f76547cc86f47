//! The health gate: every service of the new version must answer healthy
//! and stay so for its settle time (`health::Settling`), all of them
//! probed together, or the upgrade rolls back. How long each took is kept
//! in the operation's `health.json` for the report.

use std::time::Duration;

use anyhow::Result;
use hop_artifact::package_manifest::Service;
use serde::{Deserialize, Serialize};

use super::Context;
use crate::action::Action;
use crate::fault::At;
use crate::health::{Gated, wait_all};
use crate::journal::Step;

/// How one service passed the gate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceHealth {
    pub service: String,
    /// From the start of the gate to its first healthy answer.
    pub healthy_ms: u64,
    /// From the start of the gate until it had settled.
    pub settled_ms: u64,
}

/// What the gate recorded.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GateRecord {
    pub services: Vec<ServiceHealth>,
    /// When every service had first answered healthy (ms since the epoch):
    /// from then on clients were served.
    pub served_at_ms: Option<u64>,
}

impl GateRecord {
    pub fn file(op_dir: &std::path::Path) -> std::path::PathBuf {
        op_dir.join("health.json")
    }

    pub fn load(op_dir: &std::path::Path) -> Option<Self> {
        serde_json::from_slice(&std::fs::read(Self::file(op_dir)).ok()?).ok()
    }
}

/// The gate: each of `services` healthy within its timeout, then steady
/// for its settle time.
pub fn actions(services: &[Service]) -> Vec<Action> {
    services
        .iter()
        .map(|s| Action::WaitHealthy {
            service: s.name.clone(),
            within: super::shown(&s.health.timeout),
            settle: super::shown(&s.health.settle),
        })
        .collect()
}

pub fn apply(cx: &mut Context<'_>) -> Result<()> {
    let services = cx.manifest.services.clone();
    cx.fault(Step::HealthGate, At::Mid)?;
    let record = check_all(cx, &services, Some(Step::HealthGate))?;
    crate::atomic::write(
        &GateRecord::file(&cx.op_dir),
        &serde_json::to_vec_pretty(&record)?,
        0o600,
    )?;
    cx.did_all(actions(&services));
    Ok(())
}

/// Waits until each of `services` is healthy and settled. With
/// `fault_step` (the forward health gate) an interrupt cuts the wait
/// short; without it (a rollback bringing the old version back) nothing
/// does.
pub fn check_all(
    cx: &Context<'_>,
    services: &[Service],
    fault_step: Option<Step>,
) -> Result<GateRecord> {
    let cancelled = || fault_step.is_some() && crate::interrupt::requested();
    let gated: Vec<Gated<'_>> = services
        .iter()
        .map(|s| Gated {
            name: &s.name,
            check: &s.health,
        })
        .collect();
    let started_ms = crate::clock::now_ms();
    let mut shown = Duration::ZERO;
    let mut tick = |at: Duration, waiting: &[(&str, &str)]| {
        // A line every five seconds while it waits: what it waits for.
        if at >= shown + Duration::from_secs(5) {
            shown = at;
            let what: Vec<String> = waiting
                .iter()
                .map(|(name, why)| format!("{name}: {why}"))
                .collect();
            cx.out.step(&format!(
                "    waiting {:.0}s for health — {}",
                at.as_secs_f64(),
                what.join("; ")
            ));
        }
    };
    let healthy = wait_all(
        &gated,
        &cx.runner,
        cx.services.as_ref(),
        &cancelled,
        &mut tick,
    )
    .map_err(|(name, why)| {
        let diagnosis = cx.services.diagnose(&name);
        let sep = if diagnosis.is_empty() { "" } else { "\n" };
        anyhow::anyhow!("service {name} is not healthy: {why}{sep}{diagnosis}")
    })?;
    let mut record = GateRecord::default();
    for (s, h) in services.iter().zip(&healthy) {
        cx.out.step(&format!(
            "    {} healthy after {}ms, settled for {} by {}ms",
            s.name,
            h.first_ok.as_millis(),
            humantime::format_duration(s.health.settle),
            h.settled.as_millis()
        ));
        record.services.push(ServiceHealth {
            service: s.name.clone(),
            healthy_ms: h.first_ok.as_millis() as u64,
            settled_ms: h.settled.as_millis() as u64,
        });
    }
    // Served from a service's first passing probe: while it was being
    // started, if one passed then, else in the gate.
    let early = cx.served_early.borrow();
    record.served_at_ms = record
        .services
        .iter()
        .map(|s| {
            let in_gate = started_ms + s.healthy_ms;
            early.get(&s.service).map_or(in_gate, |&at| at.min(in_gate))
        })
        .max();
    Ok(record)
}
