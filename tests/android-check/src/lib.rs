//! Type-checks the libbinder_rs (Android) half of `src/ipc/compat.rs` against stubs of the
//! libbinder_rs API (`binder-stub/`) and of the generated AIDL crate (`vendor-i2c-stub/`).
//! build.rs copies compat.rs with its target cfgs flipped; this crate gives it the paths it
//! names (`i2c_hal_core::policy::Caller`, `i2c_hal_binder`) and uses every item the android
//! half exports, in code that is type-checked and never run. See README.md.

#![deny(warnings)]

/// Stand-in for the parts of the i2c-hal crate's `core` that compat.rs names.
pub mod core {
    /// Stand-in for `core/src/policy.rs`.
    pub mod policy {
        /// Same fields as `core/src/policy.rs`'s `Caller` (build.rs checks they still are).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub struct Caller {
            pub uid: u32,
            pub pid: i32,
        }
    }
}

/// Skeleton of the i2c-hal crate's `ipc` module (with its `forbid(unsafe_code)`), holding the
/// flipped copy of compat.rs as `ipc::compat` (where its macros' `$crate::...`
/// paths expect it).
pub mod ipc {
    #![forbid(unsafe_code)]

    include!(concat!(env!("OUT_DIR"), "/compat.rs"));
}

pub mod uses;
