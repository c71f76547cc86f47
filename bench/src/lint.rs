//! The online-migration linter on 1,000 migration files: each file is
//! linted for PostgreSQL (squawk's parser) and MariaDB, and the time is set
//! against the baseline of only splitting the same files into statements
//! (the tokenizer every build runs anyway). Each is a process of its own,
//! so its peak memory is its own.

use std::path::Path;

use anyhow::Result;
use hop_artifact::migration::{Backend, split_statements};

use crate::measure::timed;

const FILES: usize = 1000;

/// A realistic online migration: a table, columns, an index, a
/// constraint added NOT VALID, data, a view.
fn migration(i: usize) -> String {
    format!(
        "-- hop: phase=online\n\
         CREATE TABLE t{i} (id bigint PRIMARY KEY, name text NOT NULL, note text);\n\
         ALTER TABLE t{i} ADD COLUMN level varchar(10) DEFAULT 'info';\n\
         ALTER TABLE t{i} ADD COLUMN owner_id bigint;\n\
         CREATE INDEX CONCURRENTLY t{i}_by_name ON t{i} (name);\n\
         ALTER TABLE t{i} ADD CONSTRAINT t{i}_owner CHECK (owner_id > 0) NOT VALID;\n\
         INSERT INTO t{i} (id, name) VALUES (1, 'first; not a statement end');\n\
         CREATE VIEW v{i} AS SELECT id, name FROM t{i} WHERE note IS NULL;\n"
    )
}

/// Writes the files once.
fn files(work: &Path) -> Result<std::path::PathBuf> {
    let dir = work.join("lint-corpus");
    std::fs::create_dir_all(&dir)?;
    for i in 0..FILES {
        let path = dir.join(format!("{:04}_m{i}.sql", i + 1));
        if !path.exists() {
            std::fs::write(path, migration(i))?;
        }
    }
    Ok(dir)
}

/// Internal: lint (or, with `split`, only split) every file of `dir`.
pub fn lint_only(dir: &Path, split_only: bool) -> Result<()> {
    let mut findings = 0;
    for entry in std::fs::read_dir(dir)? {
        let text = std::fs::read_to_string(entry?.path())?;
        for backend in [Backend::Postgresql, Backend::Mariadb] {
            let statements = split_statements(&text, backend).map_err(anyhow::Error::msg)?;
            if !split_only {
                findings += hop_builder::lint_online(&text, &statements, backend)
                    .findings
                    .len();
            }
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
        "lint {FILES} files (PostgreSQL + MariaDB): {:.3}s, split only {:.3}s, peak {:.1} MiB",
        lint.seconds, split.seconds, lint.peak_rss_mib
    );
    Ok(format!(
        "## The online-migration linter\n\n\
         | {FILES} online migrations, 7 statements each, for PostgreSQL and MariaDB | wall | peak RSS |\n|---|---|---|\n\
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
