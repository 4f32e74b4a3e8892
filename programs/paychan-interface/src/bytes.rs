//! Little-endian field access at fixed offsets. Callers pass constant offsets into fixed-size
//! arrays, so the bounds checks fold away on-chain.

#[inline(always)]
pub(crate) fn get_u64<const N: usize>(b: &[u8; N], at: usize) -> u64 {
    u64::from_le_bytes(get_array(b, at))
}

#[inline(always)]
pub(crate) fn get_array<const N: usize, const M: usize>(b: &[u8; N], at: usize) -> [u8; M] {
    let mut v = [0u8; M];
    v.copy_from_slice(&b[at..][..M]);
    v
}

#[inline(always)]
pub(crate) fn put_u64<const N: usize>(b: &mut [u8; N], at: usize, v: u64) {
    b[at..][..8].copy_from_slice(&v.to_le_bytes());
}
