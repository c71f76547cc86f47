//! Adopting a database hop did not create: one the product's previous
//! tool made, with no `hop_schema_history`.
//!
//! hop adopts it only when it can tell which migrations it already holds:
//! from the history table of a tool products commonly come from —
//! golang-migrate (`schema_migrations`), Flyway (`flyway_schema_history`),
//! Alembic (`alembic_version`, with the package's revision → migration
//! map) — and/or because its live schema matches the schema the package
//! expects of its `from` version. It then writes *baseline* rows for those
//! migrations and applies only the later ones. A foreign history that says
//! a migration failed half-way is refused, named. The decision is a pure
//! function ([`decide`]) with table tests.

use std::collections::BTreeMap;

use crate::connection::Connection;
use crate::schema::Difference;

/// A migration tool's history found in the database.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Foreign {
    /// golang-migrate: the current version and whether it is dirty.
    GolangMigrate {
        /// `schema_migrations`: the current version.
        version: i64,
        /// Whether golang-migrate left it dirty (a failed migration).
        dirty: bool,
    },
    /// Flyway: the versions applied successfully, and those that failed.
    Flyway {
        /// Versions `flyway_schema_history` records as successful.
        applied: Vec<String>,
        /// Versions it records as failed.
        failed: Vec<String>,
    },
    /// Alembic: the current revision.
    Alembic {
        /// `alembic_version`: the current revision.
        revision: String,
    },
}

impl Foreign {
    /// The tool's name, for messages.
    pub fn tool(&self) -> &'static str {
        match self {
            Foreign::GolangMigrate { .. } => "golang-migrate",
            Foreign::Flyway { .. } => "Flyway",
            Foreign::Alembic { .. } => "Alembic",
        }
    }
}

/// Looks for a foreign migration history (the first found).
pub(crate) fn detect(conn: &mut dyn Connection) -> Option<Foreign> {
    let truthy = |t: &str| matches!(t, "t" | "true" | "1" | "TRUE");
    if let Ok(rows) = conn.query_text("SELECT version, dirty FROM schema_migrations") {
        let (version, dirty) = rows
            .iter()
            .filter_map(|r| {
                let v = r.first()?.as_deref()?.parse::<i64>().ok()?;
                Some((v, truthy(r.get(1)?.as_deref().unwrap_or(""))))
            })
            .max_by_key(|(v, _)| *v)?;
        return Some(Foreign::GolangMigrate { version, dirty });
    }
    if let Ok(rows) = conn.query_text("SELECT version, success FROM flyway_schema_history") {
        let mut applied = Vec::new();
        let mut failed = Vec::new();
        for r in &rows {
            let Some(version) = r.first().and_then(|v| v.clone()) else {
                continue; // Repeatable and baseline-marker rows carry no version.
            };
            if truthy(r.get(1).and_then(|v| v.as_deref()).unwrap_or("")) {
                applied.push(version);
            } else {
                failed.push(version);
            }
        }
        return Some(Foreign::Flyway { applied, failed });
    }
    if let Ok(rows) = conn.query_text("SELECT version_num FROM alembic_version") {
        let revision = rows.first()?.first()?.clone()?;
        return Some(Foreign::Alembic { revision });
    }
    None
}

/// What decides an adoption.
#[derive(Clone, Debug)]
pub struct Facts<'a> {
    /// Rows in hop's own history.
    pub hop_rows: usize,
    /// The product's tables in the database.
    pub tables: usize,
    /// The history another tool left, if any.
    pub foreign: Option<&'a Foreign>,
    /// The live schema against the package's expected `from` schema, when
    /// the package has one for this database.
    pub schema: Option<&'a [Difference]>,
    /// The last migration the `from` version shipped.
    pub from_last: Option<u32>,
    /// The package's migration numbers.
    pub versions: &'a [u32],
    /// Alembic revision → migration number.
    pub alembic: &'a BTreeMap<String, u32>,
    /// The `from` version, for messages.
    pub from: &'a str,
}

