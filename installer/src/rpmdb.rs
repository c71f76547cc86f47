//! The host's RPM database, through the system `rpm` with `--root`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Result, bail};

use crate::runner::{Cmd, Runner};

/// `name-[epoch:]version-release.arch`, as hop prints NEVRAs.
const NEVRA_FORMAT: &str = "%{NAME}-%|EPOCH?{%{EPOCH}:}|%{VERSION}-%{RELEASE}.%{ARCH}\\n";

pub struct RpmDb<'a> {
    runner: &'a Runner,
    root: PathBuf,
}

impl<'a> RpmDb<'a> {
    pub fn new(runner: &'a Runner, root: &Path) -> Self {
        Self {
            runner,
            root: root.to_path_buf(),
        }
    }

    fn rpm(&self) -> Cmd {
        Cmd::new("rpm")
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

    /// Every installed package, sorted.
    pub fn all(&self) -> Result<Vec<String>> {
        let out = self
            .runner
            .check(&self.rpm().args(["-qa", "--qf", NEVRA_FORMAT]))?;
        let mut all = lines(&out);
        all.sort();
        Ok(all)
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

/// The NEVRA an RPM file's header states (the header only is read).
pub fn nevra_of_file(path: &Path) -> Result<String> {
    let meta = rpm::PackageMetadata::open(path)?;
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
