//! Time functions of expressions, in UTC: `date_trunc`, `extract`, `format_time`,
//! `parse_time`, and the RFC 3339 text a `str as timestamp` cast reads. The calendar is
//! jiff's; a timestamp is milliseconds since the epoch, as everywhere in weir. jiff knows
//! the years -9999 to 9999: a timestamp outside them is an error of the expression.

use std::borrow::Cow;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, Zoned};

use crate::JobError;

/// A part of a time that `date_trunc` truncates to and `extract` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeField {
    /// The millisecond, 0-999 (`extract` only: timestamps are whole milliseconds).
    Millisecond,
    /// The second, 0-59.
    Second,
    /// The minute, 0-59.
    Minute,
    /// The hour, 0-23.
    Hour,
    /// The day of the month, 1-31.
    Day,
    /// The ISO week (from Monday): its number, 1-53, for `extract`.
    Week,
    /// The month, 1-12.
    Month,
    /// The quarter, 1-4.
    Quarter,
    /// The year.
    Year,
    /// The day of the week, 1 (Sunday) to 7 (Saturday), as Flink's `DAYOFWEEK` (`extract`
    /// only).
    DayOfWeek,
    /// The day of the year, 1-366 (`extract` only).
    DayOfYear,
    /// Seconds since the epoch, rounded toward the past (`extract` only).
    Epoch,
}

impl TimeField {
    /// Every field, by the name an expression gives it.
    pub const ALL: &'static [(&'static str, TimeField)] = &[
        ("millisecond", TimeField::Millisecond),
        ("second", TimeField::Second),
        ("minute", TimeField::Minute),
        ("hour", TimeField::Hour),
        ("day", TimeField::Day),
        ("week", TimeField::Week),
        ("month", TimeField::Month),
        ("quarter", TimeField::Quarter),
        ("year", TimeField::Year),
        ("dow", TimeField::DayOfWeek),
        ("doy", TimeField::DayOfYear),
        ("epoch", TimeField::Epoch),
    ];

    /// The field named `name`.
    pub fn from_name(name: &str) -> Option<TimeField> {
        Self::ALL.iter().find(|(n, _)| *n == name).map(|&(_, f)| f)
    }

    /// Whether `date_trunc` truncates to it: seconds to years.
    pub fn truncates(self) -> bool {
        !matches!(
            self,
            TimeField::Millisecond | TimeField::DayOfWeek | TimeField::DayOfYear | TimeField::Epoch
        )
    }

    /// The variant's name, for generated code.
    pub fn variant(self) -> &'static str {
        match self {
            TimeField::Millisecond => "Millisecond",
            TimeField::Second => "Second",
            TimeField::Minute => "Minute",
            TimeField::Hour => "Hour",
            TimeField::Day => "Day",
            TimeField::Week => "Week",
            TimeField::Month => "Month",
            TimeField::Quarter => "Quarter",
            TimeField::Year => "Year",
            TimeField::DayOfWeek => "DayOfWeek",
            TimeField::DayOfYear => "DayOfYear",
            TimeField::Epoch => "Epoch",
        }
    }
}

/// `ts` (ms) as a time in UTC, or an error at `location` past jiff's years.
fn zoned(ts: i64, location: &'static str) -> Result<Zoned, JobError> {
    Timestamp::from_millisecond(ts)
        .map(|t| t.to_zoned(TimeZone::UTC))
        .map_err(|_| out_of_range(ts, location))
}

#[cold]
fn out_of_range(ts: i64, location: &'static str) -> JobError {
    JobError::Eval {
        location,
        message: format!("timestamp {ts} is outside the years -9999 to 9999"),
    }
}

/// `date` at midnight UTC, in milliseconds.
fn midnight(date: Date, ts: i64, location: &'static str) -> Result<i64, JobError> {
    date.to_zoned(TimeZone::UTC)
        .map(|z| z.timestamp().as_millisecond())
        .map_err(|_| out_of_range(ts, location))
}

