//! Uses everything the libbinder_rs half of compat.rs exports, the way the rest of `ipc` does
//! (service.rs, client.rs, server.rs, the binaries). Type-checked by `cargo check`, never run:
//! the binder stubs behind it are `unimplemented!()`.

use i2c_hal_core::policy::Caller;
use i2c_hal_binder::aidl::IStandIn::{BnStandIn, IStandIn};
use i2c_hal_binder::{
    self, binder_object, impl_dump, BinderRef, BinderResult, DeathWatch, DumpText, FromIBinder,
    Interface, Status, Strong, BINDER_LOG_TARGET,
};
use std::ffi::CStr;
use std::io;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// A service object, as `ipc::service` defines them: its dump comes from `DumpText` through
/// `impl_dump!`, and it serves a generated interface.
pub struct StandInService;

impl DumpText for StandInService {
    fn dump_text(&self, args: &[String]) -> String {
        format!("{args:?}")
    }
}

impl_dump!(StandInService);

impl IStandIn for StandInService {
    fn echo(&self, value: i32) -> BinderResult<i32> {
        if value < 0 {
            return Err(compat::service_error(1, "negative"));
        }
        Ok(value)
    }
}

/// A service object with the default (empty) dump, as `SessionService` is.
pub struct PlainService;

impl Interface for PlainService {}

impl IStandIn for PlainService {
    fn echo(&self, value: i32) -> BinderResult<i32> {
        Ok(value)
    }
}

/// Every function and macro of the android half, with the signatures the rest of `ipc` relies
/// on (the same ones the rsbinder half has). Never called.
pub fn use_every_entry_point() -> io::Result<()> {
    let _: &str = BINDER_LOG_TARGET;
    let _: &str = compat::LOG_TAG;
    let init_logging: fn(&str) = compat::init_logging;
    init_logging("info");

    let service_error: fn(i32, &str) -> Status = compat::service_error;
    let service_specific: fn(&Status) -> Option<(i32, String)> = compat::service_specific;
    let describe: fn(&Status) -> String = compat::describe;
    let is_dead: fn(&Status) -> bool = compat::is_dead;
    let calling_identity: fn() -> Caller = compat::calling_identity;
    let init_process: fn(&Path, u32) -> io::Result<()> = compat::init_process;
    let join_thread_pool: fn() -> io::Result<()> = compat::join_thread_pool;
    let add_service: fn(&str, BinderRef) -> io::Result<()> = compat::add_service;
    let check_service: fn(&str) -> Result<Strong<dyn IStandIn>, String> =
        compat::check_service::<dyn IStandIn>;
    let declared_instances: fn(&str) -> Result<Vec<String>, String> = compat::declared_instances;
    let _ = declared_instances("vendor.i2c.IStandIn");

    let status = service_error(7, "message");
    let _: Option<(i32, String)> = service_specific(&status);
    let _: String = describe(&status);
    let _: bool = is_dead(&status);
    let failed: BinderResult<()> = Err(status);
    let _ = failed;
    let Caller { uid: _, pid: _ } = calling_identity();

    init_process(Path::new("/dev/binder"), 4)?;
    let service: Strong<dyn IStandIn> = binder_object!(BnStandIn, StandInService);
    let plain: Strong<dyn IStandIn> = binder_object!(BnStandIn, PlainService);
    let _: BinderResult<i32> = plain.echo(1);
    let binder: BinderRef = service.as_binder();
    add_service("vendor.i2c.IStandIn/default", binder.clone())?;

    // A watch that lives in a shared table, as `RegisteredListener`'s does.
    let table: Arc<Mutex<Vec<DeathWatch>>> = Arc::default();
    let weak = Arc::downgrade(&table);
    let watch: DeathWatch = compat::watch_death(&binder, move || {
        if let Some(table) = weak.upgrade() {
            table.lock().unwrap().clear();
        }
    })
    .map_err(io::Error::other)?;
    table.lock().unwrap().push(watch);

    let remote: Strong<dyn IStandIn> =
        check_service("vendor.i2c.IStandIn/default").map_err(io::Error::other)?;
    let again: Result<Strong<dyn IStandIn>, _> =
        <dyn IStandIn as FromIBinder>::try_from(remote.as_binder());
    let _ = again.map_err(|e| format!("{e:?}"));

    let mut out = Vec::new();
    let args: [&CStr; 1] = [c"--verbose"];
    let _ = StandInService.dump(&mut out, &args);

    // server.rs's serve_rpc, which on Android must fail rather than serve.
    let listener = std::os::unix::net::UnixListener::bind("/unused")?;
    let admit = |uid: u32| (uid != 0).then_some(uid);
    compat::rpc::serve(listener, vec![("vendor.i2c.IStandIn/default", binder)], 4, (), admit)?;

    join_thread_pool()
}

/// What the rest of `ipc` needs of compat's types beyond their signatures.
pub fn contract() {
    fn send_sync<T: Send + Sync + 'static>() {}
    fn comparable_handle<T: Clone + PartialEq + std::fmt::Debug>() {}
    fn debug<T: std::fmt::Debug>() {}
    fn clone<T: Clone>() {}

    // SessionService and RegisteredListener hold one; both cross threads.
    send_sync::<DeathWatch>();
    // Listeners are found again by binder identity.
    send_sync::<BinderRef>();
    comparable_handle::<BinderRef>();
    // Failed calls travel as BinderResult and are logged.
    send_sync::<Status>();
    debug::<Status>();
    // Observers keep their own reference to a callback.
    clone::<Strong<dyn IStandIn>>();
}
