//! The host's RPM database, through the system `rpm` with `--root`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::runner::{Command, Runner};

mod nevra;
mod records;

pub use nevra::{name_of_nevra, nevra_of_metadata};
pub use records::{OwnedFile, PackageFiles, Verified, parse_verify};

/// `name-[epoch:]version-release.arch`, as hop prints NEVRAs.
const NEVRA_FORMAT: &str = "%{NAME}-%|EPOCH?{%{EPOCH}:}|%{VERSION}-%{RELEASE}.%{ARCH}\\n";

pub struct RpmDb<'a> {
    runner: &'a Runner,
    root: PathBuf,
    /// The query format of a package's header digest on this `rpm`.
    digest_format: std::cell::OnceCell<&'static str>,
}

/// The header digest as `--qf` asks for it: SHA256HEADER where this `rpm`
/// knows the tag (4.14 on, EL8 and EL9), SHA1HEADER where it does not
/// (4.11, EL7, says "unknown tag" to the other); SIGMD5 for packages with
/// neither. `querytags` is `rpm --querytags`.
pub fn header_digest_format(querytags: &str) -> &'static str {
    if querytags.lines().any(|t| t.trim() == "SHA256HEADER") {
        "%{SHA256HEADER}|%{SIGMD5}"
    } else {
        "%{SHA1HEADER}|%{SIGMD5}"
    }
}

impl<'a> RpmDb<'a> {
    pub fn new(runner: &'a Runner, root: &Path) -> Self {
        Self {
            runner,
            root: root.to_path_buf(),
            digest_format: std::cell::OnceCell::new(),
        }
    }

    /// [`header_digest_format`] of this host's `rpm`.
    fn digest_format(&self) -> Result<&'static str> {
        if let Some(f) = self.digest_format.get() {
            return Ok(f);
        }
        let tags = self.runner.check(&Command::new("rpm").arg("--querytags"))?;
        Ok(self
            .digest_format
            .get_or_init(|| header_digest_format(&tags)))
    }

    pub(crate) fn rpm(&self) -> Command {
        Command::new("rpm")
            .arg("--root")
            .arg(self.root.display().to_string())
            .timeout(Duration::from_secs(1800))
    }

    /// The installed NEVRAs of `name` (none, one, or several after an
    /// interrupted transaction).
    pub fn installed(&self, name: &str) -> Result<Vec<String>> {
        let out = self
            .runner
            .run(&self.rpm().args(["-q", "--qf", NEVRA_FORMAT, name]))?;
        if !out.success() {
            if out.text.contains("is not installed") {
                return Ok(Vec::new());
            }
            bail!("rpm -q {name}: {}", out.text.trim());
        }
        Ok(lines(&out.text))
    }

    /// The VERSION of `name`, if installed.
    pub fn version_of(&self, name: &str) -> Result<Option<String>> {
        let out = self
            .runner
            .run(&self.rpm().args(["-q", "--qf", "%{VERSION}\\n", name]))?;
        if !out.success() {
            return Ok(None);
        }
        Ok(lines(&out.text).into_iter().next_back())
    }

    /// `rpm -U --test`: would this transaction succeed?
    pub fn test_upgrade(&self, files: &[PathBuf]) -> Result<(), String> {
        let cmd = self
            .rpm()
            .args(["-U", "--test"])
            .args(files.iter().map(|f| f.display().to_string()));
        match self.runner.run(&cmd) {
            Ok(o) if o.success() => Ok(()),
            Ok(o) => Err(problems(&o.text)),
            Err(e) => Err(e.to_string()),
        }
    }

    /// Installs `files` in one transaction; `downgrade` allows older
    /// versions (rolling back) and reinstalls what is already there.
    pub fn upgrade(&self, files: &[PathBuf], downgrade: bool) -> Result<()> {
        if files.is_empty() {
            return Ok(());
        }
        let mut cmd = self.rpm().arg("-U");
        if downgrade {
            cmd = cmd.args(["--oldpackage", "--replacepkgs"]);
        }
        let cmd = cmd.args(files.iter().map(|f| f.display().to_string()));
        let out = self.runner.run(&cmd)?;
        if !out.success() {
            bail!("rpm -U failed: {}", problems(&out.text));
        }
        Ok(())
    }

    /// Starts an upgrade without waiting (fault injection kills it midway).
    pub fn start_upgrade(&self, files: &[PathBuf]) -> Result<duct::Handle> {
        let cmd = self
            .rpm()
            .arg("-U")
            .args(files.iter().map(|f| f.display().to_string()));
        self.runner.start(&cmd)
    }

    /// Removes packages by NEVRA.
    pub fn erase(&self, nevras: &[String]) -> Result<()> {
        if nevras.is_empty() {
            return Ok(());
        }
        self.runner
            .check(
                &self
                    .rpm()
                    .args(["-e", "--nodeps"])
                    .args(nevras.iter().cloned()),
            )
            .map(drop)
    }
}

