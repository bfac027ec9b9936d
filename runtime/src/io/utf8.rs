//! UTF-8 checks of fields: most fields are short ASCII, which a check of the bytes' high
//! bits passes at once; the standard check (about 100 instructions even for ten bytes)
//! runs only for the rest.

use std::str::Utf8Error;

/// `bytes` as text, when they are valid UTF-8.
#[inline]
pub fn utf8(bytes: &[u8]) -> Result<&str, Utf8Error> {
    if bytes.is_ascii() {
        // SAFETY: ASCII is valid UTF-8.
        Ok(unsafe { std::str::from_utf8_unchecked(bytes) })
    } else {
        std::str::from_utf8(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::utf8;

    #[test]
    fn ascii_and_other_text_read_as_the_standard_check_reads_them() {
        for bytes in [
            &b""[..],
            b"acct-42",
            "Été Ünï".as_bytes(),
            b"\xff\xfe",
            b"ok\xc3",
            "a long line of plain ascii words".as_bytes(),
        ] {
            assert_eq!(utf8(bytes), std::str::from_utf8(bytes), "{bytes:?}");
        }
    }
}
