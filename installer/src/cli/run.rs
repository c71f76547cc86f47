//! Runs a parsed command and prints its result.

use std::path::Path;

use hop_artifact::verify_report::VerifyReport;
use serde::Serialize;

use super::{Cli, Command, DbCommand};
use crate::error::{Error, Failure, Refusal};
use crate::journal::Scope;
use crate::ops;
use crate::ops::apply::{Applied, ApplyOptions};
use crate::preflight::Level;
use crate::terminal::Terminal;

fn print_json<T: Serialize>(value: &T) -> Result<(), Error> {
    let text = serde_json::to_string_pretty(value).map_err(|e| {
        Failure::needs_attention(
            format!("the result could not be printed as JSON: {e}"),
            "hop-install status",
        )
    })?;
    println!("{text}");
    Ok(())
}

/// Prints a command's result: `value` as JSON under `--json`, else `text`.
fn emit<T: Serialize>(json: bool, value: &T, text: impl FnOnce(&T) -> String) -> Result<(), Error> {
    if json {
        print_json(value)
    } else {
        print!("{}", text(value));
        Ok(())
    }
}

/// Runs a parsed command; `Ok(code)` is the exit status on success paths.
pub fn run(cli: Cli) -> Result<u8, Error> {
    match cli.command {
        Command::Verify {
            package,
            source,
            key,
            root,
            json,
        } => {
            let report = ops::verify::verify(&root.root, &package, &key, &source.options())?;
            emit(json, &report, VerifyReport::render)?;
            Ok(0)
        }
        Command::Check {
            package,
            source,
            root,
            node,
            accept,
            to,
            max_downtime,
            html,
            json,
        } => {
            let scope = if node { Scope::Node } else { Scope::Host };
            let accept = accept.into_accept();
            let report = ops::check::check(
                &root.root,
                &package,
                (scope, &accept),
                (to.as_deref(), max_downtime),
                &source.options(),
            )?;
            if let Some(file) = &html {
                ops::check_html::write(&report, file).map_err(|e| {
                    Refusal::new(format!("cannot write {}: {e}", file.display()))
                        .with_hint("give a path to a new file")
                })?;
            }
            emit(json, &report, |r| r.preflight.render())?;
            Ok(level_code(report.result))
        }
        Command::Apply {
            package,
            source,
            root,
            node,
            accept,
            max_downtime,
            dry_run,
            json,
        } => {
            let package = ops::fetch::package(&root.root, &package, None, &source.options())?.path;
            let scope = if node { Scope::Node } else { Scope::Host };
            let options = ApplyOptions {
                dry_run,
                scope,
                nodes: Vec::new(),
                accept: accept.into_accept(),
                max_downtime,
            };
            applied(&root.root, &package, &options, json)
        }
        Command::Expand {
            package,
            root,
            dry_run,
            json,
        } => {
            let options = ApplyOptions {
                dry_run,
                scope: Scope::Expand,
                nodes: Vec::new(),
                accept: Default::default(),
                max_downtime: None,
            };
            applied(&root.root, &package, &options, json)
        }
        Command::Contract {
            package,
            root,
            nodes,
            dry_run,
            json,
        } => {
            let options = ApplyOptions {
                dry_run,
                scope: Scope::Contract,
                nodes,
                accept: Default::default(),
                max_downtime: None,
            };
            applied(&root.root, &package, &options, json)
        }
        Command::Unpin {
            package,
            root,
            dry_run,
            json,
        } => {
            let options = ApplyOptions {
                dry_run,
                scope: Scope::Unpin,
                ..Default::default()
            };
            applied(&root.root, &package, &options, json)
        }
        Command::Path {
            to,
            packages,
            source,
            root,
            dot,
            json,
        } => {
            let report = ops::path::path(&root.root, &to, &packages, &source.options())?;
            if dot {
                print!("{}", report.dot);
            } else {
                emit(json, &report, ops::path::render)?;
            }
            Ok(0)
        }
        Command::Rehearse {
            package,
            source,
            root,
            json,
            scratch_cluster,
            scratch_dir,
        } => {
            let out = Terminal::new(json);
            let copy = ops::rehearse::CopyOptions {
                cluster: scratch_cluster,
                scratch_dir,
            };
            let r = ops::rehearse::rehearse(&root.root, &package, &source.options(), &copy, &out)?;
            emit(json, &r, |r| r.render())?;
            Ok(0)
        }
        Command::Upgrade {
            to,
            mut packages,
            from_repo,
            source,
            root,
            accept,
            dry_run,
            json,
        } => {
            let out = Terminal::new(json);
            let accept = accept.into_accept();
            packages.extend(from_repo);
            let how = (dry_run, &accept, &source.options());
            match ops::upgrade::upgrade(&root.root, &to, &packages, how, &out)? {
                ops::upgrade::Upgraded::Plan(plan) => emit(json, &plan, |p| p.render())?,
                ops::upgrade::Upgraded::Done(chain) => emit(json, &chain, |r| r.render())?,
            }
            Ok(0)
        }
        Command::Resume { root, json } => {
            let out = Terminal::new(json);
            match ops::resume::resume(&root.root, &out)? {
                ops::resume::Resumed::Nothing => println!(
                    "nothing to resume: no unfinished operation on {}",
                    display(&root.root)
                ),
                ops::resume::Resumed::Finished(report) => emit(json, &report, |r| r.render())?,
                ops::resume::Resumed::Chain(chain) => emit(json, &chain, |r| r.render())?,
            }
            Ok(0)
        }
        Command::Rollback { root, yes, json } => {
            let out = Terminal::new(json);
            let done = ops::rollback::rollback(&root.root, yes, &out)?;
            emit(
                json,
                &serde_json::json!({ "outcome": "rolled back", "message": done }),
                |_| format!("{done}\n"),
            )?;
            Ok(0)
        }
        Command::Status { root, json } => {
            let status = ops::status::status(&root.root)?;
            emit(json, &status, ops::status::render)?;
            Ok(status.code())
        }
        Command::History { root, json } => {
            let lines = ops::history::history(&root.root)?;
            emit(json, &lines, |l| ops::history::render(l))?;
            Ok(0)
        }
        Command::Db(DbCommand::Diff {
            package,
            root,
            json,
        }) => {
            let diff = ops::db_diff::db_diff(&root.root, package.as_deref())?;
            emit(json, &diff, ops::db_diff::render)?;
            Ok(level_code(diff.worst()))
        }
        Command::Db(DbCommand::Status { root, json }) => {
            let status = ops::db_status::db_status(&root.root)?;
            emit(json, &status, ops::db_status::render)?;
            Ok(0)
        }
    }
}

/// Runs `apply`, `expand` or `contract` and prints what it did.
fn applied(root: &Path, package: &Path, options: &ApplyOptions, json: bool) -> Result<u8, Error> {
    let out = Terminal::new(json);
    match ops::apply::apply(root, package, options, &out)? {
        Applied::Plan(plan) => emit(json, &plan, |p| p.render())?,
        Applied::Upgraded(report) => emit(json, &report, |r| r.render())?,
        Applied::Nothing(why) => emit(
            json,
            &serde_json::json!({ "outcome": "nothing to do", "message": why }),
            |_| format!("{why}\n"),
        )?,
    }
    Ok(0)
}

/// `check`'s and `db diff`'s exit code: 0 OK, 1 warnings, 2 failures.
fn level_code(level: Level) -> u8 {
    match level {
        Level::Skipped | Level::Ok => 0,
        Level::Warning => 1,
        Level::Failure => 2,
    }
}

fn display(p: &Path) -> String {
    p.display().to_string()
}
