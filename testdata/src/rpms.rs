//! Real RPM files made with the `rpm` crate, reproducibly, with what real
//! product RPMs have: scriptlets, `%config(noreplace)` files, directories
//! and files owned by a service user, symlinks, dependencies.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// A fixed build time, so the same spec always gives the same bytes.
pub const RPM_SOURCE_DATE: u32 = 1_700_000_000;

/// What an entry of an RPM is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EntryKind {
    File(Vec<u8>),
    Dir,
    Symlink(String),
}

/// An entry inside an RPM.
#[derive(Clone, Debug)]
pub struct RpmFile {
    /// Absolute path on the host it installs to.
    pub path: String,
    pub kind: EntryKind,
    pub mode: u16,
    pub user: String,
    pub group: String,
    /// `%config(noreplace)`.
    pub config_noreplace: bool,
}

/// The scriptlets an RPM may carry (run with `/bin/sh`).
#[derive(Clone, Debug, Default)]
pub struct Scriptlets {
    pub pre: Option<String>,
    pub post: Option<String>,
    pub preun: Option<String>,
    pub postun: Option<String>,
}

/// What to put in an RPM.
#[derive(Clone, Debug)]
pub struct RpmSpec {
    pub name: String,
    pub version: String,
    pub release: String,
    pub summary: String,
    pub files: Vec<RpmFile>,
    /// Leave the payload uncompressed (large benchmark packages).
    pub uncompressed: bool,
    pub scripts: Scriptlets,
    /// `Requires:` as (name, exact EVR); an empty EVR requires any version.
    pub requires: Vec<(String, String)>,
    /// `Provides:` names (besides the package's own).
    pub provides: Vec<String>,
}

impl RpmSpec {
    pub fn new(name: &str, version: &str) -> Self {
        Self {
            name: name.to_owned(),
            version: version.to_owned(),
            release: "1".to_owned(),
            summary: format!("{name} {version}"),
            files: Vec::new(),
            uncompressed: false,
            scripts: Scriptlets::default(),
            requires: Vec::new(),
            provides: Vec::new(),
        }
    }

    fn entry(mut self, path: &str, kind: EntryKind, mode: u16) -> Self {
        self.files.push(RpmFile {
            path: path.to_owned(),
            kind,
            mode,
            user: "root".into(),
            group: "root".into(),
            config_noreplace: false,
        });
        self
    }

    /// A regular file owned by root.
    pub fn file(self, path: &str, content: impl Into<Vec<u8>>, mode: u16) -> Self {
        self.entry(path, EntryKind::File(content.into()), mode)
    }

    /// A directory the package owns.
    pub fn dir(self, path: &str, mode: u16) -> Self {
        self.entry(path, EntryKind::Dir, mode)
    }

    /// A symbolic link.
    pub fn symlink(self, path: &str, target: &str) -> Self {
        self.entry(path, EntryKind::Symlink(target.into()), 0o777)
    }

    /// Gives the last entry to `user:group`.
    pub fn owned_by(mut self, user: &str, group: &str) -> Self {
        if let Some(f) = self.files.last_mut() {
            f.user = user.into();
            f.group = group.into();
        }
        self
    }

    /// Marks the last entry `%config(noreplace)`.
    pub fn config_noreplace(mut self) -> Self {
        if let Some(f) = self.files.last_mut() {
            f.config_noreplace = true;
        }
        self
    }

    pub fn requires(mut self, name: &str, evr: &str) -> Self {
        self.requires.push((name.into(), evr.into()));
        self
    }

    /// `name-version-release.noarch.rpm`.
    pub fn file_name(&self) -> String {
        format!("{}-{}-{}.noarch.rpm", self.name, self.version, self.release)
    }

    /// Builds the RPM into `dir` and returns its path.
    pub fn build(&self, dir: &Path) -> Result<PathBuf> {
        let mut config = rpm::BuildConfig::default().source_date(RPM_SOURCE_DATE);
        if self.uncompressed {
            config = config.compression(rpm::CompressionType::None);
        }
        let mut builder = rpm::PackageBuilder::new(
            &self.name,
            &self.version,
            "Apache-2.0",
            "noarch",
            &self.summary,
        );
        builder
            .using_config(config)
            .release(&self.release)
            .build_host("hop-testdata")
            .vendor("hop demo");
        let script = |s: &String| rpm::Scriptlet::new(s.as_str()).prog(vec!["/bin/sh"]);
        let s = &self.scripts;
        if let Some(x) = &s.pre {
            builder.pre_install_script(script(x));
        }
        if let Some(x) = &s.post {
            builder.post_install_script(script(x));
        }
        if let Some(x) = &s.preun {
            builder.pre_uninstall_script(script(x));
        }
        if let Some(x) = &s.postun {
            builder.post_uninstall_script(script(x));
        }
        let has_scripts =
            s.pre.is_some() || s.post.is_some() || s.preun.is_some() || s.postun.is_some();
        if has_scripts {
            // What rpmbuild adds for a /bin/sh scriptlet.
            builder.requires(rpm::Dependency::any("/bin/sh"));
        }
        for (name, evr) in &self.requires {
            builder.requires(if evr.is_empty() {
                rpm::Dependency::any(name.as_str())
            } else {
                rpm::Dependency::eq(name.as_str(), evr.as_str())
            });
        }
        for name in &self.provides {
            builder.provides(rpm::Dependency::any(name.as_str()));
        }
        for file in &self.files {
            let add = |o: rpm::FileOptionsBuilder| {
                let o = o.permissions(file.mode).user(&file.user).group(&file.group);
                if file.config_noreplace {
                    o.config().noreplace()
                } else {
                    o
                }
            };
            let result = match &file.kind {
                EntryKind::File(content) => builder
                    .with_file_contents(content.clone(), add(rpm::FileOptions::new(&file.path))),
                EntryKind::Dir => builder.with_dir_entry(add(rpm::FileOptions::dir(&file.path))),
                EntryKind::Symlink(target) => {
                    builder.with_symlink(add(rpm::FileOptions::symlink(&file.path, target)))
                }
            };
            result.with_context(|| format!("adding {} to {}", file.path, self.name))?;
        }
        let package = builder
            .build()
            .with_context(|| format!("building {}", self.file_name()))?;
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let path = dir.join(self.file_name());
        package
            .write_file(&path)
            .with_context(|| format!("writing {}", path.display()))?;
        Ok(path)
    }
}
