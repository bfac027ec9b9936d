//! Number functions of expressions: `round`, and `greatest`/`least` over floats. The rest
//! (`floor`, `ceil`, `sqrt`, `ln`, `exp`, `pow`) are Rust's own, called in place.

use std::fmt::Write as _;

/// `round(x, digits)`: `x` rounded to `digits` places after the decimal point (before it,
/// when negative: `round(1250.0, -2)` is `1300.0`), halves away from zero, as Flink's
/// `ROUND`. It rounds the decimal `x` is written as (the shortest that reads back as `x`),
/// not its binary value: `round(2.675, 2)` is `2.68`, as the number was written, where
/// `(x * 100).round() / 100` gives `2.67`. NaN and infinities stay as they are.
pub fn round(x: f64, digits: i64) -> f64 {
    if !x.is_finite() || x == 0.0 {
        return x;
    }
    // An f64 has at most 17 significant digits and its decimal point within 330 places
    // of them: past that, rounding changes nothing, or leaves nothing.
    if digits > 340 {
        return x;
    }
    let digits = digits.max(-340) as i32;
    let mut text = Decimal::new();
    // `{}` writes the shortest decimal that reads back as `x`, never in exponent form.
    write!(text, "{}", x.abs()).expect("a decimal fits");
    let mut rounded = Decimal::new();
    text.round_into(digits, &mut rounded);
    let magnitude: f64 = rounded
        .as_str()
        .parse()
        .expect("digits and a point parse as f64");
    magnitude.copysign(x)
}

/// Room for any f64 `{}` writes (at most 326 characters) and one more digit.
const ROOM: usize = 400;

/// Decimal text of a non-negative number, on the stack: `round` runs per record and
/// allocates nothing.
struct Decimal {
    bytes: [u8; ROOM],
    len: usize,
}

impl std::fmt::Write for Decimal {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        if end > self.bytes.len() {
            return Err(std::fmt::Error);
        }
        self.bytes[self.len..end].copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

impl Decimal {
    fn new() -> Self {
        Decimal {
            bytes: [0; ROOM],
            len: 0,
        }
    }

    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..self.len]).expect("ASCII digits and a point")
    }

    /// Writes into `out` the number rounded half away from zero at `digits` places after
    /// the point, as text `f64::from_str` reads.
    fn round_into(&self, digits: i32, out: &mut Decimal) {
        let text = self.as_str();
        let (int, frac) = text.split_once('.').unwrap_or((text, ""));
        // The digits after a leading 0 that takes a carry out of the first one, and how
        // many of them come before the point.
        let mut all = [0u8; ROOM + 1];
        let mut n = 1;
        for b in int.bytes().chain(frac.bytes()) {
            all[n] = b - b'0';
            n += 1;
        }
        let point = 1 + int.len() as i64;
        let keep = point + i64::from(digits);
        if keep >= n as i64 {
            out.write_str(text).expect("it fitted before");
            return;
        }
        if keep < 1 {
            out.write_str("0").expect("room");
            return;
        }
        let (keep, point) = (keep as usize, point as usize);
        if all[keep] >= 5 {
            // Carry leftward from the last kept digit; the leading 0 stops it.
            let mut i = keep;
            loop {
                i -= 1;
                if all[i] == 9 {
                    all[i] = 0;
                } else {
                    all[i] += 1;
                    break;
                }
            }
        }
        // The kept digits, and zeros for places dropped before the point.
        for (i, &d) in all.iter().enumerate().take(keep.max(point)) {
            if i == point {
                out.write_str(".").expect("room");
            }
            let digit = if i < keep { d } else { 0 };
            out.write_char(char::from(b'0' + digit)).expect("room");
        }
    }
}

/// `greatest(a, b, ...)` of floats: the largest that is a number (NaN only when all are),
/// as `f64::max`.
#[inline]
pub fn greatest_f64(values: &[f64]) -> f64 {
    values.iter().copied().fold(f64::NAN, f64::max)
}

/// `least(a, b, ...)` of floats: the smallest that is a number (NaN only when all are).
#[inline]
pub fn least_f64(values: &[f64]) -> f64 {
    values.iter().copied().fold(f64::NAN, f64::min)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// `n / 10^scale` rounded half away from zero to `digits` places, in integers: the
    /// reference for numbers written with `scale` decimals.
    fn reference(n: i64, scale: u32, digits: i32) -> f64 {
        let drop = scale as i32 - digits;
        let text = if drop <= 0 {
            format!("{}e-{scale}", n)
        } else {
            let p = 10i128.pow(drop as u32);
            let q = (n as i128).abs();
            let r = (q + p / 2) / p * n.signum() as i128;
            format!("{r}e{}", -digits)
        };
        text.parse().unwrap()
    }

    #[test]
    fn halves_round_away_from_zero_on_the_number_as_written() {
        assert_eq!(round(2.675, 2), 2.68);
        assert_eq!(round(-2.675, 2), -2.68);
        assert_eq!(round(1.005, 2), 1.01);
        assert_eq!(round(23.598125000000003, 2), 23.6);
        assert_eq!(round(0.5, 0), 1.0);
        assert_eq!(round(-0.5, 0), -1.0);
        assert_eq!(round(9.999, 2), 10.0);
        assert_eq!(round(999.5, 0), 1000.0);
        assert_eq!(round(1250.0, -2), 1300.0);
        assert_eq!(round(1249.0, -2), 1200.0);
        assert_eq!(round(49.0, -2), 0.0);
        assert_eq!(round(51.0, -2), 100.0);
        assert_eq!(round(0.0004, 3), 0.0);
        assert_eq!(round(0.0005, 3), 0.001);
        assert_eq!(round(1e300, 2), 1e300);
        assert_eq!(round(1e-300, 2), 0.0);
        assert_eq!(round(f64::MAX, -400), 0.0);
        assert!(round(f64::NAN, 2).is_nan());
        assert_eq!(round(f64::INFINITY, 2), f64::INFINITY);
        assert_eq!(round(2.71, 400), 2.71);
    }

    proptest! {
        #[test]
        fn round_matches_integer_arithmetic(n in -1_000_000_000_000i64..1_000_000_000_000, scale in 0u32..8, digits in -6i32..10) {
            let x: f64 = format!("{n}e-{scale}").parse().unwrap();
            prop_assert_eq!(round(x, digits as i64), reference(n, scale, digits), "round({}, {})", x, digits);
        }
    }

    #[test]
    fn greatest_and_least_pass_over_nan() {
        assert_eq!(greatest_f64(&[1.0, f64::NAN, 3.0]), 3.0);
        assert_eq!(least_f64(&[1.0, f64::NAN, -3.0]), -3.0);
        assert!(greatest_f64(&[f64::NAN]).is_nan());
    }
}
