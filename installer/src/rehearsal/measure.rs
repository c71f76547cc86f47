//! The rehearsal itself: dump the live database (only read), load the
//! dump into a scratch copy (the rollback's restore, timed), run every
//! migration of the hop on the copy phase by phase (each timed, with the
//! rows it changed, the time it waited for locks and how the database
//! grew), then drop the copy.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use hop_artifact::migration::Phase;
use hop_migrate::adopt::Adoption;
use hop_migrate::url::DatabaseUrl;
use hop_migrate::{Migrator, Observer, Options, Script, copy};

use super::locks::LockSampler;
use super::private_server::Plan;
use super::scratch::{ScratchCopy, drop_leftovers};
use super::{Measured, Rehearsal, SCHEMA, package_key, predict, service_steps};
use crate::host::Host;
use crate::log::Log;
use crate::package::Verified;
use crate::progress::{Ticker, file_growth, migration_ticker, running_for};
use crate::runner::Runner;
use crate::terminal::Terminal;

fn ms(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// Drops what killed rehearsals left on this host (scratch databases,
/// private clusters, files), saying so even with --json: something that
/// was on the server is now gone.
pub fn drop_left(host: &Host, runner: &Runner) -> Result<()> {
    let dir = host.state().rehearsals();
    crate::atomic::private_dir(&dir)?;
    for name in drop_leftovers(&host.database_url()?, &dir, runner)? {
        eprintln!("note: dropped {name}, left by a rehearsal that was killed");
    }
    Ok(())
}

/// Rehearses the verified package (payload in `payload`) on this host,
/// its scratch copy in the private cluster `cluster` plans, if any.
pub fn measure(
    host: &Host,
    verified: &Verified,
    payload: &Path,
    cluster: Option<&Plan>,
    runner: &Runner,
    out: &Terminal,
) -> Result<Rehearsal> {
    let sd = host.state();
    let dir = sd.rehearsals();
    crate::atomic::private_dir(&dir)?;
    let live = host.database_url()?;
    let database_bytes = Migrator::connect(&live, Options::default())?.database_size()?;
    let m = &verified.manifest;
    let log = &runner.log;

    let dump = dir.join(format!("scratch-{}.dump", std::process::id()));
    let _remove = RemoveOnDrop(vec![dump.clone(), dump.with_extension("restore.sql")]);
    out.step(&format!(
        "dumping the live {} database (read only)",
        live.backend()
    ));
    let started = Instant::now();
    let dumped = {
        let _alive = Ticker::start("dumping", Some(log), file_growth(dump.clone(), None));
        copy::dump(&live, &dump, runner)?
    };
    let dump_ms = ms(started);

    let scratch = ScratchCopy::create(&live, cluster, &dir, runner)?;
    let copy_in = scratch.describe();
    out.step(&format!("loading the dump into {}", scratch.name()));
    let started = Instant::now();
    {
        let _alive = Ticker::start("loading the scratch copy", Some(log), running_for);
        copy::load(scratch.url(), &dumped, runner)
            .with_context(|| format!("cannot load the dump into {}", scratch.name()))?;
    }
    let restore_ms = ms(started);
    settle(scratch.url(), &dir, log);

    let (migrations, offline_whole) = run_migrations(verified, payload, scratch.url(), log, out)?;
    drop(scratch);

    let journals = crate::journal::all(&sd).unwrap_or_default();
    let rpm_bytes = m
        .members
        .iter()
        .filter(|x| x.path.starts_with("rpms/"))
        .map(|x| x.size)
        .sum();
    let manager = crate::services::for_host(host, runner).ok();
    // The services start in waves (those that wait for none together).
    let start_waits: Vec<Vec<u64>> = hop_artifact::package_manifest::start_waves(&m.services)
        .into_iter()
        .map(|wave| {
            wave.iter()
                .map(|s| {
                    manager
                        .as_ref()
                        .and_then(|mg| mg.start_wait(&s.name))
                        .map_or(500, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
                })
                .collect()
        })
        .collect();
    let settle_ms = m
        .services
        .iter()
        .map(|s| u64::try_from(s.health.settle.as_millis()).unwrap_or(u64::MAX))
        .max()
        .unwrap_or(0);
    let steps = service_steps(
        &journals,
        super::estimate(&start_waits, settle_ms, rpm_bytes),
    );
    let prediction = predict(&migrations, dump_ms, restore_ms, &steps, offline_whole);
    Ok(Rehearsal {
        schema: SCHEMA.into(),
        package: m.title(),
        from: m.from.to_string(),
        to: m.to.to_string(),
        manifest_sha256: package_key(&verified.manifest_bytes),
        backend: live.backend().to_string(),
        database: live.redacted(),
        rehearsed_at: crate::clock::now(),
        database_bytes,
        copy_in,
        dump_ms,
        dump_bytes: dumped.dump.bytes,
        restore_ms,
        migrations,
        service_steps: steps,
        prediction,
    })
}

/// Lets the server settle after loading the copy, so the migrations are
/// timed as they will run on the live database, not against the load's
/// aftermath: statistics gathered (PostgreSQL: `ANALYZE`, as the live
/// database has them) and the load's dirty pages written (PostgreSQL:
/// `CHECKPOINT` where allowed; MariaDB: up to 15 s until InnoDB has
/// flushed most of them; the dump's and a SQLite copy's pages written to
/// disk with syncfs). Only the scratch copy and server-wide flushing are
/// touched: nothing of the live database changes.
fn settle(scratch: &DatabaseUrl, dir: &Path, log: &Log) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = nix::unistd::syncfs(&d);
    }
    let Ok(mut conn) = Migrator::connect(scratch, Options::default()) else {
        return;
    };
    let dialect = hop_migrate::dialect::dialect(scratch.backend());
    for statement in dialect.settle() {
        let _ = conn.execute_admin(statement);
    }
    if let Some(query) = dialect.dirty_pages() {
        let deadline = Instant::now() + Duration::from_secs(15);
        while let Some((dirty, total)) = dirty_pages(&mut conn, query) {
            if dirty * 100 <= total || Instant::now() > deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }
    log.line("rehearsal: the scratch copy is loaded and settled");
}

/// The (dirty, all) pages `query` reads; `None` when the server does not say.
fn dirty_pages(conn: &mut Migrator, query: &str) -> Option<(u64, u64)> {
    let row = conn.query_read_only(query).ok()?.into_iter().next()?;
    let cell = |i: usize| -> Option<u64> { row.get(i).cloned().flatten()?.parse().ok() };
    Some((cell(0)?, cell(1)?))
}

/// Runs the hop's migrations, phase by phase, on the scratch copy; whether
/// its offline phase ran in one transaction (as apply's then does).
fn run_migrations(
    verified: &Verified,
    payload: &Path,
    scratch: &DatabaseUrl,
    log: &Log,
    out: &Terminal,
) -> Result<(Vec<Measured>, bool)> {
    let m = &verified.manifest;
    let scripts: Vec<Script> = crate::package::scripts(m, payload, scratch.backend())?;
    let mut migrator =
        Migrator::connect(scratch, Options::default())?.with_tool_tables(&m.tool_tables);
    // The same decision as apply's: adopt by a baseline, or refuse.
    match crate::adoption::assess(&mut migrator, m, payload)?.adoption {
        Adoption::Baseline { up_to, because } => {
            migrator.baseline(&scripts, up_to, &because)?;
        }
        Adoption::Refused { why, fix } => {
            anyhow::bail!("the database cannot be adopted: {why}; {fix}")
        }
        Adoption::NotNeeded => {}
    }
    let waits = LockSampler::start(scratch)?;
    let mut recorder = Recorder {
        sizer: Migrator::connect(scratch, Options::default())?,
        size_before: 0,
        growth: HashMap::new(),
        waits: waits.total.clone(),
        waits_before: 0,
        lock_waits: HashMap::new(),
        log: log.clone(),
        rows: Arc::default(),
        ticker: None,
        out,
    };
    let hop = format!("{}→{} (rehearsal)", m.from, m.to);
    let mut measured = Vec::new();
    let mut offline_whole = true;
    for phase in [Phase::Online, Phase::Offline, Phase::Post] {
        let report = migrator.apply(&scripts, phase, &hop, &mut recorder)?;
        recorder.ticker = None;
        if phase == Phase::Offline {
            offline_whole = report.one_transaction;
        }
        for a in report.applied {
            measured.push(Measured {
                phase,
                duration_ms: a.duration_ms,
                rows: a.rows,
                batches: a.batches,
                lock_wait_ms: waits
                    .measured
                    .then(|| recorder.lock_waits.get(&a.file).copied().unwrap_or(0)),
                growth_bytes: recorder.growth.get(&a.file).copied().unwrap_or(0),
                file: a.file,
            });
        }
    }
    Ok((measured, offline_whole))
}

/// Records each migration's growth and lock waits, and shows it is alive.
struct Recorder<'a> {
    sizer: Migrator,
    size_before: u64,
    growth: HashMap<String, i64>,
    waits: Arc<AtomicU64>,
    waits_before: u64,
    lock_waits: HashMap<String, u64>,
    log: Log,
    rows: Arc<AtomicU64>,
    ticker: Option<Ticker>,
    out: &'a Terminal,
}

