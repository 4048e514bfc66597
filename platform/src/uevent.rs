//! The kernel's uevent wire format: `ACTION@DEVPATH\0KEY=VALUE\0KEY=VALUE\0...`
//! (lib/kobject_uevent.c). The simulator encodes with `encode`, the monitor parses what either
//! the netlink socket or the simulator delivered with `parse`, so both paths share one parser.

#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    Add,
    Remove,
    Change,
    Move,
    Bind,
    Unbind,
    Other(String),
}

impl Action {
    fn parse(text: &str) -> Action {
        match text {
            "add" => Action::Add,
            "remove" => Action::Remove,
            "change" => Action::Change,
            "move" => Action::Move,
            "bind" => Action::Bind,
            "unbind" => Action::Unbind,
            other => Action::Other(other.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Action::Add => "add",
            Action::Remove => "remove",
            Action::Change => "change",
            Action::Move => "move",
            Action::Bind => "bind",
            Action::Unbind => "unbind",
            Action::Other(s) => s,
        }
    }
}

/// One parsed uevent. `vars` keeps every KEY=VALUE, including ACTION, DEVPATH and SUBSYSTEM.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Uevent {
    pub action: Action,
    pub devpath: String,
    pub vars: BTreeMap<String, String>,
}

impl Uevent {
    pub fn new(action: Action, devpath: &str, subsystem: &str) -> Uevent {
        let mut vars = BTreeMap::new();
        vars.insert("ACTION".to_string(), action.as_str().to_string());
        vars.insert("DEVPATH".to_string(), devpath.to_string());
        vars.insert("SUBSYSTEM".to_string(), subsystem.to_string());
        Uevent { action, devpath: devpath.to_string(), vars }
    }

    pub fn with(mut self, key: &str, value: impl Into<String>) -> Uevent {
        self.vars.insert(key.to_string(), value.into());
        self
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.vars.get(key).map(String::as_str)
    }

    pub fn subsystem(&self) -> Option<&str> {
        self.get("SUBSYSTEM")
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParseError {
    Empty,
    NotUtf8,
    MissingHeader,
    /// The header's devpath and the DEVPATH variable disagree, or ACTION does: a forged event.
    Inconsistent(&'static str),
    /// A libudev re-broadcast (group 2); we only trust the kernel's own format.
    Libudev,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::Empty => f.write_str("empty uevent"),
            ParseError::NotUtf8 => f.write_str("uevent is not UTF-8"),
            ParseError::MissingHeader => f.write_str("uevent lacks the ACTION@DEVPATH header"),
            ParseError::Inconsistent(what) => write!(f, "uevent header and {what} disagree"),
            ParseError::Libudev => f.write_str("libudev-format message, not from the kernel"),
        }
    }
}

impl std::error::Error for ParseError {}

/// Parses one datagram. Trailing NULs and empty fields are tolerated; fields without '=' are
/// ignored, as udev does.
pub fn parse(buf: &[u8]) -> Result<Uevent, ParseError> {
    if buf.is_empty() {
        return Err(ParseError::Empty);
    }
    if buf.starts_with(b"libudev\0") {
        return Err(ParseError::Libudev);
    }
    let mut fields = buf.split(|b| *b == 0).filter(|f| !f.is_empty());
    let header = std::str::from_utf8(fields.next().ok_or(ParseError::Empty)?)
        .map_err(|_| ParseError::NotUtf8)?;
    let (action, devpath) = header.split_once('@').ok_or(ParseError::MissingHeader)?;
    if action.is_empty() || !devpath.starts_with('/') {
        return Err(ParseError::MissingHeader);
    }
    let mut vars = BTreeMap::new();
    for field in fields {
        let text = std::str::from_utf8(field).map_err(|_| ParseError::NotUtf8)?;
        if let Some((key, value)) = text.split_once('=') {
            vars.insert(key.to_string(), value.to_string());
        }
    }
    if vars.get("DEVPATH").is_some_and(|d| d != devpath) {
        return Err(ParseError::Inconsistent("DEVPATH"));
    }
    if vars.get("ACTION").is_some_and(|a| a != action) {
        return Err(ParseError::Inconsistent("ACTION"));
    }
    Ok(Uevent { action: Action::parse(action), devpath: devpath.to_string(), vars })
}

/// Encodes as the kernel does: header, then ACTION, DEVPATH, SUBSYSTEM first, then the rest.
pub fn encode(event: &Uevent) -> Vec<u8> {
    let mut out = format!("{}@{}", event.action.as_str(), event.devpath).into_bytes();
    out.push(0);
    let first = ["ACTION", "DEVPATH", "SUBSYSTEM"];
    let ordered = first
        .iter()
        .filter_map(|k| event.vars.get_key_value(*k))
        .chain(event.vars.iter().filter(|(k, _)| !first.contains(&k.as_str())));
    for (key, value) in ordered {
        out.extend_from_slice(key.as_bytes());
        out.push(b'=');
        out.extend_from_slice(value.as_bytes());
        out.push(0);
    }
    out
}

/// What an uevent means for the I2C registry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum I2cEvent {
    AdapterAdded { bus_number: u32, devpath: String },
    AdapterRemoved { bus_number: u32, devpath: String },
}

