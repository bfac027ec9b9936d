//! Timestamps written in other units than milliseconds (`time_unit(seconds)` on a source),
//! and the warning for epoch seconds read as milliseconds.

use crate::io::FieldError;

/// The unit a source's timestamps are written in; weir keeps milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeUnit {
    /// Seconds since the epoch.
    Seconds,
    /// Milliseconds since the epoch: weir's own unit.
    Milliseconds,
    /// Microseconds since the epoch.
    Microseconds,
    /// Nanoseconds since the epoch.
    Nanoseconds,
}

impl TimeUnit {
    /// `value`, written in this unit, in milliseconds: finer units round toward the past
    /// (as a clock shows the millisecond it is in); `None` past `i64`.
    #[inline]
    pub fn to_millis(self, value: i64) -> Option<i64> {
        match self {
            TimeUnit::Seconds => value.checked_mul(1_000),
            TimeUnit::Milliseconds => Some(value),
            TimeUnit::Microseconds => Some(value.div_euclid(1_000)),
            TimeUnit::Nanoseconds => Some(value.div_euclid(1_000_000)),
        }
    }

    /// Field `field`'s `value`, written in this unit, in milliseconds, or why not.
    #[inline]
    pub fn read(self, value: i64, field: &str) -> Result<i64, FieldError> {
        self.to_millis(value).ok_or_else(|| FieldError {
            message: format!(
                "field `{field}`: {value} {} is past the range of a timestamp",
                self.name()
            ),
        })
    }

    /// The unit's name, as `time_unit(...)` takes it.
    pub fn name(self) -> &'static str {
        match self {
            TimeUnit::Seconds => "seconds",
            TimeUnit::Milliseconds => "milliseconds",
            TimeUnit::Microseconds => "microseconds",
            TimeUnit::Nanoseconds => "nanoseconds",
        }
    }
}

/// `ms` as people write a duration: in the largest unit that divides it (`1d`, `2h`, `30m`,
/// `10s`), or in `ms` when none does; as `.pipe` reads it back.
pub fn duration_text(ms: i64) -> String {
    const UNITS: [(i64, &str); 4] = [
        (86_400_000, "d"),
        (3_600_000, "h"),
        (60_000, "m"),
        (1_000, "s"),
    ];
    if ms == 0 {
        return "0s".to_string();
    }
    match UNITS.iter().find(|(size, _)| ms % size == 0) {
        Some((size, unit)) => format!("{}{unit}", ms / size),
        None => format!("{ms}ms"),
    }
}

/// 1973-01-01T00:00:00Z in milliseconds: event times all before it are suspect.
pub const SECONDS_LOOK_LIKE_BEFORE: i64 = 94_694_400_000;

/// Epoch seconds of 2000-01-01 and 2100-01-01: the largest of a source's event times read
/// as milliseconds in this range (a date in January or February 1970) is most likely a
/// date of this century written in seconds. Small synthetic times (0, 1000, ...) are not.
const SECONDS_OF_THIS_CENTURY: std::ops::Range<i64> = 946_684_800..4_102_444_800;

/// Whether event times whose largest is `largest` (ms) look like epoch seconds read as
/// milliseconds: all of them fall before 1973, and the largest would be a date of this
/// century in seconds.
pub fn look_like_seconds(largest: i64) -> bool {
    largest < SECONDS_LOOK_LIKE_BEFORE && SECONDS_OF_THIS_CENTURY.contains(&largest)
}

/// Warns, on the first worker, when the event times source `source` read from `from` (a
/// column, or an inline closure; the largest was `largest`) all fall in 1970-1972 in
/// milliseconds: most likely they are seconds, and the job's windows are 1000 times too
/// few.
pub fn warn_if_seconds(ctx: &crate::JobContext, largest: i64, source: &str, from: &str) {
    if ctx.worker().index == 0 && look_like_seconds(largest) {
        eprintln!(
            "warning: the event times of source `{source}` ({from}) all fall before \
             1973 read as milliseconds; if they are seconds since the epoch, add \
             `time_unit(seconds)` to the source's `with` options"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_become_milliseconds_rounding_toward_the_past() {
        assert_eq!(
            TimeUnit::Seconds.to_millis(1_700_000_000),
            Some(1_700_000_000_000)
        );
        assert_eq!(TimeUnit::Seconds.to_millis(i64::MAX / 999), None);
        assert_eq!(TimeUnit::Milliseconds.to_millis(-5), Some(-5));
        assert_eq!(TimeUnit::Microseconds.to_millis(1_999), Some(1));
        assert_eq!(TimeUnit::Microseconds.to_millis(-1), Some(-1));
        assert_eq!(TimeUnit::Nanoseconds.to_millis(2_500_000), Some(2));
        let e = TimeUnit::Seconds.read(i64::MAX, "ts").unwrap_err();
        assert!(e.message.contains("field `ts`"), "{}", e.message);
    }

    #[test]
    fn durations_take_the_largest_unit_that_divides_them() {
        assert_eq!(duration_text(1_800_000), "30m");
        assert_eq!(duration_text(2_000), "2s");
        assert_eq!(duration_text(1_500), "1500ms");
        assert_eq!(duration_text(90_000), "90s");
        assert_eq!(duration_text(3_600_000), "1h");
        assert_eq!(duration_text(172_800_000), "2d");
        assert_eq!(duration_text(-5_000), "-5s");
        assert_eq!(duration_text(0), "0s");
        assert_eq!(duration_text(i64::MIN), format!("{}ms", i64::MIN));
    }

    #[test]
    fn seconds_of_today_look_like_seconds_and_milliseconds_do_not() {
        assert!(look_like_seconds(1_700_000_000));
        assert!(!look_like_seconds(1_700_000_000_000));
        assert!(!look_like_seconds(-1));
        assert!(!look_like_seconds(i64::MIN));
        // Synthetic times from the epoch, as examples and tests write them.
        assert!(!look_like_seconds(120_000));
    }
}
