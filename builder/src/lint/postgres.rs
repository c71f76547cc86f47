//! PostgreSQL: squawk's parser and its lock-safety rules, restricted to
//! those that matter to an online migration that runs while the old
//! version serves. Left out: style rules (types, naming), and the rules
//! about timeouts and transactions, which hop itself takes care of (it
//! sets a lock timeout and runs each migration in its own transaction —
//! which squawk is told, so it knows a table the migration creates is new).

use squawk_linter::{Linter, Rule};
use squawk_syntax::SourceFile;

use super::Finding;

/// The squawk rules hop applies to online migrations.
pub const RULES: [Rule; 36] = [
    Rule::RequireConcurrentIndexCreation,
    Rule::RequireConcurrentIndexDeletion,
    Rule::RequireConcurrentReindex,
    Rule::RequireConcurrentPartitionDetach,
    Rule::ConstraintMissingNotValid,
    Rule::DisallowedUniqueConstraint,
    Rule::AddingForeignKeyConstraint,
    Rule::AddingFieldWithDefault,
    Rule::AddingNotNullableField,
    Rule::AddingRequiredField,
    Rule::AddingSerialPrimaryKeyField,
    Rule::ChangingColumnType,
    Rule::RenamingColumn,
    Rule::RenamingTable,
    Rule::RenamingObject,
    Rule::BanDropDatabase,
    Rule::BanDropSchema,
    Rule::BanDropTable,
    Rule::BanDropColumn,
    Rule::BanDropConstraint,
    Rule::BanDropDefault,
    Rule::BanDropIndex,
    Rule::BanDropView,
    Rule::BanDropFunction,
    Rule::BanDropType,
    Rule::BanDropTrigger,
    Rule::BanDropSequence,
    Rule::BanDropDomain,
    Rule::BanDropExtension,
    Rule::BanDropPolicy,
    Rule::BanDropGeneratedExpression,
    Rule::BanAlterGeneratedExpression,
    Rule::BanSetSchema,
    Rule::BanDisableTrigger,
    Rule::BanRevoke,
    Rule::BanReplaceViewFunction,
];

/// The safe pattern for the rules whose remedy hop can name.
fn instead(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::RequireConcurrentIndexCreation => "CREATE INDEX CONCURRENTLY",
        Rule::RequireConcurrentIndexDeletion => "DROP INDEX CONCURRENTLY, in a post migration",
        Rule::RequireConcurrentReindex => "REINDEX … CONCURRENTLY",
        Rule::ConstraintMissingNotValid | Rule::AddingForeignKeyConstraint => {
            "add the constraint NOT VALID here and VALIDATE CONSTRAINT it in a post migration"
        }
        Rule::DisallowedUniqueConstraint | Rule::AddingSerialPrimaryKeyField => {
            "CREATE UNIQUE INDEX CONCURRENTLY here, then ADD CONSTRAINT … USING INDEX in a post migration"
        }
        Rule::AddingFieldWithDefault => {
            "add the column with no default (or a constant one), backfill it in a batched post migration"
        }
        Rule::AddingNotNullableField | Rule::AddingRequiredField => {
            "add the column nullable (or with a constant DEFAULT); add a CHECK (… IS NOT NULL) NOT VALID, VALIDATE it and SET NOT NULL in a post migration"
        }
        Rule::ChangingColumnType => {
            "add a column of the new type, write both, backfill in a post migration, switch in a later release"
        }
        Rule::RenamingColumn | Rule::RenamingTable | Rule::RenamingObject => {
            "add the new name beside the old one now, write both, and drop the old one in a later release"
        }
        _ => return None,
    })
}

/// squawk's findings on one PostgreSQL migration file, which hop runs in
/// one transaction when `in_transaction` (so a table it creates is new to
/// every later statement), on servers from `oldest_server` on.
pub fn lint(text: &str, in_transaction: bool, oldest_server: Option<&str>) -> Vec<Finding> {
    let parse = SourceFile::parse(text);
    let mut linter = Linter::from(RULES);
    linter.settings.assume_in_transaction = in_transaction;
    if let Some(version) = oldest_server.and_then(|v| v.parse().ok()) {
        linter.settings.pg_version = version;
    }
    linter
        .lint(&parse, text)
        .into_iter()
        .map(|v| {
            let offset = usize::from(v.text_range.start()).min(text.len());
            let line = text[..offset].matches('\n').count() + 1;
            let remedy = instead(v.code)
                .map(str::to_owned)
                .or(v.help)
                .unwrap_or_else(|| "do it in a post migration (contract)".to_owned());
            Finding::new(line, &v.code.to_string(), &v.message, &remedy)
        })
        .collect()
}
