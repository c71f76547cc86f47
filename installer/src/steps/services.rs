//! Stop services (drain, graceful stop, then kill) and start them. Services
//! start in waves: those that name no others (`after:`) together, then
//! those that wait for them, and so on; they stop in the reverse waves.
//! Within a wave each service is stopped or started on a thread of its
//! own, so the window approaches the slowest single restart. The journal
//! records each wave's actions in manifest order, as the plan lists them.
//! Each undoes the other.

use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Result;
use hop_artifact::package_manifest::{Service, start_waves};

use super::{Context, shown};
use crate::action::Action;
use crate::fault::At;
use crate::health::probe_once;
use crate::journal::Step;
use crate::services::{ServiceManager, stop_gracefully};

/// The stop waves: the start waves last first, each last first.
fn stop_waves(services: &[Service]) -> Vec<Vec<&Service>> {
    let mut waves = start_waves(services);
    waves.reverse();
    for w in &mut waves {
        w.reverse();
    }
    waves
}

fn stop_action(s: &Service) -> Action {
    Action::Stop {
        service: s.name.clone(),
        drain: s
            .drain
            .as_ref()
            .map(|d| format!("{} ≤{}", d.signal, shown(&d.timeout))),
        within: shown(&s.stop_timeout),
    }
}

/// The stops of the running version's services (`before`), in the order
/// the journal records them (wave by wave, last first).
pub fn stops(before: &[Service]) -> Vec<(&Service, Action)> {
    stop_waves(before)
        .into_iter()
        .flatten()
        .map(|s| (s, stop_action(s)))
        .collect()
}

/// The starts of the new version's services, wave by wave.
pub fn starts(services: &[Service]) -> Vec<(&Service, Action)> {
    start_waves(services)
        .into_iter()
        .flatten()
        .map(|s| {
            let start = Action::Start {
                service: s.name.clone(),
            };
            (s, start)
        })
        .collect()
}

/// Runs `each` on every service of `wave` at once (one thread each); the
/// results in the wave's order.
fn together<'s, T: Send>(
    wave: &[&'s Service],
    each: &(dyn Fn(&Service) -> Result<T> + Sync),
) -> Vec<(&'s Service, Result<T>)> {
    if let [one] = wave {
        return vec![(*one, each(one))];
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> = wave.iter().map(|s| scope.spawn(move || each(s))).collect();
        wave.iter()
            .copied()
            .zip(handles.into_iter().map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("its thread panicked")))
            }))
            .collect()
    })
}

/// The results of one wave: each success reported by `done`, then the
/// first failure, if any.
fn settle<T>(results: Vec<(&Service, Result<T>)>, mut done: impl FnMut(&Service, T)) -> Result<()> {
    let mut failed = None;
    for (s, r) in results {
        match r {
            Ok(t) => done(s, t),
            Err(e) => {
                failed.get_or_insert(e);
            }
        }
    }
    failed.map_or(Ok(()), Err)
}

/// Stops the running version's services, wave by wave.
pub fn stop(cx: &mut Context<'_>) -> Result<()> {
    let before = cx.services_before();
    let manager = cx.services.as_ref();
    for (i, wave) in stop_waves(&before).into_iter().enumerate() {
        let results = together(&wave, &|s| stop_service(manager, s));
        settle(results, |s, how| {
            cx.out.step(&format!("    {}: {how}", s.name));
            cx.did(stop_action(s));
        })?;
        if i == 0 {
            cx.fault(Step::StopServices, At::Mid)?;
        }
    }
    Ok(())
}

/// Starts the new version's services, wave by wave. Each is probed while
/// the service manager starts it: when its probe first passes there, the
/// health gate counts clients as served from then (supervisord calls a
/// program started only after its `startsecs`).
pub fn start(cx: &mut Context<'_>) -> Result<()> {
    let services = cx.manifest.services.clone();
    let (manager, runner) = (cx.services.as_ref(), &cx.runner);
    for (i, wave) in start_waves(&services).into_iter().enumerate() {
        let results = together(&wave, &|s| start_watched(manager, runner, s));
        settle(results, |s, served| {
            cx.out.step(&format!("    started {}", s.name));
            cx.did(Action::Start {
                service: s.name.clone(),
            });
            if let Some(at) = served {
                cx.served_early.borrow_mut().insert(s.name.clone(), at);
            }
        })?;
        if i == 0 {
            cx.fault(Step::StartServices, At::Mid)?;
        }
    }
    Ok(())
}

/// Stops every one of `services` that runs (rollback: whatever version).
pub fn stop_all(cx: &Context<'_>, services: &[Service]) -> Result<()> {
    let manager = cx.services.as_ref();
    for wave in stop_waves(services) {
        let results = together(&wave, &|s| stop_service(manager, s));
        settle(results, |s, how| {
            cx.out.step(&format!("    {}: {how}", s.name))
        })?;
    }
    Ok(())
}

/// Starts every one of `services` (rollback: the old version).
pub fn start_all(cx: &Context<'_>, services: &[Service]) -> Result<()> {
    let manager = cx.services.as_ref();
    for wave in start_waves(services) {
        settle(together(&wave, &|s| start_fresh(manager, s)), |_, ()| {})?;
    }
    Ok(())
}

/// Starts a service so that it runs the code now on disk: one the service
/// manager brought back on its own meanwhile (supervisord restarts a
/// process that died unexpectedly, say from a drain signal that came before
/// its handler was installed) is stopped first.
fn start_fresh(manager: &dyn ServiceManager, s: &Service) -> Result<()> {
    stop_if_running(manager, s)?;
    manager.start(&s.name)
}

fn stop_if_running(manager: &dyn ServiceManager, s: &Service) -> Result<()> {
    if manager.status(&s.name)?.is_running() {
        manager.stop(&s.name, s.stop_timeout)?;
    }
    Ok(())
}

/// [`start_fresh`], probing the service's health while the service
/// manager starts it: when the probe first passed (ms since the epoch),
/// if it passed before the manager returned. The probing begins after an
/// old process is stopped, so only the code now on disk can answer.
fn start_watched(
    manager: &dyn ServiceManager,
    runner: &crate::runner::Runner,
    s: &Service,
) -> Result<Option<u64>> {
    stop_if_running(manager, s)?;
    let started = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let prober = scope.spawn(|| {
            while !started.load(Ordering::Acquire) {
                if probe_once(&s.health.probe, runner, manager, &s.name).is_ok() {
                    return Some(crate::clock::now_ms());
                }
                std::thread::sleep(crate::health::INTERVAL);
            }
            None
        });
        let result = manager.start(&s.name);
        started.store(true, Ordering::Release);
        let served = prober.join().ok().flatten();
        result.map(|()| served)
    })
}

/// Drains and stops one service; how it went.
fn stop_service(manager: &dyn ServiceManager, s: &Service) -> Result<&'static str> {
    let drain = s.drain.as_ref().map(|d| (d.signal.as_str(), d.timeout));
    stop_gracefully(manager, &s.name, drain, s.stop_timeout)
}
