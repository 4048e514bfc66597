//! The promises that matter most under stress: no client, however stuck or busy, delays the
//! removal of a module or another client's notice of it.

mod common;

use common::*;
use i2c_hal_client::ClientError;
use i2c_hal_core::request::Message;
use i2c_hal_core::{ErrorCode, LossReason};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

fn signal(pid: u32, signal: libc::c_int) {
    // SAFETY: kill(2) with a pid this test spawned and a plain signal number touches no memory.
    let rc = unsafe { libc::kill(pid as libc::pid_t, signal) };
    assert_eq!(rc, 0, "kill({pid}, {signal}): {}", std::io::Error::last_os_error());
}

#[test]
fn a_stopped_client_delays_neither_removal_nor_other_clients() {
    let service = Service::start();
    let eeprom = address_arg(EEPROM_ADDRESS);
    let mut frozen = service.spawn_i2cctl(&["hold", "0", &eeprom], std::process::Stdio::null());
    frozen.expect_line("held line", |line| line.starts_with("held bus=0 "));
    signal(frozen.pid(), libc::SIGSTOP);

    let client = service.client();
    let (on_lost, losses) = loss_channel();
    let _watching = client.open("0", 0, EEPROM_ADDRESS, false, on_lost).expect("open");

    // The stopped process cannot run, read its socket or release anything: removal must not
    // care, and the responsive client must hear about it.
    service.unplug(&client, EEPROM_MODULE);
    assert_eq!(service.fds_on_bus(0), 0, "the service closed i2c-0 despite the stopped client");
    let (reason, _) = expect_message(&losses, "the responsive client's loss notice");
    assert_eq!(reason, LossReason::Removed);
    assert!(client.list_buses().is_ok(), "the service keeps answering");

    signal(frozen.pid(), libc::SIGCONT);
    let lost = frozen.expect_line("the stopped client's loss notice, once resumed", |line| {
        line.starts_with("lost ")
    });
    assert!(lost.starts_with("lost reason=REMOVED "), "{lost}");
}

/// Transfers in a loop until the first error, which is returned.
fn hammer(session: &i2c_hal_client::Session, done: &AtomicUsize) -> ClientError {
    let deadline = Instant::now() + WAIT_TIMEOUT * 3;
    loop {
        assert!(Instant::now() < deadline, "transfers never stopped succeeding");
        match session.transfer(&[Message::Write(vec![0x00]), Message::Read(4)]) {
            Ok(reads) => {
                assert_eq!(reads.reads, vec![EEPROM_SIGNATURE[..4].to_vec()]);
                done.fetch_add(1, Ordering::Relaxed);
            }
            Err(error) => return error,
        }
    }
}

#[test]
fn removal_under_load_kills_every_session_exactly_once() {
    const CLIENTS: usize = 4;
    let service = Service::start();
    let completed = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    let mut notices = Vec::new();
    for _ in 0..CLIENTS {
        let client = service.client();
        let (on_lost, losses) = loss_channel();
        let session = client.open("0", 0, EEPROM_ADDRESS, false, on_lost).expect("open");
        notices.push(losses);
        let completed = completed.clone();
        workers.push(std::thread::spawn(move || {
            let error = hammer(&session, &completed);
            (client, session, error)
        }));
    }
    let observer = service.client();
    service.wait_until("every worker has transfers behind it", || {
        completed.load(Ordering::Relaxed) >= CLIENTS * 10
    });

    service.unplug(&observer, EEPROM_MODULE);
    assert_eq!(service.fds_on_bus(0), 0);

    // The clients stay connected until their notices are checked: a notice is delivered
    // asynchronously, and a client that hangs up first can no longer receive it.
    let mut connected = Vec::new();
    for worker in workers {
        let (client, session, error) = worker.join().expect("worker thread");
        assert_eq!(error.code(), Some(ErrorCode::BusGone), "first error was {error}");
        assert_eq!(session.bus_info().unwrap_err().code(), Some(ErrorCode::BusGone));
        connected.push((client, session));
    }
    for losses in &notices {
        let (reason, _) = expect_message(losses, "loss notice");
        assert_eq!(reason, LossReason::Removed);
    }
    // One more round trip through the service, then no second notice may be pending.
    assert!(observer.list_buses().is_ok());
    for losses in &notices {
        assert!(losses.try_recv().is_err(), "a session was told twice");
    }
    let sensor = observer.open("1", 0, LM75_ADDRESS, false, ignore_loss()).expect("sensor open");
    assert!(sensor.bus_info().is_ok(), "the other module is untouched");
}

