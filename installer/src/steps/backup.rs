//! Backup: before anything changes, save what the rollback needs — the
//! database dump, every config the hop will replace (and any `.hopnew`
//! beside it), the RPM files of the installed components, hop's own state
//! — and record it all in `backup/facts.json`.

use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use hop_artifact::PackageManifest;
use hop_artifact::package_manifest::Service;
use hop_migrate::backup;
use serde::{Deserialize, Serialize};

use super::Context;
use crate::action::Action;
use crate::atomic;
use crate::fault::At;
use crate::host_state::HostState;
use crate::hostfs::Kind;
use crate::journal::{Scope, Step};
use crate::rpmdb::{RpmDb, name_of_nevra};
use crate::state_dir::StateDir;

/// What the host had before the operation.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Facts {
    /// `None` for a node of a cluster, whose operation leaves the database
    /// alone.
    pub database_dump: Option<PathBuf>,
    pub configs_archive: PathBuf,
    /// Host paths (absolute) of every config and `.hopnew` the hop may
    /// write, and whether each existed (then it is in the archive).
    pub configs: Vec<(String, bool)>,
    /// Per component name: the NEVRAs installed, and their RPM files.
    pub rpms: Vec<RpmsBefore>,
    pub state_before: Option<HostState>,
    /// Whether `var/lib/hop/installed/` existed.
    pub installed_existed: bool,
    /// The services (and health checks) of the version being replaced.
    pub services_before: Vec<Service>,
    /// Set when the installed RPMs were captured from the host (there were
    /// no verified RPM files): the capture's directory.
    #[serde(default)]
    pub capture: Option<PathBuf>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RpmsBefore {
    pub name: String,
    pub nevras: Vec<String>,
    pub files: Vec<PathBuf>,
}

impl Facts {
    pub fn path(backup_dir: &Path) -> PathBuf {
        backup_dir.join("facts.json")
    }

    pub fn load(backup_dir: &Path) -> Result<Self> {
        crate::atomic::read_json(&Self::path(backup_dir))
    }
}

pub fn apply(cx: &mut Context<'_>) -> Result<()> {
    let dir = cx.backup_dir();
    atomic::new_private_dir(&dir)?;

    let database_dump = if cx.scope.changes_database() {
        Some(dump_database(cx, &dir)?)
    } else {
        None
    };
    cx.fault(Step::Backup, At::Mid)?;

    let archive = dir.join("configs.tar.gz");
    let (configs, rpms, capture) = if cx.scope.changes_rpms() {
        let configs = archive_configs(cx, &archive)?;
        let (rpms, capture) = collect_rpms(cx, &dir.join("rpms"))?;
        (configs, rpms, capture)
    } else if cx.scope.changes_software() {
        (archive_configs(cx, &archive)?, Vec::new(), None)
    } else {
        (Vec::new(), Vec::new(), None)
    };
    let installed = cx.state_dir.installed();
    let services_before = services_running(&cx.state_dir, &cx.manifest);
    if cx.scope.changes_rpms() {
        atomic::sync_dir(&dir.join("rpms"))?;
    }
    let facts = Facts {
        database_dump,
        configs_archive: archive,
        configs,
        rpms,
        state_before: HostState::load(&cx.state_dir)?,
        installed_existed: installed.is_dir(),
        services_before,
        capture,
    };
    atomic::write(
        &Facts::path(&dir),
        &serde_json::to_vec_pretty(&facts)?,
        0o600,
    )?;
    let database = match cx.scope.changes_database() {
        true => cx.database_url()?.backend().to_string(),
        false => String::new(),
    };
    for action in actions(&cx.manifest, cx.scope, &database) {
        cx.did(action);
    }
    Ok(())
}

/// The services of the version the host runs: those of the hop it last
/// committed, or `m`'s on a host hop has not upgraded yet.
pub fn services_running(sd: &StateDir, m: &PackageManifest) -> Vec<Service> {
    match crate::package::load_manifest(&sd.installed().join("hop.yaml")) {
        Ok(installed) => installed.services,
        Err(_) => m.services.clone(),
    }
}

/// What the backup keeps, for an operation of `scope` on a `database`
/// (its kind: `postgresql`, …).
pub fn actions(m: &PackageManifest, scope: Scope, database: &str) -> Vec<Action> {
    let mut actions = Vec::new();
    if scope.changes_database() {
        actions.push(Action::DumpDatabase {
            database: database.to_owned(),
        });
    }
    if scope.changes_software() {
        actions.push(Action::ArchiveConfigs {
            count: m.configs.len(),
        });
    }
    if scope.changes_rpms() {
        actions.push(Action::KeepRpms);
    }
    actions
}

/// Dumps the database into the backup directory; the dump's path.
fn dump_database(cx: &Context<'_>, dir: &Path) -> Result<PathBuf> {
    let url = cx.database_url()?;
    let dest = dir.join("database.dump");
    let ticker = crate::progress::Ticker::start(
        format!("dumping the {} database", url.backend()),
        Some(&cx.runner.log),
        crate::progress::file_growth(dest.clone(), cx.rehearsal().map(|r| r.dump_bytes)),
    );
    let dump = backup::backup(&url, &dest, &cx.runner);
    drop(ticker);
    let dump = dump?;
    cx.out
        .step(&format!("    database dump: {} bytes", dump.bytes));
    Ok(dump.path)
}

