//! `hop-install rehearse PKG`: the hop's migrations on a scratch copy of
//! the live database, measured, and the downtime window and rollback time
//! they predict; kept in the state directory for `check` and
//! `apply --max-downtime`. The live database is only read.

use std::path::{Path, PathBuf};

use crate::error::{Error, Failure, Refusal};
use crate::rehearsal::Rehearsal;
use crate::remote::FetchOptions;
use crate::session::Session;
use crate::terminal::Terminal;

/// Where a rehearsal may put its copy.
pub struct CopyOptions {
    /// A private PostgreSQL cluster even when the server has room.
    pub cluster: bool,
    /// The directory a private cluster goes under (inside the root);
    /// `var/tmp` unless given.
    pub scratch_dir: Option<PathBuf>,
}

pub fn rehearse(
    root: &Path,
    package: &Path,
    options: &FetchOptions,
    copy: &CopyOptions,
    out: &Terminal,
) -> Result<Rehearsal, Error> {
    let session = Session::changing(root, "rehearse")?;
    let (host, sd) = (&session.host, &session.state);
    crate::journal::refuse_if_open(sd)?;
    let fetched = super::parts::fetch::package(root, package, None, options)?;
    let trusted = crate::trust::host_keys(host)?;
    let (verified, payload) = crate::package::extract_for_check(host, &fetched.path, &trusted)?;
    let m = &verified.manifest;
    let runner = session.runner("rehearse");
    let installed = crate::preflight::installed(host, &runner)
        .ok()
        .and_then(|i| i.version);
    if m.product != host.config.product || installed.as_ref() != Some(&m.from) {
        return Err(Refusal::new(format!(
            "{} is not the next hop for this host, which runs {} {}",
            m.title(),
            host.config.product,
            installed.map_or_else(|| "an unknown version".into(), |v| v.to_string())
        ))
        .into());
    }
    let live = host.database_url().map_err(|e| Refusal::from_error(&e))?;
    let dialect = hop_migrate::dialect::dialect(live.backend());
    if copy.cluster && !dialect.has_private_server() {
        return Err(Refusal::new(format!(
            "--scratch-cluster is for PostgreSQL; this host's database is {}",
            live.backend()
        ))
        .into());
    }
    // Code the copy cannot carry safely is refused before any copying.
    hop_migrate::copy::vet(&live).map_err(|e| {
        Refusal::new(format!("cannot rehearse on a copy: {e}")).with_hint(
            "qualify those names with no database (the code then uses its own), or rehearse \
             on a copy of this host",
        )
    })?;
    // apply would refuse to adopt this database: so does its rehearsal,
    // before anything is copied (it would otherwise run the whole history
    // on the copy and then blame the copy).
    let mut reading = hop_migrate::Migrator::connect(&live, hop_migrate::Options::default())
        .map_err(|e| Refusal::new(format!("cannot read the live database: {e}")))?;
    if let hop_migrate::adopt::Adoption::Refused { why, fix } =
        crate::adoption::assess(&mut reading, m, &payload.0)
            .map_err(|e| Refusal::from_error(&e))?
            .adoption
    {
        return Err(Refusal::new(format!(
            "the database cannot be adopted: {why}; {fix} (apply would refuse it the same way)"
        ))
        .into());
    }
    drop(reading);
    crate::rehearsal::drop_left(host, &runner).map_err(|e| Refusal::from_error(&e))?;
    let bytes = hop_migrate::Migrator::connect(&live, hop_migrate::Options::default())
        .and_then(|mut m| m.database_size())
        .map_err(|e| Refusal::new(format!("cannot read the live database: {e}")))?;
    let wanted = copy
        .scratch_dir
        .as_deref()
        .unwrap_or(Path::new("/var/tmp"))
        .to_string_lossy()
        .into_owned();
    if !wanted.starts_with('/') {
        return Err(Refusal::new(format!(
            "--scratch-dir {wanted}: give an absolute path on this host"
        ))
        .into());
    }
    // Only a private server (PostgreSQL's) goes there: the others need
    // no scratch directory, and a missing one is said plainly only when
    // the private server is needed.
    let scratch_dir = if !dialect.has_private_server() {
        None
    } else {
        match host.fs.real_path(&wanted) {
            Ok(dir) => Some(dir),
            Err(_) if copy.cluster || copy.scratch_dir.is_some() => {
                return Err(Refusal::new(format!(
                    "--scratch-dir {wanted}: there is no such directory under {}",
                    host.root.display()
                ))
                .with_hint("give a directory that exists (a private cluster goes under it)")
                .into());
            }
            Err(_) => None,
        }
    };
    let place =
        crate::rehearsal::place(&live, &sd.dir, bytes, scratch_dir.as_deref(), copy.cluster)
            .map_err(|why| {
                Refusal::new(format!("no room to rehearse: {why}"))
                    .with_hint("free space there, or rehearse on a copy of this host")
            })?;
    let cluster = match &place {
        crate::rehearsal::Place::Beside => None,
        crate::rehearsal::Place::Cluster(parent) => Some(
            crate::rehearsal::private_server_preflight(&live, parent)
                .map_err(|e| Refusal::from_error(&e))?,
        ),
    };
    let r = crate::rehearsal::measure(host, &verified, &payload.0, cluster.as_ref(), &runner, out)
        .map_err(|e| {
            Failure::rolled_back(format!(
                "the rehearsal stopped: {e:#}; the live database was only read and the scratch \
             copy is dropped"
            ))
        })?;
    let kept = crate::rehearsal::save(sd, &r).map_err(|e| Refusal::from_error(&e))?;
    out.step(&format!("rehearsal kept in {}", kept.display()));
    Ok(r)
}
