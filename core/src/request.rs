//! What a client may ask of a bus, validated before it reaches a device. Only plain reads and
//! writes exist here: adapter-wide knobs (I2C_TIMEOUT, I2C_RETRIES), I2C_SLAVE_FORCE and message
//! flags such as IGNORE_NAK or NOSTART have no representation, so no client can reach them.

use super::error::{Error, ErrorCode, Result};
use std::borrow::Cow;

/// I2C_RDWR_IOCTL_MAX_MSGS in include/uapi/linux/i2c-dev.h.
pub const MAX_MESSAGES: usize = 42;
/// i2c-dev refuses messages longer than 8192 bytes (drivers/i2c/i2c-dev.c).
pub const MAX_MESSAGE_LEN: usize = 8192;
/// Bytes (read plus written) one call may move: the contract's II2cSession.MAX_TRANSFER_BYTES.
/// At 100 kHz a byte takes 9 clocks (90 us): 4096 bytes and an address byte for each of 42
/// messages hold the bus for about 373 ms (376 ms with 10-bit addresses), so the longest legal
/// call delays a removal, which waits for the transfer in flight, by less than 500 ms. It also
/// keeps a call far below binder's 1 MB per process for transactions in flight.
pub const MAX_TRANSFER_BYTES: usize = 4096;
/// I2C_SMBUS_BLOCK_MAX in include/uapi/linux/i2c.h.
pub const SMBUS_BLOCK_MAX: usize = 32;
/// 0x00-0x07 and 0x78-0x7f are reserved by the I2C specification.
pub const FIRST_ADDRESS: u16 = 0x08;
pub const LAST_ADDRESS: u16 = 0x77;
/// The highest 10-bit address (I2C_TENBIT, include/uapi/linux/i2c-dev.h: 0..0x3ff).
pub const LAST_TEN_BIT_ADDRESS: u16 = 0x3ff;

/// Functionality bits from include/uapi/linux/i2c.h (I2C_FUNCS result), kernel names kept.
pub mod func {
    pub const I2C_FUNC_I2C: u64 = 0x0000_0001;
    pub const I2C_FUNC_10BIT_ADDR: u64 = 0x0000_0002;
    pub const I2C_FUNC_SMBUS_BLOCK_PROC_CALL: u64 = 0x0000_8000;
    pub const I2C_FUNC_SMBUS_QUICK: u64 = 0x0001_0000;
    pub const I2C_FUNC_SMBUS_READ_BYTE: u64 = 0x0002_0000;
    pub const I2C_FUNC_SMBUS_WRITE_BYTE: u64 = 0x0004_0000;
    pub const I2C_FUNC_SMBUS_READ_BYTE_DATA: u64 = 0x0008_0000;
    pub const I2C_FUNC_SMBUS_WRITE_BYTE_DATA: u64 = 0x0010_0000;
    pub const I2C_FUNC_SMBUS_READ_WORD_DATA: u64 = 0x0020_0000;
    pub const I2C_FUNC_SMBUS_WRITE_WORD_DATA: u64 = 0x0040_0000;
    pub const I2C_FUNC_SMBUS_READ_BLOCK_DATA: u64 = 0x0100_0000;
    pub const I2C_FUNC_SMBUS_WRITE_BLOCK_DATA: u64 = 0x0200_0000;
    pub const I2C_FUNC_SMBUS_READ_I2C_BLOCK: u64 = 0x0400_0000;
    pub const I2C_FUNC_SMBUS_WRITE_I2C_BLOCK: u64 = 0x0800_0000;
    pub const I2C_FUNC_SMBUS_PEC: u64 = 0x0000_0008;
    pub const I2C_FUNC_SMBUS_PROC_CALL: u64 = 0x0080_0000;
    /// I2C_FUNC_SMBUS_EMUL: what the kernel emulates on top of plain I2C (no SMBus block read).
    pub const I2C_FUNC_SMBUS_EMUL: u64 = I2C_FUNC_SMBUS_QUICK
        | I2C_FUNC_SMBUS_READ_BYTE
        | I2C_FUNC_SMBUS_WRITE_BYTE
        | I2C_FUNC_SMBUS_READ_BYTE_DATA
        | I2C_FUNC_SMBUS_WRITE_BYTE_DATA
        | I2C_FUNC_SMBUS_READ_WORD_DATA
        | I2C_FUNC_SMBUS_WRITE_WORD_DATA
        | I2C_FUNC_SMBUS_PROC_CALL
        | I2C_FUNC_SMBUS_WRITE_BLOCK_DATA
        | I2C_FUNC_SMBUS_READ_I2C_BLOCK
        | I2C_FUNC_SMBUS_WRITE_I2C_BLOCK
        | I2C_FUNC_SMBUS_PEC;

