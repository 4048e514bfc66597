//! How many connections the RPC socket admits: at most `max_connections` open at once in all,
//! and at most `max_per_uid` from any one uid, so that one uid holding connections open (idle
//! ones cost the service a thread or two each) cannot starve the others. The uid is the peer's
//! `SO_PEERCRED` uid, the identity every call is later judged by.
//!
//! A connection over either cap is refused at once, closed right after `accept`, never queued:
//! a queued client would wait on the good will of whoever holds the places. Within one uid the
//! cap is first come, first served, so a program can starve another program of the same uid.
//! That is the price of the design, and a small one: the same uid is the same principal (on
//! Android, the same app), which could as well kill or ptrace the other program.
//!
//! Administrators keep a reserve: connections from other uids together may fill at most
//! `max_connections - admin_reserve` places, so that however many uids fill the table, root
//! (and whoever else administers) can still connect and run `status` or `revoke`. Who
//! administers is the access policy's answer (`Policy::is_administrator`).
//!
//! Refusals are logged once per spell: the first refusal of a uid at its cap says so, the
//! following ones are only counted, and once the uid holds fewer than its cap one line says how
//! many there were. The same goes for the global cap. A client retrying in a loop costs the log
//! two lines however long it keeps at it.

use log::{info, warn};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// The counter of connections open now, in II2cAdmin.getStatus.
pub const OPEN_COUNTER: &str = "rpc.connections.open";
/// The counter of connections refused since the service started.
pub const REFUSED_COUNTER: &str = "rpc.connections.refused";

/// The caps, as the service's `--max-connections`, `--max-connections-per-uid` and
/// `--admin-connections` set them (docs/limits.md lists every limit).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Connections open at once, every uid's together.
    pub max_connections: usize,
    /// Connections one uid may have open at once. A client process uses two: one it calls
    /// over and one the service sends its callbacks over.
    pub max_per_uid: usize,
    /// Places of `max_connections` only administrators may take.
    pub admin_reserve: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        // 32 per uid: 16 client processes of one app or user, far more than one needs. 256 in
        // all: at least 8 uids must be at their cap before anyone else is refused, and the
        // service's threads stay in the hundreds even then (one per connection that calls).
        // 8 reserved: four administrator clients at once.
        ConnectionLimits { max_connections: 256, max_per_uid: 32, admin_reserve: 8 }
    }
}

/// Why a connection was not admitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectionRefusal {
    /// The uid already holds `max` connections.
    Uid { uid: u32, max: usize },
    /// `max` connections are open.
    Total { max: usize },
}

/// A spell of refusals that ended: the cap it was at and how many connections it refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct SpellEnd {
    refusal: ConnectionRefusal,
    refused: u64,
}

#[derive(Default)]
struct State {
    total: usize,
    /// Of `total`, the connections of uids that do not administer.
    others: usize,
    per_uid: HashMap<u32, usize>,
    /// Uids refused since they last held fewer than their cap, with the count of refusals.
    uid_spells: HashMap<u32, u64>,
    /// Refusals since the total was last below the global cap; None outside such a spell.
    total_spell: Option<u64>,
    /// Every refusal since the service started, for the administrators' counters.
    refused: u64,
}

/// Whether a uid administers (the access policy's answer).
pub type IsAdministrator = Box<dyn Fn(u32) -> bool + Send + Sync>;

/// The open connections of one socket, by uid.
pub struct Admission {
    limits: ConnectionLimits,
    is_administrator: IsAdministrator,
    state: Mutex<State>,
}

/// One admitted connection. Dropping it gives the place back; the transport holds it for as
/// long as the connection's socket is open.
pub struct Ticket {
    admission: Arc<Admission>,
    uid: u32,
    /// Whether it was admitted as an administrator's (outside the others' share).
    administrator: bool,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        for end in self.admission.leave(self.uid, self.administrator) {
            log_spell_end(end);
        }
    }
}

impl Admission {
    /// Caps below 1 would refuse everyone; they count as 1, and the reserve leaves at least
    /// one place to the others.
    pub fn new(limits: ConnectionLimits, is_administrator: IsAdministrator) -> Arc<Admission> {
        let max_connections = limits.max_connections.max(1);
        let limits = ConnectionLimits {
            max_connections,
            max_per_uid: limits.max_per_uid.max(1),
            admin_reserve: limits.admin_reserve.min(max_connections - 1),
        };
        Arc::new(Admission { limits, is_administrator, state: Mutex::new(State::default()) })
    }

