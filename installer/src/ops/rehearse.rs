//! `hop-install rehearse PKG`: the hop's migrations on a scratch copy of
//! the live database, measured, and the downtime window and rollback time
//! they predict; kept in the state directory for `check` and
//! `apply --max-downtime`. The live database is only read.

use std::path::Path;

use crate::error::{Error, Failure, Refusal};
use crate::rehearsal::Rehearsal;
use crate::remote::FetchOptions;
use crate::session::Session;
use crate::terminal::Terminal;

pub fn rehearse(
    root: &Path,
    package: &Path,
    options: &FetchOptions,
    out: &Terminal,
) -> Result<Rehearsal, Error> {
    let session = Session::changing(root, "rehearse")?;
    let (host, sd) = (&session.host, &session.state);
    crate::journal::refuse_if_open(sd)?;
    let fetched = super::fetch::package(root, package, None, options)?;
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
    let bytes = hop_migrate::Migrator::connect(&live, hop_migrate::Options::default())
        .and_then(|mut m| m.database_size())
        .map_err(|e| Refusal::new(format!("cannot read the live database: {e}")))?;
    if let Some(why) = crate::rehearsal::lacking(&live, &sd.dir, bytes) {
        return Err(Refusal::new(format!("no room to rehearse: {why}"))
            .with_hint("free space there, or rehearse on a copy of this host")
            .into());
    }
    let r = crate::rehearsal::measure(host, &verified, &payload.0, &runner, out).map_err(|e| {
        Failure::rolled_back(format!(
            "the rehearsal stopped: {e:#}; the live database was only read and the scratch \
             copy is dropped"
        ))
    })?;
    let kept = crate::rehearsal::save(sd, &r).map_err(|e| Refusal::from_error(&e))?;
    out.step(&format!("rehearsal kept in {}", kept.display()));
    Ok(r)
}