/// `date_trunc(field, ts)`: the start (UTC) of the second, minute, hour, day, ISO week
/// (Monday), month, quarter or year `ts` falls in. Up to a day, that is a multiple of its
/// length (UTC has no shifts, and epoch time no leap seconds); from a week on, jiff's
/// calendar says where it starts.
pub fn date_trunc(field: TimeField, ts: i64, location: &'static str) -> Result<i64, JobError> {
    let whole = |unit: i64| Ok(ts - ts.rem_euclid(unit));
    let date = || zoned(ts, location).map(|z| z.date());
    match field {
        TimeField::Second => whole(1_000),
        TimeField::Minute => whole(60_000),
        TimeField::Hour => whole(3_600_000),
        TimeField::Day => whole(86_400_000),
        TimeField::Week => {
            let date = date()?;
            let back = i64::from(date.weekday().to_monday_zero_offset());
            let monday = date
                .checked_sub(jiff::Span::new().days(back))
                .map_err(|_| out_of_range(ts, location))?;
            midnight(monday, ts, location)
        }
        TimeField::Month => midnight(date()?.first_of_month(), ts, location),
        TimeField::Quarter => {
            let date = date()?;
            let month = (date.month() - 1) / 3 * 3 + 1;
            let first = Date::new(date.year(), month, 1).map_err(|_| out_of_range(ts, location))?;
            midnight(first, ts, location)
        }
        TimeField::Year => midnight(date()?.first_of_year(), ts, location),
        TimeField::Millisecond | TimeField::DayOfWeek | TimeField::DayOfYear | TimeField::Epoch => {
            // The compiler refuses these (`TimeField::truncates`).
            Err(JobError::Eval {
                location,
                message: "date_trunc truncates to a second, minute, hour, day, week, month, quarter or year".to_string(),
            })
        }
    }
}

/// `extract(field, ts)`: that part of `ts` in UTC.
pub fn extract(field: TimeField, ts: i64, location: &'static str) -> Result<i64, JobError> {
    if field == TimeField::Epoch {
        return Ok(ts.div_euclid(1_000));
    }
    let z = zoned(ts, location)?;
    Ok(match field {
        TimeField::Millisecond => i64::from(z.millisecond()),
        TimeField::Second => i64::from(z.second()),
        TimeField::Minute => i64::from(z.minute()),
        TimeField::Hour => i64::from(z.hour()),
        TimeField::Day => i64::from(z.day()),
        TimeField::Week => i64::from(z.date().iso_week_date().week()),
        TimeField::Month => i64::from(z.month()),
        TimeField::Quarter => i64::from((z.month() - 1) / 3 + 1),
        TimeField::Year => i64::from(z.year()),
        TimeField::DayOfWeek => i64::from(z.weekday().to_sunday_one_offset()),
        TimeField::DayOfYear => i64::from(z.day_of_year()),
        TimeField::Epoch => unreachable!("answered above"),
    })
}

/// `format_time(ts)`: RFC 3339 in UTC, `2024-07-15T16:24:59Z`, with milliseconds when it
/// has any (`2024-07-15T16:24:59.120Z`).
pub fn format_rfc3339(ts: i64, location: &'static str) -> Result<Cow<'static, str>, JobError> {
    let t = Timestamp::from_millisecond(ts).map_err(|_| out_of_range(ts, location))?;
    let text = if ts.rem_euclid(1_000) == 0 {
        format!("{t:.0}")
    } else {
        format!("{t:.3}")
    };
    Ok(Cow::Owned(text))
}

/// `format_time(ts, pattern)`: `ts` in UTC written by a `strftime`-style pattern
/// (`%Y-%m-%d %H:%M`), jiff's.
pub fn format_time(
    ts: i64,
    pattern: &str,
    location: &'static str,
) -> Result<Cow<'static, str>, JobError> {
    let z = zoned(ts, location)?;
    jiff::fmt::strtime::format(pattern, &z)
        .map(Cow::Owned)
        .map_err(|e| JobError::Eval {
            location,
            message: format!("cannot format {ts} with {pattern:?}: {e}"),
        })
}

