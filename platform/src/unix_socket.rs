//! Who may remove and bind a Unix socket path: the one process holding an exclusive flock on
//! `<path>.lock`. Used for the service's RPC socket and the simulator's control socket.
//!
//! Asking "does anything answer on it?" is not enough to decide that a socket file is stale: a
//! second instance asks before the first has bound, or while the first is between bind and
//! listen, and then deletes a live socket. The lock settles it. Its holder checked the path when
//! it took the lock and binds it afterwards, so every other instance leaves the path alone, and
//! the lock is released by the kernel when the holder dies, however it dies.
//!
//! A claim lasts until [`release`] or the end of the process, so it outlives the thread that
//! serves the socket (an RPC server never returns) and the exit cleanup can find it.
//!
//! Who may connect is the socket file's business: connecting to a Unix socket needs write
//! permission on it. [`bind_listener`] gives the socket its mode and group before its name
//! appears at the path, so no client ever finds it with looser permissions.
//!
//! Where the socket lives matters as much: in a directory other users can write (such as
//! /tmp) they could take the lock first, so that the service never starts, bind a socket of
//! their own for clients to find, or plant a symlink at the lock's path. So [`claim`] accepts
//! only a directory that the service's user (or root) owns and nobody else may write, creates
//! a missing one so, and never opens the lock through a symlink. Clients in turn check whose
//! socket they reached ([`peer_uid`]).

use log::warn;
use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};
use nix::sys::socket::{getsockopt, sockopt::PeerCredentials};
use nix::unistd::{getegid, geteuid, Group};
use std::ffi::OsString;
use std::fs::{self, File, OpenOptions, Permissions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

/// How often to retry when the lock file is replaced under us (see `lock`).
const LOCK_ATTEMPTS: usize = 5;

struct Claim {
    socket: PathBuf,
    lock_path: PathBuf,
    /// Unlocked (and closed) when dropped.
    _lock: Flock<File>,
}

/// The claims of this process.
static CLAIMS: Mutex<Vec<Claim>> = Mutex::new(Vec::new());

fn claims() -> MutexGuard<'static, Vec<Claim>> {
    i2c_hal_core::sync::lock(&CLAIMS)
}

/// "<socket path>.lock"
pub fn lock_path_for(socket: &Path) -> PathBuf {
    let mut path = OsString::from(socket.as_os_str());
    path.push(".lock");
    PathBuf::from(path)
}

/// Makes `path` this process's to bind: takes the lock on `<path>.lock`, then clears the path
/// of a stale socket, which is replaced with a warning. Fails, touching nothing, when another
/// process holds the lock, when something listens on the path without it, or when the path is
/// not a socket. Claiming a path this process already holds succeeds and does nothing, so a
/// caller can claim early (to fail before starting anything) and the binding code again.
pub fn claim(path: &Path) -> io::Result<()> {
    let mut claims = claims();
    if claims.iter().any(|claim| claim.socket == path) {
        return Ok(());
    }
    secure_directory(directory_of(path))?;
    let lock_path = lock_path_for(path);
    let lock = lock(&lock_path, path)?;
    if let Err(err) = clear_stale_socket(path, &lock_path) {
        remove_lock_file(&lock_path);
        return Err(err);
    }
    claims.push(Claim { socket: path.to_path_buf(), lock_path, _lock: lock });
    Ok(())
}

/// Gives up a claim: removes the socket at `path` and the lock file, then unlocks. Nothing
/// happens unless this process holds the claim, so it is safe in any exit path. The socket
/// file is this process's: the path was clear when the claim began, and no instance binds it
/// without the lock.
pub fn release(path: &Path) {
    let claim = {
        let mut claims = claims();
        let Some(index) = claims.iter().position(|claim| claim.socket == path) else {
            return;
        };
        claims.swap_remove(index)
    };
    let is_socket = fs::symlink_metadata(path).is_ok_and(|meta| meta.file_type().is_socket());
    if is_socket {
        if let Err(err) = fs::remove_file(path) {
            warn!("removing socket {}: {err}", path.display());
        }
    }
    // Removed while still locked, so nobody can lock this file once it is unlinked and believe
    // they hold the path (lock() checks it locked the file that is still in place).
    remove_lock_file(&claim.lock_path);
    drop(claim);
}

