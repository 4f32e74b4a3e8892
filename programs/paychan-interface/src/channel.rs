//! The channel account: a program-owned PDA that holds the locked lamports itself.
//!
//! Fixed size, little-endian, in protocol §2 order, every u64 8-byte aligned so the program reads
//! fields with single loads (account data is 8-byte aligned in the runtime's input buffer):
//! ```text
//! 0    1  discriminator          CHANNEL_DISCRIMINATOR
//! 1    1  layout version         CHANNEL_VERSION
//! 2    1  status                 1 Open | 2 Closing | 3 Settled
//! 3    1  bump                   the channel PDA's bump (named at Open)
//! 4    1  token program          0 none: a lamport channel | 1 SPL Token | 2 Token-2022
//! 5    1  decimals               the mint's decimals (0 for a lamport channel)
//! 6    2  padding (zero)
//! 8   32  party_a                the opener
//! 40  32  party_b
//! 72   8  nonce
//! 80   8  opened_slot            Clock slot of the Open
//! 88   8  challenge_period_secs
//! 96   8  deposited_a
//! 104  8  deposited_b
//! 112 72  registered close state (seq, deposited_a, deposited_b, balance_a, balance_b, log_root)
//! 184  1  registered_by          0 None | 1 A | 2 B
//! 185  7  padding (zero)
//! 192  8  deadline               i64 unix seconds
//! 200  8  unclaimed_a
//! 208  8  unclaimed_b
//! 216  8  accountable_seq        the seq registered_by registered with StartClose (protocol §4)
//! 224 32  signer_a               the key that signs states for A (its wallet, or a session key)
//! 256 32  signer_b               the key that signs states for B
//! 288 32  mint                   the token mint (zero for a lamport channel)
//! 320 32  vault                  the token account holding the deposits (zero for lamports)
//! 352     end
//! ```
//! Layout v2 added `accountable_seq` (v1 measured staleness from whatever was registered last,
//! so a replacement could launder the registrant's punishment) and the state-signing keys,
//! named at Open, so a browser wallet signs only Open, Deposit and payouts, not every payment.
//! Layout v3 added the token fields: a token channel locks its deposits in a vault token account
//! owned by the channel PDA, and its mint is one of the channel address's seeds.
//! Lamports beyond the deposits (the rent reserve, and anything sent to the PDA by others)
//! belong to the opener and are returned to party A when the account closes; so do tokens
//! anyone sends to the vault beyond the deposits.

use bytemuck::{Pod, Zeroable};

use crate::{
    error::PaychanError,
    state::ChannelState,
    token::{TokenChannel, TokenProgram},
    Address,
};

pub const CHANNEL_DISCRIMINATOR: u8 = 0xC4;
pub const CHANNEL_VERSION: u8 = 3;
pub const CHANNEL_ACCOUNT_LEN: usize = 352;

// Fields are native-endian in memory; every Solana target and host is little-endian.
const _: () = assert!(cfg!(target_endian = "little"));
const _: () = assert!(core::mem::size_of::<ChannelAccount>() == CHANNEL_ACCOUNT_LEN);

/// The account bytes, field by field.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable)]
pub struct ChannelAccount {
    pub discriminator: u8,
    pub version: u8,
    pub status: u8,
    pub bump: u8,
    pub token_program: u8,
    pub decimals: u8,
    pub padding0: [u8; 2],
    pub party_a: [u8; 32],
    pub party_b: [u8; 32],
    pub nonce: u64,
    pub opened_slot: u64,
    pub challenge_period_secs: u64,
    pub deposited_a: u64,
    pub deposited_b: u64,
    pub registered: ChannelState,
    pub registered_by: u8,
    pub padding1: [u8; 7],
    pub deadline: i64,
    pub unclaimed_a: u64,
    pub unclaimed_b: u64,
    pub accountable_seq: u64,
    pub signer_a: [u8; 32],
    pub signer_b: [u8; 32],
    pub mint: [u8; 32],
    pub vault: [u8; 32],
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum ChannelStatus {
    /// Payments flow off-chain; deposits are accepted.
    Open = 1,
    /// A state is registered and may be disputed until the deadline.
    Closing = 2,
    /// Paid out, but a share could not be credited and waits for Withdraw.
    Settled = 3,
}

/// One of the two channel parties.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Party {
    A = 1,
    B = 2,
}

impl Party {
    pub const fn other(self) -> Party {
        match self {
            Party::A => Party::B,
            Party::B => Party::A,
        }
    }
}