    /// The kernel name of each bit above, for messages that say what an adapter lacks.
    pub const NAMES: [(u64, &str); 16] = [
        (I2C_FUNC_I2C, "I2C_FUNC_I2C"),
        (I2C_FUNC_10BIT_ADDR, "I2C_FUNC_10BIT_ADDR"),
        (I2C_FUNC_SMBUS_BLOCK_PROC_CALL, "I2C_FUNC_SMBUS_BLOCK_PROC_CALL"),
        (I2C_FUNC_SMBUS_PEC, "I2C_FUNC_SMBUS_PEC"),
        (I2C_FUNC_SMBUS_QUICK, "I2C_FUNC_SMBUS_QUICK"),
        (I2C_FUNC_SMBUS_READ_BYTE, "I2C_FUNC_SMBUS_READ_BYTE"),
        (I2C_FUNC_SMBUS_WRITE_BYTE, "I2C_FUNC_SMBUS_WRITE_BYTE"),
        (I2C_FUNC_SMBUS_READ_BYTE_DATA, "I2C_FUNC_SMBUS_READ_BYTE_DATA"),
        (I2C_FUNC_SMBUS_WRITE_BYTE_DATA, "I2C_FUNC_SMBUS_WRITE_BYTE_DATA"),
        (I2C_FUNC_SMBUS_READ_WORD_DATA, "I2C_FUNC_SMBUS_READ_WORD_DATA"),
        (I2C_FUNC_SMBUS_WRITE_WORD_DATA, "I2C_FUNC_SMBUS_WRITE_WORD_DATA"),
        (I2C_FUNC_SMBUS_PROC_CALL, "I2C_FUNC_SMBUS_PROC_CALL"),
        (I2C_FUNC_SMBUS_READ_BLOCK_DATA, "I2C_FUNC_SMBUS_READ_BLOCK_DATA"),
        (I2C_FUNC_SMBUS_WRITE_BLOCK_DATA, "I2C_FUNC_SMBUS_WRITE_BLOCK_DATA"),
        (I2C_FUNC_SMBUS_READ_I2C_BLOCK, "I2C_FUNC_SMBUS_READ_I2C_BLOCK"),
        (I2C_FUNC_SMBUS_WRITE_I2C_BLOCK, "I2C_FUNC_SMBUS_WRITE_I2C_BLOCK"),
    ];
}

/// The kernel names of the bits of `required` that `available` lacks, joined with " | ", or
/// None if none is missing. Bits without a name in `func::NAMES` show as "I2C_FUNC_(unknown)".
pub fn missing_functionality(available: u64, required: u64) -> Option<String> {
    let missing = required & !available;
    if missing == 0 {
        return None;
    }
    let mut names: Vec<&str> =
        func::NAMES.iter().filter(|(bit, _)| missing & bit != 0).map(|(_, name)| *name).collect();
    let named = func::NAMES.iter().fold(0, |all, (bit, _)| all | bit);
    if missing & !named != 0 {
        names.push("I2C_FUNC_(unknown)");
    }
    Some(names.join(" | "))
}

/// Refuses, with NOT_SUPPORTED, an operation needing `required` on an adapter whose I2C_FUNCS
/// is `available`. The one functionality check: backends do not repeat it.
#[inline]
pub fn require_functionality(available: u64, required: u64) -> Result<()> {
    // Checked inline: only a refusal needs the names of what is missing.
    if required & !available == 0 {
        return Ok(());
    }
    let Some(missing) = missing_functionality(available, required) else {
        return Ok(());
    };
    // Plain I2C missing is the one case with an alternative the client can take.
    let hint = if required & !available & func::I2C_FUNC_I2C != 0 {
        " (SMBus-only adapter: use SMBus operations)"
    } else {
        ""
    };
    Err(Error::new(
        ErrorCode::NotSupported,
        format!("functionality {available:#x} lacks {missing}{hint}"),
    ))
}