    /// Admits a connection from `uid`, or says why not (logging the first refusal of a spell).
    pub fn admit(self: &Arc<Self>, uid: u32) -> Result<Ticket, ConnectionRefusal> {
        let administrator = (self.is_administrator)(uid);
        match self.enter(uid, administrator) {
            Ok(()) => Ok(Ticket { admission: self.clone(), uid, administrator }),
            Err((refusal, first_of_spell)) => {
                if first_of_spell {
                    log_spell_start(refusal);
                }
                Err(refusal)
            }
        }
    }

    /// The caps in force (each at least 1).
    pub fn limits(&self) -> ConnectionLimits {
        self.limits
    }

    /// Connections open now.
    pub fn open_connections(&self) -> usize {
        self.state().total
    }

    /// What II2cAdmin.getStatus adds to the broker's counters for this socket: the connections
    /// open now (a client process holds two) and those refused since the service started.
    pub fn counters(&self) -> Vec<(String, u64)> {
        let state = self.state();
        vec![
            (OPEN_COUNTER.to_string(), state.total as u64),
            (REFUSED_COUNTER.to_string(), state.refused),
        ]
    }

    fn state(&self) -> MutexGuard<'_, State> {
        i2c_hal_core::sync::lock(&self.state)
    }

    /// Takes a place for `uid`; on refusal, also whether it starts a spell.
    fn enter(&self, uid: u32, administrator: bool) -> Result<(), (ConnectionRefusal, bool)> {
        let mut state = self.state();
        let held = state.per_uid.get(&uid).copied().unwrap_or(0);
        let limits = self.limits;
        let others_max = limits.max_connections - limits.admin_reserve;
        let full =
            state.total >= limits.max_connections || (!administrator && state.others >= others_max);
        let (refusal, spell) = if held >= limits.max_per_uid {
            (
                ConnectionRefusal::Uid { uid, max: limits.max_per_uid },
                state.uid_spells.entry(uid).or_insert(0),
            )
        } else if full {
            let max = if administrator { limits.max_connections } else { others_max };
            (ConnectionRefusal::Total { max }, state.total_spell.get_or_insert(0))
        } else {
            state.total += 1;
            state.others += usize::from(!administrator);
            *state.per_uid.entry(uid).or_insert(0) += 1;
            return Ok(());
        };
        *spell += 1;
        let first_of_spell = *spell == 1;
        state.refused += 1;
        Err((refusal, first_of_spell))
    }

    /// Gives `uid`'s place back; returns the spells this ends.
    fn leave(&self, uid: u32, administrator: bool) -> Vec<SpellEnd> {
        let mut state = self.state();
        let mut ended = Vec::new();
        state.total = state.total.saturating_sub(1);
        if !administrator {
            state.others = state.others.saturating_sub(1);
        }
        let held = match state.per_uid.get_mut(&uid) {
            Some(held) => {
                *held = held.saturating_sub(1);
                *held
            }
            None => 0,
        };
        if held == 0 {
            state.per_uid.remove(&uid);
        }
        if held < self.limits.max_per_uid {
            if let Some(refused) = state.uid_spells.remove(&uid) {
                let refusal = ConnectionRefusal::Uid { uid, max: self.limits.max_per_uid };
                ended.push(SpellEnd { refusal, refused });
            }
        }
        let others_max = self.limits.max_connections - self.limits.admin_reserve;
        if state.total < self.limits.max_connections && state.others < others_max {
            if let Some(refused) = state.total_spell.take() {
                let refusal = ConnectionRefusal::Total { max: self.limits.max_connections };
                ended.push(SpellEnd { refusal, refused });
            }
        }
        ended
    }
}

fn log_spell_start(refusal: ConnectionRefusal) {
    match refusal {
        ConnectionRefusal::Uid { uid, max } => warn!(
            "refusing RPC connections from uid {uid}: it has {max} open, its limit \
             (--max-connections-per-uid); said once until it has fewer"
        ),
        ConnectionRefusal::Total { max } => warn!(
            "refusing RPC connections: {max} are open, the limit (--max-connections, less \
             --admin-connections for uids that do not administer); said once until fewer are"
        ),
    }
}

