//! Checked u64 arithmetic that compiles for SBF without u128 libcalls.

/// `a * b`, or None on overflow. LLVM lowers u64 `checked_mul` to an i128 `__multi3` call that
/// the SBF linker cannot resolve, so multiply in 32-bit halves instead.
pub fn mul_checked(a: u64, b: u64) -> Option<u64> {
    const LOW: u64 = 0xffff_ffff;
    let (ah, al, bh, bl) = (a >> 32, a & LOW, b >> 32, b & LOW);
    if ah != 0 && bh != 0 {
        return None;
    }
    // Both products fit in u64: each factor is below 2^32.
    let cross = ah.wrapping_mul(bl).wrapping_add(al.wrapping_mul(bh));
    if cross > LOW {
        return None;
    }
    (cross << 32).checked_add(al.wrapping_mul(bl))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edges_agree_with_checked_mul() {
        let edges = [0, 1, 2, 0xffff_ffff, 0x1_0000_0000, u64::MAX / 2, u64::MAX];
        for a in edges {
            for b in edges {
                assert_eq!(mul_checked(a, b), a.checked_mul(b), "{a} * {b}");
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn agrees_with_checked_mul(a: u64, b: u64) {
            proptest::prop_assert_eq!(mul_checked(a, b), a.checked_mul(b));
        }

        #[test]
        fn agrees_with_checked_mul_near_the_boundary(a in 0u64..1 << 34, b in 0u64..1 << 34) {
            proptest::prop_assert_eq!(mul_checked(a, b), a.checked_mul(b));
        }
    }
}