/// The decoded channel account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Channel {
    pub status: ChannelStatus,
    pub bump: u8,
    pub party_a: Address,
    pub party_b: Address,
    pub nonce: u64,
    pub opened_slot: u64,
    pub challenge_period_secs: u64,
    pub deposited_a: u64,
    pub deposited_b: u64,
    /// The state registered by StartClose or Dispute (all zero while Open).
    pub registered: ChannelState,
    /// The party that called StartClose (None while Open). A Dispute never changes it.
    pub registered_by: Option<Party>,
    /// The seq `registered_by` registered with StartClose: a Dispute with seq ≥ this + 2
    /// punishes it, whatever replaced the registered state in between (protocol §4).
    pub accountable_seq: u64,
    /// Unix seconds after which Finalize may run.
    pub deadline: i64,
    pub unclaimed_a: u64,
    pub unclaimed_b: u64,
    /// The keys that sign states for A and B (the wallets themselves, or session keys).
    pub signer_a: Address,
    pub signer_b: Address,
    /// The token a token channel locks (None: lamports).
    pub token: Option<TokenChannel>,
}

impl Channel {
    /// Which party `key` is, if any.
    pub fn party_of(&self, key: &Address) -> Option<Party> {
        if *key == self.party_a {
            Some(Party::A)
        } else if *key == self.party_b {
            Some(Party::B)
        } else {
            None
        }
    }

    /// Which party `key` is or signs for (its wallet or its state-signing key), if any.
    pub fn party_or_signer_of(&self, key: &Address) -> Option<Party> {
        self.party_of(key).or(if *key == self.signer_a {
            Some(Party::A)
        } else if *key == self.signer_b {
            Some(Party::B)
        } else {
            None
        })
    }

    /// The key that signs states for `party`.
    pub fn signer_key(&self, party: Party) -> &Address {
        match party {
            Party::A => &self.signer_a,
            Party::B => &self.signer_b,
        }
    }

    pub fn party_key(&self, party: Party) -> &Address {
        match party {
            Party::A => &self.party_a,
            Party::B => &self.party_b,
        }
    }

    /// The StartClose registrant and the seq it answers for (protocol §4), once Closing.
    pub fn accountable(&self) -> Option<(Party, u64)> {
        self.registered_by
            .map(|party| (party, self.accountable_seq))
    }

    /// Total value locked by the parties (excludes the opener's rent reserve).
    pub fn total_deposits(&self) -> Result<u64, PaychanError> {
        self.deposited_a
            .checked_add(self.deposited_b)
            .ok_or(PaychanError::ArithmeticOverflow)
    }

    /// Decodes account data from any buffer (client copies need not be aligned).
    pub fn unpack(data: &[u8]) -> Result<Self, PaychanError> {
        let raw = bytemuck::try_pod_read_unaligned::<ChannelAccount>(data)
            .map_err(|_| PaychanError::InvalidChannelAccount)?;
        Self::from_raw(&raw)
    }

    /// Decodes 8-byte-aligned account data in place, as the runtime hands it to the program.
    /// Kept apart from `unpack` so the compiler emits word loads, not byte loads.
    pub fn unpack_aligned(data: &[u8]) -> Result<Self, PaychanError> {
        let raw = bytemuck::try_from_bytes::<ChannelAccount>(data)
            .map_err(|_| PaychanError::InvalidChannelAccount)?;
        Self::from_raw(raw)
    }

    pub fn from_raw(raw: &ChannelAccount) -> Result<Self, PaychanError> {
        if raw.discriminator != CHANNEL_DISCRIMINATOR || raw.version != CHANNEL_VERSION {
            return Err(PaychanError::InvalidChannelAccount);
        }
        let status = match raw.status {
            1 => ChannelStatus::Open,
            2 => ChannelStatus::Closing,
            3 => ChannelStatus::Settled,
            _ => return Err(PaychanError::InvalidChannelAccount),
        };
        let registered_by = match raw.registered_by {
            0 => None,
            1 => Some(Party::A),
            2 => Some(Party::B),
            _ => return Err(PaychanError::InvalidChannelAccount),
        };
        // Only the program writes this account: a lamport channel's token bytes are zero and
        // are not read back (comparing them would cost every instruction ~200 CU on-chain).
        let token = match raw.token_program {
            0 => None,
            tag => Some(TokenChannel {
                program: TokenProgram::from_tag(tag).ok_or(PaychanError::InvalidChannelAccount)?,
                mint: Address::new_from_array(raw.mint),
                vault: Address::new_from_array(raw.vault),
                decimals: raw.decimals,
            }),
        };
        Ok(Self {
            status,
            bump: raw.bump,
            party_a: Address::new_from_array(raw.party_a),
            party_b: Address::new_from_array(raw.party_b),
            nonce: raw.nonce,
            opened_slot: raw.opened_slot,
            challenge_period_secs: raw.challenge_period_secs,
            deposited_a: raw.deposited_a,
            deposited_b: raw.deposited_b,
            registered: raw.registered,
            registered_by,
            deadline: raw.deadline,
            unclaimed_a: raw.unclaimed_a,
            unclaimed_b: raw.unclaimed_b,
            accountable_seq: raw.accountable_seq,
            signer_a: Address::new_from_array(raw.signer_a),
            signer_b: Address::new_from_array(raw.signer_b),
            token,
        })
    }

