//! A client that makes N calls of one kind on a running service and exits: the load for
//! counting, with callgrind on the service, what the service's own code does per call.
//!
//! ```sh
//! valgrind --tool=callgrind --collect-atstart=no \
//!     --toggle-collect='*SessionService*II2cSession*transfer*' \
//!     target/release/i2c-hal-service --sim --socket /tmp/x.sock &
//! target/release/examples/rpc_calls /tmp/x.sock transfer42 1000
//! ```
//!
//! Kinds: `address` (getAddress), `register` (smbusReadByteData), `transfer42` (21 one-byte
//! writes and 21 one-byte reads in one transfer), `open` (openSession and close, with
//! `--hold K` sessions held meanwhile), `hold` (holds the `--hold K` sessions until stdin
//! closes). The session is on the simulated EEPROM (bus 0, 0x50).

use i2c_hal::core::request::{Message, SmbusOp};
use i2c_hal::ipc::client::{Client, Endpoint};
use std::path::PathBuf;

fn usage() -> ! {
    eprintln!("usage: rpc_calls SOCKET address|register|transfer42|open|hold CALLS [--hold K]");
    std::process::exit(2)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [socket, kind, calls, rest @ ..] = args.as_slice() else { usage() };
    let calls: usize = calls.parse().unwrap_or_else(|_| usage());
    let hold: usize = match rest {
        [] => 0,
        [flag, k] if flag == "--hold" => k.parse().unwrap_or_else(|_| usage()),
        _ => usage(),
    };
    let client = Client::connect(&Endpoint::Socket(PathBuf::from(socket))).expect("connect");
    let open = || client.open("0", 0, 0x50, false, Box::new(|_, _| {})).expect("open");
    let held: Vec<_> = (0..hold).map(|_| open()).collect();
    let session = open();
    let messages: Vec<Message> =
        (0..21u8).flat_map(|i| [Message::Write(vec![i]), Message::Read(1)]).collect();
    for _ in 0..calls {
        match kind.as_str() {
            "address" => {
                session.address_from_service().expect("getAddress");
            }
            "register" => {
                session.smbus(&SmbusOp::ReadByteData(0)).expect("read byte data");
            }
            "transfer42" => {
                session.transfer(&messages).expect("transfer");
            }
            "open" => open().close().expect("close"),
            "hold" => {}
            _ => usage(),
        }
    }
    if kind == "hold" {
        // Keeps the sessions until stdin closes, so the service's memory can be read meanwhile.
        println!("holding {} sessions", held.len() + 1);
        std::io::copy(&mut std::io::stdin(), &mut std::io::sink()).expect("stdin");
    }
    drop(held);
}
