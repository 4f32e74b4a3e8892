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

/// Runs an async test `fn(chain)` on each client chain: LiteSVM, solana-program-test, the
/// embedded ledger over JSON-RPC, and (ignored unless `scripts/setup-validator.sh` built it) a
/// real solana-test-validator.
#[macro_export]
macro_rules! on_every_chain {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[test]
            fn litesvm() {
                $crate::block_on(super::$name($crate::chain::SvmChain::new()));
            }
            #[test]
            fn program_test() {
                $crate::block_on(async {
                    super::$name($crate::chain::BanksChain::start().await).await
                });
            }
            #[test]
            fn embedded_rpc() {
                $crate::block_on(super::$name($crate::chain::EmbeddedRpcChain::start()));
            }
            #[test]
            #[ignore = "needs solana-test-validator; scripts/test.sh runs it once scripts/setup-validator.sh built it"]
            fn validator() {
                $crate::block_on(async {
                    super::$name($crate::chain::RpcChain::start().await).await
                });
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