/// One message of a combined transfer; the address is always the session's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    Read(usize),
    Write(Vec<u8>),
}

impl Message {
    pub fn is_read(&self) -> bool {
        self.view().is_read()
    }

    /// Bytes on the wire: read for a read, written for a write.
    pub fn len(&self) -> usize {
        self.view().len()
    }

    pub fn is_empty(&self) -> bool {
        self.view().is_empty()
    }
}

/// A message as the broker and the devices read it: borrowed, so that a transfer arriving over
/// binder is checked and run without a copy of its write data (on a 42-message transfer those
/// copies were a large share of the service's own instructions; docs/perf.md, 'Cost of the
/// service's own code').
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageRef<'a> {
    Read(usize),
    Write(&'a [u8]),
}

impl MessageRef<'_> {
    pub fn is_read(&self) -> bool {
        matches!(self, MessageRef::Read(_))
    }

    /// Bytes on the wire: read for a read, written for a write.
    pub fn len(&self) -> usize {
        match self {
            MessageRef::Read(len) => *len,
            MessageRef::Write(data) => data.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What a transfer can be made of: owned messages (clients, tests) or borrowed ones (the
/// service, straight from the binder parcel).
pub trait AsMessage: Sized {
    fn view(&self) -> MessageRef<'_>;

    /// The messages as devices take them; borrowed as they are when they are views already.
    fn views(messages: &[Self]) -> Cow<'_, [MessageRef<'_>]> {
        Cow::Owned(messages.iter().map(Self::view).collect())
    }
}

impl AsMessage for Message {
    fn view(&self) -> MessageRef<'_> {
        match self {
            Message::Read(len) => MessageRef::Read(*len),
            Message::Write(data) => MessageRef::Write(data),
        }
    }
}

impl AsMessage for MessageRef<'_> {
    fn view(&self) -> MessageRef<'_> {
        *self
    }

    fn views(messages: &[Self]) -> Cow<'_, [MessageRef<'_>]> {
        Cow::Borrowed(messages)
    }
}

/// The SMBus protocol forms a session may use (I2C_SMBUS ioctl sizes), with their data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SmbusOp {
    Quick {
        read: bool,
    },
    ReadByte,
    WriteByte(u8),
    ReadByteData(u8),
    WriteByteData(u8, u8),
    ReadWordData(u8),
    WriteWordData(u8, u16),
    ReadBlockData(u8),
    WriteBlockData(u8, Vec<u8>),
    ReadI2cBlockData(u8, usize),
    WriteI2cBlockData(u8, Vec<u8>),
    /// Writes a word to a command, reads a word back.
    ProcessCall(u8, u16),
    /// Writes a block to a command, reads a block back.
    BlockProcessCall(u8, Vec<u8>),
}

/// What an SMBus operation returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SmbusValue {
    None,
    Byte(u8),
    Word(u16),
    Block(Vec<u8>),
}

/// The class of an operation, for policy decisions and what a session reports it may do
/// (the contract's II2cSession.OP_* classes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OperationClass {
    /// Reads without a register: quick with the read bit, receive byte, a one-message read.
    Read,
    /// Writes without a register: quick with the write bit, send byte, a one-message write.
    Write,
    /// Register access: the SMBus forms with a command byte, process calls included.
    Register,
    /// Combined transfers of several messages (I2C_RDWR), which can do anything the device
    /// allows.
    RawTransfer,
}

impl OperationClass {
    pub const ALL: [OperationClass; 4] = [
        OperationClass::Read,
        OperationClass::Write,
        OperationClass::Register,
        OperationClass::RawTransfer,
    ];

    /// The class of a combined transfer: one message is a plain read or write, more are raw.
    pub fn of_transfer(messages: &[impl AsMessage]) -> OperationClass {
        match messages {
            [only] if only.view().is_read() => OperationClass::Read,
            [_] => OperationClass::Write,
            _ => OperationClass::RawTransfer,
        }
    }