/// The directory a socket path is in.
pub fn directory_of(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// The mode a directory the service creates for its sockets gets: everybody may reach the
/// sockets in it (their own modes decide who may connect), only the service may change it.
pub const SOCKET_DIRECTORY_MODE: u32 = 0o755;

/// Makes sure only this process's user (or root) can change what is in `dir`: creates it
/// (0755) when missing, and refuses a symlink, another owner, or group or world write
/// permission, naming what is wrong.
pub fn secure_directory(dir: &Path) -> io::Result<()> {
    match fs::DirBuilder::new().mode(SOCKET_DIRECTORY_MODE).create(dir) {
        // Set again: the umask may have taken bits away, never added any.
        Ok(()) => fs::set_permissions(dir, Permissions::from_mode(SOCKET_DIRECTORY_MODE))?,
        Err(err) if err.kind() == io::ErrorKind::AlreadyExists => {}
        Err(err) => {
            let context = format!(
                "creating {} for the socket (a directory of its own, which only the service \
                 may write; pass --socket PATH elsewhere)",
                dir.display()
            );
            return Err(annotate(err, &context));
        }
    }
    let meta = fs::symlink_metadata(dir)
        .map_err(|err| annotate(err, &format!("inspecting {}", dir.display())))?;
    let euid = geteuid().as_raw();
    let problem = if !meta.file_type().is_dir() {
        Some("is not a directory (a symlink is not followed)".to_string())
    } else if meta.uid() != euid && meta.uid() != 0 {
        Some(format!("belongs to uid {}, not to the service's uid {euid} or root", meta.uid()))
    } else if meta.mode() & 0o022 != 0 {
        Some(format!(
            "has mode {:04o}: its group or other users could take the socket's lock, bind a \
             socket of their own there or plant a symlink",
            meta.mode() & 0o7777
        ))
    } else {
        None
    };
    match problem {
        None => Ok(()),
        Some(problem) => Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!(
                "refusing to serve a socket in {}: it {problem}; use a directory only the service \
                 may write (the default, /run/i2c-hal, is created so)",
                dir.display()
            ),
        )),
    }
}

/// The uid of the process at the other end of `stream` (SO_PEERCRED: whoever created the
/// socket it connected to, as the kernel recorded at connect time).
pub fn peer_uid(stream: &UnixStream) -> io::Result<u32> {
    getsockopt(stream, PeerCredentials).map(|cred| cred.uid()).map_err(io::Error::from)
}

/// The variable naming more uids a client accepts as the server of a socket (comma-separated),
/// for a service deliberately run by another user.
pub const SERVER_UID_ENV: &str = "I2C_HAL_SERVER_UID";

/// The uids a client accepts as the server at the other end of a socket: root, the client's own
/// effective uid, those $I2C_HAL_SERVER_UID names, and any added. Anyone else who could bind
/// the path (a user who got there first) is refused before a byte is sent to them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustedServers {
    uids: Vec<u32>,
}

impl TrustedServers {
    /// Root, this process's user, and $I2C_HAL_SERVER_UID's.
    pub fn from_env() -> Result<TrustedServers, String> {
        let mut uids = vec![0, geteuid().as_raw()];
        if let Some(list) = i2c_hal_core::non_empty_var(SERVER_UID_ENV) {
            let list = list.to_string_lossy().into_owned();
            for item in list.split(',') {
                let uid = item.trim().parse().map_err(|_| {
                    format!("{SERVER_UID_ENV}={list}: {item:?} is not a uid (give numbers, comma-separated)")
                })?;
                uids.push(uid);
            }
        }
        Ok(TrustedServers { uids })
    }

    /// Trusts `uid` too.
    pub fn with(mut self, uid: u32) -> TrustedServers {
        self.uids.push(uid);
        self
    }

    /// Whether the server of `stream` (connected to `path`) is one of them; the refusal names
    /// its uid and how to trust it.
    pub fn check(&self, stream: &UnixStream, path: &Path) -> Result<(), String> {
        let uid = peer_uid(stream)
            .map_err(|err| format!("cannot tell who serves {}: {err}", path.display()))?;
        if self.uids.contains(&uid) {
            return Ok(());
        }
        Err(format!(
            "{} is served by uid {uid}, which is neither root nor this user (uid {}): refusing to \
             talk to it. If it is the real service, trust it with --server-uid {uid} or \
             {SERVER_UID_ENV}={uid}",
            path.display(),
            geteuid()
        ))
    }
}

