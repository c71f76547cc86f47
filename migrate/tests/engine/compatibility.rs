//! The server check before anything runs.

use hop_artifact::migration::Backend;
use hop_migrate::MigrateError;

use crate::*;

on_every_backend!(refuses_a_server_older_than_the_minimum,);

fn refuses_a_server_older_than_the_minimum(backend: Backend) {
    let db = database(backend);
    let mut m = migrator(&db);
    let facts = m.check_compatibility(Some("3")).unwrap();
    assert!(!facts.version.is_empty());
    let err = m.check_compatibility(Some("99")).unwrap_err();
    assert!(matches!(err, MigrateError::Incompatible(_)), "{err}");
    assert_says(&err, &format!("{} is older than 99", facts.version));
}
