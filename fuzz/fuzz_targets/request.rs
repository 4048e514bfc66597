//! The request rules every client call passes through (core::request): arbitrary message lists,
//! SMBus operations and addresses. They must never panic, and what they accept must be within
//! the contract's limits.

#![no_main]

use i2c_hal_core::request::{
    validate_address, validate_transfer, Message, SmbusOp, MAX_MESSAGES, MAX_TRANSFER_BYTES,
    SMBUS_BLOCK_MAX,
};
use libfuzzer_sys::fuzz_target;

/// Reads the fuzz input as a little program of requests.
struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn byte(&mut self) -> Option<u8> {
        let (first, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(*first)
    }

    fn word(&mut self) -> Option<u16> {
        Some(u16::from_le_bytes([self.byte()?, self.byte()?]))
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        let len = len.min(self.0.len());
        let (taken, rest) = self.0.split_at(len);
        self.0 = rest;
        taken.to_vec()
    }
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    let mut messages = Vec::new();
    while let Some(kind) = input.byte() {
        match kind % 4 {
            0 => messages.push(Message::Read(usize::from(input.word().unwrap_or(0)) * 3)),
            1 => {
                let len = usize::from(input.byte().unwrap_or(0));
                messages.push(Message::Write(input.bytes(len)));
            }
            2 => {
                let address = i64::from(input.word().unwrap_or(0)) - 512;
                let ten_bit = kind & 4 != 0;
                if let Ok(valid) = validate_address(address, ten_bit) {
                    assert!(valid <= if ten_bit { 0x3ff } else { 0x77 });
                }
            }
            _ => {
                let command = input.byte().unwrap_or(0);
                let len = usize::from(input.byte().unwrap_or(0));
                let op = match kind % 3 {
                    0 => SmbusOp::WriteBlockData(command, input.bytes(len)),
                    1 => SmbusOp::BlockProcessCall(command, input.bytes(len)),
                    _ => SmbusOp::ReadI2cBlockData(command, len),
                };
                if op.validate().is_ok() {
                    assert!(len >= 1 && len <= SMBUS_BLOCK_MAX || !matches!(op, SmbusOp::ReadI2cBlockData(..)));
                }
                let _ = (op.name(), op.required_functionality(), op.class());
            }
        }
    }
    if validate_transfer(&messages).is_ok() {
        assert!(!messages.is_empty() && messages.len() <= MAX_MESSAGES);
        let total: usize = messages.iter().map(Message::len).sum();
        assert!(total <= MAX_TRANSFER_BYTES, "{total} bytes accepted");
        assert!(messages.iter().all(|m| !m.is_empty()));
    }
});