    /// Whether an adapter with `functionality` can do anything of this class at all.
    pub fn supported_by(self, functionality: u64) -> bool {
        use func::*;
        let needs_any = match self {
            OperationClass::Read => I2C_FUNC_I2C | I2C_FUNC_SMBUS_QUICK | I2C_FUNC_SMBUS_READ_BYTE,
            OperationClass::Write => {
                I2C_FUNC_I2C | I2C_FUNC_SMBUS_QUICK | I2C_FUNC_SMBUS_WRITE_BYTE
            }
            OperationClass::Register => {
                I2C_FUNC_SMBUS_READ_BYTE_DATA
                    | I2C_FUNC_SMBUS_WRITE_BYTE_DATA
                    | I2C_FUNC_SMBUS_READ_WORD_DATA
                    | I2C_FUNC_SMBUS_WRITE_WORD_DATA
                    | I2C_FUNC_SMBUS_PROC_CALL
                    | I2C_FUNC_SMBUS_READ_BLOCK_DATA
                    | I2C_FUNC_SMBUS_WRITE_BLOCK_DATA
                    | I2C_FUNC_SMBUS_BLOCK_PROC_CALL
                    | I2C_FUNC_SMBUS_READ_I2C_BLOCK
                    | I2C_FUNC_SMBUS_WRITE_I2C_BLOCK
            }
            OperationClass::RawTransfer => I2C_FUNC_I2C,
        };
        functionality & needs_any != 0
    }
}

/// A set of operation classes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OperationSet(u8);

impl OperationSet {
    fn bit(class: OperationClass) -> u8 {
        1 << OperationClass::ALL.iter().position(|c| *c == class).unwrap_or(0)
    }

    pub fn with(self, class: OperationClass) -> OperationSet {
        OperationSet(self.0 | Self::bit(class))
    }

    pub fn contains(self, class: OperationClass) -> bool {
        self.0 & Self::bit(class) != 0
    }

    /// The classes in both sets.
    pub fn intersection(self, other: OperationSet) -> OperationSet {
        OperationSet(self.0 & other.0)
    }

    pub fn classes(self) -> impl Iterator<Item = OperationClass> {
        OperationClass::ALL.into_iter().filter(move |c| self.contains(*c))
    }

    /// Everything an adapter with `functionality` can do.
    pub fn supported_by(functionality: u64) -> OperationSet {
        OperationClass::ALL
            .into_iter()
            .filter(|c| c.supported_by(functionality))
            .fold(OperationSet::default(), OperationSet::with)
    }
}

