//! `memcpy` and friends as runtime syscalls.
//!
//! Upstream `compiler_builtins` implements them as loops of byte and word moves: a 216-byte
//! channel copy then costs hundreds of compute units. The runtime's `sol_mem*` syscalls cost
//! 10 CU up to 2,500 bytes (the platform-tools toolchain links them the same way). These strong
//! symbols replace the weak ones from `-Zbuild-std-features=compiler-builtins-mem`.
#![allow(unsafe_code)]

use pinocchio::syscalls::{sol_memcmp_, sol_memcpy_, sol_memmove_, sol_memset_};

/// # Safety
/// The C `memcpy` contract: `dest` and `src` valid for `n` bytes and not overlapping.
#[no_mangle]
pub unsafe extern "C" fn memcpy(dest: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    if n != 0 {
        // SAFETY: forwarded contract; the runtime also checks the ranges and rejects overlap.
        unsafe { sol_memcpy_(dest, src, n as u64) };
    }
    dest
}

/// # Safety
/// The C `memmove` contract: `dest` and `src` valid for `n` bytes.
#[no_mangle]
pub unsafe extern "C" fn memmove(dest: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    if n != 0 {
        // SAFETY: forwarded contract; the runtime checks the ranges.
        unsafe { sol_memmove_(dest, src, n as u64) };
    }
    dest
}

/// # Safety
/// The C `memset` contract: `s` valid for `n` bytes.
#[no_mangle]
pub unsafe extern "C" fn memset(s: *mut u8, c: i32, n: usize) -> *mut u8 {
    if n != 0 {
        // SAFETY: forwarded contract; C passes the byte as an int, truncation is intended.
        unsafe { sol_memset_(s, c as u8, n as u64) };
    }
    s
}

/// # Safety
/// The C `memcmp` contract: `a` and `b` valid for `n` bytes.
#[no_mangle]
pub unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    let mut result = 0i32;
    if n != 0 {
        // SAFETY: forwarded contract; `result` is a valid local.
        unsafe { sol_memcmp_(a, b, n as u64, &mut result) };
    }
    result
}

/// # Safety
/// As `memcmp`; LLVM emits `bcmp` for equality-only comparisons.
#[no_mangle]
pub unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    // SAFETY: same contract as memcmp.
    unsafe { memcmp(a, b, n) }
}
