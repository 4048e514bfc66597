//! The RPC transport's own doors (issue #18, item 3), against the real service binary: who may
//! connect to the socket, how many connections one uid may hold, and what a connection's bytes
//! may make the service hold. The hostile side is raw sockets that speak just enough of the
//! android13+ wire format to get where they want to be.
//!
//! Every connection the test makes is of its own uid (root's, as CI runs it). "Another uid" is
//! i2cctl started as uid 65534 with the socket's group (65534 too); those checks need root and
//! are skipped, saying so, without it.

mod common;

use common::*;
use i2c_hal_client::{Admin, Client};
use i2c_hal_core::request::{Message, MAX_MESSAGES, MAX_MESSAGE_LEN};
use i2c_hal_service::transport::admission::{OPEN_COUNTER, REFUSED_COUNTER};
use i2c_hal_service::transport::frames::{MAX_MESSAGE_BODY, MESSAGE_DEADLINE};
use i2c_hal_service::transport::HANDSHAKE_DEADLINE;
use i2c_hal_sim::control::socket_path_for;
use std::fs;
use std::io::{ErrorKind, Read, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Instant;

/// The unprivileged user (and group) the "other uid" checks run i2cctl as: Debian's nobody.
const OTHER_UID: u32 = 65534;

/// One field of /proc/PID/status, as a number (VmRSS is in kB).
fn proc_status(pid: u32, field: &str) -> u64 {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc/PID/status");
    let line = status
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{field}:")))
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"));
    let number = line.split_whitespace().next().expect("a value");
    number.parse().unwrap_or_else(|_| panic!("{field}: {line}"))
}

fn threads(service: &Service) -> u64 {
    proc_status(service.pid(), "Threads")
}

fn rss_kib(service: &Service) -> u64 {
    proc_status(service.pid(), "VmRSS")
}

/// A connection that has sent nothing yet.
fn raw_connection(service: &Service) -> UnixStream {
    let stream = UnixStream::connect(service.socket()).expect("connect to the socket");
    stream.set_read_timeout(Some(WAIT_TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(WAIT_TIMEOUT)).unwrap();
    stream
}

/// A connection that completed the android13+ handshake of a new session, as a client does:
/// its `RpcConnectionHeader` (version 2, outgoing, no session id), the service's
/// `RpcNewSessionResponse`, then `RpcOutgoingConnectionInit` ("cci").
fn connected(service: &Service) -> UnixStream {
    let mut stream = raw_connection(service);
    let mut header = [0u8; 16];
    header[..4].copy_from_slice(&2u32.to_le_bytes());
    stream.write_all(&header).expect("connection header");
    let mut response = [0u8; 8];
    stream.read_exact(&mut response).expect("new session response");
    assert_eq!(response[..4], 2u32.to_le_bytes(), "negotiated version");
    stream.write_all(b"cci\0\0\0\0\0").expect("connection init");
    stream
}

/// An `RpcWireHeader` for a transaction with a body of `body` bytes.
fn message_header(body: u32) -> [u8; 16] {
    let mut header = [0u8; 16];
    header[4..8].copy_from_slice(&body.to_le_bytes());
    header
}

/// Whether the service has closed `stream`, without waiting: an end of stream (or a reset) is
/// closed, nothing to read yet is open.
fn is_closed(stream: &UnixStream) -> bool {
    stream.set_nonblocking(true).unwrap();
    let mut byte = [0u8; 1];
    let closed = match (&*stream).read(&mut byte) {
        Ok(0) => true,
        Ok(_) => panic!("the service sent bytes to a connection that asked for nothing"),
        Err(e) if e.kind() == ErrorKind::WouldBlock => false,
        Err(e) if e.kind() == ErrorKind::ConnectionReset => true,
        Err(e) => panic!("reading a raw connection: {e}"),
    };
    stream.set_nonblocking(false).unwrap();
    closed
}

/// Asserts that the service closes `stream` at once: well before any of its deadlines could
/// have done it (both are 10 s).
#[track_caller]
fn assert_closed_at_once(mut stream: &UnixStream, what: &str) {
    let at_once = HANDSHAKE_DEADLINE.min(MESSAGE_DEADLINE) / 2;
    stream.set_read_timeout(Some(at_once)).unwrap();
    let mut byte = [0u8; 1];
    match stream.read(&mut byte) {
        Ok(0) => {}
        Err(e) if e.kind() == ErrorKind::ConnectionReset => {}
        other => panic!("{what} was not closed within {at_once:?}: {other:?}"),
    }
}

fn count_closed(streams: &[UnixStream]) -> usize {
    streams.iter().filter(|s| is_closed(s)).count()
}

/// Lets every user reach the socket's directory, so that the socket's own mode and group are
/// what decides (the test directory is private otherwise).
fn open_directory_to_all(service: &Service) {
    fs::set_permissions(service.dir(), fs::Permissions::from_mode(0o755)).unwrap();
}

/// `i2cctl buses` as the other uid, which the socket's group (OTHER_UID) lets in.
fn buses_as_other_uid(service: &Service) -> I2cctlOutput {
    run_i2cctl_as(Some(service.socket()), &["buses"], Some((OTHER_UID, OTHER_UID)))
}

/// A service with `args` that the other uid can reach when this process can act as it: the
/// socket's group is the other uid's (a service not run as root could not give its socket a
/// foreign group), and the socket's directory is searchable by all.
fn start_reachable_by_other_uid(args: &[&str]) -> Service {
    let group = OTHER_UID.to_string();
    let mut all = args.to_vec();
    if is_root() {
        all.extend(["--socket-group", group.as_str()]);
    }
    let service = Service::start_with_args(&all);
    open_directory_to_all(&service);
    service
}

fn skip_without_root(what: &str) -> bool {
    if !is_root() {
        eprintln!("skipped (needs root to act as uid {OTHER_UID}): {what}");
    }
    !is_root()
}

/// Connects a client as this process's uid, retrying while earlier connections of the test
/// are still being closed by the service (closing is asynchronous to the client).
fn client_when_admitted(service: &Service, what: &str) -> Client {
    let mut client = None;
    service.wait_until(what, || {
        client = Client::connect(&service.endpoint()).ok();
        client.is_some()
    });
    client.expect("connected")
}

#[test]
fn the_socket_is_not_world_writable_and_a_world_writable_mode_is_refused() {
    let service = Service::start();
    let meta = fs::metadata(service.socket()).expect("socket metadata");
    assert_eq!(meta.mode() & 0o7777, 0o660, "the default mode");
    assert_eq!(meta.gid(), nix::unistd::getegid().as_raw(), "the service's own group");

    let socket = service.dir().join("world.sock");
    for mode in ["0666", "0662", "0777"] {
        let child = spawn_service_at(&socket, &["--socket-mode", mode], None, None);
        let (status, stderr) = refused_start(child, "a service given a world-writable mode");
        assert_eq!(status.code(), Some(2), "--socket-mode {mode}: {stderr}");
        assert!(stderr.contains("world-writable"), "--socket-mode {mode}: {stderr}");
        assert!(!socket.exists(), "--socket-mode {mode} left a socket behind");
    }
}

#[test]
fn the_socket_group_lets_its_members_in_and_nobody_else() {
    if skip_without_root("the socket group's members connect, others are denied") {
        return;
    }
    let service = start_reachable_by_other_uid(&[]);
    let meta = fs::metadata(service.socket()).expect("socket metadata");
    assert_eq!((meta.mode() & 0o7777, meta.gid()), (0o660, OTHER_UID));

    let member = buses_as_other_uid(&service);
    assert_eq!(member.stdout_lines().len(), 2, "{member:?}");
    member.success();
    // The same user without the group: the kernel refuses the connect (EACCES), which i2cctl
    // reports as an unreachable service.
    let outsider =
        run_i2cctl_as(Some(service.socket()), &["buses"], Some((OTHER_UID, OTHER_UID - 1)));
    assert_eq!(outsider.exit_code, Some(3), "{outsider:?}");
    assert!(outsider.stderr.contains("cannot connect"), "{outsider:?}");
}

/// One of the service's own counters (getStatus).
fn counter(admin: &Admin, name: &str) -> u64 {
    let status = admin.status().expect("getStatus");
    let found = status.counters.iter().find(|(counter, _)| counter == name);
    found.map(|(_, value)| *value).unwrap_or_else(|| panic!("getStatus has no {name} counter"))
}

/// The RPC connections the service holds open now.
fn open_connections(admin: &Admin) -> u64 {
    counter(admin, OPEN_COUNTER)
}

/// A client of this uid, returned once its own connections are the only ones the service
/// holds. Whatever connected before (the harness's readiness check) closed its end already,
/// but the service counts a connection until it has read that end, which it does in its own
/// time; a count of places under a cap is exact only from here on.
fn sole_client(service: &Service) -> (Client, Admin) {
    let client = service.client();
    let admin = client.admin().expect("the admin instance");
    service.wait_until("this test's client holds the only open connections", || {
        open_connections(&admin) == CLIENT_CONNECTIONS
    });
    (client, admin)
}

/// A client process holds two connections: one it calls over, one it is called back over.
const CLIENT_CONNECTIONS: u64 = 2;

#[test]
fn idle_connections_of_one_uid_starve_no_other_uid_and_bound_the_threads() {
    const IDLE: usize = 100;
    // The default caps: 32 per uid, of which this test's own client holds two.
    const PER_UID: usize = 32;
    if skip_without_root("exact connection counts need the admin status, which root has") {
        return;
    }
    let service = start_reachable_by_other_uid(&[]);
    let (_client, admin) = sole_client(&service);
    let admitted = PER_UID - CLIENT_CONNECTIONS as usize;
    let baseline = threads(&service);

    let started = Instant::now();
    let idle: Vec<UnixStream> = (0..IDLE).map(|_| raw_connection(&service)).collect();
    service.wait_until("the connections over this uid's cap are closed", || {
        count_closed(&idle) >= IDLE - admitted
    });
    // Counted before the deadline could have closed any admitted one.
    let closed = count_closed(&idle);
    assert!(started.elapsed() < HANDSHAKE_DEADLINE, "refusals came only with the deadline");
    assert_eq!(
        closed,
        IDLE - admitted,
        "exactly the cap is admitted; stderr:\n{}",
        service.stderr()
    );
    assert_eq!(open_connections(&admin), PER_UID as u64, "the service's own count");
    assert_eq!(counter(&admin, REFUSED_COUNTER), (IDLE - admitted) as u64, "refused, counted");
    // An admitted connection awaiting its handshake holds a thread and its deadline's thread.
    let held = threads(&service);
    assert!(held <= baseline + 2 * admitted as u64 + 4, "{held} threads (baseline {baseline})");

    {
        let asked = Instant::now();
        let other = buses_as_other_uid(&service);
        assert_eq!(other.stdout_lines().len(), 2, "{other:?}");
        other.success();
        assert!(asked.elapsed() < WAIT_TIMEOUT, "another uid waited {:?}", asked.elapsed());
    }

    // Nobody finishes a handshake: the deadline closes every connection and frees its threads.
    let deadline = HANDSHAKE_DEADLINE + WAIT_TIMEOUT;
    assert!(
        poll_until(deadline, || count_closed(&idle) == IDLE),
        "silent connections were still open {deadline:?} after connecting; stderr:\n{}",
        service.stderr()
    );
    assert!(started.elapsed() >= HANDSHAKE_DEADLINE, "closed before the handshake deadline");
    service.wait_until("the idle connections' threads are gone", || threads(&service) <= baseline);
    let client = client_when_admitted(&service, "this uid is admitted again");
    assert_eq!(client.list_buses().expect("list_buses").len(), 2);
}

#[test]
fn a_uid_at_its_cap_is_refused_at_once_until_it_has_room_again() {
    const PER_UID: usize = 8;
    let per_uid = PER_UID.to_string();
    let service = start_reachable_by_other_uid(&["--max-connections-per-uid", &per_uid]);
    // Clients that completed their handshake and then idle: two connections each.
    let mut clients: Vec<Client> = (0..PER_UID / 2)
        .map(|i| client_when_admitted(&service, &format!("idle client {i} is admitted")))
        .collect();

    // Every spell before this one ended when the uid got below its cap, which it had to for
    // the last client to be admitted: what follows is one new spell.
    let uid = nix::unistd::geteuid();
    let (spell_start, spell_end) = (
        format!("refusing RPC connections from uid {uid}:"),
        format!("uid {uid} is below its RPC connection limit again"),
    );
    let spells = |what: &str| service.stderr().matches(what).count();
    // A spell's end is logged after its place is given back, so its line may come after the
    // admission it made room for.
    service.wait_until("every spell of refusals so far has its end logged", || {
        spells(&spell_start) == spells(&spell_end)
    });
    let (started, ended) = (spells(&spell_start), spells(&spell_end));

    // Over the cap, a connection is closed at once, whatever it would have sent.
    for _ in 0..3 {
        assert_closed_at_once(&raw_connection(&service), "a connection over the cap");
    }
    // The price of a per-uid cap: a well-behaved program of the same uid is refused too.
    assert!(Client::connect(&service.endpoint()).is_err(), "this uid was admitted over its cap");
    for client in &clients {
        assert_eq!(client.list_buses().expect("admitted clients keep working").len(), 2);
    }
    if !skip_without_root("another uid is served while this uid is at its cap") {
        buses_as_other_uid(&service).success();
    }
    assert_eq!(spells(&spell_start), started + 1, "one line per spell:\n{}", service.stderr());

    // Room again: one client leaves, the next one is admitted.
    clients.pop();
    let next = client_when_admitted(&service, "this uid is admitted once it has room");
    assert_eq!(next.list_buses().expect("list_buses").len(), 2);
    // The spell ends when the first of the departed client's connections closes. The next
    // client may come before the second one closes, be refused for it, and so start and end
    // a spell of its own: what holds is that this spell ended and that none is left open.
    service.wait_until("the end of the spell is logged, and no spell is left open", || {
        let (now_started, now_ended) = (spells(&spell_start), spells(&spell_end));
        now_ended > ended && now_started == now_ended
    });
}

#[test]
fn a_huge_declared_message_is_refused_before_it_is_allocated() {
    const CONNECTIONS: usize = 8;
    const DECLARED: u32 = 48 << 20;
    let service = Service::start();
    let client = service.client();
    let rss_before = rss_kib(&service);

    let attackers: Vec<UnixStream> = (0..CONNECTIONS).map(|_| connected(&service)).collect();
    // Half of each body: a body buffer becomes resident as its bytes arrive, so this is what
    // the service would hold without the cap (192 MiB in all).
    let half = vec![0x5a; DECLARED as usize / 2];
    for mut attacker in &attackers {
        attacker.write_all(&message_header(DECLARED)).expect("message header");
        // The service may already have closed the connection; then this fails, as it should.
        let _ = attacker.write_all(&half);
    }
    // Measured with the attackers still connected: what a body in progress holds is freed
    // when its connection ends.
    let grown = rss_kib(&service).saturating_sub(rss_before);
    let declared_kib = u64::from(DECLARED) / 1024 * CONNECTIONS as u64;
    assert!(grown < 16 * 1024, "RSS grew {grown} KiB for {declared_kib} KiB declared");
    for (i, attacker) in attackers.iter().enumerate() {
        assert_closed_at_once(attacker, &format!("connection {i} declaring {DECLARED} bytes"));
    }
    assert_eq!(client.list_buses().expect("the service keeps serving").len(), 2);
    assert!(service.stderr().contains("50331648-byte message"), "{}", service.stderr());
}

#[test]
fn a_message_that_stops_midway_is_closed_at_its_deadline() {
    let service = Service::start();
    let mut stalled = connected(&service);
    let started = Instant::now();
    stalled.write_all(&message_header(1000)).expect("message header");
    stalled.write_all(&[0; 10]).expect("part of the body");
    let bound = MESSAGE_DEADLINE + WAIT_TIMEOUT;
    assert!(
        poll_until(bound, || is_closed(&stalled)),
        "a stalled message was still open after {bound:?}; stderr:\n{}",
        service.stderr()
    );
    assert!(started.elapsed() >= MESSAGE_DEADLINE, "closed before the message deadline");
    assert!(service.stderr().contains("did not finish a message"), "{}", service.stderr());
    assert_eq!(service.client().list_buses().expect("the service keeps serving").len(), 2);
}

#[test]
fn the_largest_legitimate_call_fits_and_a_larger_one_costs_the_connection() {
    let service = Service::start();
    let client = service.client();
    let session = client.open("0", 0, EEPROM_ADDRESS, false, ignore_loss()).expect("open");
    let largest = vec![Message::Write(vec![0xa5; MAX_MESSAGE_LEN]); MAX_MESSAGES];
    match session.transfer(&largest) {
        Ok(_) => {}
        Err(error) => assert!(error.code().is_some(), "a transport failure: {error}"),
    }
    assert!(session.bus_info().is_ok(), "the connection survived the largest call");

    // A call no service would accept anyway (TOO_LARGE), but whose bytes exceed the cap:
    // the connection is closed before its body is read, and only this client notices.
    let count = MAX_MESSAGE_BODY / MAX_MESSAGE_LEN + 1;
    let oversized = vec![Message::Write(vec![0; MAX_MESSAGE_LEN]); count];
    let error = session.transfer(&oversized).expect_err("over the cap");
    assert_eq!(error.code(), None, "not a service answer but a lost connection: {error}");
    assert_eq!(service.client().list_buses().expect("other clients are served").len(), 2);
}

// ------------------------------------------------- where the socket lives, who serves it ----

/// `i2c-hal-service --sim ARGS` on `socket` (its own sim root beside it), as `user` when
/// given, under `umask` when given; its stderr piped.
fn spawn_service_at(
    socket: &Path,
    args: &[&str],
    user: Option<(u32, u32)>,
    umask: Option<u32>,
) -> Child {
    use std::os::unix::process::CommandExt;
    let mut command = Command::new(SERVICE_BIN);
    command
        .arg("--sim")
        .args(args)
        .arg("--socket")
        .arg(socket)
        .arg("--sim-root")
        .arg(socket.with_extension("root"))
        .env_remove("RUST_LOG")
        .env_remove("I2C_HAL_SOCKET")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some((uid, gid)) = user {
        command.uid(uid).gid(gid);
    }
    if let Some(mask) = umask {
        // SAFETY: umask(2) is async-signal-safe and touches only the child's own mask.
        unsafe {
            command.pre_exec(move || {
                libc::umask(mask);
                Ok(())
            });
        }
    }
    command.spawn().expect("spawn i2c-hal-service")
}

/// Waits for a service that must refuse to start; returns how it exited and its stderr.
fn refused_start(mut child: Child, what: &str) -> (ExitStatus, String) {
    let status = wait_for_exit(&mut child, what, WAIT_TIMEOUT);
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    assert!(!status.success(), "{what}: it started ({status}); stderr:\n{stderr}");
    (status, stderr)
}

#[test]
fn a_socket_directory_others_may_write_is_refused_and_a_lock_symlink_is_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let shared = dir.path().join("shared");
    fs::create_dir(&shared).unwrap();
    fs::set_permissions(&shared, fs::Permissions::from_mode(0o1777)).unwrap();
    let (_, stderr) = refused_start(
        spawn_service_at(&shared.join("s.sock"), &[], None, None),
        "a service in a world-writable directory",
    );
    assert!(
        stderr.contains("refusing to serve a socket in") && stderr.contains("1777"),
        "{stderr}"
    );

    // A symlink planted at the lock's path: nothing is created or locked through it.
    let own = dir.path().join("own");
    fs::create_dir(&own).unwrap();
    let target = dir.path().join("created-through-the-link");
    std::os::unix::fs::symlink(&target, own.join("s.sock.lock")).unwrap();
    let (_, stderr) = refused_start(
        spawn_service_at(&own.join("s.sock"), &[], None, None),
        "a service whose lock path is a symlink",
    );
    assert!(stderr.contains("s.sock.lock"), "{stderr}");
    assert!(!target.exists(), "the lock was created through the symlink");
}

#[test]
fn under_umask_000_no_socket_or_directory_the_service_makes_is_world_writable() {
    let dir = tempfile::tempdir().unwrap();
    // A missing directory is created by the service itself.
    let socket = dir.path().join("made").join("s.sock");
    let mut child = spawn_service_at(&socket, &[], None, Some(0));
    let control = socket_path_for(&socket);
    let up = poll_until(READY_TIMEOUT, || control.exists() && socket.exists());
    let _ = child.kill();
    let _ = child.wait();
    assert!(up, "the service did not create its sockets");
    let mode = |path: &Path| fs::metadata(path).unwrap().mode() & 0o7777;
    assert_eq!(mode(socket.parent().unwrap()), 0o755, "the socket directory");
    assert_eq!(mode(&socket), 0o660, "the service socket");
    assert_eq!(mode(&control), 0o660, "the simulator's control socket");
}

#[test]
fn clients_refuse_a_service_run_by_another_uid_unless_told_to_trust_it() {
    if skip_without_root("a service run as another uid") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("nobody");
    fs::create_dir(&home).unwrap();
    nix::unistd::chown(&home, Some(OTHER_UID.into()), Some(OTHER_UID.into())).unwrap();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let socket = home.join("s.sock");
    // The other user's service: its socket's group is its own, so root (and only root, of
    // the others) may connect.
    let mut child = spawn_service_at(&socket, &[], Some((OTHER_UID, OTHER_UID)), None);
    // The simulator's control socket comes up before the service's own: wait for both.
    let up = poll_until(READY_TIMEOUT, || socket_path_for(&socket).exists() && socket.exists());
    assert!(up, "the other uid's service did not start");

    let refused = run_i2cctl(Some(&socket), &["buses"]);
    let sim = run_i2cctl(Some(&socket), &["sim", "list"]);
    let trusted = run_i2cctl(Some(&socket), &["--server-uid", &OTHER_UID.to_string(), "buses"]);
    let _ = child.kill();
    let _ = child.wait();
    for output in [&refused, &sim] {
        assert_eq!(output.exit_code, Some(3), "{output:?}");
        assert!(output.stderr.starts_with("i2cctl: UNTRUSTED_SERVICE: "), "{output:?}");
        assert!(output.stderr.contains(&format!("uid {OTHER_UID}")), "names the uid: {output:?}");
    }
    assert_eq!(trusted.stdout_lines().len(), 2, "{trusted:?}");
}

#[test]
fn administrators_connect_and_run_status_while_other_uids_fill_the_table() {
    if skip_without_root("other uids filling the connection table") {
        return;
    }
    // Others may hold 6 of 10 places; 4 are root's (and other administrators') alone.
    let args = ["--max-connections", "10", "--admin-connections", "4"];
    let service =
        start_reachable_by_other_uid(&[&args[..], &["--max-connections-per-uid", "16"]].concat());
    let (_client, admin) = sole_client(&service);
    // Three watchers of another uid: two connections each, every place the others have.
    let watchers: Vec<BackgroundI2cctl> = (0..3)
        .map(|_| service.spawn_i2cctl_as((OTHER_UID, OTHER_UID), &["watch"], Stdio::null()))
        .collect();
    service.wait_until("the three watchers are registered", || {
        admin.status().is_ok_and(|status| status.listeners == 3)
    });
    assert_eq!(open_connections(&admin), 8, "the watchers' six and this test's client's two");

    let refused = buses_as_other_uid(&service);
    assert_eq!(refused.exit_code, Some(3), "another uid beyond the others' share: {refused:?}");
    let status = run_i2cctl(Some(service.socket()), &["status"]);
    status.success();
    assert!(status.stdout.contains("listeners"), "{status:?}");
    drop(watchers);
}

#[test]
fn on_a_host_uid_1000_and_container_uids_do_not_administer_while_root_does() {
    if skip_without_root("other uids calling the admin instance") {
        return;
    }
    let service = start_reachable_by_other_uid(&[]);
    // The socket's group lets them connect; the service's own check refuses them.
    for uid in [1000, 101_000] {
        for command in [&["status"][..], &["revoke", "0"][..], &["reload-policy"][..]] {
            let refused = run_i2cctl_as(Some(service.socket()), command, Some((uid, OTHER_UID)));
            assert_eq!(refused.exit_code, Some(1), "uid {uid} {command:?}: {refused:?}");
            assert!(
                refused.stderr.starts_with("i2cctl: PERMISSION_DENIED: "),
                "uid {uid} {command:?}: {refused:?}"
            );
        }
    }
    run_i2cctl(Some(service.socket()), &["status"]).success();
}
