//! Amounts as people type and read them, converted exactly: base units are integers, and no
//! amount ever passes through a float. A lamport channel counts in SOL (9 decimals), a token
//! channel in its mint's decimals (`--deposit 25.5` is 25.5 tokens).

use std::fmt;

use paychan_interface::{channel::Channel, Address};

pub const LAMPORTS_PER_SOL: u64 = 1_000_000_000;
const SOL_DECIMALS: u8 = 9;

/// Lamports, shown as SOL with no trailing zeros (`1.5`, `0.000000001`, `20`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sol(pub u64);

impl fmt::Display for Sol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Decimal(self.0, SOL_DECIMALS).fmt(f)
    }
}

/// Base units shown with `decimals` decimals and no trailing zeros.
struct Decimal(u64, u8);

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Decimal(units, decimals) = *self;
        let scale = 10u64.pow(u32::from(decimals));
        let (whole, fraction) = (units / scale, units % scale);
        if fraction == 0 {
            return write!(f, "{whole}");
        }
        let digits = format!("{fraction:0width$}", width = usize::from(decimals));
        write!(f, "{whole}.{}", digits.trim_end_matches('0'))
    }
}

/// Parses a positive decimal amount of SOL (`2`, `0.5`, `.25`) into lamports, exactly.
pub fn lamports(text: &str) -> Result<u64, String> {
    Unit::Sol.parse(text)
}

/// What a channel locks: how its amounts are typed and shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Sol,
    Token { mint: Address, decimals: u8 },
}

impl Unit {
    pub fn of(channel: &Channel) -> Self {
        match channel.token {
            None => Self::Sol,
            Some(token) => Self::Token {
                mint: token.mint,
                decimals: token.decimals,
            },
        }
    }

    fn decimals(&self) -> u8 {
        match self {
            Self::Sol => SOL_DECIMALS,
            Self::Token { decimals, .. } => *decimals,
        }
    }

    /// `SOL`, `tUSD` for the embedded ledger's test stablecoin, else the mint's first
    /// characters.
    pub fn symbol(&self) -> String {
        match self {
            Self::Sol => "SOL".into(),
            Self::Token { mint, .. } if *mint == paychan_ledger_server::TEST_USD_MINT => {
                "tUSD".into()
            }
            Self::Token { mint, .. } => {
                let text = mint.to_string();
                format!("tokens of {}…", &text[..6.min(text.len())])
            }
        }
    }

    /// `units` as people read them, with the symbol: `1.5 SOL`, `25.5 tUSD`.
    pub fn show(&self, units: u64) -> String {
        format!("{} {}", Decimal(units, self.decimals()), self.symbol())
    }

    /// Parses a positive decimal amount (`2`, `0.5`, `.25`) into base units, exactly.
    pub fn parse(&self, text: &str) -> Result<u64, String> {
        let what = match self {
            Self::Sol => "SOL".to_string(),
            Self::Token { .. } => self.symbol(),
        };
        let decimals = usize::from(self.decimals());
        let not_positive = || format!("{text} is not a positive amount of {what}");
        let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
        let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
        if (whole.is_empty() && fraction.is_empty()) || !digits(whole) || !digits(fraction) {
            return Err(not_positive());
        }
        if fraction.len() > decimals {
            return Err(match self {
                Self::Sol => format!("{text} SOL is finer than a lamport (at most 9 decimals)"),
                Self::Token { .. } => {
                    format!(
                        "{text} {what} is finer than the mint allows (at most {decimals} decimals)"
                    )
                }
            });
        }
        let too_large = || format!("{text} {what} is more than there can be");
        let whole: u64 = match whole {
            "" => 0,
            digits => digits.parse().map_err(|_| too_large())?,
        };
        let fraction: u64 = match decimals {
            0 => 0,
            _ => format!("{fraction:0<decimals$}")
                .parse()
                .map_err(|_| not_positive())?,
        };
        let units = whole
            .checked_mul(10u64.pow(u32::from(self.decimals())))
            .and_then(|l| l.checked_add(fraction))
            .ok_or_else(too_large)?;
        if units == 0 {
            return Err(not_positive());
        }
        Ok(units)
    }
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
    fn token_amounts_use_the_mints_decimals() {
        let usd = Unit::Token {
            mint: paychan_ledger_server::TEST_USD_MINT,
            decimals: 6,
        };
        assert_eq!(usd.parse("25.5"), Ok(25_500_000));
        assert_eq!(usd.show(25_500_000), "25.5 tUSD");
        assert!(usd
            .parse("0.0000001")
            .unwrap_err()
            .contains("at most 6 decimals"));
        let whole = Unit::Token {
            mint: Address::new_from_array([7; 32]),
            decimals: 0,
        };
        assert_eq!(whole.parse("12"), Ok(12));
        assert!(whole.parse("1.5").is_err());
        assert_eq!(whole.show(12).split(' ').next(), Some("12"));
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
