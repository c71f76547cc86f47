//! `check --html FILE`: the check report as one self-contained page (no
//! script, no external asset) to attach to a support ticket.

use std::io::Write;
use std::path::Path;

use super::CheckReport;
use crate::preflight::Level;

/// Writes the page to `path`, which must not exist (it is created with
/// `O_EXCL|O_NOFOLLOW`, 0644).
pub fn write(report: &CheckReport, path: &Path) -> std::io::Result<()> {
    let mut file = crate::atomic::create_new(path, 0o644)?;
    file.write_all(render(report).as_bytes())?;
    file.sync_all()
}

/// HTML-escapes text.
fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

const STYLE: &str = "body{font:14px/1.45 system-ui,sans-serif;margin:2em;color:#222}\
table{border-collapse:collapse;width:100%;margin:1em 0}\
td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}\
th{background:#f3f3f3}.OK{background:#e6f4ea}.WARNING{background:#fff4d6}\
.FAILURE{background:#fde2e1}.ACCEPTED{background:#e8eaf6}code{font-size:12px}";

/// The page.
pub fn render(r: &CheckReport) -> String {
    let title = r.package.as_ref().map_or_else(
        || "a package that could not be verified".to_owned(),
        |p| p.title.clone(),
    );
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>hop check: {t}</title><style>{STYLE}</style></head><body>\n\
         <h1>hop check: {t}</h1>\n<p class=\"{res}\"><strong>Result: {res}</strong></p>\n\
         <h2>This host</h2>\n<table><tr><th>root</th><td>{root}</td></tr>\
         <tr><th>product</th><td>{product}</td></tr><tr><th>runs</th><td>{version}</td></tr>\
         <tr><th>node</th><td>{node}</td></tr></table>\n",
        t = esc(&title),
        res = r.result.as_str(),
        root = esc(&r.host.root),
        product = esc(&r.host.product),
        version = esc(r.host.version.as_deref().unwrap_or("unknown")),
        node = esc(&r.host.node),
    );
    if let Some(p) = &r.package {
        out += &format!(
            "<h2>The package</h2>\n<table><tr><th>hop</th><td>{} → {}</td></tr>\
             <tr><th>signed by</th><td><code>{}</code></td></tr></table>\n",
            esc(&p.from),
            esc(&p.to),
            esc(&p.signer)
        );
    }
    if let Some(route) = &r.route {
        out += "<h2>The route</h2>\n<table><tr><th>hop</th><th>package</th></tr>\n";
        for (i, step) in route.iter().enumerate() {
            out += &format!(
                "<tr><td>{} → {}{}</td><td><code>{}</code></td></tr>\n",
                esc(&step.from),
                esc(&step.to),
                if i == 0 { " (checked below)" } else { "" },
                esc(&crate::remote::shown(&step.package))
            );
        }
        out += "</table>\n";
    }
    out += "<h2>Checks</h2>\n<table><tr><th>check</th><th>id</th><th>result</th><th>details</th></tr>\n";
    for c in &r.preflight.checks {
        let (class, result, details) = match &c.accepted {
            Some(reason) => (
                "ACCEPTED",
                format!("ACCEPTED (was {})", c.result.as_str()),
                format!("{} — accepted: {reason}", c.details),
            ),
            None => (
                c.result.as_str(),
                c.result.as_str().to_owned(),
                c.details.clone(),
            ),
        };
        out += &format!(
            "<tr class=\"{class}\" id=\"{id}\"><td>{}</td><td><code>{id}</code></td><td>{}</td><td>{}</td></tr>\n",
            esc(&c.check),
            esc(&result),
            esc(&details),
            id = esc(&c.id),
        );
    }
    out += "</table>\n";
    match &r.plan {
        Some(plan) => {
            out += "<h2>The plan (what apply would do)</h2>\n<table><tr><th>step</th><th>actions</th></tr>\n";
            for s in &plan.steps {
                let actions: Vec<String> = s.actions.iter().map(|a| esc(&a.describe())).collect();
                out += &format!(
                    "<tr><td>{}</td><td>{}</td></tr>\n",
                    esc(s.title),
                    actions.join("<br>")
                );
            }
            out += "</table>\n";
        }
        None if r.result == Level::Failure => {
            out += "<p>No plan: a check failed, so apply would refuse.</p>\n";
        }
        None => {}
    }
    out += &format!(
        "<p><small>{} — generated {} by hop-install {}</small></p>\n</body></html>\n",
        r.schema,
        esc(&r.generated_at),
        env!("CARGO_PKG_VERSION")
    );
    out
}
