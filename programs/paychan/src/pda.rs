//! PDA checks by hashing: the sha256 syscall over the seeds plus the curve check cost a few
//! hundred CU, where `create_program_address` costs 1,500 per bump tried.

use paychan_interface::error::PaychanError;
use pinocchio::Address;

/// `address` is the PDA of `seeds` and `bump` under `program_id`; `mismatch` names the account
/// in the error when it is not.
pub fn verify_pda<const N: usize>(
    seeds: &[&[u8]; N],
    bump: u8,
    program_id: &Address,
    address: &Address,
    mismatch: PaychanError,
) -> Result<(), PaychanError> {
    let derived =
        Address::try_derive_address(seeds, Some(bump), program_id).map_err(|_| mismatch)?;
    if derived != *address {
        return Err(mismatch);
    }
    // Off the curve is what makes it a PDA: no key can sign for it, only the program.
    if derived.is_on_curve() {
        return Err(PaychanError::PdaOnCurve);
    }
    Ok(())
}

/// The canonical PDA of `seeds` (the highest bump off the curve), as `find_program_address`
/// gives it, by hashing.
pub fn canonical_pda<const N: usize>(seeds: &[&[u8]; N], program_id: &Address) -> Option<Address> {
    (0..=u8::MAX).rev().find_map(|bump| {
        Address::try_derive_address(seeds, Some(bump), program_id)
            .ok()
            .filter(|address| !address.is_on_curve())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashing_agrees_with_the_pda_search() {
        let program = Address::new_from_array([9; 32]);
        for n in 0u8..20 {
            let key = [n; 32];
            let seeds: [&[u8]; 2] = [b"channel", &key];
            let (expected, bump) = Address::find_program_address(&seeds, &program);
            assert_eq!(canonical_pda(&seeds, &program), Some(expected));
            assert_eq!(
                verify_pda(
                    &seeds,
                    bump,
                    &program,
                    &expected,
                    PaychanError::VaultMismatch
                ),
                Ok(())
            );
            let other = Address::new_from_array([1; 32]);
            assert_eq!(
                verify_pda(&seeds, bump, &program, &other, PaychanError::VaultMismatch),
                Err(PaychanError::VaultMismatch)
            );
        }
    }

    #[test]
    fn an_address_on_the_curve_is_not_a_pda() {
        let program = Address::new_from_array([9; 32]);
        let key = [3u8; 32];
        let seeds: [&[u8]; 2] = [b"channel", &key];
        let on_curve = (0..=u8::MAX)
            .filter_map(|bump| {
                let address = Address::try_derive_address(&seeds, Some(bump), &program).ok()?;
                address.is_on_curve().then_some((bump, address))
            })
            .next()
            .expect("about half of all bumps land on the curve");
        assert_eq!(
            verify_pda(
                &seeds,
                on_curve.0,
                &program,
                &on_curve.1,
                PaychanError::ChannelAddressMismatch
            ),
            Err(PaychanError::PdaOnCurve)
        );
    }
}
