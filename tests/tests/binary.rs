//! Properties of the built `paychan.so` itself.

fn program() -> Vec<u8> {
    std::fs::read(paychan_tests::PROGRAM_SO).expect("run scripts/build-sbf.sh first")
}

#[test]
fn the_program_has_no_panic_path() {
    // A reachable panic would import the runtime's panic syscall; every failure must instead
    // be a typed error.
    let elf = program();
    assert!(
        !elf.windows(b"sol_panic_".len()).any(|w| w == b"sol_panic_"),
        "paychan.so imports sol_panic_: some code path can panic"
    );
}

/// SBPF v3: a 4.2 validator with its default features refuses to deploy v0 programs
/// (`InvalidAccountData` from DeployWithMaxDataLen), while LiteSVM and program-test load either.
#[test]
fn the_program_is_an_sbpf_v3_elf() {
    let elf = program();
    assert_eq!(&elf[..4], b"\x7fELF");
    assert_eq!(elf[4], 2, "64-bit");
    assert_eq!(u16::from_le_bytes([elf[18], elf[19]]), 247, "machine: BPF");
    assert_eq!(
        u32::from_le_bytes([elf[48], elf[49], elf[50], elf[51]]),
        3,
        "e_flags: SBPF v3"
    );
}
