//! Decimal integers read from a field's bytes without a branch per digit.
//!
//! The common field is a short run of digits with an optional `-`: a timestamp, a key, a
//! value. Such a field is read here; anything else (spaces, a `+`, more than 18 digits)
//! returns `None` and goes to the caller's checked parse, which reads it or refuses it.

/// `'0'` in every byte.
const ZEROS: u64 = 0x3030_3030_3030_3030;

/// The integer `field` holds, when it is at most 18 digits after an optional `-`.
/// `word_at(k)` gives the eight bytes starting at byte `k` of the field when the buffer
/// around the field has them (bytes past the field's end are ignored): with it, a field of
/// up to eight digits is checked and combined as one word (about 15 instructions, where a
/// loop over the digits took 5 a digit), and one of 9 to 16 as two.
#[inline(always)]
pub(super) fn short_integer(
    field: &[u8],
    word_at: impl FnOnce(usize) -> Option<u64>,
) -> Option<i64> {
    let negative = field.first() == Some(&b'-');
    let skip = usize::from(negative);
    let digits = field.len() - skip;
    let value = match digits {
        1..=8 => match word_at(skip) {
            Some(word) => eight_digits(word, digits)?,
            None => digit_loop(&field[skip..])?,
        },
        // An epoch-millisecond timestamp is 13 digits: the digits before the last eight
        // as one word, and the last eight as another.
        9..=16 => match (word_at(skip), field.get(skip + digits - 8..)) {
            (Some(head), Some(tail)) => {
                let tail = u64::from_le_bytes(tail.try_into().ok()?);
                eight_digits(head, digits - 8)? * 100_000_000 + eight_digits(tail, 8)?
            }
            _ => digit_loop(&field[skip..])?,
        },
        17..=18 => digit_loop(&field[skip..])?,
        _ => return None,
    };
    Some(if negative { -value } else { value })
}

/// The `digits` (1 to 8) decimal digits in the low bytes of the little-endian `word`, or
/// `None` when one of them is not a digit.
#[inline(always)]
fn eight_digits(word: u64, digits: usize) -> Option<i64> {
    debug_assert!((1..=8).contains(&digits));
    // Move the digits to the top bytes and fill the bytes below with '0': the number then
    // reads as eight digits with leading zeros.
    let pad = 8 * (8 - digits as u32);
    let below = (1u64 << pad) - 1;
    let word = (word << pad) | (ZEROS & below);
    // Every byte is 0x30..=0x39: its high nibble is 3, and adding 6 does not carry out of
    // its low nibble.
    let high = word & 0xF0F0_F0F0_F0F0_F0F0;
    let carried = (word.wrapping_add(0x0606_0606_0606_0606) & 0xF0F0_F0F0_F0F0_F0F0) >> 4;
    if high | carried != 0x3333_3333_3333_3333 {
        return None;
    }
    // Pairs, then fours, then the eight (the first digit is the lowest byte).
    let word = word - ZEROS;
    let pairs = word.wrapping_mul(10).wrapping_add(word >> 8) & 0x00FF_00FF_00FF_00FF;
    let fours = pairs.wrapping_mul(100).wrapping_add(pairs >> 16) & 0x0000_FFFF_0000_FFFF;
    let eight = fours.wrapping_mul(10_000).wrapping_add(fours >> 32) & 0xFFFF_FFFF;
    Some(eight as i64)
}

/// Up to 18 digits, which cannot overflow an `i64`, one at a time.
#[inline(always)]
fn digit_loop(digits: &[u8]) -> Option<i64> {
    let mut value: i64 = 0;
    for &c in digits {
        let digit = c.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        value = value * 10 + i64::from(digit);
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What the field means, read the plain way.
    fn reference(field: &[u8]) -> Option<i64> {
        let text = std::str::from_utf8(field).ok()?;
        let digits = text.strip_prefix('-').unwrap_or(text);
        if digits.is_empty() || digits.len() > 18 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        text.parse().ok()
    }

    /// Reads `field` as it would sit in a buffer followed by `after`, with and without the
    /// word path.
    fn both(field: &[u8], after: &[u8]) -> (Option<i64>, Option<i64>) {
        let mut buffer = field.to_vec();
        buffer.extend_from_slice(after);
        let word_at = |k: usize| {
            buffer
                .get(k..k + 8)
                .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
        };
        (
            short_integer(field, word_at),
            short_integer(field, |_| None),
        )
    }

    #[test]
    fn fields_of_every_length_and_their_neighbours() {
        for (field, want) in [
            (&b"0"[..], Some(0)),
            (b"7", Some(7)),
            (b"-7", Some(-7)),
            (b"12345678", Some(12_345_678)),
            (b"-99999999", Some(-99_999_999)),
            (b"123456789", Some(123_456_789)),
            (b"1767225600000", Some(1_767_225_600_000)),
            (b"-1234567890123456", Some(-1_234_567_890_123_456)),
            (b"12345678901a345", None),
            (b"1234x6789012345", None),
            (b"999999999999999999", Some(999_999_999_999_999_999)),
            (b"1000000000000000000", None),
            (b"", None),
            (b"-", None),
            (b"1a", None),
            (b"12:4", None),
            (b"/", None),
            (b" 1", None),
            (b"+1", None),
            (b"1-", None),
            (b"--1", None),
        ] {
            for after in [&b",9999999,x\n"[..], b"", b"\n", b"abcdefgh"] {
                let (word, looped) = both(field, after);
                assert_eq!(word, want, "{:?} then {:?}", field, after);
                assert_eq!(looped, want, "{:?} without the word", field);
            }
        }
    }

    proptest! {
        #[test]
        fn agrees_with_the_plain_parse(
            field in proptest::collection::vec(
                prop_oneof![8 => b'0'..=b'9', 1 => Just(b'-'), 1 => any::<u8>()], 0..21),
            after in proptest::collection::vec(any::<u8>(), 0..10),
        ) {
            let want = reference(&field);
            let (word, looped) = both(&field, &after);
            prop_assert_eq!(word, want);
            prop_assert_eq!(looped, want);
        }

        #[test]
        fn numbers_read_back(n in any::<i64>()) {
            let text = n.to_string();
            let want = reference(text.as_bytes());
            let (word, _) = both(text.as_bytes(), b",1,2\n");
            prop_assert_eq!(word, want);
        }
    }
}
