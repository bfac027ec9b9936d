//! How `timestamp` fields of `.pipe` records are read from JSON lines: a number
//! (milliseconds since the epoch, or the source's `time_unit`), or RFC 3339 text
//! (`"2024-07-15T16:24:59Z"`, read by `time::text`, in milliseconds).

use serde::de::{self, Deserializer, Visitor};

/// Reads a number, or an RFC 3339 time as text.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    d.deserialize_any(TimestampVisitor)
}

struct TimestampVisitor;

impl Visitor<'_> for TimestampVisitor {
    type Value = i64;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "a timestamp: milliseconds since the epoch, or {}",
            crate::time::text::TEXT_FORMS
        )
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
        Ok(v)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
        i64::try_from(v).map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<i64, E> {
        crate::time::text::parse_millis(v.as_bytes())
            .ok_or_else(|| E::invalid_value(de::Unexpected::Str(v), &self))
    }
}

/// Whether a JSON line gives any of `fields` as text (a string): a source with a
/// `time_unit` other than milliseconds reads only numbers, which are in its unit, and
/// refuses text rather than scale milliseconds as if they were that unit.
pub fn text_in(line: &str, fields: &[&str]) -> Option<String> {
    // A scan for `"field"` followed by `: "` first; the line is parsed only when it finds
    // one (the name might be inside a string value).
    let maybe = fields.iter().any(|f| {
        line.match_indices(f).any(|(at, _)| {
            let quoted = at > 0 && line.as_bytes()[at - 1] == b'"';
            let rest = &line[at + f.len()..];
            quoted
                && rest.strip_prefix('"').is_some_and(|r| {
                    r.trim_start()
                        .strip_prefix(':')
                        .is_some_and(|v| v.trim_start().starts_with('"'))
                })
        })
    });
    if !maybe {
        return None;
    }
    let value: serde_json::Value = serde_json::from_str(line).ok()?;
    fields
        .iter()
        .find(|f| value.get(**f).is_some_and(serde_json::Value::is_string))
        .map(|f| {
            format!(
                "field `{f}`: a timestamp given as text needs the source's time_unit to be \
                 milliseconds (the default): give it as a number in the source's unit"
            )
        })
}

#[cfg(test)]
mod tests {
    #[derive(Debug, serde::Deserialize)]
    struct R {
        #[serde(deserialize_with = "super::deserialize")]
        ts: i64,
    }

    #[test]
    fn numbers_and_text_both_read() {
        let r: R = serde_json::from_str(r#"{"ts": 1500}"#).unwrap();
        assert_eq!(r.ts, 1500);
        let r: R = serde_json::from_str(r#"{"ts": "1970-01-01T00:00:01.5Z"}"#).unwrap();
        assert_eq!(r.ts, 1500);
        assert!(serde_json::from_str::<R>(r#"{"ts": "tomorrow"}"#).is_err());
        assert_eq!(super::text_in(r#"{"ts": 1}"#, &["ts"]), None);
        assert!(super::text_in(r#"{"ts": "1970-01-01"}"#, &["ts"]).is_some());
    }
}