    pub fn to_raw(&self) -> ChannelAccount {
        ChannelAccount {
            discriminator: CHANNEL_DISCRIMINATOR,
            version: CHANNEL_VERSION,
            status: self.status as u8,
            bump: self.bump,
            token_program: self.token.map_or(0, |t| t.program as u8),
            decimals: self.token.map_or(0, |t| t.decimals),
            padding0: [0; 2],
            party_a: self.party_a.to_bytes(),
            party_b: self.party_b.to_bytes(),
            nonce: self.nonce,
            opened_slot: self.opened_slot,
            challenge_period_secs: self.challenge_period_secs,
            deposited_a: self.deposited_a,
            deposited_b: self.deposited_b,
            registered: self.registered,
            registered_by: self.registered_by.map_or(0, |p| p as u8),
            padding1: [0; 7],
            deadline: self.deadline,
            unclaimed_a: self.unclaimed_a,
            unclaimed_b: self.unclaimed_b,
            accountable_seq: self.accountable_seq,
            signer_a: self.signer_a.to_bytes(),
            signer_b: self.signer_b.to_bytes(),
            mint: self.token.map_or([0; 32], |t| t.mint.to_bytes()),
            vault: self.token.map_or([0; 32], |t| t.vault.to_bytes()),
        }
    }

    /// Encodes into a buffer of exactly `CHANNEL_ACCOUNT_LEN` bytes.
    pub fn pack(&self, data: &mut [u8]) -> Result<(), PaychanError> {
        if data.len() != CHANNEL_ACCOUNT_LEN {
            return Err(PaychanError::InvalidChannelAccount);
        }
        data.copy_from_slice(bytemuck::bytes_of(&self.to_raw()));
        Ok(())
    }

