//! usb-i2c-module: a detachable I2C module on a real kernel, for tests. It emulates an
//! i2c-tiny-usb USB-to-I2C bridge (the kernel's drivers/i2c/busses/i2c-tiny-usb.c binds to
//! it) with I2C devices behind it, and plugs it into the kernel's USB/IP virtual host
//! controller, so usbcore enumerates it, i2c-tiny-usb adds an I2C adapter and i2c-dev a
//! /dev/i2c-N, exactly as for a bridge on a real USB port. Pulling the cable is a detach
//! (`echo PORT > /sys/devices/platform/vhci_hcd.0/detach`) or the end of this process.
//!
//! ```text
//! usb-i2c-module plug [--port N] [--serial S] [--device KIND@ADDR[:HEX]]... [--state FILE]
//! usb-i2c-module rdwr /dev/i2c-N MSG...      # I2C_RDWR with 10-bit addresses, for tests
//! ```
//!
//! Where each part comes from: bridge.rs (the firmware's vendor requests and status values,
//! as the driver uses them), usb.rs (descriptors and chapter-9 requests), usbip.rs (the
//! virtual cable, and why it is not a FunctionFS gadget), devices.rs (EEPROM and registers).
//! This binary is not part of the vendor image (Android.bp builds only the service).

mod bridge;
mod devices;
mod rdwr;
mod usb;
mod usbip;

use bridge::Bridge;
use clap::{Parser, Subcommand, ValueEnum};
use devices::{Address, Bus, I2cDevice, Switch};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use usb::{Identity, Reply, Setup};

#[derive(Debug, Parser)]
#[command(
    name = "usb-i2c-module",
    version = i2c_hal_core::VERSION,
    about = "Emulated i2c-tiny-usb module on vhci_hcd"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Plug the module into a vhci_hcd port and serve it until the cable is pulled.
    Plug(PlugArgs),
    /// One I2C_RDWR on DEVICE (i2ctransfer syntax; addresses above 0x7f are 10-bit).
    Rdwr {
        device: String,
        #[arg(value_name = "MSG", required = true, num_args = 1.., allow_hyphen_values = true)]
        messages: Vec<String>,
    },
}

#[derive(Debug, clap::Args)]
struct PlugArgs {
    /// vhci_hcd port: 0..14 are the high-speed root hub ports 1..15 of vhci_hcd.0.
    #[arg(long, default_value_t = 0)]
    port: u32,
    /// The vhci_hcd device whose `attach` file to use.
    #[arg(long, default_value = "/sys/devices/platform/vhci_hcd.0")]
    vhci: PathBuf,
    /// USB serial number string (none by default).
    #[arg(long)]
    serial: Option<String>,
    /// VID:PID; i2c-tiny-usb binds to 1c40:0534 and 0403:c631.
    #[arg(long, default_value = "1c40:0534", value_parser = parse_vid_pid)]
    id: (u16, u16),
    /// A device behind the bridge, [chanN/]KIND@ADDR[:HEX] with KIND eeprom or regs; chanN/
    /// puts it behind channel N of the switch. Repeatable. Default: eeprom@0x50 (byte i at
    /// offset i), regs@0x48, regs@0x2a0 (10-bit).
    #[arg(long = "device", value_name = "SPEC", value_parser = I2cDevice::parse)]
    devices: Vec<I2cDevice>,
    /// An 8-channel I2C switch (PCA9548A-like) at ADDR on the bridge's bus; the kernel's
    /// pca954x driver makes its channels buses of their own (`new_device pca9548 ADDR`).
    #[arg(long = "switch", value_name = "ADDR", value_parser = Address::parse)]
    switch: Option<Address>,
    /// Keep the devices' contents in FILE: loaded at plug, saved after every change.
    #[arg(long, value_name = "FILE")]
    state: Option<PathBuf>,
    /// Report only what the original firmware reports (no I2C_FUNC_10BIT_ADDR).
    #[arg(long)]
    firmware_funcs: bool,
    #[arg(long, value_enum, default_value = "low")]
    speed: SpeedArg,
    /// Log every control request on stderr.
    #[arg(long, short)]
    verbose: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum SpeedArg {
    Low,
    Full,
}

fn parse_vid_pid(text: &str) -> Result<(u16, u16), String> {
    let (vid, pid) = text.split_once(':').ok_or("expected VID:PID in hex")?;
    let hex = |s: &str| u16::from_str_radix(s, 16).map_err(|e| format!("{s:?}: {e}"));
    Ok((hex(vid)?, hex(pid)?))
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Command::Plug(args) => plug(args),
        Command::Rdwr { device, messages } => rdwr(&device, &messages),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("usb-i2c-module: {message}");
            ExitCode::FAILURE
        }
    }
}

