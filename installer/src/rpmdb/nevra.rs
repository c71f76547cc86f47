//! NEVRAs: `name-[epoch:]version-release.arch`.

use anyhow::Result;

/// The name in a NEVRA (`name-[epoch:]version-release.arch`): all before
/// the last two `-`.
pub fn name_of_nevra(nevra: &str) -> Option<String> {
    let mut parts = nevra.rsplitn(3, '-');
    let _release_arch = parts.next()?;
    let _version = parts.next()?;
    parts.next().map(str::to_owned)
}

/// The NEVRA an RPM header states.
pub fn nevra_of_metadata(meta: &rpm::PackageMetadata) -> Result<String> {
    let epoch = meta.get_epoch().unwrap_or(0);
    let epoch = if epoch == 0 {
        String::new()
    } else {
        format!("{epoch}:")
    };
    Ok(format!(
        "{}-{epoch}{}-{}.{}",
        meta.get_name()?,
        meta.get_version()?,
        meta.get_release()?,
        meta.get_arch()?
    ))
}