/// Interprets i2c-dev char-device events (DEVPATH `/devices/.../i2c-N/i2c-dev/i2c-N`) and
/// i2c adapter events (DEVPATH `/devices/.../i2c-N`, DEVTYPE=i2c_adapter). The kernel sends the
/// i2c-dev event first on both add and remove, so acting on either, idempotently, is both fast
/// and robust against the other one being lost. Client devices (`0-0050`) are ignored.
pub fn classify(event: &Uevent) -> Option<I2cEvent> {
    let adapter_devpath = match event.subsystem()? {
        "i2c-dev" => {
            let (parent, leaf) = event.devpath.rsplit_once("/i2c-dev/")?;
            let parent_leaf = parent.rsplit('/').next()?;
            if parent_leaf != leaf {
                return None;
            }
            parent.to_string()
        }
        "i2c" => {
            if event.get("DEVTYPE").is_some_and(|t| t != "i2c_adapter") {
                return None;
            }
            event.devpath.clone()
        }
        _ => return None,
    };
    let leaf = adapter_devpath.rsplit('/').next()?;
    let bus_number = kernel_bus_number(leaf.strip_prefix("i2c-")?)?;
    match event.action {
        Action::Add => Some(I2cEvent::AdapterAdded { bus_number, devpath: adapter_devpath }),
        Action::Remove => Some(I2cEvent::AdapterRemoved { bus_number, devpath: adapter_devpath }),
        _ => None,
    }
}