impl SmbusOp {
    /// The protocol's name, as the SMBus specification and kernel documentation call it.
    pub fn name(&self) -> &'static str {
        match self {
            SmbusOp::Quick { .. } => "quick",
            SmbusOp::ReadByte => "read byte",
            SmbusOp::WriteByte(_) => "write byte",
            SmbusOp::ReadByteData(_) => "read byte data",
            SmbusOp::WriteByteData(..) => "write byte data",
            SmbusOp::ReadWordData(_) => "read word data",
            SmbusOp::WriteWordData(..) => "write word data",
            SmbusOp::ReadBlockData(_) => "read block data",
            SmbusOp::WriteBlockData(..) => "write block data",
            SmbusOp::ReadI2cBlockData(..) => "read I2C block data",
            SmbusOp::WriteI2cBlockData(..) => "write I2C block data",
            SmbusOp::ProcessCall(..) => "process call",
            SmbusOp::BlockProcessCall(..) => "block process call",
        }
    }

    /// The I2C_FUNC bit the adapter must have for this operation.
    pub fn required_functionality(&self) -> u64 {
        use func::*;
        match self {
            SmbusOp::Quick { .. } => I2C_FUNC_SMBUS_QUICK,
            SmbusOp::ReadByte => I2C_FUNC_SMBUS_READ_BYTE,
            SmbusOp::WriteByte(_) => I2C_FUNC_SMBUS_WRITE_BYTE,
            SmbusOp::ReadByteData(_) => I2C_FUNC_SMBUS_READ_BYTE_DATA,
            SmbusOp::WriteByteData(..) => I2C_FUNC_SMBUS_WRITE_BYTE_DATA,
            SmbusOp::ReadWordData(_) => I2C_FUNC_SMBUS_READ_WORD_DATA,
            SmbusOp::WriteWordData(..) => I2C_FUNC_SMBUS_WRITE_WORD_DATA,
            SmbusOp::ReadBlockData(_) => I2C_FUNC_SMBUS_READ_BLOCK_DATA,
            SmbusOp::WriteBlockData(..) => I2C_FUNC_SMBUS_WRITE_BLOCK_DATA,
            SmbusOp::ReadI2cBlockData(..) => I2C_FUNC_SMBUS_READ_I2C_BLOCK,
            SmbusOp::WriteI2cBlockData(..) => I2C_FUNC_SMBUS_WRITE_I2C_BLOCK,
            SmbusOp::ProcessCall(..) => I2C_FUNC_SMBUS_PROC_CALL,
            SmbusOp::BlockProcessCall(..) => I2C_FUNC_SMBUS_BLOCK_PROC_CALL,
        }
    }

    pub fn class(&self) -> OperationClass {
        match self {
            SmbusOp::Quick { read: true } | SmbusOp::ReadByte => OperationClass::Read,
            SmbusOp::Quick { read: false } | SmbusOp::WriteByte(_) => OperationClass::Write,
            _ => OperationClass::Register,
        }
    }

    /// Checks the lengths the kernel would refuse, so the client gets a precise code.
    pub fn validate(&self) -> Result<()> {
        match self {
            SmbusOp::WriteBlockData(_, data)
            | SmbusOp::WriteI2cBlockData(_, data)
            | SmbusOp::BlockProcessCall(_, data) => check_block_len(data.len()),
            SmbusOp::ReadI2cBlockData(_, len) => check_block_len(*len),
            _ => Ok(()),
        }
    }
}

fn check_block_len(len: usize) -> Result<()> {
    if len == 0 {
        return Err(Error::new(ErrorCode::InvalidArgument, "SMBus block of 0 bytes"));
    }
    if len > SMBUS_BLOCK_MAX {
        return Err(Error::new(
            ErrorCode::TooLarge,
            format!("SMBus block of {len} bytes (at most {SMBUS_BLOCK_MAX})"),
        ));
    }
    Ok(())
}

/// Checks an address: 7-bit and not reserved, or 10-bit (0x000..0x3ff) where `ten_bit`.
pub fn validate_address(address: i64, ten_bit: bool) -> Result<u16> {
    let range = if ten_bit {
        0..=LAST_TEN_BIT_ADDRESS as i64
    } else {
        FIRST_ADDRESS as i64..=LAST_ADDRESS as i64
    };
    if !range.contains(&address) {
        // Built only for a refusal: every session open passes through here.
        let limits = if ten_bit {
            format!("0x000..0x{LAST_TEN_BIT_ADDRESS:03x} (10-bit)")
        } else {
            format!(
                "0x{FIRST_ADDRESS:02x}..0x{LAST_ADDRESS:02x} (7-bit, reserved addresses \
                 excluded; 10-bit addresses need the ten-bit flag)"
            )
        };
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            format!("address {address:#04x} is outside {limits}"),
        ));
    }
    Ok(address as u16)
}

/// What a valid combined transfer is made of, as `validate_transfer` found it on its one pass:
/// what a device sizes its replies by and the broker counts, without another pass.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TransferShape {
    /// Read messages (the replies a device hands back).
    pub reads: usize,
    /// Bytes the write messages carry.
    pub written: usize,
}

