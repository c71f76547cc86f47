//! Which keys the host trusts: `--key` files when given, else the `*.asc`
//! files of host.yaml's `trusted_keys` directory, read inside the host's
//! root. There is no way to skip the signature check.

use std::path::PathBuf;

use hop_artifact::signature::TrustedKeys;

use crate::error::Refusal;
use crate::host::Host;

/// The host's trusted keys.
pub fn host_keys(host: &Host) -> Result<TrustedKeys, Refusal> {
    let dir = &host.config.trusted_keys;
    let hint = || format!("put the vendor's public key (*.asc) into {dir}");
    let refuse = |message: String| Refusal::new(message).with_hint(hint());
    if let Some((_, meta)) = host.fs.stat(dir).map_err(|e| refuse(format!("{e:#}")))? {
        use std::os::unix::fs::MetadataExt;
        crate::hostfs::only_owner_may_write(
            &format!("the trusted keys directory {dir}"),
            meta.uid(),
            meta.mode(),
        )
        .map_err(&refuse)?;
    }
    let names = host
        .fs
        .list(dir)
        .map_err(|e| refuse(format!("no trusted keys: {e:#}")))?;
    let mut keys = TrustedKeys::default();
    for name in names.iter().filter(|n| n.ends_with(".asc")) {
        let path = format!("{}/{name}", dir.trim_end_matches('/'));
        let Some(file) = host
            .fs
            .read_file(&path)
            .map_err(|e| refuse(format!("{e:#}")))?
        else {
            continue;
        };
        crate::hostfs::only_owner_may_write(
            &format!("the trusted key {path}"),
            file.uid,
            file.mode,
        )
        .map_err(&refuse)?;
        let text = String::from_utf8_lossy(&file.data);
        keys.add_armored(&text, &path)
            .map_err(|e| refuse(e.to_string()))?;
    }
    if keys.is_empty() {
        return Err(refuse(format!(
            "no trusted keys: {dir} holds no *.asc public key"
        )));
    }
    Ok(keys)
}

/// `--key` files.
pub fn key_files(keys: &[PathBuf]) -> Result<TrustedKeys, Refusal> {
    TrustedKeys::from_files(keys).map_err(|e| Refusal::new(e.to_string()))
}
