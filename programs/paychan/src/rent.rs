//! Rent-exemption minimum from the Rent sysvar, with integer arithmetic only: the sysvar's
//! `exemption_threshold` is an f64, and SBF has no floating point to spare.

use paychan_interface::{error::PaychanError, math::mul_checked};
use pinocchio::{
    error::ProgramError,
    sysvars::{get_sysvar, rent::RENT_ID},
};

/// Bytes the runtime charges for on top of an account's data.
const ACCOUNT_STORAGE_OVERHEAD: u64 = 128;

/// `lamports_per_byte_year (u64) ‖ exemption_threshold (f64) ‖ burn_percent (u8)`.
const RENT_SYSVAR_LEN: usize = 17;

#[derive(Clone, Copy, Debug)]
pub struct Rent {
    lamports_per_byte_year: u64,
    threshold_ceil: u64,
}

impl Rent {
    pub fn get() -> Result<Self, ProgramError> {
        let mut raw = [0u8; RENT_SYSVAR_LEN];
        get_sysvar(&mut raw, &RENT_ID, 0)?;
        let [p0, p1, p2, p3, p4, p5, p6, p7, t0, t1, t2, t3, t4, t5, t6, t7, _burn] = raw;
        let threshold_bits = u64::from_le_bytes([t0, t1, t2, t3, t4, t5, t6, t7]);
        Ok(Self {
            lamports_per_byte_year: u64::from_le_bytes([p0, p1, p2, p3, p4, p5, p6, p7]),
            threshold_ceil: f64_bits_ceil(threshold_bits)
                .ok_or(PaychanError::ArithmeticOverflow)?,
        })
    }

    /// Lamports an account of `data_len` bytes needs to be rent exempt, rounded up: a payout
    /// judged against this bound is never rejected by the runtime's rent check.
    pub fn minimum_balance(&self, data_len: usize) -> Option<u64> {
        let bytes = ACCOUNT_STORAGE_OVERHEAD.checked_add(data_len as u64)?;
        mul_checked(
            mul_checked(bytes, self.lamports_per_byte_year)?,
            self.threshold_ceil,
        )
    }
}

/// `ceil(x)` for a non-negative finite f64 given by its bits, without float instructions.
fn f64_bits_ceil(bits: u64) -> Option<u64> {
    const MANTISSA_BITS: u64 = 52;
    const MANTISSA_MASK: u64 = (1 << MANTISSA_BITS) - 1;
    const EXPONENT_BIAS: u64 = 1023;
    if bits >> 63 == 1 {
        return None;
    }
    let exponent = bits >> MANTISSA_BITS;
    let fraction = bits & MANTISSA_MASK;
    if exponent == 0 {
        return Some(u64::from(fraction != 0));
    }
    if exponent < EXPONENT_BIAS {
        return Some(1);
    }
    let shift = exponent.checked_sub(EXPONENT_BIAS)?;
    if shift >= 64 {
        return None;
    }
    let mantissa = fraction | (1 << MANTISSA_BITS);
    if shift >= MANTISSA_BITS {
        let up = shift.checked_sub(MANTISSA_BITS)?;
        let value = mantissa.checked_shl(up as u32)?;
        return (value >> up == mantissa).then_some(value);
    }
    let down = MANTISSA_BITS.checked_sub(shift)?;
    let whole = mantissa >> down;
    let has_fraction = mantissa & !(u64::MAX << down) != 0;
    whole.checked_add(u64::from(has_fraction))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceil_matches_float_ceil() {
        for x in [
            0.0,
            0.25,
            1.0,
            1.5,
            2.0,
            2.000001,
            3.0,
            1e6,
            12345.678,
            4503599627370497.0,
        ] {
            assert_eq!(f64_bits_ceil(f64::to_bits(x)), Some(x.ceil() as u64), "{x}");
        }
    }

    #[test]
    fn negative_infinite_and_huge_thresholds_are_rejected() {
        for x in [-1.0, f64::INFINITY, f64::NAN, 1e30] {
            assert_eq!(f64_bits_ceil(f64::to_bits(x)), None, "{x}");
        }
    }

    #[test]
    fn default_rent_gives_the_known_minimum() {
        let rent = Rent {
            lamports_per_byte_year: 3480,
            threshold_ceil: 2,
        };
        assert_eq!(rent.minimum_balance(0), Some(890_880));
        assert_eq!(rent.minimum_balance(205), Some(2_317_680));
    }
}
