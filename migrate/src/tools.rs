//! The database client tools by the names the host has them: MariaDB's
//! `mariadb` and `mariadb-dump` (10.4 on; EL9), or the `mysql` and
//! `mysqldump` of MariaDB 5.5 (EL7) and 10.3 (EL8), which have no other.

use std::path::Path;

/// Where hop's tools are looked up (hop-exec gives them this `PATH`).
const SYSTEM_DIRS: [&str; 4] = ["/usr/sbin", "/usr/bin", "/sbin", "/bin"];

/// The MariaDB command-line client.
pub fn mariadb_client() -> &'static str {
    first_present(&["mariadb", "mysql"], &SYSTEM_DIRS)
}

/// MariaDB's dump tool.
pub fn mariadb_dump() -> &'static str {
    first_present(&["mariadb-dump", "mysqldump"], &SYSTEM_DIRS)
}

/// The first of `names` found in one of `dirs`; the first name if none
/// is (its "not found" then names the tool hop prefers).
pub fn first_present(names: &[&'static str], dirs: &[&str]) -> &'static str {
    names
        .iter()
        .find(|n| dirs.iter().any(|d| Path::new(d).join(n).is_file()))
        .or(names.first())
        .copied()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_older_mariadb_is_reached_by_its_mysql_names() {
        let dir = std::env::temp_dir().join(format!("hop-tools-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("mysqldump"), "").unwrap();
        let dirs = [dir.to_str().unwrap()];
        assert_eq!(
            first_present(&["mariadb-dump", "mysqldump"], &dirs),
            "mysqldump"
        );
        std::fs::write(dir.join("mariadb-dump"), "").unwrap();
        assert_eq!(
            first_present(&["mariadb-dump", "mysqldump"], &dirs),
            "mariadb-dump"
        );
        assert_eq!(first_present(&["mariadb", "mysql"], &dirs), "mariadb");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
