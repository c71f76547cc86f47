//! What hop reads from a supervisord conf: the control socket and a
//! program's own settings.

use std::path::{Path, PathBuf};

/// The unix socket a supervisord conf names (`[supervisorctl] serverurl`
/// or `[unix_http_server] file`), with `%(here)s` expanded.
pub fn socket_of(conf: &str, conf_path: &Path) -> Option<PathBuf> {
    let here = conf_path
        .parent()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let mut section = String::new();
    let mut file = None;
    let mut serverurl = None;
    for line in conf.lines() {
        let line = line.split(';').next().unwrap_or("").trim();
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.trim().to_owned();
        } else if let Some((key, value)) = line.split_once('=') {
            let value = value.trim().replace("%(here)s", &here);
            match (section.as_str(), key.trim()) {
                ("unix_http_server", "file") => file = Some(value),
                ("supervisorctl", "serverurl") => serverurl = Some(value),
                _ => {}
            }
        }
    }
    match serverurl {
        Some(url) => url.strip_prefix("unix://").map(PathBuf::from),
        None => file.map(PathBuf::from),
    }
}

/// A `[program:NAME]` setting of a supervisord conf.
pub fn program_setting(conf: &str, program: &str, key: &str) -> Option<String> {
    let header = format!("program:{program}");
    let mut inside = false;
    for line in conf.lines() {
        let line = line.split(';').next().unwrap_or("").trim();
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            inside = name.trim() == header;
        } else if inside
            && let Some((k, v)) = line.split_once('=')
            && k.trim() == key
        {
            return Some(v.trim().to_owned());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_programs_own_settings() {
        let conf = "[program:a]\nstartsecs=3 ; slow\n[program:b]\ncommand=x\n";
        assert_eq!(
            program_setting(conf, "a", "startsecs").as_deref(),
            Some("3")
        );
        assert_eq!(program_setting(conf, "b", "startsecs"), None);
        assert_eq!(program_setting(conf, "c", "command"), None);
    }

    #[test]
    fn finds_the_control_socket_in_the_conf() {
        let conf = "[unix_http_server]\nfile=/run/supervisor.sock ; the socket\n\n[supervisorctl]\nserverurl=unix://%(here)s/sv.sock\n";
        assert_eq!(
            socket_of(conf, Path::new("/etc/supervisord.conf")),
            Some(PathBuf::from("/etc/sv.sock"))
        );
        assert_eq!(
            socket_of(
                "[unix_http_server]\nfile=/run/s.sock\n",
                Path::new("/etc/x.conf")
            ),
            Some(PathBuf::from("/run/s.sock"))
        );
        assert_eq!(
            socket_of(
                "[supervisorctl]\nserverurl=http://127.0.0.1:9001\n",
                Path::new("/etc/x.conf")
            ),
            None
        );
    }
}
