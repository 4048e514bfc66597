//! Stand-in for the Soong-generated `vendor.i2c-V1-rust` crate (crate name `vendor_i2c`), whose
//! generated code lives under `aidl::vendor::i2c`, one module per AIDL type.
//!
//! It holds one hand-written interface, `IStandIn`, in the shape AOSP's aidl compiler emits for
//! the Rust backend: a trait `IStandIn: binder::Interface + Send` whose methods return
//! `binder::Result<T>`, and the native type that `binder::declare_binder_interface!`
//! (android-binder 0.2.2 `src/binder.rs`) declares, whose
//! `new_binder<T: IStandIn + Sync + Send + 'static>(inner: T, features: BinderFeatures)
//! -> Strong<dyn IStandIn>` is what `compat::binder_object!` calls. It is not the real
//! `vendor.i2c` interfaces (II2cManager & co.): the check is about compat.rs, not about them.

/// The generated code's module tree.
pub mod aidl {
    /// `vendor.*`.
    pub mod vendor {
        /// `vendor.i2c.*`.
        pub mod i2c {
            /// A stand-in for one generated interface module (`vendor/i2c/IStandIn.rs`).
            #[allow(non_snake_case, clippy::needless_lifetimes)]
            pub mod IStandIn {
                use binder::{BinderFeatures, FromIBinder, SpIBinder, StatusCode, Strong};

                /// The interface trait, as aidl generates it (`binder::Interface + Send`).
                pub trait IStandIn: binder::Interface + Send {
                    /// Mirrors a generated method: `fn r#name<'a>(&'a self, ..) ->
                    /// binder::Result<T>`.
                    fn r#echo<'a>(&'a self, _arg_value: i32) -> binder::Result<i32>;
                }

                /// The native (service-side) type `declare_binder_interface!` declares:
                /// `#[repr(transparent)] pub struct BnX(Box<dyn X + Sync + Send + 'static>)`.
                #[repr(transparent)]
                pub struct BnStandIn(#[allow(dead_code)] Box<dyn IStandIn + Sync + Send + 'static>);

                impl BnStandIn {
                    /// Mirrors the `new_binder` that `declare_binder_interface!` generates
                    /// (android-binder 0.2.2 `src/binder.rs`).
                    pub fn new_binder<T: IStandIn + Sync + Send + 'static>(
                        inner: T,
                        features: BinderFeatures,
                    ) -> Strong<dyn IStandIn> {
                        // The real one wraps this in binder_impl::Binder and applies `features`.
                        let _native = BnStandIn(Box::new(inner));
                        let _ = features;
                        unimplemented!("stand-in of generated AIDL code")
                    }
                }

                /// Mirrors the `impl FromIBinder for dyn $interface` that
                /// `declare_binder_interface!` generates.
                impl FromIBinder for dyn IStandIn {
                    fn try_from(_ibinder: SpIBinder) -> Result<Strong<dyn IStandIn>, StatusCode> {
                        unimplemented!("stand-in of generated AIDL code")
                    }
                }
            }
        }
    }
}
