//! Stage: extract the payload into the operation's `staging/`, verifying
//! the signature and every member again as it is written.

use anyhow::Result;

use super::Context;

pub fn apply(cx: &mut Context<'_>) -> Result<()> {
    let trusted = crate::trust::host_keys(cx.host).map_err(|f| anyhow::anyhow!("{f}"))?;
    let staging = cx.staging();
    let verified = crate::package::extract(&cx.package, &trusted, &staging, &mut || {
        crate::fault::hit("stage.mid")
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
