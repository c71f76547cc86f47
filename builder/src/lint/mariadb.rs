//! MariaDB's online DDL: an `ALTER TABLE` in an online migration must be
//! one MariaDB can do with `ALGORITHM=INSTANT` or `INPLACE, LOCK=NONE`.
//! A migration may state `ALGORITHM=`/`LOCK=` itself; MariaDB then refuses
//! the statement rather than fall back to copying the table under a lock,
//! so the linter trusts it.

use hop_artifact::migration::Statement;

use super::Finding;

/// Whether the statement states an online algorithm or lock level.
pub fn states_online(s: &Statement) -> bool {
    let after = |word: &str| {
        s.words
            .iter()
            .position(|(w, _)| w == word)
            .and_then(|i| s.words.get(i + 1))
            .map(|(w, _)| w.as_str())
    };
    matches!(after("ALGORITHM"), Some("INSTANT" | "NOCOPY")) || after("LOCK") == Some("NONE")
}

/// The MariaDB rules over an online migration's statements.
pub fn lint(statements: &[Statement]) -> Vec<Finding> {
    let mut found = Vec::new();
    for s in statements.iter().filter(|s| s.starts_with(&["OPTIMIZE"])) {
        found.push(Finding::new(
            s.line,
            "mariadb-not-online",
            "OPTIMIZE TABLE rebuilds the table (a copy for InnoDB) and holds a lock while it swaps it in",
            "leave table maintenance to a maintenance window, outside the upgrade",
        ));
    }
    for s in statements
        .iter()
        .filter(|s| s.starts_with(&["ALTER", "TABLE"]))
    {
        if states_online(s) {
            continue;
        }
        let rebuilds = [
            (
                &["ADD", "PRIMARY"][..],
                "a primary key change rebuilds the table",
            ),
            (
                &["DROP", "PRIMARY"][..],
                "a primary key change rebuilds the table",
            ),
            (
                &["CONVERT", "TO"][..],
                "converting the character set copies the table",
            ),
            (&["ENGINE"][..], "changing the engine copies the table"),
            (
                &["ADD", "FULLTEXT"][..],
                "a FULLTEXT index locks the table while it builds",
            ),
            (
                &["ADD", "SPATIAL"][..],
                "a SPATIAL index locks the table while it builds",
            ),
            (&["ORDER", "BY"][..], "ORDER BY copies the table"),
        ];
        // `ADD … AUTO_INCREMENT`, not `AUTO_INCREMENT = n` (the counter).
        if let (Some(_), Some(line)) = (
            s.has_sequence(&["ADD"]),
            s.has_sequence(&["AUTO_INCREMENT"]),
        ) {
            found.push(Finding::new(
                line,
                "mariadb-not-online",
                "adding an AUTO_INCREMENT column copies the table under a lock (MariaDB cannot do it in place)",
                "do it in an offline migration",
            ));
        }
        for (words, why) in rebuilds {
            if let Some(line) = s.has_sequence(words) {
                found.push(Finding::new(
                    line,
                    "mariadb-not-online",
                    &format!("{why} under a lock (no ALGORITHM=INSTANT or LOCK=NONE)"),
                    "do it in an offline migration, or state ALGORITHM=INPLACE, LOCK=NONE if MariaDB can",
                ));
            }
        }
    }
    found
}
