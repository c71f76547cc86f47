//! The online-migration linter on 1,000 PostgreSQL migration files
//! (squawk's parser and rules, hop's) and 1,000 MariaDB ones, set against
//! the baseline of only splitting the same files into statements (the
//! tokenizer every build runs anyway). Each run is a process of its own,
//! so its peak memory is its own.

use std::path::Path;

use anyhow::Result;
use hop_artifact::migration::{Backend, split_statements};

use crate::measure::timed;

const FILES: usize = 1000;

/// A realistic online migration on `backend`: a table, columns, an
/// index, a constraint (NOT VALID on PostgreSQL), data, a view.
fn migration(i: usize, backend: Backend) -> String {
    let (index, constraint) = match backend {
        Backend::Postgresql => (
            format!("CREATE INDEX CONCURRENTLY t{i}_by_name ON t{i} (name)"),
            format!("ALTER TABLE t{i} ADD CONSTRAINT t{i}_owner CHECK (owner_id > 0) NOT VALID"),
        ),
        _ => (
            format!("ALTER TABLE t{i} ADD INDEX t{i}_by_name (name), ALGORITHM=INPLACE, LOCK=NONE"),
            format!("ALTER TABLE t{i} MODIFY note VARCHAR(400), ALGORITHM=INSTANT"),
        ),
    };
    format!(
        "-- hop: phase=online\n\
         CREATE TABLE t{i} (id bigint PRIMARY KEY, name varchar(200) NOT NULL, note varchar(200));\n\
         ALTER TABLE t{i} ADD COLUMN level varchar(10) DEFAULT 'info';\n\
         ALTER TABLE t{i} ADD COLUMN owner_id bigint;\n\
         {index};\n\
         {constraint};\n\
         INSERT INTO t{i} (id, name) VALUES (1, 'first; not a statement end');\n\
         CREATE VIEW v{i} AS SELECT id, name FROM t{i} WHERE note IS NULL;\n"
    )
}

const BACKENDS: [(Backend, &str); 2] = [(Backend::Postgresql, "pg"), (Backend::Mariadb, "maria")];

/// Writes the files once.
fn files(work: &Path) -> Result<std::path::PathBuf> {
    let dir = work.join("lint-corpus");
    std::fs::create_dir_all(&dir)?;
    for i in 0..FILES {
        for (backend, prefix) in BACKENDS {
            let path = dir.join(format!("{prefix}-{:04}_m{i}.sql", i + 1));
            if !path.exists() {
                std::fs::write(path, migration(i, backend))?;
            }
        }
    }
    Ok(dir)
}

/// Internal: lint (or, with `split`, only split) every file of `dir`.
pub fn lint_only(dir: &Path, split_only: bool) -> Result<()> {
    let mut findings = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some((backend, _)) = BACKENDS.iter().find(|(_, p)| name.starts_with(p)) else {
            continue;
        };
        let text = std::fs::read_to_string(entry.path())?;
        let statements = split_statements(&text, *backend).map_err(anyhow::Error::msg)?;
        if !split_only {
            let history = hop_builder::History::default();
            let linted = hop_builder::lint_online(&text, &statements, *backend, &history);
            findings += linted.findings.len();
            anyhow::ensure!(linted.findings.is_empty(), "{name}: {:?}", linted.findings);
        }
    }
    anyhow::ensure!(findings == 0, "{findings} findings in safe migrations");
    Ok(())
}

pub fn run(work: &Path) -> Result<String> {
    let dir = files(work)?;
    let me = std::env::current_exe()?;
    let dir_arg = dir.display().to_string();
    let best = |args: &[&str]| -> Result<crate::measure::Run> {
        let mut runs = (0..3)
            .map(|_| timed(&me, args))
            .collect::<Result<Vec<_>>>()?;
        runs.sort_by(|a, b| a.seconds.total_cmp(&b.seconds));
        Ok(runs[0])
    };
    let split = best(&["lint", &dir_arg, "split"])?;
    let lint = best(&["lint", &dir_arg, "lint"])?;
    println!(
        "lint {FILES} PostgreSQL + {FILES} MariaDB files: {:.3}s, split only {:.3}s, peak {:.1} MiB",
        lint.seconds, split.seconds, lint.peak_rss_mib
    );
    Ok(format!(
        "## The online-migration linter\n\n\
         | {FILES} PostgreSQL and {FILES} MariaDB online migrations, 7 statements each | wall | peak RSS |\n|---|---|---|\n\
         | split into statements only (baseline) | {:.3} s | {:.1} MiB |\n\
         | split and lint (squawk's parser and rules, hop's rules, MariaDB's) | {:.3} s ({:.1}× the baseline) | {:.1} MiB |\n\n\
         Best of 3, each a process of its own. Target ≤ 1 s — {}.\n",
        split.seconds,
        split.peak_rss_mib,
        lint.seconds,
        lint.seconds / split.seconds.max(0.001),
        lint.peak_rss_mib,
        if lint.seconds <= 1.0 {
            "met"
        } else {
            "NOT met"
        }
    ))
}