/// N of "i2c-N" exactly as the kernel prints it (dev_set_name(&adap->dev, "i2c-%d") in
/// i2c_register_adapter): plain decimal digits, no sign, no leading zero. `u32::from_str`
/// alone would also take "+5" and "005", which name no adapter (found by fuzzing).
fn kernel_bus_number(digits: &str) -> Option<u32> {
    let canonical = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'));
    canonical.then(|| digits.parse().ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_kernels_spelling_of_a_bus_number_names_an_adapter() {
        assert_eq!(kernel_bus_number("0"), Some(0));
        assert_eq!(kernel_bus_number("17"), Some(17));
        for forged in ["", "00", "05", "+5", "-1", "5a", " 5", "99999999999"] {
            assert_eq!(kernel_bus_number(forged), None, "{forged:?}");
        }
        let forged = Uevent::new(Action::Add, "/devices/x/i2c-00", "i2c");
        assert_eq!(classify(&forged), None);
    }

    const I801_DEV_REMOVE: &[u8] = b"remove@/devices/pci0000:00/0000:00:1f.3/i2c-0/i2c-dev/i2c-0\0\
ACTION=remove\0DEVPATH=/devices/pci0000:00/0000:00:1f.3/i2c-0/i2c-dev/i2c-0\0SUBSYSTEM=i2c-dev\0\
DEVNAME=i2c-0\0SEQNUM=1234\0MAJOR=89\0MINOR=0\0";

    #[test]
    fn parses_a_kernel_remove_event() {
        let ev = parse(I801_DEV_REMOVE).unwrap();
        assert_eq!(ev.action, Action::Remove);
        assert_eq!(ev.devpath, "/devices/pci0000:00/0000:00:1f.3/i2c-0/i2c-dev/i2c-0");
        assert_eq!(ev.subsystem(), Some("i2c-dev"));
        assert_eq!(ev.get("DEVNAME"), Some("i2c-0"));
        assert_eq!(ev.get("SEQNUM"), Some("1234"));
        assert_eq!(
            classify(&ev),
            Some(I2cEvent::AdapterRemoved {
                bus_number: 0,
                devpath: "/devices/pci0000:00/0000:00:1f.3/i2c-0".into()
            })
        );
    }

    #[test]
    fn encode_then_parse_is_identity() {
        let ev = Uevent::new(Action::Add, "/devices/platform/sim/i2c-7", "i2c")
            .with("DEVTYPE", "i2c_adapter")
            .with("SEQNUM", "9");
        let bytes = encode(&ev);
        assert!(bytes.starts_with(b"add@/devices/platform/sim/i2c-7\0ACTION=add\0"));
        assert_eq!(parse(&bytes).unwrap(), ev);
        assert_eq!(
            classify(&ev),
            Some(I2cEvent::AdapterAdded {
                bus_number: 7,
                devpath: "/devices/platform/sim/i2c-7".into()
            })
        );
    }

    #[test]
    fn refuses_malformed_and_foreign_messages() {
        assert_eq!(parse(b""), Err(ParseError::Empty));
        assert_eq!(parse(b"\0\0"), Err(ParseError::Empty));
        assert_eq!(parse(b"add\0ACTION=add\0"), Err(ParseError::MissingHeader));
        assert_eq!(parse(b"add@relative\0"), Err(ParseError::MissingHeader));
        assert_eq!(parse(b"libudev\0\xfe\xed\xca\xfe"), Err(ParseError::Libudev));
        assert_eq!(parse(b"add@/devices/\xff\0"), Err(ParseError::NotUtf8));
        assert_eq!(
            parse(b"add@/devices/a\0DEVPATH=/devices/b\0"),
            Err(ParseError::Inconsistent("DEVPATH"))
        );
        assert_eq!(
            parse(b"add@/devices/a\0ACTION=remove\0"),
            Err(ParseError::Inconsistent("ACTION"))
        );
    }

    #[test]
    fn tolerates_fields_without_equals_and_missing_trailing_nul() {
        let ev = parse(b"change@/devices/x\0garbage\0SUBSYSTEM=i2c").unwrap();
        assert_eq!(ev.action, Action::Change);
        assert_eq!(ev.subsystem(), Some("i2c"));
        assert_eq!(classify(&ev), None);
    }

    #[test]
    fn classify_ignores_client_devices_and_other_subsystems() {
        let client =
            Uevent::new(Action::Add, "/devices/pci0000:00/0000:00:1f.3/i2c-0/0-0050", "i2c")
                .with("DEVTYPE", "i2c_client");
        assert_eq!(classify(&client), None);
        let untyped_client =
            Uevent::new(Action::Add, "/devices/pci0000:00/0000:00:1f.3/i2c-0/0-0050", "i2c");
        assert_eq!(classify(&untyped_client), None);
        let pci = Uevent::new(Action::Remove, "/devices/pci0000:00/0000:00:1f.3", "pci");
        assert_eq!(classify(&pci), None);
        let mismatched = Uevent::new(Action::Add, "/devices/x/i2c-1/i2c-dev/i2c-2", "i2c-dev");
        assert_eq!(classify(&mismatched), None);
        let bind = Uevent::new(Action::Bind, "/devices/x/i2c-1", "i2c");
        assert_eq!(classify(&bind), None);
    }
}
