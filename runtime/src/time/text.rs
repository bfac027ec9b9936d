//! Timestamps written as text, in input and output: RFC 3339 / ISO 8601 read from a
//! `timestamp` field that is not an integer, and RFC 3339 written by a sink asked for it
//! (`timestamps: rfc3339`). The calendar is jiff's (leap years, offsets); weir keeps
//! milliseconds since the epoch in an `i64` as everywhere.

use jiff::civil::DateTime;
use jiff::fmt::temporal::Pieces;

/// What a `timestamp` field holding text may be, for messages.
pub const TEXT_FORMS: &str = "an RFC 3339 time such as 2024-07-15T16:24:59Z or \
                              2024-07-15T18:24:59.5+02:00 (without an offset: UTC)";

/// The milliseconds since the epoch `text` names: an RFC 3339 time with its offset
/// (`2024-07-15T16:24:59Z`, `2024-07-15 18:24:59.123+02:00`), a date and time without an
/// offset, taken as UTC (`2024-07-15T16:24:59`), or a date, its midnight in UTC
/// (`2024-07-15`). Fractions finer than a millisecond are cut toward the past. `None`
/// when it is none of them, or outside the years jiff knows (-9999 to 9999).
pub fn parse_millis(text: &[u8]) -> Option<i64> {
    let text = std::str::from_utf8(text).ok()?.trim();
    // Only text that starts like a date: a number with an exponent or a stray word never
    // reaches the calendar.
    let looks_like_date = text.len() >= 10
        && text.as_bytes()[..4].iter().all(u8::is_ascii_digit)
        && text.as_bytes()[4] == b'-';
    if !looks_like_date {
        return None;
    }
    // Date, time and offset apart, then civil arithmetic in UTC: jiff's `Timestamp`
    // stops a day short of the calendar's ends, which text in UTC reaches.
    let pieces = Pieces::parse(text).ok()?;
    if pieces.time_zone_annotation().is_some() {
        return None;
    }
    let civil = pieces
        .date()
        .to_datetime(pieces.time().unwrap_or(jiff::civil::Time::midnight()));
    let offset = pieces.to_numeric_offset().unwrap_or(jiff::tz::Offset::UTC);
    let since_epoch = civil
        .duration_since(DateTime::constant(1970, 1, 1, 0, 0, 0, 0))
        .checked_sub(jiff::SignedDuration::from_secs(i64::from(offset.seconds())))?;
    let nanos = since_epoch.as_nanos();
    i64::try_from(nanos.div_euclid(1_000_000)).ok()
}

/// `ms` as RFC 3339 in UTC, with milliseconds when it has any (`2024-07-15T16:24:59Z`,
/// `2024-07-15T16:24:59.120Z`) into `out`; `false` (and nothing written) outside the years
/// jiff knows.
pub fn write_rfc3339(ms: i64, out: &mut Vec<u8>) -> bool {
    // Civil time in UTC, not a `Timestamp`: jiff's timestamps stop a day short of the
    // calendar's ends (so that every offset stays in range), UTC text need not.
    let epoch = DateTime::constant(1970, 1, 1, 0, 0, 0, 0);
    let Ok(t) = epoch.checked_add(jiff::SignedDuration::from_millis(ms)) else {
        return false;
    };
    use std::io::Write;
    let written = if ms.rem_euclid(1_000) == 0 {
        write!(out, "{t:.0}Z")
    } else {
        write!(out, "{t:.3}Z")
    };
    written.is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_dates_and_fractions() {
        let p = |s: &str| parse_millis(s.as_bytes());
        assert_eq!(p("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(p("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(p("1970-01-01 00:00:01.5Z"), Some(1_500));
        assert_eq!(p("1970-01-01T00:00:01"), Some(1_000));
        assert_eq!(p("1970-01-02"), Some(86_400_000));
        // Before 1970 a fraction rounds toward the past, as milliseconds since the epoch do.
        assert_eq!(p("1969-12-31T23:59:59.9995Z"), Some(-1));
        assert_eq!(p("2024-02-29T00:00:00Z"), Some(1_709_164_800_000));
        assert_eq!(p("2023-02-29T00:00:00Z"), None);
        assert_eq!(p("12345"), None);
        assert_eq!(p("soon"), None);
    }

    #[test]
    fn written_text_reads_back() {
        for ms in [
            0,
            1,
            -1,
            1_709_164_800_123,
            -62_135_596_800_000,
            253_402_300_799_999,
        ] {
            let mut out = Vec::new();
            assert!(write_rfc3339(ms, &mut out));
            assert_eq!(
                parse_millis(&out),
                Some(ms),
                "{}",
                String::from_utf8_lossy(&out)
            );
        }
        assert!(!write_rfc3339(i64::MAX, &mut Vec::new()));
    }
}
