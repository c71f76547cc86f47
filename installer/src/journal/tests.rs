//! The journal refuses what does not follow its rules.

use super::*;

fn journal() -> Journal {
    journal_of(Scope::Host)
}

fn journal_of(scope: Scope) -> Journal {
    Journal::new(
        Path::new("/nowhere"),
        "id",
        Path::new("p.hop"),
        "manager",
        ("4.0.1", "4.1.1"),
        scope,
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
        no_restore: None,
        plan: vec![Undo::RemoveStaging],
        done: 2,
        down_since_ms: None,
        healthy_at_ms: None,
    });
    assert!(Journal::parse(&serde_json::to_vec(&j).unwrap()).is_err());
}

#[test]
fn a_journal_lists_the_steps_of_its_scope() {
    let mut j = journal();
    j.scope = Scope::Node;
    // A node's journal with every step of a host: refused.
    let err = Journal::parse(&serde_json::to_vec(&j).unwrap()).unwrap_err();
    assert!(
        format!("{err:#}").contains("not the 9 steps of `apply --node`"),
        "{err:#}"
    );
    let node = journal_of(Scope::Node);
    let parsed = Journal::parse(&serde_json::to_vec(&node).unwrap()).unwrap();
    assert_eq!(parsed.scope, Scope::Node);
    assert_eq!(parsed.status(Step::OnlineMigrations), StepStatus::Pending);
    assert!(parsed.record(Step::OnlineMigrations).is_none());
    // A journal written before scopes existed is a host's.
    let mut old = serde_json::to_value(journal()).unwrap();
    old.as_object_mut().unwrap().remove("scope");
    let parsed = Journal::parse(&serde_json::to_vec(&old).unwrap()).unwrap();
    assert_eq!(parsed.scope, Scope::Host);
}
