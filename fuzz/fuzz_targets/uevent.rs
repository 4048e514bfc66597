//! Forged, truncated and oversized uevent datagrams. Only the kernel's (port id 0) datagrams
//! reach the parser in production, but a parser that trusts its input is one kernel bug or one
//! simulator bug away from taking the service down. Checked on every input:
//! - parse and classify never panic;
//! - what parse keeps is never more than what it was given (no allocation grows past the
//!   datagram, so a huge field cannot blow memory up beyond the receive buffer);
//! - a parsed event survives encode and parse unchanged (the simulator's encoder and the
//!   parser agree on the wire format);
//! - classify only ever names an adapter whose devpath ends in `i2c-<its bus number>`.

#![no_main]

use i2c_hal_platform::uevent::{classify, encode, parse, I2cEvent};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(event) = parse(data) else { return };
    let kept: usize = event.devpath.len()
        + event.action.as_str().len()
        + event.vars.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>();
    // The header's action and devpath may also stand as ACTION= and DEVPATH= variables.
    assert!(kept <= 2 * data.len(), "kept {kept} bytes from a {}-byte datagram", data.len());

    let again = parse(&encode(&event)).expect("an encoded event parses");
    assert_eq!(again, event, "encode and parse disagree");

    if let Some(I2cEvent::AdapterAdded { bus_number, devpath })
    | Some(I2cEvent::AdapterRemoved { bus_number, devpath }) = classify(&event)
    {
        assert!(devpath.ends_with(&format!("/i2c-{bus_number}")), "{devpath} vs {bus_number}");
    }
});
