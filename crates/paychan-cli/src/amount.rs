//! Amounts of SOL as people type and read them, converted exactly: lamports are integers, and
//! no amount ever passes through a float.

use std::fmt;

pub const LAMPORTS_PER_SOL: u64 = 1_000_000_000;
const DECIMALS: usize = 9;

/// Lamports, shown as SOL with no trailing zeros (`1.5`, `0.000000001`, `20`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sol(pub u64);

impl fmt::Display for Sol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (whole, fraction) = (self.0 / LAMPORTS_PER_SOL, self.0 % LAMPORTS_PER_SOL);
        if fraction == 0 {
            return write!(f, "{whole}");
        }
        let digits = format!("{fraction:09}");
        write!(f, "{whole}.{}", digits.trim_end_matches('0'))
    }
}

/// Parses a positive decimal amount of SOL (`2`, `0.5`, `.25`) into lamports, exactly.
pub fn lamports(text: &str) -> Result<u64, String> {
    let not_positive = || format!("{text} is not a positive amount of SOL");
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty()) || !digits(whole) || !digits(fraction) {
        return Err(not_positive());
    }
    if fraction.len() > DECIMALS {
        return Err(format!(
            "{text} SOL is finer than a lamport (at most {DECIMALS} decimals)"
        ));
    }
    let too_large = || format!("{text} SOL is more than there can be");
    let whole: u64 = match whole {
        "" => 0,
        digits => digits.parse().map_err(|_| too_large())?,
    };
    let fraction: u64 = format!("{fraction:0<DECIMALS$}")
        .parse()
        .map_err(|_| not_positive())?;
    let lamports = whole
        .checked_mul(LAMPORTS_PER_SOL)
        .and_then(|l| l.checked_add(fraction))
        .ok_or_else(too_large)?;
    if lamports == 0 {
        return Err(not_positive());
    }
    Ok(lamports)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_parse_exactly() {
        assert_eq!(lamports("2"), Ok(2 * LAMPORTS_PER_SOL));
        assert_eq!(lamports("0.0001"), Ok(100_000));
        assert_eq!(lamports(".25"), Ok(250_000_000));
        assert_eq!(lamports("1."), Ok(LAMPORTS_PER_SOL));
        assert_eq!(lamports("0.000000001"), Ok(1));
        assert_eq!(lamports("18446744073.709551615"), Ok(u64::MAX));
    }

    #[test]
    fn bad_amounts_say_why() {
        for text in ["0", "0.0", "-1", "", ".", "1e3", "one", "1.2.3", " 1", "+1"] {
            let error = lamports(text).expect_err(text);
            assert!(error.contains("not a positive amount"), "{text}: {error}");
        }
        assert!(lamports("0.0000000001")
            .unwrap_err()
            .contains("finer than a lamport"));
        assert!(lamports("18446744073.709551616")
            .unwrap_err()
            .contains("more than"));
        assert!(lamports("99999999999999999999")
            .unwrap_err()
            .contains("more than"));
    }

    #[test]
    fn amounts_show_without_trailing_zeros() {
        assert_eq!(Sol(1_500_000_000).to_string(), "1.5");
        assert_eq!(Sol(20 * LAMPORTS_PER_SOL).to_string(), "20");
        assert_eq!(Sol(1).to_string(), "0.000000001");
        assert_eq!(Sol(19_099_985_000).to_string(), "19.099985");
        assert_eq!(Sol(0).to_string(), "0");
    }
}