#[test]
fn a_panic_in_a_service_thread_takes_the_service_down_and_a_restart_serves_again() {
    use std::os::unix::process::ExitStatusExt;
    let mut service = Service::start();
    let client = service.client();
    let (on_lost, _losses) = loss_channel();
    let session = client.open("0", 0, EEPROM_ADDRESS, false, on_lost).expect("open");
    session.write_read(&[0], 1).expect("the session works before the panic");

    // The control thread panics; the process must not live on without it.
    let _ = service.sim().request_panic();
    let status = service.wait_for_exit("i2c-hal-service after a thread panicked");
    assert_eq!(status.signal(), Some(libc::SIGABRT), "aborted, not half-alive: {status}");
    assert!(service.stderr().contains("deliberate panic"), "{}", service.stderr());

    // The client sees its session die with the service, as a transport failure.
    match session.write_read(&[0], 1) {
        Err(ClientError::Transport(_)) => {}
        other => panic!("a call on a session of a dead service gave {other:?}"),
    }

    // As init would: start it again on the same socket; clients reconnect and open anew.
    service.restart("default", 2);
    let client = service.client();
    let (on_lost, _losses) = loss_channel();
    let session = client.open("0", 0, EEPROM_ADDRESS, false, on_lost).expect("open after restart");
    let signature = session.write_read(&[0], EEPROM_SIGNATURE.len()).expect("read after restart");
    assert_eq!(signature, EEPROM_SIGNATURE);
}

#[test]
fn sigterm_tells_every_other_client_even_while_one_has_stopped_reading() {
    let mut service = Service::start();
    // A bus listener that stops reading: each plug cycle queues two callbacks to it, until its
    // socket is full and the delivery to it blocks.
    let mut frozen = service.spawn_i2cctl(&["watch"], std::process::Stdio::null());
    let client = service.client();
    // Proof that the listener is registered before it stops: it prints an event. (It may
    // still be connecting during the first cycles.)
    let registered = poll_until(WAIT_TIMEOUT, || {
        service.unplug(&client, SENSOR_MODULE);
        service.plug(&client, SENSOR_MODULE);
        frozen.line_within(std::time::Duration::from_millis(50)).is_some()
    });
    assert!(registered, "i2cctl watch never printed an event");
    signal(frozen.pid(), libc::SIGSTOP);

    // The service says so once a delivery to it has blocked past the stall limit.
    let stalled = "stopped reading their callbacks";
    let mut cycles = 0;
    while !service.stderr().contains(stalled) {
        assert!(
            cycles < 2_000,
            "the stopped listener never filled its socket:\n{}",
            tail(&service.stderr())
        );
        service.unplug(&client, SENSOR_MODULE);
        service.plug(&client, SENSOR_MODULE);
        cycles += 1;
    }

    // Delivery to the stopped listener now blocks a thread; everyone else is still told.
    let (on_lost, lost) = loss_channel();
    let _session = client.open("0", 0, EEPROM_ADDRESS, false, on_lost).expect("open");
    let status = service.terminate();
    let (reason, _) = expect_message(&lost, "SHUTDOWN while another client is stopped");
    assert_eq!(reason, LossReason::Shutdown);
    assert_eq!(status.code(), Some(0), "stderr:\n{}", service.stderr());
    assert!(
        !service.stderr().contains("not delivered in time"),
        "shutdown waited for the stopped client (after {cycles} cycles):\n{}",
        service.stderr()
    );
    frozen.kill_hard();
}

fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

#[test]
fn listeners_that_stop_reading_are_cut_off_and_hold_up_no_one() {
    const STOPPED: usize = 3;
    let service = Service::start();
    let client = service.client();
    let admin = client.admin().expect("the admin instance");
    let listeners = || admin.status().expect("getStatus").listeners;
    let mut watchers: Vec<_> = (0..STOPPED)
        .map(|_| service.spawn_i2cctl(&["watch"], std::process::Stdio::null()))
        .collect();
    service.wait_until("every watcher is registered", || listeners() == STOPPED);
    for watcher in &watchers {
        signal(watcher.pid(), libc::SIGSTOP);
    }
    let (on_lost, lost) = loss_channel();
    let _session = client.open("0", 0, EEPROM_ADDRESS, false, on_lost).expect("open");

    // Each plug cycle queues two callbacks to every watcher. Once a stopped one's socket is
    // full, a send to it makes no progress, and past the send deadline the service ends its
    // session: its listener goes, though the process never ran to unregister it.
    let mut cycles = 0;
    while listeners() > 0 {
        assert!(cycles < 4_000, "stopped listeners were never cut off:\n{}", service.stderr());
        service.unplug(&client, SENSOR_MODULE);
        service.plug(&client, SENSOR_MODULE);
        cycles += 1;
    }
    eprintln!("cut off after {cycles} plug cycles");
    // Nobody waits for them: a removal still reaches this client.
    service.unplug(&client, EEPROM_MODULE);
    let (reason, _) = expect_message(&lost, "REMOVED with stopped listeners cut off");
    assert_eq!(reason, LossReason::Removed);
    for watcher in &mut watchers {
        watcher.kill_hard();
    }
}
