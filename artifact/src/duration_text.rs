//! `serde` for durations written the way people write them: `30s`, `2m`,
//! `1m 30s`.
//!
//! Every duration in a manifest is at most [`MAX`] (a day): a timeout
//! longer than that is a mistake, and capping at parse time keeps every
//! later `Instant + timeout` far from overflowing, in both tools.

use std::time::Duration;

use serde::{Deserialize, Deserializer, Serializer};

/// The longest duration a manifest may give.
pub const MAX: Duration = Duration::from_secs(24 * 3600);

/// Parses `30s`, `2m`, `1h 30m`; refuses durations over [`MAX`].
pub fn parse(text: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(text.trim())
        .map_err(|e| format!("{text:?} is not a duration such as 30s or 2m ({e})"))?;
    if d > MAX {
        return Err(format!(
            "{text:?} is longer than {}, the longest timeout hop accepts",
            format(&MAX)
        ));
    }
    Ok(d)
}

/// `2m 30s`: the form manifests use.
pub fn format(d: &Duration) -> String {
    humantime::format_duration(*d).to_string()
}

/// Serde: writes a duration as text (`#[serde(with = "duration_text")]`).
pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format(d))
}

/// Serde: reads a duration from text, with the checks of [`parse`].
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

    #[test]
    fn caps_durations_at_a_day() {
        assert_eq!(parse("24h").unwrap(), MAX);
        let err = parse("500000000000years").unwrap_err();
        assert!(err.contains("longer than 1day"), "{err}");
        assert!(parse("25h").is_err());
    }
}
