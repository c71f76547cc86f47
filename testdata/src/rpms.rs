//! Real RPM files made with the `rpm` crate, reproducibly.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// A fixed build time, so the same spec always gives the same bytes.
pub const RPM_SOURCE_DATE: u32 = 1_700_000_000;

/// A file inside an RPM.
#[derive(Clone, Debug)]
pub struct RpmFile {
    /// Absolute path on the host it installs to.
    pub path: String,
    pub content: Vec<u8>,
    pub mode: u16,
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
    /// A `%pre` scriptlet (tests use a failing one).
    pub pre_install: Option<String>,
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
            pre_install: None,
        }
    }

    pub fn file(mut self, path: &str, content: impl Into<Vec<u8>>, mode: u16) -> Self {
        self.files.push(RpmFile {
            path: path.to_owned(),
            content: content.into(),
            mode,
        });
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
        if let Some(script) = &self.pre_install {
            builder.pre_install_script(script.as_str());
        }
        for file in &self.files {
            builder
                .with_file_contents(
                    file.content.clone(),
                    rpm::FileOptions::new(&file.path).permissions(file.mode),
                )
                .with_context(|| format!("adding {} to {}", file.path, self.name))?;
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
