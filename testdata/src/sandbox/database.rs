//! The sandbox's database, made as the product's installer (or another
//! migration tool) made it: the installed version's schema and some rows.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result};
use hop_artifact::migration::Backend;
use hop_migrate::{DatabaseUrl, Migrator, Options, Quiet};

use super::{MadeBy, Sandbox, ToolHistory, run};
use crate::db::TestDatabase;

impl Sandbox {
    /// The database URL the host's host.yaml names.
    pub fn database_url(&self) -> String {
        let shared = self.node.as_ref().and_then(|n| n.shared_database.clone());
        match (&self.database, shared) {
            (_, Some(url)) => url,
            (Some(db), None) => db.url.clone(),
            (None, None) => "sqlite:///var/lib/manager/db.sqlite".into(),
        }
    }

    /// The product's installer: the schema of `version` and some rows.
    pub(super) fn create_database(
        &mut self,
        release: &Path,
        version: &str,
        password: Option<&str>,
        made_by: MadeBy,
    ) -> Result<()> {
        match (self.backend, password) {
            (Backend::Postgresql, Some(p)) => {
                self.database = Some(TestDatabase::create_with_password(&self.root, p)?)
            }
            (Backend::Sqlite, _) => std::fs::create_dir_all(self.path("/var/lib/manager"))?,
            (backend, _) => self.database = Some(TestDatabase::create(backend, &self.root)?),
        }
        let url = DatabaseUrl::parse(&self.database_url(), &self.root)?;
        let scripts =
            hop_migrate::script::load_dir(&release.join(version).join("migrations"), self.backend)
                .map_err(anyhow::Error::msg)?;
        match made_by {
            MadeBy::Hop => {
                let options = Options {
                    create_sqlite: true,
                    ..Options::default()
                };
                let mut migrator = Migrator::connect(&url, options)?;
                let label = format!("install {version}");
                // The product's history, in version order.
                for (i, script) in scripts.iter().enumerate() {
                    migrator.apply(&scripts[..=i], script.phase, &label, &mut Quiet)?;
                }
            }
            MadeBy::Tool(history) => {
                for script in &scripts {
                    self.run_with_client(&url, &script.sql)
                        .with_context(|| format!("running {} with the client", script.file))?;
                }
                let last = scripts.iter().map(|s| s.version).max().unwrap_or(0);
                let history_sql = tool_history_sql(history, &scripts, last);
                self.execute_sql(&url, &history_sql)?;
            }
        }
        let mut sql = String::new();
        for i in 1..=40 {
            sql += &format!(
                "INSERT INTO deployments (id, name, created_at) VALUES ({i}, 'deployment-{i}', '2026-01-{:02}');\n",
                i % 28 + 1
            );
        }
        for i in 1..=120 {
            sql += &format!(
                "INSERT INTO events (id, deployment_id, message) VALUES ({i}, {}, 'event {i}');\n",
                i % 40 + 1
            );
        }
        self.execute_sql(&url, &sql)
    }

    /// Runs a migration file with the database's own client, as a tool
    /// other than hop would.
    fn run_with_client(&self, url: &DatabaseUrl, sql: &str) -> Result<()> {
        let file = self.path("/tmp/migration.sql");
        std::fs::create_dir_all(self.path("/tmp"))?;
        std::fs::write(&file, sql)?;
        let result = match self.backend {
            Backend::Postgresql => run(Command::new("psql")
                .args(["-q", "-v", "ON_ERROR_STOP=1", "-f"])
                .arg(&file)
                .arg(url.without_password())),
            Backend::Mariadb => run(Command::new("sh").arg("-c").arg(format!(
                "mariadb --socket=/run/mysqld/mysqld.sock -u root {} < {}",
                url.database(),
                file.display()
            ))),
            Backend::Sqlite => {
                let path = url.sqlite_path().context("no SQLite path")?;
                Ok(rusqlite::Connection::open(path)?.execute_batch(sql)?)
            }
        };
        std::fs::remove_file(&file)?;
        result
    }

    pub(super) fn execute_sql(&self, url: &DatabaseUrl, sql: &str) -> Result<()> {
        match &self.database {
            Some(db) => db.execute(sql),
            None => {
                let path = url.sqlite_path().context("no SQLite path")?;
                Ok(rusqlite::Connection::open(path)?.execute_batch(sql)?)
            }
        }
    }
}

/// The history table a tool other than hop keeps, saying it applied the
/// migrations up to `last`.
fn tool_history_sql(history: ToolHistory, scripts: &[hop_migrate::Script], last: u32) -> String {
    match history {
        ToolHistory::None => String::new(),
        ToolHistory::GolangMigrate => format!(
            "CREATE TABLE schema_migrations (version BIGINT NOT NULL PRIMARY KEY, dirty BOOLEAN NOT NULL);\n\
             INSERT INTO schema_migrations (version, dirty) VALUES ({last}, FALSE);\n"
        ),
        ToolHistory::Flyway => {
            let mut sql = "CREATE TABLE flyway_schema_history (installed_rank INT NOT NULL PRIMARY KEY, \
                 version VARCHAR(50), description VARCHAR(200) NOT NULL, type VARCHAR(20) NOT NULL, \
                 script VARCHAR(1000) NOT NULL, checksum INT, installed_by VARCHAR(100) NOT NULL, \
                 installed_on VARCHAR(40) NOT NULL, execution_time INT NOT NULL, success BOOLEAN NOT NULL);\n"
                .to_owned();
            for (rank, s) in scripts.iter().enumerate() {
                sql += &format!(
                    "INSERT INTO flyway_schema_history VALUES ({}, '{}', '{}', 'SQL', '{}', 0, 'flyway', \
                     '2025-06-01 12:00:00', 12, TRUE);\n",
                    rank + 1,
                    s.version,
                    s.description,
                    s.file
                );
            }
            sql
        }
    }
}
