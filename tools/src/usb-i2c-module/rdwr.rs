//! `rdwr`: one I2C_RDWR on a /dev/i2c-N, with 10-bit addresses allowed. The suite uses it to
//! show that the kernel path reaches the emulated 10-bit device (I2C_M_TEN in the message
//! flags, drivers/i2c/i2c-dev.c passes them through to i2c-tiny-usb), while the service's
//! contract cannot express such an address yet. Only for tests: apps go through the service.

use crate::devices::parse_u16;
use i2cdev::core::{I2CMessage, I2CTransfer};
use i2cdev::linux::{I2CMessageFlags, LinuxI2CBus, LinuxI2CMessage};

/// One message of an I2C_RDWR, with its own address (unlike the service's messages, which go
/// to their session's).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RdwrMessage {
    Write { address: u16, data: Vec<u8> },
    Read { address: u16, len: usize },
}

/// i2ctransfer's syntax: `w2@0x2a0 0x00 0x10 r4` (a message without `@ADDR` reuses the
/// previous address). Addresses above 0x7f are 10-bit.
pub fn parse(words: &[String]) -> Result<Vec<RdwrMessage>, String> {
    let mut messages = Vec::new();
    let mut address = None;
    let mut words = words.iter();
    while let Some(word) = words.next() {
        let (head, at) = match word.split_once('@') {
            Some((head, at)) => (head, Some(at)),
            None => (word.as_str(), None),
        };
        if let Some(at) = at {
            let value = parse_u16(at).filter(|&a| a <= 0x3ff);
            address = Some(value.ok_or_else(|| format!("bad address in {word:?}"))?);
        }
        let address = address.ok_or_else(|| format!("{word:?}: no address yet (use @ADDR)"))?;
        let len = head
            .get(1..)
            .and_then(parse_u16)
            .filter(|&len| (1..=8192).contains(&len))
            .ok_or_else(|| format!("{word:?}: expected r<LEN> or w<LEN>, LEN 1..8192"))?;
        let len = usize::from(len);
        messages.push(match head.as_bytes()[0] {
            b'r' => RdwrMessage::Read { address, len },
            b'w' => {
                let data = (&mut words)
                    .take(len)
                    .map(|byte| {
                        parse_u16(byte)
                            .and_then(|b| u8::try_from(b).ok())
                            .ok_or_else(|| format!("bad data byte {byte:?}"))
                    })
                    .collect::<Result<Vec<u8>, String>>()?;
                if data.len() != len {
                    return Err(format!("{word:?}: {len} data bytes expected"));
                }
                RdwrMessage::Write { address, data }
            }
            _ => return Err(format!("{word:?}: expected r<LEN> or w<LEN>")),
        });
    }
    if messages.is_empty() {
        return Err("no messages".to_string());
    }
    Ok(messages)
}

fn flags(address: u16, read: bool) -> I2CMessageFlags {
    let mut flags = I2CMessageFlags::empty();
    if read {
        flags |= I2CMessageFlags::READ;
    }
    if address > 0x7f {
        flags |= I2CMessageFlags::TEN_BIT_ADDRESS;
    }
    flags
}

/// Runs the transfer; returns each read message's bytes.
pub fn run(device: &str, messages: &[RdwrMessage]) -> Result<Vec<Vec<u8>>, String> {
    let mut bus = LinuxI2CBus::new(device).map_err(|e| format!("{device}: {e}"))?;
    let mut reads: Vec<Vec<u8>> = messages
        .iter()
        .filter_map(|m| match m {
            RdwrMessage::Read { len, .. } => Some(vec![0; *len]),
            RdwrMessage::Write { .. } => None,
        })
        .collect();
    {
        let mut buffers = reads.iter_mut();
        let mut linux: Vec<LinuxI2CMessage> = messages
            .iter()
            .map(|message| match message {
                RdwrMessage::Write { address, data } => LinuxI2CMessage::write(data)
                    .with_address(*address)
                    .with_flags(flags(*address, false)),
                RdwrMessage::Read { address, .. } => {
                    let buffer = buffers.next().expect("one buffer per read");
                    LinuxI2CMessage::read(buffer)
                        .with_address(*address)
                        .with_flags(flags(*address, true))
                }
            })
            .collect();
        bus.transfer(&mut linux).map_err(|e| format!("I2C_RDWR on {device}: {e}"))?;
    }
    Ok(reads)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn i2ctransfer_syntax_with_ten_bit_addresses() {
        assert_eq!(
            parse(&words("w1@0x2a0 0x10 r2")),
            Ok(vec![
                RdwrMessage::Write { address: 0x2a0, data: vec![0x10] },
                RdwrMessage::Read { address: 0x2a0, len: 2 }
            ])
        );
        assert!(parse(&words("r1")).unwrap_err().contains("no address"));
        assert!(parse(&words("w2@0x50 0x00")).unwrap_err().contains("2 data bytes"));
        assert!(parse(&words("w1@0x50 0x100")).is_err());
        assert!(parse(&words("r0@0x50")).is_err());
        assert!(parse(&words("x1@0x50")).is_err());
        assert!(parse(&words("r1@0x400")).is_err());
        assert!(parse(&[]).is_err());
        assert_eq!(flags(0x2a0, true).bits(), 0x0011, "I2C_M_RD | I2C_M_TEN");
        assert_eq!(flags(0x50, false).bits(), 0);
    }
}
