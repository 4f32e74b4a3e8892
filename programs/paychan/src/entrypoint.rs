//! The SBF entrypoint. Nothing here allocates, so there is no heap.

pinocchio::program_entrypoint!(crate::processor::process_instruction);
pinocchio::no_allocator!();
pinocchio::nostd_panic_handler!();