/// Checks a combined transfer against the limits of I2C_RDWR. The one home of that rule: the
/// broker applies it to every transfer, and the backends call it again rather than keep a copy.
/// One pass over the messages; the slow path that names an empty message runs only on refusal.
pub fn validate_transfer(messages: &[impl AsMessage]) -> Result<TransferShape> {
    if messages.is_empty() {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            "a transfer needs at least one message",
        ));
    }
    if messages.len() > MAX_MESSAGES {
        return Err(Error::new(
            ErrorCode::TooLarge,
            format!("{} messages in one transfer (at most {MAX_MESSAGES})", messages.len()),
        ));
    }
    let mut shape = TransferShape::default();
    let mut read: usize = 0;
    let mut any_empty = false;
    for message in messages {
        let len = match message.view() {
            MessageRef::Read(len) => {
                shape.reads += 1;
                read = read.saturating_add(len);
                len
            }
            MessageRef::Write(data) => {
                shape.written = shape.written.saturating_add(data.len());
                data.len()
            }
        };
        any_empty |= len == 0;
    }
    if any_empty {
        return Err(empty_message(messages));
    }
    // The per-call total subsumes i2c-dev's own 8192 bytes per message (MAX_MESSAGE_LEN).
    let total = read.saturating_add(shape.written);
    if total > MAX_TRANSFER_BYTES {
        return Err(Error::new(
            ErrorCode::TooLarge,
            format!(
                "{total} bytes in one transfer (at most {MAX_TRANSFER_BYTES}, so that no call \
                 holds the bus for more than 500 ms at 100 kHz)"
            ),
        ));
    }
    Ok(shape)
}

/// The refusal of a transfer with an empty message, naming the first one.
#[cold]
fn empty_message(messages: &[impl AsMessage]) -> Error {
    let index = messages.iter().position(|m| m.view().is_empty()).unwrap_or_default();
    Error::new(ErrorCode::InvalidArgument, format!("message {index} has length 0"))
}

