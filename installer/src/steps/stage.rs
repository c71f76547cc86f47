//! Stage: extract the payload into the operation's `staging/`, verifying
//! the signature and every member again as it is written.

use anyhow::Result;

use super::Context;
use crate::action::Action;

/// What staging does for `m`.
pub fn actions(m: &hop_artifact::PackageManifest) -> Vec<Action> {
    vec![Action::Extract {
        members: m.members.len(),
        bytes: m.members.iter().map(|x| x.size).sum(),
    }]
}

pub fn apply(cx: &mut Context<'_>) -> Result<()> {
    let trusted = crate::trust::host_keys(cx.host).map_err(|f| anyhow::anyhow!("{f}"))?;
    let staging = cx.staging();
    let verified = crate::package::extract(&cx.package, &trusted, &staging, &mut || {
        crate::fault::hit(crate::fault::Point::Step(
            crate::journal::Step::Stage,
            crate::fault::At::Mid,
        ))
    })?;
    if verified.manifest != cx.manifest {
        anyhow::bail!(
            "{} changed since it was checked; run the command again",
            cx.package.display()
        );
    }
    Ok(())
}

/// Removes the staging directory.
pub fn undo(cx: &Context<'_>) -> Result<()> {
    let staging = cx.staging();
    if staging.exists() {
        std::fs::remove_dir_all(&staging)?;
    }
    Ok(())
}
