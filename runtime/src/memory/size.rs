//! Byte sizes as users write them (`256MB`, `64KiB`, `1g`) and as reports print them.

/// A byte size that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a byte size: write a number with an optional unit, such as 256MB, 64KiB or 1GB")]
pub struct ByteSizeError {
    text: String,
}

/// Parses a size such as `1048576`, `512KB`, `1.5MB`, `256MB`, `2GiB` or `1g`.
///
/// Units are binary (powers of 1024) whether or not they are spelled with an `i`, as memory
/// budgets are almost always meant that way. A fraction (`1.5MB`) rounds up to a whole
/// byte.
pub fn parse_bytes(text: &str) -> Result<u64, ByteSizeError> {
    let err = || ByteSizeError {
        text: text.to_string(),
    };
    let t = text.trim();
    let split = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    let n: u64 = whole.parse().map_err(|_| err())?;
    if fraction.len() > 9 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err());
    }
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        "t" | "tb" | "tib" => 1 << 40,
        _ => return Err(err()),
    };
    let scale = 10u128.pow(fraction.len() as u32);
    let fraction: u128 = if fraction.is_empty() {
        0
    } else {
        fraction.parse().map_err(|_| err())?
    };
    let part = (fraction * u128::from(mult)).div_ceil(scale);
    n.checked_mul(mult)
        .and_then(|b| b.checked_add(u64::try_from(part).ok()?))
        .ok_or_else(err)
}

/// A byte count as an argument to type (`1.4MiB`, `256MiB`): with one decimal at most,
/// rounded up, so the size typed is never below `bytes`; `parse_bytes` reads it back.
pub fn format_bytes_arg(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut unit = 0;
    while unit < UNITS.len() - 1 && bytes >= 1u64 << (10 * (unit + 1)) {
        unit += 1;
    }
    let scale = 1u128 << (10 * unit);
    let tenths = (u128::from(bytes) * 10).div_ceil(scale);
    if tenths % 10 == 0 || unit == 0 {
        format!("{}{}", tenths.div_ceil(10), UNITS[unit])
    } else {
        format!("{}.{}{}", tenths / 10, tenths % 10, UNITS[unit])
    }
}

/// Formats a byte count with a binary unit, e.g. `64 KiB`, `1.5 MiB`.
pub fn format_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 || value.fract() == 0.0 {
        format!("{} {}", value as u64, UNITS[unit])
    } else {
        format!("{:.1} {}", value, UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units() {
        assert_eq!(parse_bytes("1024"), Ok(1024));
        assert_eq!(parse_bytes("64KB"), Ok(64 * 1024));
        assert_eq!(parse_bytes("256MB"), Ok(256 << 20));
        assert_eq!(parse_bytes("2GiB"), Ok(2 << 30));
        assert_eq!(parse_bytes("1g"), Ok(1 << 30));
        assert!(parse_bytes("12XB").is_err());
        assert!(parse_bytes("MB").is_err());
        assert!(parse_bytes("99999999999999T").is_err());
        assert_eq!(parse_bytes("1.5MB"), Ok(3 << 19));
        assert_eq!(parse_bytes("0.5k"), Ok(512));
        assert_eq!(
            parse_bytes("1.0001k"),
            Ok(1025),
            "a fraction of a byte rounds up"
        );
        assert!(parse_bytes("1.2.3MB").is_err());
        assert!(parse_bytes(".MB").is_err());
        assert!(parse_bytes("1.MB").is_ok_and(|b| b == 1 << 20));
    }

    /// The size advised is never below the size needed, and reads back.
    #[test]
    fn an_advised_size_reads_back_at_least_as_large() {
        for bytes in [
            0,
            1,
            1023,
            1024,
            1025,
            1_363_149,
            3 << 19,
            256 << 20,
            (1 << 40) + 7,
            u64::MAX / 3,
        ] {
            let arg = format_bytes_arg(bytes);
            let back = parse_bytes(&arg).unwrap();
            assert!(back >= bytes, "{bytes} -> {arg} -> {back}");
            assert!(back - bytes <= bytes / 10 + 1, "{bytes} -> {arg} -> {back}");
        }
        assert_eq!(format_bytes_arg(256 << 20), "256MiB");
        assert_eq!(format_bytes_arg(1_363_149), "1.4MiB");
    }

    #[test]
    fn formats_units() {
        assert_eq!(format_bytes(512), "512 B");
        assert_eq!(format_bytes(64 * 1024), "64 KiB");
        assert_eq!(format_bytes(3 << 19), "1.5 MiB");
    }
}
