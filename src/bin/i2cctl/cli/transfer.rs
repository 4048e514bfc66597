//! i2ctransfer's message syntax: `{r|w}LENGTH[@ADDR]`, each write followed by exactly LENGTH data
//! bytes. A data byte may end in a suffix that fills the rest of its message, as in i2ctransfer:
//! `=` repeats it, `+` increments, `-` decrements, `p` is i2ctransfer's pseudo-random sequence.
//!
//! Unlike i2ctransfer, all messages go to one address: a session is opened per address, and the
//! whole transfer is one call on that session (repeated starts between the messages).

use super::number::{parse_address, parse_byte, parse_number};
use super::InputRefusal;
use i2c_hal_core::request::{Message, MAX_MESSAGES, MAX_MESSAGE_LEN};

/// A parsed command line transfer: the address every message goes to, and the messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedTransfer {
    pub address: u16,
    pub messages: Vec<Message>,
}

/// One `{r|w}LENGTH[@ADDR]` word.
#[derive(Debug)]
struct Descriptor {
    read: bool,
    len: usize,
    address: Option<u16>,
}

/// A write whose data bytes are still being collected.
struct PendingWrite<'a> {
    word: &'a str,
    len: usize,
    data: Vec<u8>,
}

/// Parses the MSG words. `session_address` is the address when a session already exists
/// (`hold`): messages may then omit `@ADDR`, and any address given must be the session's.
/// With `ten_bit` the addresses are 10-bit ones (`-t`), as with i2ctransfer's 10-bit flag.
pub fn parse_transfer(
    words: &[impl AsRef<str>],
    session_address: Option<u16>,
    ten_bit: bool,
) -> Result<ParsedTransfer, InputRefusal> {
    let mut address = session_address;
    let mut messages = Vec::new();
    let mut pending: Option<PendingWrite> = None;
    let mut last_write: Option<&str> = None;

    for word in words.iter().map(AsRef::as_ref) {
        if let Some(mut write) = pending.take() {
            let remaining = write.len - write.data.len();
            write.data.extend(expand_data_byte(word, remaining)?);
            if write.data.len() == write.len {
                last_write = Some(write.word);
                messages.push(Message::Write(write.data));
            } else {
                pending = Some(write);
            }
            continue;
        }
        let descriptor = parse_descriptor(word, last_write, ten_bit)?;
        address = Some(agree_on_address(word, descriptor.address, address, session_address)?);
        if descriptor.read {
            last_write = None;
            messages.push(Message::Read(descriptor.len));
        } else {
            pending = Some(PendingWrite { word, len: descriptor.len, data: Vec::new() });
        }
    }

    if let Some(write) = pending {
        return Err(format!(
            "message '{}' needs {} data byte(s), got {}",
            write.word,
            write.len,
            write.data.len()
        )
        .into());
    }
    check_message_count(messages.len())?;
    let address = address.ok_or("a transfer needs at least one message")?;
    Ok(ParsedTransfer { address, messages })
}

fn check_message_count(count: usize) -> Result<(), InputRefusal> {
    if count == 0 {
        return Err("a transfer needs at least one message".into());
    }
    if count > MAX_MESSAGES {
        let message = format!("{count} messages in one transfer (at most {MAX_MESSAGES})");
        return Err(InputRefusal::TooLarge(message));
    }
    Ok(())
}

/// The address this message goes to: its own `@ADDR`, or the one already in force.
fn agree_on_address(
    word: &str,
    given: Option<u16>,
    current: Option<u16>,
    session_address: Option<u16>,
) -> Result<u16, String> {
    match (given, current) {
        (None, Some(current)) => Ok(current),
        (None, None) => Err(format!(
            "message '{word}' has no address; give it on the first message, e.g. '{word}@0x50'"
        )),
        (Some(given), None) => Ok(given),
        (Some(given), Some(current)) if given == current => Ok(given),
        (Some(given), Some(current)) => {
            let scope = if session_address.is_some() { "this session" } else { "this transfer" };
            Err(format!(
                "message '{word}' goes to {given:#04x} but {scope} is for {current:#04x}: \
                 all messages of a transfer must use the same address (sessions are per address)"
            ))
        }
    }
}

fn parse_descriptor(
    word: &str,
    last_write: Option<&str>,
    ten_bit: bool,
) -> Result<Descriptor, InputRefusal> {
    let read = match word.chars().next() {
        Some('r') => true,
        Some('w') => false,
        _ => return Err(not_a_message(word, last_write).into()),
    };
    let rest = &word[1..];
    let (length_text, address_text) = match rest.split_once('@') {
        Some((length, address)) => (length, Some(address)),
        None => (rest, None),
    };
    if length_text == "?" {
        let message = format!("message '{word}': reads of device-given length are not supported");
        return Err(message.into());
    }
    let len = parse_number(length_text)
        .map_err(|_| format!("message '{word}' has no valid length after '{}'", &word[..1]))?;
    check_length(word, len)?;
    let address = address_text
        .map(|text| {
            parse_address(text, ten_bit).map_err(|reason| format!("message '{word}': {reason}"))
        })
        .transpose()?;
    Ok(Descriptor { read, len: len as usize, address })
}

