//! Shared fixtures for testing the built `paychan.so`: one `Backend` trait with a LiteSVM and a
//! solana-program-test (BanksClient) implementation, and channel helpers on top of it.

pub mod backend;
pub mod chain;
pub mod fixture;
pub mod flaky;
pub mod forge;
pub mod http;
pub mod litesvm_backend;
pub mod pair;
pub mod program_test_backend;
pub mod running;
pub mod serving;
pub mod token;
pub mod validator;

/// The SBF binary under test, written by `scripts/build-sbf.sh`.
pub const PROGRAM_SO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../target/deploy/paychan.so");

pub const SOL: u64 = 1_000_000_000;

/// Defines `$name::litesvm` and `$name::program_test`, running the scenario `$name(&mut dyn
/// Backend)` once on each backend.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[test]
            fn litesvm() {
                super::$name(&mut $crate::litesvm_backend::LiteSvmBackend::new());
            }
            #[test]
            fn program_test() {
                super::$name(&mut $crate::program_test_backend::ProgramTestBackend::new());
            }
        }
    )*};
}

/// Runs a test's async body on one thread, inside a `LocalSet` (link readers, relays and
/// runtimes are local tasks).
pub fn block_on<F: std::future::Future>(body: F) -> F::Output {
    let runtime = solana_program_test::tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    solana_program_test::tokio::task::LocalSet::new().block_on(&runtime, body)
}