impl RpmDb<'_> {
    /// A macro's value as this `rpm` sees it (`%{_dbpath}`, …).
    pub fn eval(&self, expression: &str) -> Result<String> {
        Ok(self
            .runner
            .check(&Command::new("rpm").args(["--eval", expression]))?
            .lines()
            .rfind(|l| !l.starts_with("rpm: "))
            .unwrap_or("")
            .trim()
            .to_owned())
    }

    /// The header digest of an installed package ([`header_digest_format`]): SHA256HEADER (SHA1HEADER on rpm 4.11), or SIGMD5
    /// for old packages without one.
    pub fn header_digest(&self, nevra: &str) -> Result<String> {
        let format = format!("{}\\n", self.digest_format()?);
        let out = self
            .runner
            .check(&self.rpm().args(["-q", "--qf", &format, nevra]))?;
        header_digest_of(&out).with_context(|| format!("{nevra} has no header digest"))
    }

    /// The header digest of the RPM read from `input` (a path opened as
    /// rpm's standard input: `/proc/self/fd/N` reads a file hop holds).
    pub fn file_header_digest_of_stdin(&self, input: &Path) -> Result<String> {
        let format = format!("{}\\n", self.digest_format()?);
        let mut query =
            self.rpm()
                .args(["-qp", "--nosignature", "--nodigest", "--qf", &format, "-"]);
        query.stdin = Some(input.to_path_buf());
        let out = self.runner.check(&query)?;
        header_digest_of(&out).context("the file has no header digest")
    }

    /// Whether the digests of the RPM read from `input` hold (`rpm -K
    /// --nosignature`: the header's and the payload's).
    pub fn digests_ok_of_stdin(&self, input: &Path) -> Result<bool> {
        let mut check = self.rpm().args(["-K", "--nosignature", "-"]);
        check.stdin = Some(input.to_path_buf());
        Ok(self.runner.run(&check)?.success())
    }

    /// The files installed packages own, from their headers.
    pub fn files(&self, nevras: &[String]) -> Result<Vec<PackageFiles>> {
        let mut out = Vec::new();
        for nevra in nevras {
            let text = self.runner.check(&self.rpm().args([
                "-q",
                "--qf",
                "%{FILEDIGESTALGO}\\n[%{FILEMODES}\\t%{FILEUSERNAME}\\t%{FILEGROUPNAME}\\t%{FILEDIGESTS}\\t%{FILEFLAGS}\\t%{FILENAMES}\\n]",
                nevra,
            ]))?;
            let mut lines = lines(&text).into_iter();
            let digest_algo = lines.next().and_then(|l| l.parse().ok()).unwrap_or(8);
            let files = lines
                .filter_map(|l| {
                    let f: Vec<&str> = l.splitn(6, '\t').collect();
                    let [mode, user, group, digest, flags, path] = f.as_slice() else {
                        return None;
                    };
                    Some(OwnedFile {
                        path: (*path).to_owned(),
                        mode: mode.parse().ok()?,
                        user: (*user).to_owned(),
                        group: (*group).to_owned(),
                        digest: (*digest).to_owned(),
                        flags: flags.parse().ok()?,
                    })
                })
                .collect();
            out.push(PackageFiles {
                nevra: nevra.clone(),
                digest_algo,
                files,
            });
        }
        Ok(out)
    }

    /// The bytes the installed packages `names` hold (those installed).
    pub fn installed_size(&self, names: &[String]) -> Result<u64> {
        let out = self.runner.run(
            &self
                .rpm()
                .args(["-q", "--qf", "%{SIZE}\\n"])
                .args(names.iter().cloned()),
        )?;
        Ok(lines(&out.text)
            .iter()
            .filter_map(|l| l.parse::<u64>().ok())
            .sum())
    }

    /// `rpm -V` of installed packages: what differs from their headers.
    pub fn verify(&self, names: &[String]) -> Result<Vec<Verified>> {
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let out = self
            .runner
            .run(&self.rpm().arg("-V").args(names.iter().cloned()))?;
        Ok(parse_verify(&out.text))
    }

    /// Every installed package with its header digest (`NEVRA digest`),
    /// sorted, but those named in `except`.
    pub fn others(&self, except: &[String]) -> Result<Vec<String>> {
        // The header digest alone (SIGMD5 too would break the line's shape).
        let digest = self.digest_format()?.split('|').next().unwrap_or_default();
        let format = format!(
            "%{{NAME}}|%{{NAME}}-%|EPOCH?{{%{{EPOCH}}:}}|%{{VERSION}}-%{{RELEASE}}.%{{ARCH}} {digest}\\n"
        );
        let text = self
            .runner
            .check(&self.rpm().args(["-qa", "--qf", &format]))?;
        let mut all: Vec<String> = lines(&text)
            .into_iter()
            .filter_map(|l| {
                let (name, rest) = l.split_once('|')?;
                (!except.iter().any(|e| e == name)).then(|| rest.to_owned())
            })
            .collect();
        all.sort();
        Ok(all)
    }
}

