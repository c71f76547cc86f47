//! Which glibc a binary needs: the newest `GLIBC_x.y` symbol version its
//! dynamic section asks for. EL7 has glibc 2.17, so a binary that asks
//! for anything newer does not start there (`make el-binaries` checks).

use std::path::Path;

use anyhow::{Context, Result, bail};
use object::Endianness;
use object::elf::FileHeader64;
use object::read::elf::FileHeader;

/// A glibc version, `(major, minor)`.
pub type Version = (u32, u32);

/// `GLIBC_2.34` → `(2, 34)`; other names (`GLIBC_PRIVATE`) are none.
pub fn parse(name: &str) -> Option<Version> {
    let (major, minor) = name.strip_prefix("GLIBC_")?.split_once('.')?;
    let minor = minor.split('.').next()?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

/// The glibc symbol versions the 64-bit ELF file `data` requires.
pub fn required(data: &[u8]) -> Result<Vec<String>> {
    let header = FileHeader64::<Endianness>::parse(data).context("not a 64-bit ELF file")?;
    let endian = header.endian()?;
    let sections = header.sections(endian, data)?;
    let mut names = Vec::new();
    let Some((mut needs, link)) = sections.gnu_verneed(endian, data)? else {
        return Ok(names);
    };
    let strings = sections.strings(endian, data, link)?;
    while let Some((need, mut aux)) = needs.next()? {
        let file = String::from_utf8_lossy(need.file(endian, strings)?).into_owned();
        while let Some(a) = aux.next()? {
            let name = String::from_utf8_lossy(a.name(endian, strings)?).into_owned();
            if file.starts_with("libc.so")
                || file.starts_with("libm.so")
                || name.starts_with("GLIBC_")
            {
                names.push(name);
            }
        }
    }
    names.sort();
    names.dedup();
    Ok(names)
}

/// The newest glibc version in `names`.
pub fn newest(names: &[String]) -> Option<Version> {
    names.iter().filter_map(|n| parse(n)).max()
}

/// Refuses `binary` if it needs a glibc newer than `max`; the newest it
/// needs otherwise.
pub fn check(binary: &Path, max: Version) -> Result<Option<Version>> {
    let data = std::fs::read(binary).with_context(|| format!("reading {}", binary.display()))?;
    let names = required(&data).with_context(|| format!("reading {}", binary.display()))?;
    let newest = newest(&names);
    if let Some(v) = newest
        && v > max
    {
        let too_new: Vec<&String> = names
            .iter()
            .filter(|n| parse(n).is_some_and(|x| x > max))
            .collect();
        bail!(
            "{} needs glibc {}.{} ({}), newer than {}.{}: it does not start on hosts with glibc {}.{} \
             (build it with `make el-binaries`)",
            binary.display(),
            v.0,
            v.1,
            too_new
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            max.0,
            max.1,
            max.0,
            max.1
        );
    }
    Ok(newest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_as_numbers() {
        assert_eq!(parse("GLIBC_2.17"), Some((2, 17)));
        assert_eq!(parse("GLIBC_2.3.4"), Some((2, 3)));
        assert_eq!(parse("GLIBC_PRIVATE"), None);
        assert!(parse("GLIBC_2.34") > parse("GLIBC_2.4"));
        let names = ["GLIBC_2.2.5", "GLIBC_2.17", "GLIBC_2.9"].map(String::from);
        assert_eq!(newest(&names), Some((2, 17)));
    }

    /// This test binary, built by the machine's own toolchain against its
    /// glibc, asks for more than 2.2.5: the check sees what a binary needs.
    #[test]
    fn a_binary_built_here_needs_this_machines_glibc() -> Result<()> {
        let me = std::env::current_exe()?;
        let names = required(&std::fs::read(&me)?)?;
        assert!(newest(&names).is_some_and(|v| v > (2, 2)), "{names:?}");
        Ok(())
    }
}
