//! Where the service's log goes: stderr on hosts, logcat on Android.

#[cfg(not(target_os = "android"))]
use i2c_hal_binder::BINDER_LOG_TARGET;

/// Logs to stderr at `level` (`RUST_LOG` overrides). rsbinder logs every client
/// disconnect as a warning; only its errors matter here.
#[cfg(not(target_os = "android"))]
pub fn init_logging(level: &str) {
    let filter = format!("{level},{BINDER_LOG_TARGET}=error");
    let logger =
        env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(filter))
            .format_target(false)
            .build();
    let max_level = logger.filter();
    // What a caller can make the binder library write is budgeted (log_budget).
    let budgeted = crate::log_budget::Budgeted::new(logger, BINDER_LOG_TARGET);
    if let Err(e) = budgeted.start_summaries() {
        eprintln!("i2c-hal: cannot start the log budget's summaries: {e}");
    }
    if log::set_boxed_logger(Box::new(budgeted)).is_ok() {
        log::set_max_level(max_level);
    }
}

/// The logcat tag of every line the service writes.
#[cfg(target_os = "android")]
pub const LOG_TAG: &str = "vendor.i2c";

/// Logs to logcat (init gives a service no stderr worth reading) at `level`, `info` when
/// it does not parse. Panics reach logcat too: the daemon's panic hook logs them.
#[cfg(target_os = "android")]
pub fn init_logging(level: &str) {
    let max = level.parse::<log::LevelFilter>().unwrap_or(log::LevelFilter::Info);
    android_logger::init_once(
        android_logger::Config::default().with_tag(LOG_TAG).with_max_level(max),
    );
}