fn check_length(word: &str, len: u64) -> Result<(), InputRefusal> {
    if len == 0 {
        return Err(format!("message '{word}' has length 0 (empty messages are not sent)").into());
    }
    if len > MAX_MESSAGE_LEN as u64 {
        let message = format!("message '{word}' is {len} bytes long (at most {MAX_MESSAGE_LEN})");
        return Err(InputRefusal::TooLarge(message));
    }
    Ok(())
}

/// A word that is not a descriptor: a surplus data byte after a complete write gets its own
/// message, since "too many bytes" is the likely mistake there.
fn not_a_message(word: &str, last_write: Option<&str>) -> String {
    match last_write {
        Some(write) if word.starts_with(|c: char| c.is_ascii_digit()) => {
            format!("too many data bytes: '{word}' follows the complete message '{write}'")
        }
        _ => format!("'{word}' is not a message (expected r<LEN>[@ADDR] or w<LEN>[@ADDR])"),
    }
}

/// One data word: a byte, or a byte with a suffix that fills the `remaining` bytes.
fn expand_data_byte(word: &str, remaining: usize) -> Result<Vec<u8>, String> {
    let (number, suffix) = match word.char_indices().last() {
        Some((at, suffix @ ('=' | '+' | '-' | 'p'))) => (&word[..at], Some(suffix)),
        _ => (word, None),
    };
    let first = parse_byte(number).map_err(|reason| format!("bad data byte '{word}': {reason}"))?;
    let Some(suffix) = suffix else {
        return Ok(vec![first]);
    };
    Ok(std::iter::successors(Some(first), |byte| Some(next_byte(*byte, suffix)))
        .take(remaining)
        .collect())
}

/// The byte after `byte` in a suffix sequence; wraps around like i2ctransfer's u8 arithmetic.
fn next_byte(byte: u8, suffix: char) -> u8 {
    match suffix {
        '+' => byte.wrapping_add(1),
        '-' => byte.wrapping_sub(1),
        // i2ctransfer's "pseudo randomness (8 bit AXR with a=13 and b=27)".
        'p' => ((byte ^ 27).wrapping_add(13)).rotate_left(1),
        _ => byte,
    }
}