fn rdwr(device: &str, words: &[String]) -> Result<(), String> {
    let messages = rdwr::parse(words)?;
    for read in rdwr::run(device, &messages)? {
        let bytes: Vec<String> = read.iter().map(|b| format!("0x{b:02x}")).collect();
        println!("{}", bytes.join(" "));
    }
    Ok(())
}

fn plug(args: PlugArgs) -> Result<(), String> {
    let devices = if args.devices.is_empty() {
        ["eeprom@0x50", "regs@0x48", "regs@0x2a0"]
            .iter()
            .map(|spec| I2cDevice::parse(spec).expect("valid default"))
            .collect()
    } else {
        args.devices
    };
    let mut bus = Bus::new(devices, args.switch.map(Switch::new))?;
    if let Some(path) = &args.state {
        let loaded = bus.load(path).map_err(|e| format!("state file: {e}"))?;
        if !loaded {
            bus.save(path).map_err(|e| format!("state file {}: {e}", path.display()))?;
        }
    }
    let mut names: Vec<String> = bus.devices().iter().map(I2cDevice::name).collect();
    names.extend(bus.switch().map(|switch| format!("switch@{}", switch.address)));
    let identity = Identity { vendor: args.id.0, product: args.id.1, serial: args.serial };
    let label = identity.serial.clone().unwrap_or_else(|| "-".to_string());
    let mut device = usb::UsbDevice::new(identity, Bridge::new(bus, !args.firmware_funcs));
    let speed = match args.speed {
        SpeedArg::Low => usbip::Speed::Low,
        SpeedArg::Full => usbip::Speed::Full,
    };
    // devid names the device in vhci_hcd's `status` file; usbip-host uses busnum << 16 |
    // devnum, here a made-up bus 1 and the port.
    let devid = (1 << 16) | (args.port + 1);
    let mut link = usbip::attach(&args.vhci, args.port, devid, speed)
        .map_err(|e| format!("attach to port {}: {e}", args.port))?;
    say(&format!("plugged port={} serial={label} devices={}", args.port, names.join(",")));

    let state = args.state;
    let verbose = args.verbose;
    let mut save_error = None;
    let end = usbip::serve(&mut link, &mut device, |device, setup, reply| {
        if verbose {
            log_request(device, setup, reply);
        }
        let vendor = setup.request_type & usb::USB_TYPE_MASK == usb::USB_TYPE_VENDOR;
        if !vendor && setup.request == usb::USB_REQ_SET_CONFIGURATION && *reply == Reply::Out {
            say(&format!("configured {}", device.configuration()));
        }
        if vendor && setup.request == bridge::CMD_SET_DELAY && *reply == Reply::Out {
            // i2c_tiny_usb_probe() sends this right before i2c_add_adapter().
            say(&format!("probed: bit delay {} us", device.bridge.delay_us()));
        }
        if device.bridge.dirty {
            device.bridge.dirty = false;
            if let Some(path) = &state {
                if let Err(err) = device.bridge.bus().save(path) {
                    save_error.get_or_insert(format!("saving {}: {err}", path.display()));
                }
            }
        }
    });
    if let Some(error) = save_error {
        return Err(error);
    }
    match end {
        usbip::End::HostClosed => {
            say("unplugged: the host closed the connection");
            Ok(())
        }
        usbip::End::Error(err) => Err(format!("connection: {err}")),
    }
}

/// One line on stdout, flushed: scripts wait for these.
fn say(line: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{line}");
    let _ = stdout.flush();
}

fn log_request(device: &usb::UsbDevice, setup: &Setup, reply: &Reply) {
    let outcome = match reply {
        Reply::In(data) => format!("in {} bytes", data.len()),
        Reply::Out => "ok".to_string(),
        Reply::Stall => "STALL".to_string(),
    };
    let vendor = setup.request_type & usb::USB_TYPE_MASK == usb::USB_TYPE_VENDOR;
    let message = match &device.bridge.last_message {
        Some(m) if vendor => format!(
            " [i2c {}{} {} {} bytes {}{}]",
            if m.begin { "S " } else { "Sr " },
            if m.read { "read" } else { "write" },
            m.address.map_or("invalid".to_string(), |a| a.to_string()),
            m.len,
            if m.acked { "ACK" } else { "NAK" },
            if m.end { " P" } else { "" },
        ),
        _ => String::new(),
    };
    eprintln!(
        "usb-i2c-module: {:02x} {:02x} v={:04x} i={:04x} l={} -> {outcome}{message}",
        setup.request_type, setup.request, setup.value, setup.index, setup.length
    );
}