/// Parses a number as i2c-tools users type it, decimal or 0x-hex (i2cctl, usb-i2c-module).
/// Signs and other prefixes are refused: nothing here is negative.
pub fn parse_number(text: &str) -> std::result::Result<u64, String> {
    let (digits, radix) = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => (hex, 16),
        None => (text, 10),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return Err(format!("'{text}' is not a number (decimal or 0x-hex)"));
    }
    u64::from_str_radix(digits, radix).map_err(|_| format!("'{text}' is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_outside_the_7_bit_unreserved_range_are_refused() {
        assert_eq!(validate_address(0x50, false), Ok(0x50));
        assert_eq!(validate_address(0x08, false), Ok(0x08));
        assert_eq!(validate_address(0x77, false), Ok(0x77));
        for bad in [-1, 0, 0x07, 0x78, 0x7f, 0x80, 0x3ff, i64::MAX] {
            let err = validate_address(bad, false).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidArgument);
        }
    }

    #[test]
    fn ten_bit_addresses_span_0_to_0x3ff() {
        for good in [0, 0x07, 0x50, 0x78, 0x3ff] {
            assert_eq!(validate_address(good, true), Ok(good as u16));
        }
        for bad in [-1, 0x400, i64::MAX] {
            let err = validate_address(bad, true).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidArgument);
            assert!(err.message.contains("10-bit"), "{}", err.message);
        }
    }

    #[test]
    fn transfers_are_checked_against_i2c_rdwr_limits() {
        assert_eq!(
            validate_transfer(&[Message::Write(vec![0, 1]), Message::Read(4), Message::Read(1)]),
            Ok(TransferShape { reads: 2, written: 2 })
        );
        let err = validate_transfer(&[Message::Read(1), Message::Write(vec![]), Message::Read(0)])
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidArgument);
        assert!(err.message.contains("message 1 "), "{}", err.message);
        // An empty message is refused as such even when the total is also too large.
        let err = validate_transfer(&[Message::Read(usize::MAX), Message::Read(0)]).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidArgument);
        assert!(err.message.contains("message 1 "), "{}", err.message);
        let err =
            validate_transfer(&[Message::Read(usize::MAX), Message::Read(usize::MAX)]).unwrap_err();
        assert_eq!(err.code, ErrorCode::TooLarge);
        assert_eq!(
            validate_transfer(&[] as &[Message]).unwrap_err().code,
            ErrorCode::InvalidArgument
        );
        assert_eq!(
            validate_transfer(&[Message::Read(0)]).unwrap_err().code,
            ErrorCode::InvalidArgument
        );
        assert_eq!(
            validate_transfer(&[Message::Write(vec![])]).unwrap_err().code,
            ErrorCode::InvalidArgument
        );
        assert_eq!(
            validate_transfer(&[Message::Read(MAX_MESSAGE_LEN + 1)]).unwrap_err().code,
            ErrorCode::TooLarge
        );
        let too_many = vec![Message::Read(1); MAX_MESSAGES + 1];
        assert_eq!(validate_transfer(&too_many).unwrap_err().code, ErrorCode::TooLarge);
        assert!(validate_transfer(&too_many[..MAX_MESSAGES]).is_ok());
    }

    #[test]
    fn a_call_moves_at_most_max_transfer_bytes_in_all() {
        let at_the_cap = [Message::Write(vec![0; 96]), Message::Read(MAX_TRANSFER_BYTES - 96)];
        assert!(validate_transfer(&at_the_cap).is_ok());
        let one_past = [Message::Write(vec![0; 97]), Message::Read(MAX_TRANSFER_BYTES - 96)];
        let err = validate_transfer(&one_past).unwrap_err();
        assert_eq!(err.code, ErrorCode::TooLarge);
        assert!(err.message.contains("4097 bytes"), "{}", err.message);
        assert!(validate_transfer(&[Message::Read(MAX_TRANSFER_BYTES)]).is_ok());
        let err = validate_transfer(&[Message::Read(MAX_TRANSFER_BYTES + 1)]).unwrap_err();
        assert_eq!(err.code, ErrorCode::TooLarge);
        // The kernel's per-message limit is above the cap: the cap is the rule that bites.
        // (An item, not an inline `const {}` block: those need Rust 1.79, Android 15 has 1.78.)
        const _: () = assert!(MAX_TRANSFER_BYTES < MAX_MESSAGE_LEN);
        // 4096 bytes and 42 address bytes, 9 clocks each at 100 kHz, stay under 500 ms.
        let wire_micros = (MAX_TRANSFER_BYTES + MAX_MESSAGES) * 9 * 10;
        assert!(wire_micros < 500_000, "{wire_micros} us");
    }

    #[test]
    fn operations_fall_into_the_contract_classes() {
        use OperationClass::*;
        assert_eq!(SmbusOp::Quick { read: true }.class(), Read);
        assert_eq!(SmbusOp::ReadByte.class(), Read);
        assert_eq!(SmbusOp::Quick { read: false }.class(), Write);
        assert_eq!(SmbusOp::WriteByte(1).class(), Write);
        for op in [
            SmbusOp::ReadByteData(0),
            SmbusOp::WriteWordData(0, 1),
            SmbusOp::ReadBlockData(0),
            SmbusOp::ReadI2cBlockData(0, 2),
            SmbusOp::ProcessCall(0, 1),
            SmbusOp::BlockProcessCall(0, vec![1]),
        ] {
            assert_eq!(op.class(), Register, "{op:?}");
        }
        assert_eq!(OperationClass::of_transfer(&[Message::Read(1)]), Read);
        assert_eq!(OperationClass::of_transfer(&[Message::Write(vec![1])]), Write);
        let combined = [Message::Write(vec![0]), Message::Read(1)];
        assert_eq!(OperationClass::of_transfer(&combined), RawTransfer);
    }

    #[test]
    fn what_an_adapter_supports_follows_its_functionality() {
        use func::*;
        let smbus_only = OperationSet::supported_by(I2C_FUNC_SMBUS_EMUL & !I2C_FUNC_I2C);
        assert!(smbus_only.contains(OperationClass::Read));
        assert!(smbus_only.contains(OperationClass::Register));
        assert!(!smbus_only.contains(OperationClass::RawTransfer));
        let plain_i2c = OperationSet::supported_by(I2C_FUNC_I2C);
        assert!(plain_i2c.contains(OperationClass::RawTransfer));
        assert!(!plain_i2c.contains(OperationClass::Register));
        assert_eq!(OperationSet::supported_by(0).classes().count(), 0);
        let all = OperationSet::supported_by(I2C_FUNC_I2C | I2C_FUNC_SMBUS_EMUL);
        assert_eq!(all.classes().collect::<Vec<_>>(), OperationClass::ALL);
        assert_eq!(all.intersection(smbus_only), smbus_only);
        assert_eq!(
            plain_i2c.intersection(smbus_only),
            OperationSet::default().with(OperationClass::Read).with(OperationClass::Write)
        );
    }

    #[test]
    fn process_calls_need_their_own_functionality_and_bounded_blocks() {
        use func::*;
        assert_eq!(SmbusOp::ProcessCall(0, 1).required_functionality(), I2C_FUNC_SMBUS_PROC_CALL);
        let block = SmbusOp::BlockProcessCall(0, vec![1]);
        assert_eq!(block.required_functionality(), I2C_FUNC_SMBUS_BLOCK_PROC_CALL);
        assert!(block.validate().is_ok());
        let empty = SmbusOp::BlockProcessCall(0, vec![]).validate().unwrap_err();
        assert_eq!(empty.code, ErrorCode::InvalidArgument);
        let long = SmbusOp::BlockProcessCall(0, vec![1; 33]).validate().unwrap_err();
        assert_eq!(long.code, ErrorCode::TooLarge);
    }

    #[test]
    fn missing_functionality_names_the_kernel_bit() {
        use func::*;
        assert_eq!(missing_functionality(I2C_FUNC_I2C, I2C_FUNC_I2C), None);
        assert_eq!(
            missing_functionality(I2C_FUNC_SMBUS_EMUL, I2C_FUNC_I2C).as_deref(),
            Some("I2C_FUNC_I2C")
        );
        assert_eq!(
            missing_functionality(I2C_FUNC_SMBUS_EMUL, I2C_FUNC_SMBUS_READ_BLOCK_DATA).as_deref(),
            Some("I2C_FUNC_SMBUS_READ_BLOCK_DATA")
        );
        assert_eq!(missing_functionality(I2C_FUNC_SMBUS_EMUL, I2C_FUNC_SMBUS_READ_BYTE_DATA), None);
        assert_eq!(missing_functionality(0, 1 << 40).as_deref(), Some("I2C_FUNC_(unknown)"));
        for op in [SmbusOp::ReadBlockData(0), SmbusOp::Quick { read: true }] {
            assert!(missing_functionality(0, op.required_functionality()).is_some());
        }
    }

    #[test]
    fn every_missing_bit_is_named() {
        use func::*;
        let required = I2C_FUNC_I2C | I2C_FUNC_SMBUS_QUICK | 1 << 40;
        assert_eq!(
            missing_functionality(I2C_FUNC_SMBUS_QUICK, required).as_deref(),
            Some("I2C_FUNC_I2C | I2C_FUNC_(unknown)")
        );
        let all_named = NAMES.iter().fold(0, |all, (bit, _)| all | bit);
        assert_eq!(missing_functionality(0, all_named).unwrap().matches("I2C_FUNC_").count(), 16);
    }

    #[test]
    fn required_functionality_is_checked_by_kernel_name() {
        use func::*;
        assert_eq!(require_functionality(I2C_FUNC_SMBUS_EMUL, I2C_FUNC_SMBUS_QUICK), Ok(()));
        let err =
            require_functionality(I2C_FUNC_SMBUS_EMUL, I2C_FUNC_SMBUS_READ_BLOCK_DATA).unwrap_err();
        assert_eq!(err.code, ErrorCode::NotSupported);
        assert!(err.message.contains("lacks I2C_FUNC_SMBUS_READ_BLOCK_DATA"), "{}", err.message);
        assert!(!err.message.contains("SMBus-only"), "{}", err.message);
        let err = require_functionality(I2C_FUNC_SMBUS_EMUL, I2C_FUNC_I2C).unwrap_err();
        assert_eq!(err.code, ErrorCode::NotSupported);
        assert!(err.message.contains("lacks I2C_FUNC_I2C"), "{}", err.message);
        assert!(
            err.message.contains("SMBus-only adapter: use SMBus operations"),
            "{}",
            err.message
        );
    }

    #[test]
    fn smbus_blocks_are_limited_to_32_bytes() {
        assert!(SmbusOp::WriteBlockData(0, vec![1; 32]).validate().is_ok());
        assert_eq!(
            SmbusOp::WriteBlockData(0, vec![1; 33]).validate().unwrap_err().code,
            ErrorCode::TooLarge
        );
        assert_eq!(
            SmbusOp::ReadI2cBlockData(0, 0).validate().unwrap_err().code,
            ErrorCode::InvalidArgument
        );
    }
}