/// The host paths a config deployment may touch: each destination and its
/// `.hopnew`.
pub fn config_paths(cx: &Context<'_>) -> Vec<String> {
    cx.manifest
        .configs
        .iter()
        .flat_map(|c| [c.dest.clone(), format!("{}.hopnew", c.dest)])
        .collect()
}

/// Archives every config the hop may write: regular files only (the
/// preflight refuses anything else at a config's place), each with its
/// content, mode, owner and group, read inside the host's root.
fn archive_configs(cx: &Context<'_>, archive: &Path) -> Result<Vec<(String, bool)>> {
    let file = backup::create_private(archive)?;
    let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(
        file,
        flate2::Compression::default(),
    ));
    let mut seen = Vec::new();
    for dest in config_paths(cx) {
        if let Some((kind, _)) = cx.host.fs.stat(&dest)?
            && kind != Kind::File
        {
            bail!(
                "{dest} is {}; hop backs up and writes configs as regular files only",
                kind.describe()
            );
        }
        let saved = cx.host.fs.read_file(&dest)?;
        if let Some(f) = &saved {
            let mut header = tar::Header::new_gnu();
            header.set_entry_type(tar::EntryType::Regular);
            header.set_size(f.data.len() as u64);
            header.set_mode(f.mode);
            header.set_uid(u64::from(f.uid));
            header.set_gid(u64::from(f.gid));
            header.set_cksum();
            tar.append_data(&mut header, dest.trim_start_matches('/'), f.data.as_slice())
                .with_context(|| format!("backing up {dest}"))?;
        }
        seen.push((dest, saved.is_some()));
    }
    tar.into_inner()?.finish()?.sync_all()?;
    Ok(seen)
}

/// What the rollback needs to put the installed components back: their
/// original RPM files when hop has verified ones for every one of them,
/// else a capture of them from the host.
fn collect_rpms(cx: &Context<'_>, dir: &Path) -> Result<(Vec<RpmsBefore>, Option<PathBuf>)> {
    atomic::private_dir(dir)?;
    let db = RpmDb::new(&cx.runner, &cx.host.root);
    let mut names: Vec<String> = cx
        .manifest
        .components
        .iter()
        .map(|c| c.name.clone())
        .collect();
    if let Some(state) = HostState::load(&cx.state_dir)? {
        for name in state.components.iter().filter_map(|n| name_of_nevra(n)) {
            if !names.contains(&name) {
                names.push(name);
            }
        }
    }
    let mut before = Vec::new();
    for name in &names {
        before.push(RpmsBefore {
            name: name.clone(),
            nevras: db.installed(name)?,
            files: Vec::new(),
        });
    }
    let installed: Vec<String> = before.iter().flat_map(|r| r.nevras.clone()).collect();
    let sources = crate::rpm_sources::find(cx.host, &cx.runner, &installed)?;
    if !sources.cover(&installed) {
        cx.out.step(&format!(
            "    capturing {} installed RPM(s) from the host (no original RPM files)",
            installed.len()
        ));
        let new: Vec<PathBuf> = cx
            .manifest
            .components
            .iter()
            .map(|c| cx.staging().join(&c.file))
            .collect();
        let capture = cx.backup_dir().join("capture");
        let index = crate::capture::Capture {
            host: cx.host,
            runner: &cx.runner,
            dir: capture.clone(),
        }
        .take(&installed, &names, &new)?;
        cx.out.step(&format!(
            "    captured {} paths ({} bytes) and the RPM database",
            index.entries.len(),
            index.bytes()
        ));
        return Ok((before, Some(capture)));
    }
    let db = RpmDb::new(&cx.runner, &cx.host.root);
    for r in &mut before {
        for nevra in &r.nevras {
            let Some(source) = sources.file_of(nevra) else {
                bail!("no verified RPM file for {nevra}");
            };
            let target = dir.join(source.path.file_name().unwrap_or_default());
            if !target.exists() {
                source.save_verified(&db, nevra, &target)?;
            }
            r.files.push(target);
        }
    }
    Ok((before, None))
}

/// A file in the config backup archive.
pub struct Archived {
    /// The host path (absolute).
    pub path: String,
    pub data: Vec<u8>,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
}

/// Reads the config backup archive.
pub fn read_archive(archive: &Path) -> Result<Vec<Archived>> {
    let file = File::open(archive).with_context(|| format!("cannot open {}", archive.display()))?;
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let mut out = Vec::new();
    for entry in tar.entries()? {
        let mut entry = entry?;
        let path = format!("/{}", String::from_utf8_lossy(&entry.path_bytes()));
        let header = entry.header().clone();
        if header.entry_type() != tar::EntryType::Regular {
            bail!("{path} in the config backup is not a regular file");
        }
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut data)?;
        out.push(Archived {
            path,
            data,
            mode: header.mode()? & 0o7777,
            uid: header.uid()? as u32,
            gid: header.gid()? as u32,
        });
    }
    Ok(out)
}