    /// Encodes in place into 8-byte-aligned account data (the program's path), field by field
    /// with word stores. A lamport channel's token bytes are left as they are: zero since the
    /// account was created, and never written (64 byte stores would cost every instruction).
    pub fn pack_aligned(&self, data: &mut [u8]) -> Result<(), PaychanError> {
        let raw = bytemuck::try_from_bytes_mut::<ChannelAccount>(data)
            .map_err(|_| PaychanError::InvalidChannelAccount)?;
        raw.discriminator = CHANNEL_DISCRIMINATOR;
        raw.version = CHANNEL_VERSION;
        raw.status = self.status as u8;
        raw.bump = self.bump;
        raw.party_a = self.party_a.to_bytes();
        raw.party_b = self.party_b.to_bytes();
        raw.nonce = self.nonce;
        raw.opened_slot = self.opened_slot;
        raw.challenge_period_secs = self.challenge_period_secs;
        raw.deposited_a = self.deposited_a;
        raw.deposited_b = self.deposited_b;
        raw.registered = self.registered;
        raw.registered_by = self.registered_by.map_or(0, |p| p as u8);
        raw.deadline = self.deadline;
        raw.unclaimed_a = self.unclaimed_a;
        raw.unclaimed_b = self.unclaimed_b;
        raw.accountable_seq = self.accountable_seq;
        raw.signer_a = self.signer_a.to_bytes();
        raw.signer_b = self.signer_b.to_bytes();
        if let Some(token) = &self.token {
            raw.token_program = token.program as u8;
            raw.decimals = token.decimals;
            raw.mint = token.mint.to_bytes();
            raw.vault = token.vault.to_bytes();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Channel {
        Channel {
            status: ChannelStatus::Closing,
            bump: 254,
            party_a: Address::new_from_array([1; 32]),
            party_b: Address::new_from_array([2; 32]),
            nonce: 42,
            opened_slot: 1234,
            challenge_period_secs: 86_400,
            deposited_a: 5_000,
            deposited_b: 3_000,
            registered: ChannelState {
                seq: 9,
                deposited_a: 5_000,
                deposited_b: 1_000,
                balance_a: 2_000,
                balance_b: 4_000,
                log_root: [3; 32],
            },
            registered_by: Some(Party::B),
            deadline: 1_700_000_000,
            unclaimed_a: 11,
            unclaimed_b: 12,
            accountable_seq: 8,
            signer_a: Address::new_from_array([4; 32]),
            signer_b: Address::new_from_array([5; 32]),
            token: Some(TokenChannel {
                program: TokenProgram::Token2022,
                mint: Address::new_from_array([6; 32]),
                vault: Address::new_from_array([7; 32]),
                decimals: 6,
            }),
        }
    }

    /// An 8-aligned buffer with one spare byte, to test both aligned and unaligned paths.
    #[repr(C, align(8))]
    struct Buffer([u8; CHANNEL_ACCOUNT_LEN + 1]);

    #[test]
    fn pack_then_unpack_is_identity_aligned_or_not() {
        let mut buffer = Buffer([0; CHANNEL_ACCOUNT_LEN + 1]);
        for offset in [0, 1] {
            let data = &mut buffer.0[offset..offset + CHANNEL_ACCOUNT_LEN];
            sample().pack(data).expect("exact length");
            assert_eq!(Channel::unpack(data), Ok(sample()), "offset {offset}");
        }
        let aligned = &mut buffer.0[..CHANNEL_ACCOUNT_LEN];
        sample().pack_aligned(aligned).expect("aligned");
        assert_eq!(Channel::unpack_aligned(aligned), Ok(sample()));
        let unaligned = &mut buffer.0[1..];
        assert_eq!(
            Channel::unpack_aligned(unaligned),
            Err(PaychanError::InvalidChannelAccount)
        );
        assert_eq!(
            sample().pack_aligned(unaligned),
            Err(PaychanError::InvalidChannelAccount)
        );
    }

    #[test]
    fn fields_sit_at_the_documented_offsets() {
        let mut data = [0u8; CHANNEL_ACCOUNT_LEN];
        sample().pack(&mut data).expect("exact length");
        assert_eq!(
            data[..8],
            [CHANNEL_DISCRIMINATOR, CHANNEL_VERSION, 2, 254, 2, 6, 0, 0]
        );
        assert_eq!(data[8..40], [1; 32]);
        assert_eq!(data[40..72], [2; 32]);
        assert_eq!(data[72..80], 42u64.to_le_bytes());
        assert_eq!(data[80..88], 1234u64.to_le_bytes());
        assert_eq!(data[88..96], 86_400u64.to_le_bytes());
        assert_eq!(data[96..104], 5_000u64.to_le_bytes());
        assert_eq!(data[104..112], 3_000u64.to_le_bytes());
        assert_eq!(data[112..120], 9u64.to_le_bytes());
        assert_eq!(data[152..184], [3; 32]);
        assert_eq!(data[184], Party::B as u8);
        assert_eq!(data[192..200], 1_700_000_000i64.to_le_bytes());
        assert_eq!(data[200..208], 11u64.to_le_bytes());
        assert_eq!(data[208..216], 12u64.to_le_bytes());
        assert_eq!(data[216..224], 8u64.to_le_bytes());
        assert_eq!(data[224..256], [4; 32]);
        assert_eq!(data[256..288], [5; 32]);
        assert_eq!(data[288..320], [6; 32]);
        assert_eq!(data[320..352], [7; 32]);
    }

    #[test]
    fn a_lamport_channel_has_no_token_fields() {
        let lamports = Channel {
            token: None,
            ..sample()
        };
        let mut data = [0u8; CHANNEL_ACCOUNT_LEN];
        lamports.pack(&mut data).expect("exact length");
        assert_eq!(data[4..6], [0, 0]);
        assert_eq!(data[288..], [0; 64]);
        assert_eq!(Channel::unpack(&data), Ok(lamports));
    }

    #[test]
    fn foreign_or_corrupt_data_is_not_a_channel() {
        let mut data = [0u8; CHANNEL_ACCOUNT_LEN];
        sample().pack(&mut data).expect("exact length");
        let mut lamports = [0u8; CHANNEL_ACCOUNT_LEN];
        Channel {
            token: None,
            ..sample()
        }
        .pack(&mut lamports)
        .expect("exact length");
        let mut bad = lamports;
        bad[4] = 3;
        assert_eq!(
            Channel::unpack(&bad),
            Err(PaychanError::InvalidChannelAccount),
            "token program tag 3"
        );
        for (at, value) in [(0, 0u8), (1, 1), (1, 2), (2, 0), (2, 4), (4, 3), (184, 3)] {
            let mut bad = data;
            bad[at] = value;
            assert_eq!(
                Channel::unpack(&bad),
                Err(PaychanError::InvalidChannelAccount)
            );
        }
        assert_eq!(
            Channel::unpack(&data[..CHANNEL_ACCOUNT_LEN - 1]),
            Err(PaychanError::InvalidChannelAccount)
        );
        assert_eq!(
            Channel::unpack(&[0u8; 4]),
            Err(PaychanError::InvalidChannelAccount)
        );
        assert_eq!(
            sample().pack(&mut [0u8; CHANNEL_ACCOUNT_LEN - 1]),
            Err(PaychanError::InvalidChannelAccount)
        );
    }

    proptest::proptest! {
        #[test]
        fn unpack_never_panics(data in proptest::collection::vec(0u8.., 0..400)) {
            let _ = Channel::unpack(&data);
        }
    }
}
