//! The bash completions complete what a user types after a verb: its
//! options, for both tools and a nested verb.

use std::path::{Path, PathBuf};
use std::process::Command;

use hop_testdata::fixtures::run_ok;

/// What bash offers after `words` (the last one being completed).
fn offered(script: &Path, tool: &str, words: &[&str]) -> Vec<String> {
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let cword = words.len() - 1;
    let prev = if cword > 0 { words[cword - 1] } else { "" };
    let function = format!("_{}", tool.replace('-', "__"));
    let program = format!(
        "source '{}'; COMP_WORDS=({}); COMP_CWORD={cword}; COMP_LINE='{}'; COMP_POINT=${{#COMP_LINE}}; \
         {function} {tool} '{}' '{prev}'; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        script.display(),
        quoted.join(" "),
        words.join(" "),
        words[cword],
    );
    let out = run_ok(Command::new("bash").args(["--norc", "-c", &program]));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn bash_completes_the_options_of_each_verb() {
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("completions-test");
    let _ = std::fs::remove_dir_all(&out);
    run_ok(
        Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args(["completions", "--out"])
            .arg(&out),
    );
    let install = out.join("hop-install.bash");
    assert!(offered(&install, "hop-install", &["hop-install", "ap"]).contains(&"apply".to_owned()));
    let apply = offered(&install, "hop-install", &["hop-install", "apply", "--"]);
    for option in ["--dry-run", "--root", "--max-downtime", "--json"] {
        assert!(
            apply.contains(&option.to_owned()),
            "{option} not offered: {apply:?}"
        );
    }
    let db = offered(
        &install,
        "hop-install",
        &["hop-install", "db", "status", "--"],
    );
    assert!(db.contains(&"--json".to_owned()), "{db:?}");
    let build = out.join("hop-build.bash");
    let publish = offered(&build, "hop-build", &["hop-build", "build", "--"]);
    assert!(publish.iter().any(|o| o == "--key"), "{publish:?}");
}
