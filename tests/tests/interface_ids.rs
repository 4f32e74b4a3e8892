//! The interface's hard-coded ids agree with the Solana SDK and the committed dev keypair.

use solana_signer::Signer;

#[test]
fn well_known_ids_match_the_sdk() {
    assert_eq!(
        paychan_interface::ED25519_PROGRAM_ID,
        solana_sdk_ids::ed25519_program::ID
    );
    assert_eq!(
        paychan_interface::INSTRUCTIONS_SYSVAR_ID,
        solana_sdk_ids::sysvar::instructions::ID
    );
    assert_eq!(
        paychan_interface::SYSTEM_PROGRAM_ID,
        solana_sdk_ids::system_program::ID
    );
}

#[test]
fn program_id_is_the_dev_keypair_public_key() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../programs/paychan/keys/paychan-dev-keypair.json"
    );
    let keypair = solana_keypair::read_keypair_file(path).expect("dev keypair is committed");
    assert_eq!(keypair.pubkey(), paychan_interface::ID);
    assert_eq!(
        paychan_interface::ID.to_string(),
        "Payvfr57PtkZrejLks77Maanvd1vhchENCMryALkmEE"
    );
}