fn header_digest_of(out: &str) -> Option<String> {
    let line = lines(out).into_iter().next()?;
    let (sha256, md5) = line.split_once('|')?;
    [sha256, md5]
        .into_iter()
        .find(|d| !d.is_empty() && *d != "(none)")
        .map(str::to_owned)
}

fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("rpm: "))
        .map(str::to_owned)
        .collect()
}

/// The lines of rpm's output that say what is wrong (Debian's rpm adds a
/// warning about using rpm directly, which is noise here).
fn problems(text: &str) -> String {
    let useful: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| {
            !l.is_empty()
                && !l.starts_with("rpm: RPM should not be used")
                && !l.starts_with("rpm: However")
        })
        .collect();
    useful.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_digest_is_asked_for_by_a_tag_this_rpm_knows() {
        // rpm 4.16 (EL9) and 4.14 (EL8) know SHA256HEADER.
        assert_eq!(
            header_digest_format("RSAHEADER\nSHA1HEADER\nSHA256HEADER\nSIGMD5\n"),
            "%{SHA256HEADER}|%{SIGMD5}"
        );
        // rpm 4.11 (EL7) does not: asking for it is an error there.
        assert_eq!(
            header_digest_format("RSAHEADER\nSHA1HEADER\nSIGMD5\n"),
            "%{SHA1HEADER}|%{SIGMD5}"
        );
    }

    #[test]
    fn a_digest_line_gives_the_first_digest_present() {
        assert_eq!(header_digest_of("abc|def\n").as_deref(), Some("abc"));
        assert_eq!(header_digest_of("(none)|def\n").as_deref(), Some("def"));
        assert_eq!(header_digest_of("(none)|(none)\n"), None);
    }
}