/// i2ctransfer's output: one line per read message.
pub fn format_reads(reads: &[Vec<u8>]) -> Vec<String> {
    reads.iter().map(|bytes| super::number::format_bytes(bytes)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Result<ParsedTransfer, InputRefusal> {
        parse_transfer(&line.split_whitespace().collect::<Vec<_>>(), None, false)
    }

    fn parse_in_session(line: &str, address: u16) -> Result<ParsedTransfer, InputRefusal> {
        parse_transfer(&line.split_whitespace().collect::<Vec<_>>(), Some(address), false)
    }

    #[test]
    fn write_then_read_is_one_transfer_to_one_address() {
        let parsed = parse("w2@0x50 0x00 0x10 r4").unwrap();
        assert_eq!(parsed.address, 0x50);
        assert_eq!(parsed.messages, vec![Message::Write(vec![0x00, 0x10]), Message::Read(4)]);
    }

    #[test]
    fn later_messages_may_repeat_the_same_address() {
        let parsed = parse("w1@0x50 7 r2@80").unwrap();
        assert_eq!(parsed.messages, vec![Message::Write(vec![7]), Message::Read(2)]);
    }

    #[test]
    fn different_addresses_are_refused_by_name() {
        let error = parse("w1@0x50 0 r2@0x51").unwrap_err();
        assert!(error.contains("same address"), "{error}");
        assert!(error.contains("0x51") && error.contains("0x50"), "{error}");
        let error = parse_in_session("r1@0x51", 0x50).unwrap_err();
        assert!(error.contains("this session"), "{error}");
    }

    #[test]
    fn the_first_message_needs_an_address_unless_a_session_has_one() {
        let error = parse("r4").unwrap_err();
        assert!(error.contains("no address"), "{error}");
        assert!(parse("r4 w1@0x50 0").unwrap_err().contains("'r4'"));
        let parsed = parse_in_session("w1 0x10 r4", 0x50).unwrap();
        assert_eq!(parsed.address, 0x50);
        assert_eq!(parsed.messages, vec![Message::Write(vec![0x10]), Message::Read(4)]);
        assert_eq!(parse_in_session("r1@0x50", 0x50).unwrap().address, 0x50);
    }

    #[test]
    fn zero_length_and_oversized_messages_are_refused() {
        assert!(parse("w0@0x50").unwrap_err().contains("length 0"));
        assert!(parse("r0@0x50").unwrap_err().contains("length 0"));
        assert!(parse("r8193@0x50").unwrap_err().contains("at most 8192"));
        assert!(parse("r8192@0x50").is_ok());
        assert!(parse("r0x10@0x50").is_ok());
    }

    #[test]
    fn malformed_descriptors_are_refused() {
        assert!(parse("x1@0x50").unwrap_err().contains("not a message"));
        assert!(parse("r@0x50").unwrap_err().contains("no valid length"));
        assert!(parse("rq@0x50").unwrap_err().contains("no valid length"));
        assert!(parse("r?@0x50").unwrap_err().contains("not supported"));
        assert!(parse("r1@").unwrap_err().contains("not a number"));
        assert!(parse("r1@0xzz").unwrap_err().contains("not a number"));
        assert!(parse("").unwrap_err().contains("at least one message"));
    }

    #[test]
    fn addresses_above_0x7f_or_reserved_are_refused() {
        assert!(parse("r1@0x80").unwrap_err().contains("0x80"));
        assert!(parse("r1@0x3ff").is_err());
        assert!(parse("r1@0x03").is_err());
        assert!(parse("r1@0x78").is_err());
    }

    #[test]
    fn ten_bit_transfers_take_addresses_up_to_0x3ff() {
        let ten_bit =
            |line: &str| parse_transfer(&line.split_whitespace().collect::<Vec<_>>(), None, true);
        let parsed = ten_bit("w1@0x150 0x00 r4").unwrap();
        assert_eq!(parsed.address, 0x150);
        assert_eq!(parsed.messages, vec![Message::Write(vec![0]), Message::Read(4)]);
        assert_eq!(ten_bit("r1@0x3ff").unwrap().address, 0x3ff);
        assert_eq!(ten_bit("r1@0x03").unwrap().address, 0x03, "no reserved 10-bit addresses");
        assert!(ten_bit("r1@0x400").unwrap_err().contains("0x400"));
    }

    #[test]
    fn missing_and_surplus_data_bytes_are_reported() {
        let error = parse("w3@0x50 1 2").unwrap_err();
        assert!(error.contains("needs 3 data byte(s), got 2"), "{error}");
        assert!(parse("w1@0x50").unwrap_err().contains("got 0"));
        let error = parse("w1@0x50 1 2").unwrap_err();
        assert!(error.contains("too many data bytes"), "{error}");
        assert!(error.contains("'w1@0x50'"), "{error}");
    }

    #[test]
    fn data_bytes_must_be_bytes() {
        assert!(parse("w1@0x50 0x100").unwrap_err().contains("0x100"));
        assert!(parse("w1@0x50 0xzz").unwrap_err().contains("not a number"));
        assert!(parse("w1@0x50 1*").unwrap_err().contains("bad data byte"));
        assert!(parse("w2@0x50 +").unwrap_err().contains("bad data byte"));
    }

    #[test]
    fn suffixes_fill_the_rest_of_the_message() {
        let writes = |line: &str| parse(line).unwrap().messages;
        assert_eq!(writes("w4@0x50 0x10+"), vec![Message::Write(vec![0x10, 0x11, 0x12, 0x13])]);
        assert_eq!(writes("w3@0x50 1-"), vec![Message::Write(vec![1, 0, 0xff])]);
        assert_eq!(writes("w3@0x50 0xfe+"), vec![Message::Write(vec![0xfe, 0xff, 0x00])]);
        assert_eq!(writes("w3@0x50 7="), vec![Message::Write(vec![7, 7, 7])]);
        assert_eq!(
            writes("w4@0x50 0 5= r1"),
            vec![Message::Write(vec![0, 5, 5, 5]), Message::Read(1)]
        );
        // A suffix on the last byte of a message fills nothing more.
        assert_eq!(writes("w1@0x50 9+ r1"), vec![Message::Write(vec![9]), Message::Read(1)]);
    }

    #[test]
    fn pseudo_random_suffix_follows_i2ctransfer() {
        // data = (data ^ 27) + 13; data = (data << 1) | (data >> 7), all in u8:
        // 0x10 ^ 0x1b = 0x0b, + 0x0d = 0x18, rotated = 0x30; then 0x2b + 0x0d = 0x38 -> 0x70.
        assert_eq!(
            parse("w3@0x50 0x10p").unwrap().messages,
            vec![Message::Write(vec![0x10, 0x30, 0x70])]
        );
        // The rotation carries the top bit around: 0xf0 ^ 0x1b = 0xeb, + 0x0d = 0xf8 -> 0xf1.
        assert_eq!(next_byte(0xf0, 'p'), 0xf1);
    }

    #[test]
    fn message_count_is_limited_like_i2c_rdwr() {
        let many =
            std::iter::once("r1@0x50").chain(std::iter::repeat_n("r1", 42)).collect::<Vec<_>>();
        assert!(parse_transfer(&many, None, false).unwrap_err().contains("at most 42"));
        assert!(parse_transfer(&many[..42], None, false).is_ok());
    }

    #[test]
    fn reads_print_like_i2ctransfer() {
        assert_eq!(format_reads(&[vec![0x00, 0xab], vec![0x7]]), vec!["0x00 0xab", "0x07"]);
    }
}