/// Locks `lock_path` without waiting. A holder releasing the claim unlinks the file while a
/// newcomer may already have it open; the newcomer would then lock a file nobody else sees, so
/// it checks that its file is still the one at `lock_path` and otherwise tries again.
fn lock(lock_path: &Path, socket: &Path) -> io::Result<Flock<File>> {
    for _ in 0..LOCK_ATTEMPTS {
        // Never through a symlink: its target would be created or locked in our name.
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o644)
            .custom_flags(libc::O_NOFOLLOW)
            .open(lock_path)
            .map_err(|err| annotate(err, &format!("opening lock file {}", lock_path.display())))?;
        if !file.metadata()?.file_type().is_file() {
            let message = format!("{} is not a regular file", lock_path.display());
            return Err(io::Error::new(io::ErrorKind::InvalidInput, message));
        }
        let lock = match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(lock) => lock,
            Err((_, Errno::EWOULDBLOCK)) => {
                return Err(io::Error::new(
                    io::ErrorKind::AddrInUse,
                    format!(
                        "{} is in use: another running instance holds its lock {}",
                        socket.display(),
                        lock_path.display()
                    ),
                ))
            }
            Err((_, errno)) => {
                let err = io::Error::from(errno);
                return Err(annotate(err, &format!("locking {}", lock_path.display())));
            }
        };
        let held = lock.metadata()?;
        match fs::metadata(lock_path) {
            Ok(now) if now.dev() == held.dev() && now.ino() == held.ino() => return Ok(lock),
            Ok(_) => {}
            Err(err) if err.kind() == io::ErrorKind::NotFound => {}
            Err(err) => return Err(err),
        }
    }
    Err(io::Error::other(format!("{} keeps being replaced; cannot lock it", lock_path.display())))
}

/// With the lock held: a socket nobody answers on is a leftover of a dead instance.
fn clear_stale_socket(path: &Path, lock_path: &Path) -> io::Result<()> {
    let meta = match fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(err) => return Err(annotate(err, &format!("inspecting {}", path.display()))),
    };
    if !meta.file_type().is_socket() {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("{} exists and is not a socket; refusing to replace it", path.display()),
        ));
    }
    match UnixStream::connect(path) {
        Ok(_) => Err(io::Error::new(
            io::ErrorKind::AddrInUse,
            format!(
                "another process is listening on {} without holding {}; not replacing it",
                path.display(),
                lock_path.display()
            ),
        )),
        Err(err) if err.kind() == io::ErrorKind::ConnectionRefused => {
            warn!("removing stale socket {}", path.display());
            match fs::remove_file(path) {
                Err(err) if err.kind() != io::ErrorKind::NotFound => Err(err),
                _ => Ok(()),
            }
        }
        Err(err) => Err(annotate(err, &format!("cannot tell whether {} is stale", path.display()))),
    }
}

/// The socket's mode when none is given: its owner and its group may connect, nobody else.
pub const DEFAULT_SOCKET_MODE: u32 = 0o660;

/// Who may connect to a socket: the permission bits and the group of its file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SocketAccess {
    pub mode: u32,
    pub gid: u32,
}

impl SocketAccess {
    /// `mode` for the owner and `gid`, or for this process's own group when `gid` is None.
    pub fn new(mode: u32, gid: Option<u32>) -> SocketAccess {
        SocketAccess { mode, gid: gid.unwrap_or_else(|| getegid().as_raw()) }
    }
}

/// Parses an octal socket mode (`0660`, `660` or `0o660`). Refuses bits other than permission
/// bits and, above all, the world-write bit: write permission is what `connect(2)` checks, so
/// it would let every local user in. Access is granted through the group instead.
pub fn parse_mode(text: &str) -> Result<u32, String> {
    let digits = text.strip_prefix("0o").unwrap_or(text);
    let mode = u32::from_str_radix(digits, 8)
        .map_err(|_| format!("{text:?} is not an octal mode such as 0660"))?;
    if mode & !0o777 != 0 {
        return Err(format!("{text}: only the permission bits (0777 at most) apply to a socket"));
    }
    if mode & 0o002 != 0 {
        return Err(format!(
            "{text} would make the socket world-writable, so that every local user could connect; \
             give access through its group instead (--socket-group)"
        ));
    }
    Ok(mode)
}