/// `parse_time(s, pattern)`: the time `s` is, read by a `strftime`-style pattern; in UTC
/// unless the pattern reads an offset (`%z`); midnight when it reads only a date.
pub fn parse_time(s: &str, pattern: &str, location: &'static str) -> Result<i64, JobError> {
    let fail = |why: String| JobError::Eval {
        location,
        message: format!("cannot read {s:?} as a time with {pattern:?}: {why}"),
    };
    let parsed = jiff::fmt::strtime::parse(pattern, s).map_err(|e| fail(e.to_string()))?;
    if let Ok(t) = parsed.to_timestamp() {
        return Ok(t.as_millisecond());
    }
    let dt = match parsed.to_datetime() {
        Ok(dt) => dt,
        Err(_) => parsed
            .to_date()
            .map_err(|e| fail(e.to_string()))?
            .to_datetime(jiff::civil::Time::midnight()),
    };
    dt.to_zoned(TimeZone::UTC)
        .map(|z| z.timestamp().as_millisecond())
        .map_err(|e| fail(e.to_string()))
}

/// Whether `pattern` is one `format_time` and `parse_time` can use, or why not (the
/// compiler's check of a literal pattern).
pub fn check_pattern(pattern: &str) -> Result<(), String> {
    let sample = Timestamp::UNIX_EPOCH.to_zoned(TimeZone::UTC);
    jiff::fmt::strtime::format(pattern, &sample)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// `s as timestamp`: milliseconds since the epoch written as an integer, or an RFC 3339
/// time with its offset (`2024-07-15T16:24:59Z`, `2024-07-15T18:24:59.5+02:00`).
pub fn parse_timestamp(s: &str, location: &'static str) -> Result<i64, JobError> {
    let s = s.trim();
    if let Ok(ms) = s.parse::<i64>() {
        return Ok(ms);
    }
    s.parse::<Timestamp>()
        .map(Timestamp::as_millisecond)
        .map_err(|_| JobError::Eval {
            location,
            message: format!(
                "cannot convert {s:?} to timestamp: write milliseconds since the epoch or an RFC 3339 time such as 2024-07-15T16:24:59Z"
            ),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Year, month and day of `days` since 1970-01-01, by Howard Hinnant's `civil_from_days`
    /// (the reference: integer arithmetic, not jiff).
    fn civil(days: i64) -> (i64, i64, i64) {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = doy - (153 * mp + 2) / 5 + 1;
        let m = if mp < 10 { mp + 3 } else { mp - 9 };
        (yoe + era * 400 + i64::from(m <= 2), m, d)
    }

    /// Days since 1970-01-01 of a date (Hinnant's `days_from_civil`).
    fn days(y: i64, m: i64, d: i64) -> i64 {
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = if m > 2 { m - 3 } else { m + 9 };
        let doy = (153 * mp + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    const DAY: i64 = 86_400_000;

    proptest! {
        #[test]
        fn truncation_and_fields_match_integer_calendar_arithmetic(ts in -62_000_000_000_000i64..250_000_000_000_000) {
            let day = ts.div_euclid(DAY);
            let (y, m, d) = civil(day);
            let in_day = ts.rem_euclid(DAY);
            let at = "test";
            prop_assert_eq!(extract(TimeField::Year, ts, at).unwrap(), y);
            prop_assert_eq!(extract(TimeField::Month, ts, at).unwrap(), m);
            prop_assert_eq!(extract(TimeField::Day, ts, at).unwrap(), d);
            prop_assert_eq!(extract(TimeField::Hour, ts, at).unwrap(), in_day / 3_600_000);
            prop_assert_eq!(extract(TimeField::Minute, ts, at).unwrap(), in_day / 60_000 % 60);
            prop_assert_eq!(extract(TimeField::Second, ts, at).unwrap(), in_day / 1_000 % 60);
            prop_assert_eq!(extract(TimeField::Millisecond, ts, at).unwrap(), in_day % 1_000);
            prop_assert_eq!(extract(TimeField::Quarter, ts, at).unwrap(), (m - 1) / 3 + 1);
            prop_assert_eq!(extract(TimeField::DayOfYear, ts, at).unwrap(), day - days(y, 1, 1) + 1);
            // 1970-01-01 was a Thursday: day 5 counting from Sunday as 1.
            prop_assert_eq!(extract(TimeField::DayOfWeek, ts, at).unwrap(), (day + 4).rem_euclid(7) + 1);
            prop_assert_eq!(extract(TimeField::Epoch, ts, at).unwrap(), ts.div_euclid(1_000));
            prop_assert_eq!(date_trunc(TimeField::Second, ts, at).unwrap(), ts - ts.rem_euclid(1_000));
            prop_assert_eq!(date_trunc(TimeField::Minute, ts, at).unwrap(), ts - ts.rem_euclid(60_000));
            prop_assert_eq!(date_trunc(TimeField::Hour, ts, at).unwrap(), ts - ts.rem_euclid(3_600_000));
            prop_assert_eq!(date_trunc(TimeField::Day, ts, at).unwrap(), day * DAY);
            // Monday is 4 days before Thursday 1970-01-01.
            prop_assert_eq!(date_trunc(TimeField::Week, ts, at).unwrap(), (day - (day + 3).rem_euclid(7)) * DAY);
            prop_assert_eq!(date_trunc(TimeField::Month, ts, at).unwrap(), days(y, m, 1) * DAY);
            prop_assert_eq!(date_trunc(TimeField::Quarter, ts, at).unwrap(), days(y, (m - 1) / 3 * 3 + 1, 1) * DAY);
            prop_assert_eq!(date_trunc(TimeField::Year, ts, at).unwrap(), days(y, 1, 1) * DAY);
            let text = format_rfc3339(ts, at).unwrap();
            let expected = format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}", in_day / 3_600_000, in_day / 60_000 % 60, in_day / 1_000 % 60);
            let expected = match in_day % 1_000 {
                0 => format!("{expected}Z"),
                ms => format!("{expected}.{ms:03}Z"),
            };
            prop_assert_eq!(text.as_ref(), expected.as_str());
            prop_assert_eq!(parse_timestamp(&text, at).unwrap(), ts);
        }
    }

    #[test]
    fn iso_weeks_and_patterns() {
        let at = "test";
        // 2021-01-03 (a Sunday) is in ISO week 53 of 2020; 2021-01-04 starts week 1.
        let jan3 = days(2021, 1, 3) * DAY;
        assert_eq!(extract(TimeField::Week, jan3, at).unwrap(), 53);
        assert_eq!(extract(TimeField::Week, jan3 + DAY, at).unwrap(), 1);
        let ts = days(2024, 7, 15) * DAY + 16 * 3_600_000 + 24 * 60_000 + 59_123;
        assert_eq!(
            format_time(ts, "%Y/%m/%d %H:%M", at).unwrap(),
            "2024/07/15 16:24"
        );
        assert_eq!(
            parse_time("2024/07/15 16:24", "%Y/%m/%d %H:%M", at).unwrap(),
            ts - 59_123
        );
        assert_eq!(
            parse_time("2024-07-15", "%Y-%m-%d", at).unwrap(),
            days(2024, 7, 15) * DAY
        );
        assert_eq!(
            parse_time("2024-07-15 18:24 +0200", "%Y-%m-%d %H:%M %z", at).unwrap(),
            ts - 59_123
        );
        assert!(parse_time("15/07", "%Y-%m-%d", at).is_err());
        assert!(check_pattern("%Y-%m-%d").is_ok());
        assert!(check_pattern("%!").is_err());
        assert_eq!(parse_timestamp(" 1500 ", at).unwrap(), 1_500);
        assert_eq!(
            parse_timestamp("1970-01-01T02:00:00.5+02:00", at).unwrap(),
            500
        );
        assert!(parse_timestamp("yesterday", at).is_err());
        assert!(extract(TimeField::Year, i64::MAX, at).is_err());
        assert_eq!(TimeField::from_name("dow"), Some(TimeField::DayOfWeek));
        assert!(!TimeField::DayOfWeek.truncates());
    }
}