fn log_spell_end(end: SpellEnd) {
    match end.refusal {
        ConnectionRefusal::Uid { uid, .. } => info!(
            "uid {uid} is below its RPC connection limit again; {} of its connections were \
             refused meanwhile",
            end.refused
        ),
        ConnectionRefusal::Total { .. } => info!(
            "RPC connections are below the limit again; {} were refused meanwhile",
            end.refused
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// No reserve, nobody administers.
    fn admission(max_connections: usize, max_per_uid: usize) -> Arc<Admission> {
        let limits = ConnectionLimits { max_connections, max_per_uid, admin_reserve: 0 };
        Admission::new(limits, Box::new(|_| false))
    }

    #[test]
    fn administrators_keep_their_reserve_however_many_others_fill_the_table() {
        let limits = ConnectionLimits { max_connections: 6, max_per_uid: 8, admin_reserve: 2 };
        let doors = Admission::new(limits, Box::new(|uid| uid == 0));
        // Others fill every place but the reserve, over several uids.
        let others: Vec<Ticket> =
            (0..4).map(|i| doors.admit(1000 + i % 2).expect("room for others")).collect();
        assert_eq!(doors.admit(1002).err(), Some(ConnectionRefusal::Total { max: 4 }));
        // Root still gets in, into the reserve, and then also takes what others free.
        let root: Vec<Ticket> = (0..2).map(|_| doors.admit(0).expect("the reserve")).collect();
        assert_eq!(
            doors.admit(0).err(),
            Some(ConnectionRefusal::Total { max: 6 }),
            "the table is full"
        );
        drop(others);
        assert!(doors.admit(0).is_ok(), "root may use any free place");
        // A place root held does not count against the others' share.
        drop(root);
        let again: Vec<Ticket> = (0..4).map(|_| doors.admit(1003).expect("room")).collect();
        assert_eq!(again.len(), 4);
    }

    #[test]
    fn one_uid_at_its_cap_leaves_room_for_the_others() {
        let doors = admission(10, 2);
        let held: Vec<Ticket> = (0..2).map(|_| doors.admit(1000).unwrap()).collect();
        assert_eq!(doors.admit(1000).err(), Some(ConnectionRefusal::Uid { uid: 1000, max: 2 }));
        let other = doors.admit(1001).expect("another uid is admitted");
        assert_eq!(doors.open_connections(), 3);
        drop(held);
        assert_eq!(doors.open_connections(), 1);
        let _again = doors.admit(1000).expect("a place given back is free again");
        drop(other);
    }

    #[test]
    fn the_global_cap_holds_across_uids() {
        let doors = admission(3, 2);
        let _a: Vec<Ticket> = (0..2).map(|_| doors.admit(1).unwrap()).collect();
        let b = doors.admit(2).unwrap();
        assert_eq!(doors.admit(3).err(), Some(ConnectionRefusal::Total { max: 3 }));
        // The uid cap is judged first: a uid at its own cap hears about that one.
        assert_eq!(doors.admit(1).err(), Some(ConnectionRefusal::Uid { uid: 1, max: 2 }));
        drop(b);
        assert!(doors.admit(3).is_ok());
    }

    #[test]
    fn a_spell_of_refusals_is_reported_once_at_each_end() {
        let doors = admission(100, 1);
        let seven = ConnectionRefusal::Uid { uid: 7, max: 1 };
        let first = doors.admit(7).unwrap();
        assert_eq!(doors.enter(7, false), Err((seven, true)));
        for _ in 0..5 {
            assert_eq!(doors.enter(7, false), Err((seven, false)));
        }
        let _other = doors.admit(8).unwrap();
        let eight = ConnectionRefusal::Uid { uid: 8, max: 1 };
        assert_eq!(doors.enter(8, false), Err((eight, true)), "another uid's spell is its own");

        // Giving the place back ends uid 7's spell, with the count of what it refused
        // (`leave` is what the ticket's drop does, minus the log line).
        std::mem::forget(first);
        assert_eq!(doors.leave(7, false), vec![SpellEnd { refusal: seven, refused: 6 }]);
        let _second = doors.admit(7).unwrap();
        assert_eq!(doors.enter(7, false), Err((seven, true)), "a new spell is reported again");
    }

    #[test]
    fn the_global_spell_ends_when_a_place_frees() {
        let doors = admission(1, 5);
        let only = doors.admit(1).unwrap();
        assert_eq!(doors.enter(2, false), Err((ConnectionRefusal::Total { max: 1 }, true)));
        assert_eq!(doors.enter(3, false), Err((ConnectionRefusal::Total { max: 1 }, false)));
        std::mem::forget(only);
        assert_eq!(
            doors.leave(1, false),
            vec![SpellEnd { refusal: ConnectionRefusal::Total { max: 1 }, refused: 2 }]
        );
        assert_eq!(doors.open_connections(), 0);
        assert!(doors.state().per_uid.is_empty(), "no uid is remembered once it holds nothing");
    }

    #[test]
    fn caps_of_zero_count_as_one() {
        let doors = admission(0, 0);
        let _one = doors.admit(1).unwrap();
        assert!(doors.admit(2).is_err());
    }
}
