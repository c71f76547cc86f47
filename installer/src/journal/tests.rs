//! The journal refuses what does not follow its rules.

use super::*;

fn journal() -> Journal {
    Journal::new(
        Path::new("/nowhere"),
        "id",
        Path::new("p.hop"),
        "manager",
        ("4.0.1", "4.1.1"),
        Scope::Host,
    )
}

#[test]
fn a_journal_round_trips() {
    let j = journal();
    let parsed = Journal::parse(&serde_json::to_vec(&j).unwrap()).unwrap();
    assert_eq!(parsed.steps, j.steps);
}

#[test]
fn refuses_a_journal_with_missing_or_reordered_steps() {
    let mut j = journal();
    j.steps.pop();
    let err = Journal::parse(&serde_json::to_vec(&j).unwrap()).unwrap_err();
    assert!(format!("{err:#}").contains("11 step(s)"), "{err:#}");
    let mut j = journal();
    j.steps.swap(0, 1);
    assert!(Journal::parse(&serde_json::to_vec(&j).unwrap()).is_err());
    assert!(Journal::parse(b"{\"id\": 1}").is_err());
    assert!(Journal::parse(b"not json").is_err());
}

#[test]
fn refuses_rollback_progress_beyond_its_plan() {
    let mut j = journal();
    j.rollback = Some(RollbackRecord {
        plan: vec![Undo::RemoveStaging],
        done: 2,
    });
    assert!(Journal::parse(&serde_json::to_vec(&j).unwrap()).is_err());
}
