//! Test databases: each test makes its own (PostgreSQL and MariaDB over
//! their local sockets, SQLite in a file) and drops it when done.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use anyhow::{Context, Result, bail};
use hop_artifact::migration::Backend;
use mysql::prelude::Queryable;

const PG_SOCKET_DIR: &str = "/var/run/postgresql";
const MARIADB_SOCKET: &str = "/run/mysqld/mysqld.sock";

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// The operating-system user, who is also the databases' admin user.
pub fn os_user() -> String {
    std::process::Command::new("id")
        .arg("-un")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "root".into())
}

/// The port of the PostgreSQL server the tests use: the machine's own
/// (none given: 5432), or `HOP_TEST_PG_PORT`'s, one of the older servers
/// of the version matrix (`scripts/pg-matrix.sh`).
pub fn pg_port() -> Option<u16> {
    std::env::var("HOP_TEST_PG_PORT").ok()?.parse().ok()
}

/// The URL of database `name` on the local server of `backend`.
pub fn server_url(backend: Backend, name: &str) -> String {
    match backend {
        Backend::Postgresql => format!(
            "postgresql://{}@localhost{}/{name}?host={PG_SOCKET_DIR}",
            os_user(),
            pg_port().map(|p| format!(":{p}")).unwrap_or_default()
        ),
        Backend::Mariadb => format!("mysql://root@localhost/{name}?socket={MARIADB_SOCKET}"),
        Backend::Sqlite => format!("sqlite:///{name}"),
    }
}

/// A database of its own for one test, dropped on drop.
pub struct TestDatabase {
    pub backend: Backend,
    /// The database URL (for SQLite: `sqlite:///…` relative to `root`).
    pub url: String,
    /// The root SQLite paths are taken inside (`/` otherwise).
    pub root: PathBuf,
    name: String,
    keep: bool,
    role: Option<String>,
}

impl TestDatabase {
    /// Creates an empty database; a SQLite file goes into `scratch`.
    pub fn create(backend: Backend, scratch: &Path) -> Result<Self> {
        let name = format!(
            "hop_t{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let (url, root) = match backend {
            Backend::Postgresql => {
                admin_pg()?
                    .batch_execute(&format!("CREATE DATABASE {name}"))
                    .context(
                        "creating the test database (is PostgreSQL running? run `make deps`)",
                    )?;
                (server_url(backend, &name), PathBuf::from("/"))
            }
            Backend::Mariadb => {
                admin_mariadb()?
                    .query_drop(format!(
                        "CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
                    ))
                    .context("creating the test database (is MariaDB running? run `make deps`)")?;
                (server_url(backend, &name), PathBuf::from("/"))
            }
            Backend::Sqlite => {
                std::fs::create_dir_all(scratch)?;
                let file = scratch.join(format!("{name}.sqlite"));
                rusqlite::Connection::open(&file)?;
                (format!("sqlite:///{name}.sqlite"), scratch.to_path_buf())
            }
        };
        Ok(Self {
            backend,
            url,
            root,
            name,
            keep: false,
            role: None,
        })
    }

    /// The parsed URL, as the engine takes it.
    pub fn database_url(&self) -> hop_migrate::DatabaseUrl {
        match hop_migrate::DatabaseUrl::parse(&self.url, &self.root) {
            Ok(u) => u,
            Err(e) => panic!("test database URL {}: {e}", self.url),
        }
    }

    /// The SQLite file.
    pub fn sqlite_file(&self) -> PathBuf {
        self.root.join(format!("{}.sqlite", self.name))
    }

    /// Runs SQL statements (separated by `;`).
    pub fn execute(&self, sql: &str) -> Result<()> {
        match self.backend {
            Backend::Postgresql => Ok(self.pg()?.batch_execute(sql)?),
            Backend::Mariadb => Ok(self.mariadb()?.query_drop(sql)?),
            Backend::Sqlite => {
                Ok(rusqlite::Connection::open(self.sqlite_file())?.execute_batch(sql)?)
            }
        }
    }

    /// The first column of the first row of `sql`, as an integer.
    pub fn query_i64(&self, sql: &str) -> Result<i64> {
        match self.backend {
            Backend::Postgresql => Ok(self.pg()?.query_one(sql, &[])?.get::<_, i64>(0)),
            Backend::Mariadb => self
                .mariadb()?
                .query_first::<i64, _>(sql)?
                .context("no row"),
            Backend::Sqlite => {
                Ok(rusqlite::Connection::open(self.sqlite_file())?
                    .query_row(sql, [], |r| r.get(0))?)
            }
        }
    }

    /// The whole database as text: schema and every row, in a stable
    /// order, so two snapshots are equal exactly when the databases are.
    pub fn snapshot(&self) -> Result<String> {
        match self.backend {
            Backend::Postgresql => {
                let dump = run_tool(
                    std::process::Command::new("pg_dump")
                        .args(["--no-owner", "--no-privileges", "--no-password"])
                        .arg(format!("--dbname={}", self.url)),
                )?;
                Ok(dump
                    .lines()
                    .filter(|l| {
                        !(l.starts_with("--")
                            || l.starts_with("\\restrict")
                            || l.starts_with("\\unrestrict")
                            || l.is_empty())
                    })
                    .collect::<Vec<_>>()
                    .join("\n"))
            }
            Backend::Mariadb => run_tool(
                std::process::Command::new("mariadb-dump")
                    .arg(format!("--socket={MARIADB_SOCKET}"))
                    .args([
                        "--user=root",
                        "--compact",
                        "--order-by-primary",
                        "--skip-extended-insert",
                        "--routines",
                        "--triggers",
                    ])
                    .arg(&self.name),
            ),
            Backend::Sqlite => sqlite_snapshot(&self.sqlite_file()),
        }
    }