impl Observer for Recorder<'_> {
    fn starting(&mut self, script: &Script) -> Result<(), String> {
        if crate::interrupt::requested() {
            return Err("interrupted by the operator".into());
        }
        self.out
            .step(&format!("    rehearsing {}", script.file_name()));
        self.size_before = self.sizer.database_size().unwrap_or(0);
        self.waits_before = self.waits.load(Ordering::SeqCst);
        self.rows.store(0, Ordering::SeqCst);
        self.ticker = None;
        self.ticker = Some(migration_ticker(
            &script.file_name(),
            &self.log,
            self.rows.clone(),
            None,
        ));
        Ok(())
    }

    fn finished(&mut self, script: &Script, _elapsed: Duration) {
        self.ticker = None;
        let after = self.sizer.database_size().unwrap_or(self.size_before);
        let grew = i64::try_from(after).unwrap_or(i64::MAX)
            - i64::try_from(self.size_before).unwrap_or(i64::MAX);
        self.growth.insert(script.file_name(), grew);
        let waited = self.waits.load(Ordering::SeqCst) - self.waits_before;
        self.lock_waits.insert(script.file_name(), waited);
    }

    fn batch_done(&mut self, _script: &Script, _batches: u64, rows: u64) -> Result<(), String> {
        self.rows.store(rows, Ordering::SeqCst);
        if crate::interrupt::requested() {
            return Err("interrupted by the operator".into());
        }
        Ok(())
    }
}

/// Files removed when the rehearsal ends, however it ends.
struct RemoveOnDrop(Vec<std::path::PathBuf>);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        for p in &self.0 {
            let _ = std::fs::remove_file(p);
        }
    }
}
