//! What a manifest's names, member paths, host paths and modes may be.

use super::PAYLOAD_FOLDERS;

/// A product name: lowercase letters, digits, `-` and `_`.
pub fn check_product_name(name: &str) -> Result<(), String> {
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    {
        return Err(format!(
            "product {name:?} must be lowercase letters, digits, - and _"
        ));
    }
    Ok(())
}

/// The longest member path: what a ustar header can hold without
/// extensions (155 bytes of prefix, `/`, 100 of name).
pub const MAX_MEMBER_PATH: usize = 255;

/// A payload member path: relative, plain (no `.`, `..`, empty or absolute
/// parts), under one of [`PAYLOAD_FOLDERS`], in a portable character set.
pub fn check_member_path(path: &str) -> Result<(), String> {
    if path.starts_with('/') {
        return Err(format!("member path {path:?} is absolute"));
    }
    if path.split('/').any(|part| part == "..") {
        return Err(format!("member path {path:?} climbs out with .."));
    }
    if path.split('/').any(|part| part.is_empty() || part == ".") {
        return Err(format!("member path {path:?} has an empty or . part"));
    }
    if !path
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"._+~^@-/".contains(&b))
    {
        return Err(format!(
            "member path {path:?} uses characters outside A-Z a-z 0-9 . _ + ~ ^ @ - /"
        ));
    }
    if path.len() > MAX_MEMBER_PATH {
        return Err(format!(
            "member path {path:?} is longer than {MAX_MEMBER_PATH} bytes"
        ));
    }
    let top = path.split('/').next().unwrap_or("");
    if !PAYLOAD_FOLDERS.contains(&top) || !path.contains('/') {
        return Err(format!(
            "member path {path:?} is not inside one of {}",
            PAYLOAD_FOLDERS.join("/, ")
        ));
    }
    Ok(())
}

/// A destination on the host: absolute and plain, so that joining it under
/// `--root` cannot leave the root.
pub fn check_host_path(path: &str) -> Result<(), String> {
    if !path.starts_with('/') {
        return Err(format!("destination {path:?} must be an absolute path"));
    }
    // Checked on the text: `Path::components` would silently drop `.` parts.
    if path.len() < 2
        || path[1..]
            .split('/')
            .any(|part| part.is_empty() || part == "." || part == "..")
    {
        return Err(format!(
            "destination {path:?} must be a plain path (no .., ., // or trailing /)"
        ));
    }
    Ok(())
}

pub(super) mod mode_text {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(mode: &u32, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{mode:04o}"))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
        let text = String::deserialize(d)?;
        super::parse_mode(&text).map_err(serde::de::Error::custom)
    }
}

/// Parses an octal mode written as text: `"0640"`, `"755"`.
pub fn parse_mode(text: &str) -> Result<u32, String> {
    if text.is_empty() || text.len() > 4 || !text.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        return Err(format!(
            "mode {text:?} must be 3 or 4 octal digits, such as \"0640\""
        ));
    }
    u32::from_str_radix(text, 8).map_err(|e| format!("mode {text:?}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_paths() {
        assert!(check_member_path("rpms/a-1.0-1.noarch.rpm").is_ok());
        assert!(check_member_path("migrations/postgresql/0001_a.sql").is_ok());
        for bad in [
            "/etc/passwd",
            "rpms/../../etc/passwd",
            "./rpms/a",
            "rpms//a",
            "other/a",
            "rpms",
            "rpms/a b",
            &format!("rpms/{}", "a".repeat(300)),
        ] {
            assert!(check_member_path(bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn host_paths() {
        assert!(check_host_path("/etc/manager/rest.yaml").is_ok());
        for bad in ["etc/manager", "/etc/../root/x", "/etc/./x"] {
            assert!(check_host_path(bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn modes() {
        assert_eq!(parse_mode("0640"), Ok(0o640));
        assert_eq!(parse_mode("755"), Ok(0o755));
        for bad in ["0988", "", "07777x"] {
            assert!(parse_mode(bad).is_err(), "{bad} was accepted");
        }
    }
}
