//! Policy files as an administrator (or a corrupted partition) might write them: the parser
//! must refuse what it cannot take with a message, never panic, never allocate past the file's
//! size bound, and whatever it accepts must evaluate without panicking.

#![no_main]

use i2c_hal_core::bus::{BusInfo, Generation};
use i2c_hal_core::device::Target;
use i2c_hal_core::policy::rules::AccessPolicy;
use i2c_hal_core::policy::Caller;
use i2c_hal_core::request::OperationClass;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let policy = match AccessPolicy::parse(text) {
        Ok(policy) => policy,
        Err(error) => {
            assert!(!error.kind.to_string().is_empty(), "a refusal says why");
            if let Some(line) = error.line {
                assert!(line >= 1 && line <= text.lines().count().max(1) + 1, "line {line}");
            }
            return;
        }
    };
    let bus = BusInfo {
        bus_number: 3,
        name: "adapter".into(),
        stable_id: "usb1/1-1/1-1:1.0".into(),
        generation: Generation(1),
        functionality: 0,
    };
    for uid in [0, 1000, 10_057, 1_010_057] {
        let caller = Caller { uid, pid: 1 };
        for address in [0x08, 0x48, 0x77, 0x150, 0x3ff] {
            let target = Target { address, ten_bit: address > 0x77, pec: false };
            let _ = policy.check_open(&caller, &bus, target, true);
            for class in OperationClass::ALL {
                let allowed = policy.check_operation(&caller, &bus, target, class).is_ok();
                assert_eq!(allowed, policy.operations(&caller, &bus, target).contains(class));
            }
        }
    }
});
