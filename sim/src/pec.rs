//! The SMBus packet error code: CRC-8 with polynomial x^8 + x^2 + x + 1 (0x07), initial value 0,
//! no reflection and no final XOR (SMBus 2.0, section 5.4.1.1), over every byte of a transaction
//! on the wire: the address byte with its R/W bit at each (repeated) START, the command and the
//! data. The host (simulated adapters) and the target (simulated chips) each compute it, as on a
//! real bus, so a mismatch is something one side did, never an artefact of sharing code paths.

/// The PEC of `bytes`, continued from `crc` (0 at the START of a transaction). Bit by bit, as the
/// kernel's i2c_smbus_pec does (drivers/i2c/i2c-core-smbus.c), rather than by table: the model is
/// about clarity, not speed.
pub(super) fn pec(mut crc: u8, bytes: &[u8]) -> u8 {
    for byte in bytes {
        crc ^= byte;
        for _ in 0..8 {
            crc = if crc & 0x80 != 0 { (crc << 1) ^ 0x07 } else { crc << 1 };
        }
    }
    crc
}

/// The address byte as it goes on the wire: the 7-bit address and the R/W bit. SMBus has only
/// 7-bit addresses, and like the kernel's i2c_smbus_msg_pec this assumes one.
pub(super) fn address_byte(address: u16, read: bool) -> u8 {
    // Truncation is the kernel's too; the simulated adapters offer PEC on 7-bit targets only.
    ((address << 1) as u8) | u8::from(read)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_8_smbus_check_value() {
        // The catalogue check value of CRC-8/SMBUS (width 8, poly 0x07, init 0, no reflection,
        // no XOR out): the CRC of the ASCII digits "123456789".
        assert_eq!(pec(0, b"123456789"), 0xf4);
    }

    #[test]
    fn a_datasheet_read_word_example() {
        // Melexis MLX90614 datasheet, "SMBus read word" example: address 0x5a written (0xb4),
        // command 0x07, address 0x5a read (0xb5), data 0xd2 0x3a, PEC 0x30.
        let wire = [address_byte(0x5a, false), 0x07, address_byte(0x5a, true), 0xd2, 0x3a];
        assert_eq!(wire[..1], [0xb4]);
        assert_eq!(wire[2], 0xb5);
        assert_eq!(pec(0, &wire), 0x30);
    }

    #[test]
    fn single_bytes_and_continuation() {
        assert_eq!(pec(0, &[]), 0x00);
        assert_eq!(pec(0, &[0x00]), 0x00);
        assert_eq!(pec(0, &[0x01]), 0x07);
        assert_eq!(pec(0, &[0xff]), 0xf3);
        // Computing in pieces is the same as at once: a chip updates it byte by byte.
        let whole = pec(0, b"123456789");
        assert_eq!(pec(pec(pec(0, b"123"), b"4"), b"56789"), whole);
    }

    #[test]
    fn a_message_followed_by_its_pec_checks_to_zero() {
        // The property a receiver uses: running the CRC over the data and the PEC gives 0.
        for message in [&b"123456789"[..], &[0xb4, 0x01, 0x42], &[0x84]] {
            let mut with_pec = message.to_vec();
            with_pec.push(pec(0, message));
            assert_eq!(pec(0, &with_pec), 0, "{message:02x?}");
        }
    }
}