/// A group given by name or number, as its gid.
pub fn parse_group(text: &str) -> Result<u32, String> {
    if let Ok(gid) = text.parse::<u32>() {
        return Ok(gid);
    }
    match Group::from_name(text) {
        Ok(Some(group)) => Ok(group.gid.as_raw()),
        Ok(None) => Err(format!("no group named {text:?}")),
        Err(err) => Err(format!("looking up group {text:?}: {err}")),
    }
}

/// Binds a listening socket at `path`, which this process must have claimed, with `access`.
/// The socket is bound in a fresh private directory next to `path`, given its group and mode
/// there, and only then linked at `path`: between `bind` and `chmod` its mode is whatever the
/// umask made it, and a client connecting in that window would already be queued. The link
/// fails rather than replace anything that appeared at `path`.
pub fn bind_listener(path: &Path, access: SocketAccess) -> io::Result<UnixListener> {
    if path.file_name().is_none() {
        let message = format!("{} names no file", path.display());
        return Err(io::Error::new(io::ErrorKind::InvalidInput, message));
    }
    let parent = directory_of(path);
    // mkdtemp makes the directory 0700: nobody else can reach the socket while it is staged.
    // Names as short as can be: a socket path has 107 bytes at most, and the staged one should
    // not fail where the final one would fit.
    let private = nix::unistd::mkdtemp(&parent.join(".XXXXXX")).map_err(|errno| {
        annotate(io::Error::from(errno), &format!("creating a directory in {}", parent.display()))
    })?;
    let staged = private.join("s");
    let result = stage(&staged, access).and_then(|listener| {
        fs::hard_link(&staged, path)
            .map_err(|err| annotate(err, &format!("linking the socket at {}", path.display())))?;
        Ok(listener)
    });
    // The listener keeps the socket alive; only its staging name goes.
    let _ = fs::remove_file(&staged);
    let _ = fs::remove_dir(&private);
    result
}

/// Binds at `staged` and applies `access` there.
fn stage(staged: &Path, access: SocketAccess) -> io::Result<UnixListener> {
    let listener = UnixListener::bind(staged)?;
    std::os::unix::fs::chown(staged, None, Some(access.gid)).map_err(|err| {
        annotate(
            err,
            &format!(
                "giving the socket group {} (the service must run as root or belong to it)",
                access.gid
            ),
        )
    })?;
    fs::set_permissions(staged, Permissions::from_mode(access.mode))?;
    Ok(listener)
}

fn remove_lock_file(lock_path: &Path) {
    match fs::remove_file(lock_path) {
        Err(err) if err.kind() != io::ErrorKind::NotFound => {
            warn!("removing lock file {}: {err}", lock_path.display())
        }
        _ => {}
    }
}

