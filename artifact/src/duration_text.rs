//! `serde` for durations written the way people write them: `30s`, `2m`,
//! `1m 30s`.

use std::time::Duration;

use serde::{Deserialize, Deserializer, Serializer};

pub fn parse(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text.trim())
        .map_err(|e| format!("{text:?} is not a duration such as 30s or 2m ({e})"))
}

pub fn format(d: &Duration) -> String {
    humantime::format_duration(*d).to_string()
}

pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format(d))
}

pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(d)?;
    parse(&text).map_err(serde::de::Error::custom)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let d = parse("1m 30s").unwrap();
        assert_eq!(d, Duration::from_secs(90));
        assert_eq!(parse(&format(&d)).unwrap(), d);
        assert!(parse("thirty").is_err());
    }
}