/// What to do with the database.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Adoption {
    /// hop's history is there, or the database is empty: nothing to adopt.
    NotNeeded,
    /// Write baseline rows for the migrations up to `up_to`.
    Baseline {
        /// The last migration the database already holds.
        up_to: u32,
        /// Why (recorded in the baseline rows).
        because: String,
    },
    /// The database cannot be adopted: why, and what to do.
    Refused {
        /// What is wrong.
        why: String,
        /// What the user can do.
        fix: String,
    },
}

/// Decides whether and how to adopt a database.
pub fn decide(f: &Facts<'_>) -> Adoption {
    if f.hop_rows > 0 || (f.tables == 0 && f.foreign.is_none()) {
        return Adoption::NotNeeded;
    }
    let schema_failures: Option<Vec<&Difference>> = f
        .schema
        .map(|d| d.iter().filter(|x| x.is_failure()).collect());
    let schema_matches = schema_failures.as_ref().is_some_and(|v| v.is_empty());
    let refused = |why: String, fix: &str| Adoption::Refused {
        why,
        fix: fix.to_owned(),
    };
    if let Some(foreign) = f.foreign {
        let tool = foreign.tool();
        let up_to = match foreign {
            Foreign::GolangMigrate {
                version,
                dirty: true,
            } => {
                return refused(
                    format!(
                        "golang-migrate's schema_migrations marks version {version} dirty: a migration failed half-way"
                    ),
                    "repair the database as the product's documentation says, mark it clean (`migrate force VERSION`), then check again",
                );
            }
            Foreign::Flyway { failed, .. } if !failed.is_empty() => {
                return refused(
                    format!(
                        "Flyway's flyway_schema_history records failed migration(s) {}",
                        failed.join(", ")
                    ),
                    "repair the database and remove the failed rows (`flyway repair`), then check again",
                );
            }
            Foreign::GolangMigrate { version, .. } => u32::try_from(*version).ok(),
            Foreign::Flyway { applied, .. } => {
                let numbers: Option<Vec<u32>> = applied.iter().map(|v| v.parse().ok()).collect();
                match numbers {
                    Some(n) => {
                        let max = n.iter().copied().max();
                        let expected: Vec<u32> = f
                            .versions
                            .iter()
                            .copied()
                            .filter(|v| Some(*v) <= max)
                            .collect();
                        let mut sorted = n.clone();
                        sorted.sort_unstable();
                        sorted.dedup();
                        if sorted != expected {
                            return refused(
                                format!(
                                    "Flyway's history lists migrations {} but this package's are {} up to there",
                                    join(&sorted),
                                    join(&expected)
                                ),
                                "apply the missing migrations with the product's previous tool, or ask the vendor",
                            );
                        }
                        max
                    }
                    None => None,
                }
            }
            Foreign::Alembic { revision } => match f.alembic.get(revision) {
                Some(v) => Some(*v),
                None => {
                    return refused(
                        format!(
                            "Alembic's alembic_version says revision {revision}, which this package does not map to a migration"
                        ),
                        "ask the vendor for a package whose adoption map names that revision",
                    );
                }
            },
        };
        let Some(up_to) = up_to.filter(|v| *v == 0 || f.versions.contains(v)) else {
            return refused(
                format!(
                    "{tool}'s history names a version that is not one of this package's migrations"
                ),
                "check that this database belongs to this product",
            );
        };
        if let Some(last) = f.from_last
            && up_to != last
        {
            return refused(
                format!(
                    "{tool}'s history says the database holds migrations up to {up_to:04}, but {} ends at {last:04}",
                    f.from
                ),
                "bring the database to the installed version with the product's previous tool first",
            );
        }
        let mut because = format!("{tool}'s history says {up_to:04}");
        if schema_matches {
            because += &format!(" and the schema matches {}'s", f.from);
        }
        return Adoption::Baseline { up_to, because };
    }
    match (schema_failures, f.from_last) {
        (Some(failures), Some(up_to)) if failures.is_empty() => Adoption::Baseline {
            up_to,
            because: format!("its schema matches {}'s", f.from),
        },
        (Some(failures), _) if !failures.is_empty() => refused(
            format!(
                "it has {} table(s) but no migration history, and its schema is not {}'s: {}",
                f.tables,
                f.from,
                failures
                    .iter()
                    .take(3)
                    .map(|d| d.to_string())
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            "bring the database to the installed version's schema (`hop-install db diff` shows each difference), or adopt it with the product's previous tool's history",
        ),
        _ => refused(
            format!(
                "it has {} table(s) but no migration history hop knows, and the package has no expected schema to compare it with",
                f.tables
            ),
            "ask the vendor for a package with an expected schema for this database, or keep the previous tool's history table",
        ),
    }
}

fn join(v: &[u32]) -> String {
    v.iter()
        .map(|n| format!("{n:04}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const VERSIONS: [u32; 5] = [1, 2, 5, 10, 11];

    fn facts<'a>(
        foreign: Option<&'a Foreign>,
        schema: Option<&'a [Difference]>,
        alembic: &'a BTreeMap<String, u32>,
    ) -> Facts<'a> {
        Facts {
            hop_rows: 0,
            tables: 3,
            foreign,
            schema,
            from_last: Some(5),
            versions: &VERSIONS,
            alembic,
            from: "4.0.1",
        }
    }

    fn drift() -> Vec<Difference> {
        vec![Difference {
            object: "column a.b".into(),
            expected: Some("text NOT NULL".into()),
            found: Some("integer NULL".into()),
        }]
    }

    #[test]
    fn adopts_or_refuses_as_the_facts_say() {
        let none = BTreeMap::new();
        let clean: Vec<Difference> = Vec::new();
        let drift = drift();
        let extra_only = vec![Difference {
            object: "index a.by_b".into(),
            expected: None,
            found: Some("x".into()),
        }];
        let golang = |v, dirty| Foreign::GolangMigrate { version: v, dirty };
        let flyway = |a: &[&str], f: &[&str]| Foreign::Flyway {
            applied: a.iter().map(|s| s.to_string()).collect(),
            failed: f.iter().map(|s| s.to_string()).collect(),
        };
        let alembic_map: BTreeMap<String, u32> = [("ae10".to_owned(), 5)].into();
        let baseline = |a: &Adoption| matches!(a, Adoption::Baseline { up_to: 5, .. });
        let refused = |a: &Adoption, text: &str| matches!(a, Adoption::Refused { why, .. } if why.contains(text));

        // hop's own history, or an empty database: nothing to adopt.
        let mut f = facts(None, Some(&clean), &none);
        f.hop_rows = 7;
        assert_eq!(decide(&f), Adoption::NotNeeded);
        let mut f = facts(None, None, &none);
        f.tables = 0;
        assert_eq!(decide(&f), Adoption::NotNeeded);

        // By schema alone.
        assert!(baseline(&decide(&facts(None, Some(&clean), &none))));
        assert!(baseline(&decide(&facts(None, Some(&extra_only), &none))));
        assert!(refused(
            &decide(&facts(None, Some(&drift), &none)),
            "column a.b"
        ));
        assert!(refused(
            &decide(&facts(None, None, &none)),
            "no expected schema"
        ));

        // By a foreign history.
        let g = golang(5, false);
        assert!(baseline(&decide(&facts(Some(&g), None, &none))));
        let g = golang(5, true);
        assert!(refused(&decide(&facts(Some(&g), None, &none)), "dirty"));
        let g = golang(2, false);
        assert!(refused(
            &decide(&facts(Some(&g), None, &none)),
            "up to 0002, but 4.0.1 ends at 0005"
        ));
        let g = golang(4, false);
        assert!(refused(
            &decide(&facts(Some(&g), None, &none)),
            "not one of this package's"
        ));
        let fw = flyway(&["1", "2", "5"], &[]);
        assert!(baseline(&decide(&facts(Some(&fw), None, &none))));
        let fw = flyway(&["1", "5"], &[]);
        assert!(refused(
            &decide(&facts(Some(&fw), None, &none)),
            "lists migrations 0001, 0005"
        ));
        let fw = flyway(&["1", "2"], &["5"]);
        assert!(refused(
            &decide(&facts(Some(&fw), None, &none)),
            "failed migration(s) 5"
        ));
        let a = Foreign::Alembic {
            revision: "ae10".into(),
        };
        assert!(baseline(&decide(&facts(Some(&a), None, &alembic_map))));
        assert!(refused(
            &decide(&facts(Some(&a), None, &none)),
            "revision ae10"
        ));
    }
}
