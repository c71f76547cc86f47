//! A migration as the engine runs it: number, description, phase, SQL and
//! the checksum recorded in the history.

use hop_artifact::digest::Sha256Digest;
use hop_artifact::migration::{
    Backend, MigrationHeader, MigrationName, Phase, Statement, split_statements,
};

/// One migration file's content, for one database.
#[derive(Clone, Debug)]
pub struct Script {
    /// The file name as written (`0004_add_x.sql`, `0004_add_x.up.sql`).
    pub file: String,
    /// The number that orders migrations.
    pub version: u32,
    /// The words after the number.
    pub description: String,
    /// When it runs (its `-- hop: phase=` header).
    pub phase: Phase,
    /// A `post` migration repeated until it changes no row.
    pub batch: bool,
    /// The SQL.
    pub sql: String,
    /// SHA-256 of the file's bytes.
    pub checksum: Sha256Digest,
}

impl Script {
    /// A script from a file name (`0004_add_x.sql`) and its text, which
    /// must start with a phase line.
    pub fn parse(file_name: &str, sql: &str) -> Result<Self, String> {
        let name = MigrationName::parse(file_name)?;
        let header = MigrationHeader::parse(sql).map_err(|e| format!("{file_name}: {e}"))?;
        Ok(Self {
            file: name.file,
            version: name.version,
            description: name.description,
            phase: header.phase,
            batch: header.batch,
            checksum: Sha256Digest::of(sql.as_bytes()),
            sql: sql.to_owned(),
        })
    }

    /// The file name as written.
    pub fn file_name(&self) -> String {
        self.file.clone()
    }

    pub(crate) fn statements(&self, backend: Backend) -> Result<Vec<Statement>, String> {
        split_statements(&self.sql, backend)
    }
}

/// Loads the migrations of a directory for `backend`: portable files, each
/// replaced by a same-named file under `<backend>/` when there is one;
/// golang-migrate's `.down.sql` files are left out.
pub fn load_dir(dir: &std::path::Path, backend: Backend) -> Result<Vec<Script>, String> {
    let read = |d: &std::path::Path| -> Result<Vec<(String, std::path::PathBuf)>, String> {
        let Ok(entries) = std::fs::read_dir(d) else {
            return Ok(Vec::new());
        };
        let mut files: Vec<(String, std::path::PathBuf)> = entries
            .filter_map(|e| e.ok())
            .filter(|e| e.path().is_file())
            .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
            .filter(|(n, _)| n.ends_with(".sql") && !MigrationName::is_down(n))
            .collect();
        files.sort();
        Ok(files)
    };
    let variants = read(&dir.join(backend.as_str()))?;
    let mut scripts = Vec::new();
    for (name, path) in read(dir)? {
        let path = variants
            .iter()
            .find(|(v, _)| *v == name)
            .map_or(path, |(_, p)| p.clone());
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        scripts.push(Script::parse(&name, &text)?);
    }
    Ok(scripts)
}
