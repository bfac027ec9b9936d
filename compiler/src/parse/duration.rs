//! Duration literals (`500ms`, `10s`, `5m`, `1h`, `1d`), shared by both front-ends.

/// Each unit as written and its length in milliseconds.
pub const DURATION_UNITS: &[(&str, u64)] = &[
    ("ms", 1),
    ("s", 1_000),
    ("m", 60_000),
    ("h", 3_600_000),
    ("d", 86_400_000),
];

/// Why a duration literal was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DurationError {
    /// The unit is none of [`DURATION_UNITS`] (or missing).
    UnknownUnit(String),
    /// More than [`weir_runtime::time::MAX_DURATION`] milliseconds.
    TooLarge,
}

impl std::fmt::Display for DurationError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DurationError::UnknownUnit(u) if u.is_empty() => {
                f.write_str("a duration needs a unit: ms, s, m, h or d (as in `10s`)")
            }
            DurationError::UnknownUnit(u) => write!(
                f,
                "`{u}` is not a unit of time: write ms, s, m, h or d (as in `10s`)"
            ),
            DurationError::TooLarge => f.write_str(
                "duration is too long: weir takes at most 2^60 ms (about 36 million years)",
            ),
        }
    }
}

/// The milliseconds of `digits` followed by `unit`.
pub fn duration_ms(digits: &str, unit: &str) -> Result<u64, DurationError> {
    let (_, scale) = DURATION_UNITS
        .iter()
        .find(|(u, _)| *u == unit)
        .ok_or_else(|| DurationError::UnknownUnit(unit.to_string()))?;
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(*scale))
        .filter(|&ms| ms <= weir_runtime::time::MAX_DURATION as u64)
        .ok_or(DurationError::TooLarge)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_scale_and_bad_ones_are_named() {
        assert_eq!(duration_ms("10", "s"), Ok(10_000));
        assert_eq!(duration_ms("2", "h"), Ok(7_200_000));
        assert_eq!(
            duration_ms("3", "x"),
            Err(DurationError::UnknownUnit("x".into()))
        );
        assert_eq!(
            duration_ms("99999999999999999", "d"),
            Err(DurationError::TooLarge)
        );
        let most = weir_runtime::time::MAX_DURATION as u64;
        assert_eq!(duration_ms(&most.to_string(), "ms"), Ok(most));
        assert_eq!(
            duration_ms(&(most + 1).to_string(), "ms"),
            Err(DurationError::TooLarge)
        );
    }
}