fn annotate(err: io::Error, context: &str) -> io::Error {
    io::Error::new(err.kind(), format!("{context}: {err}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixListener;

    /// A second lock holder, as another instance would be.
    fn hold_lock(socket: &Path) -> Flock<File> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(lock_path_for(socket))
            .unwrap();
        Flock::lock(file, FlockArg::LockExclusiveNonblock).map_err(|(_, errno)| errno).unwrap()
    }

    #[test]
    fn stale_sockets_are_replaced_but_live_ones_and_files_are_not() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("plain");
        std::fs::write(&file, b"x").unwrap();
        assert_eq!(claim(&file).unwrap_err().kind(), io::ErrorKind::AlreadyExists);
        assert!(file.exists());

        let live = dir.path().join("live.sock");
        let _listener = std::os::unix::net::UnixListener::bind(&live).unwrap();
        assert_eq!(claim(&live).unwrap_err().kind(), io::ErrorKind::AddrInUse);

        let stale = dir.path().join("stale.sock");
        drop(std::os::unix::net::UnixListener::bind(&stale).unwrap());
        claim(&stale).unwrap();
        assert!(!stale.exists());
        claim(&stale).unwrap(); // nothing there: fine
        release(&stale);
    }

    #[test]
    fn a_regular_file_is_never_deleted_and_no_lock_file_is_left() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("precious");
        fs::write(&file, "data").unwrap();
        let err = claim(&file).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert!(err.to_string().contains("is not a socket"), "{err}");
        release(&file);
        assert_eq!(fs::read_to_string(&file).unwrap(), "data");
        assert!(!lock_path_for(&file).exists());
    }

    #[test]
    fn a_held_lock_protects_even_a_socket_nobody_answers_on() {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("s.sock");
        // The holder is between taking the lock and listening, or its socket looks stale.
        drop(UnixListener::bind(&socket).unwrap());
        let other = hold_lock(&socket);
        let err = claim(&socket).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
        assert!(err.to_string().contains("another running instance"), "{err}");
        assert!(socket.exists(), "the lock holder's socket was removed");
        release(&socket);
        assert!(socket.exists() && lock_path_for(&socket).exists(), "release without a claim");

        // Once the holder is gone (a crash leaves its lock file), the socket is stale.
        drop(other);
        claim(&socket).unwrap();
        assert!(!socket.exists());
        let _listener = UnixListener::bind(&socket).unwrap();
        release(&socket);
        assert!(!socket.exists() && !lock_path_for(&socket).exists());
    }

    #[test]
    fn modes_that_let_every_user_connect_are_refused() {
        assert_eq!(parse_mode("0660"), Ok(0o660));
        assert_eq!(parse_mode("660"), Ok(0o660));
        assert_eq!(parse_mode("0o600"), Ok(0o600));
        assert_eq!(parse_mode("0664"), Ok(0o664), "reading a socket file grants nothing");
        for world_writable in ["0666", "0662", "0777", "2"] {
            let err = parse_mode(world_writable).unwrap_err();
            assert!(err.contains("world-writable"), "{world_writable}: {err}");
        }
        assert!(parse_mode("4660").unwrap_err().contains("permission bits"));
        assert!(parse_mode("0680").is_err());
        assert!(parse_mode("rw-rw----").is_err());
    }

    #[test]
    fn groups_are_taken_by_number_or_name() {
        assert_eq!(parse_group("65534"), Ok(65534));
        assert_eq!(parse_group("root"), Ok(0));
        assert!(parse_group("no-such-group-i2c-hal").unwrap_err().contains("no group named"));
    }

    #[test]
    fn a_bound_socket_appears_with_its_mode_and_group_and_answers() {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("s.sock");
        let gid = getegid().as_raw();
        let listener = bind_listener(&socket, SocketAccess { mode: 0o640, gid }).unwrap();
        let meta = fs::symlink_metadata(&socket).unwrap();
        assert!(meta.file_type().is_socket());
        assert_eq!(meta.mode() & 0o7777, 0o640);
        assert_eq!(meta.gid(), gid);
        let _client = UnixStream::connect(&socket).unwrap();
        let (_accepted, _) = listener.accept().unwrap();
        let entries: Vec<_> =
            fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(entries, vec![OsString::from("s.sock")], "the staging directory is gone");

        // Nothing at the path is ever replaced.
        let taken = dir.path().join("taken");
        fs::write(&taken, "data").unwrap();
        let err = bind_listener(&taken, SocketAccess::new(0o660, None)).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists, "{err}");
        assert_eq!(fs::read_to_string(&taken).unwrap(), "data");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 2, "no staging directory left");
    }

    #[test]
    fn a_claim_keeps_others_out_until_released() {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("s.sock");
        claim(&socket).unwrap();
        let _listener = UnixListener::bind(&socket).unwrap();
        let file = File::open(lock_path_for(&socket)).unwrap();
        let (_, errno) = Flock::lock(file, FlockArg::LockExclusiveNonblock).unwrap_err();
        assert_eq!(errno, Errno::EWOULDBLOCK, "another process could take the lock");

        release(&socket);
        assert!(!socket.exists() && !lock_path_for(&socket).exists());
        let _next_instance = hold_lock(&socket);
    }
}