    fn pg(&self) -> Result<postgres::Client> {
        Ok(postgres::Client::connect(&self.url, postgres::NoTls)?)
    }

    fn mariadb(&self) -> Result<mysql::Conn> {
        Ok(mysql::Conn::new(mysql::Opts::from_url(&self.url)?)?)
    }
}

impl TestDatabase {
    /// A PostgreSQL database owned by a role of its own that logs in with
    /// `password` (which the URL carries).
    pub fn create_with_password(scratch: &Path, password: &str) -> Result<Self> {
        let mut db = Self::create(Backend::Postgresql, scratch)?;
        let role = format!("{}_owner", db.name);
        admin_pg()?.batch_execute(&format!(
            "CREATE ROLE {role} LOGIN PASSWORD '{}'; ALTER DATABASE {} OWNER TO {role}",
            password.replace('\'', "''"),
            db.name
        ))?;
        // As people write them: `+` (allowed in a URL's user part) stays.
        let encoded: String = password
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-._~+".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        db.url = format!(
            "postgresql://{role}:{encoded}@localhost/{}?host={PG_SOCKET_DIR}",
            db.name
        );
        db.role = Some(role);
        Ok(db)
    }

    /// Keeps the database when this value is dropped (a demo host).
    pub fn keep(&mut self) {
        self.keep = true;
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if self.keep {
            return;
        }
        let _ = match self.backend {
            Backend::Postgresql => admin_pg().and_then(|mut c| {
                // Sessions ended first: `WITH (FORCE)` needs PostgreSQL 13,
                // and the matrix runs 12 too.
                c.batch_execute(&format!(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                     WHERE datname = '{}' AND pid <> pg_backend_pid()",
                    self.name
                ))?;
                let drop = format!("DROP DATABASE IF EXISTS {}", self.name);
                for _ in 0..20 {
                    if c.batch_execute(&drop).is_ok() {
                        break;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
                if let Some(role) = &self.role {
                    c.batch_execute(&format!("DROP ROLE IF EXISTS {role}"))?;
                }
                Ok(())
            }),
            Backend::Mariadb => admin_mariadb().and_then(|mut c| {
                Ok(c.query_drop(format!("DROP DATABASE IF EXISTS {}", self.name))?)
            }),
            Backend::Sqlite => std::fs::remove_file(self.sqlite_file()).map_err(Into::into),
        };
    }
}

fn admin_pg() -> Result<postgres::Client> {
    postgres::Client::connect(&server_url(Backend::Postgresql, "postgres"), postgres::NoTls).with_context(|| {
        format!(
            "cannot reach PostgreSQL on {PG_SOCKET_DIR} (port {}) as {}: run `make deps` (it starts \
             the server and creates the role), or start it with `pg_ctlcluster --skip-systemctl-redirect \
             $(ls /etc/postgresql) main start`; the older servers of HOP_TEST_PG_PORT with \
             `scripts/old-postgres.sh`",
            pg_port().unwrap_or(5432),
            os_user()
        )
    })
}

fn admin_mariadb() -> Result<mysql::Conn> {
    let opts = mysql::Opts::from_url(&server_url(Backend::Mariadb, "mysql"))?;
    mysql::Conn::new(opts).context(
        "cannot reach MariaDB on its socket as root: run `make deps`, or start it with \
         `start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd`",
    )
}

fn run_tool(command: &mut std::process::Command) -> Result<String> {
    let out = command
        .output()
        .with_context(|| format!("running {command:?}"))?;
    if !out.status.success() {
        bail!("{command:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

pub fn sqlite_snapshot(file: &Path) -> Result<String> {
    let conn = rusqlite::Connection::open(file)?;
    let mut out = String::new();
    let mut objects = conn.prepare(
        "SELECT type, name, coalesce(sql, '') FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name",
    )?;
    let objects: Vec<(String, String, String)> = objects
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (kind, name, sql) in &objects {
        out += &format!("{kind} {name}: {sql}\n");
        if kind == "table" {
            let mut rows = conn.prepare(&format!("SELECT * FROM \"{name}\" ORDER BY rowid"))?;
            let columns = rows.column_count();
            let mut cursor = rows.query([])?;
            while let Some(row) = cursor.next()? {
                let values: Vec<String> = (0..columns)
                    .map(|i| match row.get_ref(i) {
                        Ok(rusqlite::types::ValueRef::Text(t)) => {
                            format!("{:?}", String::from_utf8_lossy(t))
                        }
                        Ok(rusqlite::types::ValueRef::Integer(n)) => n.to_string(),
                        Ok(rusqlite::types::ValueRef::Null) => "NULL".into(),
                        Ok(other) => format!("{other:?}"),
                        Err(e) => format!("<{e}>"),
                    })
                    .collect();
                out += &format!("  {}\n", values.join(", "));
            }
        }
    }
    Ok(out)
}
