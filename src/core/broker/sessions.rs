//! The session table and its indexes, so that no call scans every session: opening checks the
//! address, the uid's quota and the exclusive limits in a few hash lookups, and a removal or
//! revoke visits only the sessions of its adapter. At 10,000 sessions a scan was most of the
//! cost of an open.
//!
//! Every change of a session's membership (insert, remove, death) goes through this type, which
//! keeps the counts in step; the entries themselves are reachable only read-only or for the
//! fields no index depends on. `verify` recomputes every index by a naive scan (tests).

use super::{SessionEntry, SessionId, SessionState};
use crate::core::bus::{Generation, LossReason};
use crate::core::device::Target;
use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};

/// One address on one adapter: 7-bit 0x50 and 10-bit 0x050 are different devices.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct AddressKey {
    generation: Generation,
    address: u16,
    ten_bit: bool,
}

impl AddressKey {
    fn of(generation: Generation, target: Target) -> AddressKey {
        AddressKey { generation, address: target.address, ten_bit: target.ten_bit }
    }
}

/// Sessions that hold the device (opening or live) at one address.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Holders {
    pub all: usize,
    pub exclusive: usize,
}

#[derive(Default)]
pub(super) struct Sessions {
    entries: HashMap<SessionId, SessionEntry>,
    /// Every session (dead ones too) of each adapter: what removal and revoke visit.
    by_adapter: HashMap<Generation, HashSet<SessionId>>,
    /// Every session (dead ones too: a zombie still counts against its uid's quota) per uid.
    per_uid: HashMap<u32, usize>,
    /// Device holders per address.
    at_address: HashMap<AddressKey, Holders>,
    /// Device holders per adapter (whether the fd is still needed).
    holders_on_adapter: HashMap<Generation, usize>,
    /// Exclusive device holders per uid and per adapter (the exclusive limits).
    exclusive_per_uid: HashMap<u32, usize>,
    exclusive_on_adapter: HashMap<Generation, usize>,
}

fn increment<K: std::hash::Hash + Eq>(map: &mut HashMap<K, usize>, key: K) {
    *map.entry(key).or_default() += 1;
}

/// Removes the key at zero, so that uids and adapters long gone leave nothing behind.
fn decrement<K: std::hash::Hash + Eq>(map: &mut HashMap<K, usize>, key: K) {
    if let Entry::Occupied(mut count) = map.entry(key) {
        *count.get_mut() -= 1;
        if *count.get() == 0 {
            count.remove();
        }
    }
}

impl Sessions {
    pub fn get(&self, id: &SessionId) -> Option<&SessionEntry> {
        self.entries.get(id)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&SessionId, &SessionEntry)> {
        self.entries.iter()
    }

    pub fn of_uid(&self, uid: u32) -> usize {
        self.per_uid.get(&uid).copied().unwrap_or(0)
    }

    pub fn holders_at(&self, generation: Generation, target: Target) -> Holders {
        self.at_address.get(&AddressKey::of(generation, target)).copied().unwrap_or_default()
    }

    pub fn has_device_holders(&self, generation: Generation) -> bool {
        self.holders_on_adapter.contains_key(&generation)
    }

    pub fn exclusive_of_uid(&self, uid: u32) -> usize {
        self.exclusive_per_uid.get(&uid).copied().unwrap_or(0)
    }

    pub fn exclusive_on(&self, generation: Generation) -> usize {
        self.exclusive_on_adapter.get(&generation).copied().unwrap_or(0)
    }

    /// The sessions of one adapter, in no particular order.
    pub fn ids_on(&self, generation: Generation) -> Vec<SessionId> {
        self.by_adapter
            .get(&generation)
            .map(|ids| ids.iter().copied().collect())
            .unwrap_or_default()
    }

    pub fn insert(&mut self, id: SessionId, entry: SessionEntry) {
        // Ids are never reused; were one to be, the old entry's counts must not linger.
        self.remove(&id);
        let generation = entry.adapter.generation;
        self.by_adapter.entry(generation).or_default().insert(id);
        increment(&mut self.per_uid, entry.caller.uid);
        if entry.holds_device() {
            self.count_holder(&entry, true);
        }
        self.entries.insert(id, entry);
    }

    pub fn remove(&mut self, id: &SessionId) -> Option<SessionEntry> {
        let entry = self.entries.remove(id)?;
        self.uncount(*id, &entry);
        Some(entry)
    }

    /// An opening session that got its device. Only Opening -> Live: a session killed
    /// meanwhile stays dead. Returns whether it is live now.
    pub fn make_live(&mut self, id: &SessionId) -> bool {
        match self.entries.get_mut(id) {
            Some(entry) if entry.state == SessionState::Opening => {
                entry.state = SessionState::Live;
                true
            }
            _ => false,
        }
    }

    /// Marks a session dead (it stops holding the device). Returns the state it had, or None
    /// if it was already dead or does not exist.
    pub fn kill(&mut self, id: &SessionId, reason: LossReason) -> Option<SessionState> {
        let entry = self.entries.get_mut(id)?;
        if !entry.holds_device() {
            return None;
        }
        let was = entry.state;
        entry.state = SessionState::Dead(reason);
        let (uid, generation, target, exclusive) =
            (entry.caller.uid, entry.adapter.generation, entry.target, entry.exclusive);
        self.count_holder_parts(uid, generation, target, exclusive, false);
        Some(was)
    }

    fn uncount(&mut self, id: SessionId, entry: &SessionEntry) {
        let generation = entry.adapter.generation;
        if let Entry::Occupied(mut ids) = self.by_adapter.entry(generation) {
            ids.get_mut().remove(&id);
            if ids.get().is_empty() {
                ids.remove();
            }
        }
        decrement(&mut self.per_uid, entry.caller.uid);
        if entry.holds_device() {
            self.count_holder(entry, false);
        }
    }

    fn count_holder(&mut self, entry: &SessionEntry, add: bool) {
        self.count_holder_parts(
            entry.caller.uid,
            entry.adapter.generation,
            entry.target,
            entry.exclusive,
            add,
        );
    }

    fn count_holder_parts(
        &mut self,
        uid: u32,
        generation: Generation,
        target: Target,
        exclusive: bool,
        add: bool,
    ) {
        let key = AddressKey::of(generation, target);
        if add {
            let holders = self.at_address.entry(key).or_default();
            holders.all += 1;
            holders.exclusive += usize::from(exclusive);
            increment(&mut self.holders_on_adapter, generation);
            if exclusive {
                increment(&mut self.exclusive_per_uid, uid);
                increment(&mut self.exclusive_on_adapter, generation);
            }
            return;
        }
        if let Entry::Occupied(mut holders) = self.at_address.entry(key) {
            let counts = holders.get_mut();
            counts.all -= 1;
            counts.exclusive -= usize::from(exclusive);
            if counts.all == 0 {
                holders.remove();
            }
        }
        decrement(&mut self.holders_on_adapter, generation);
        if exclusive {
            decrement(&mut self.exclusive_per_uid, uid);
            decrement(&mut self.exclusive_on_adapter, generation);
        }
    }

    /// Recomputes every index by scanning all sessions and compares: the indexes must say
    /// exactly what a scan says.
    #[cfg(test)]
    pub fn verify(&self) {
        let mut sessions = Sessions::default();
        for (id, entry) in &self.entries {
            sessions.by_adapter.entry(entry.adapter.generation).or_default().insert(*id);
            increment(&mut sessions.per_uid, entry.caller.uid);
            if entry.holds_device() {
                sessions.count_holder(entry, true);
            }
        }
        assert_eq!(self.by_adapter, sessions.by_adapter, "sessions by adapter");
        assert_eq!(self.per_uid, sessions.per_uid, "sessions per uid");
        assert_eq!(self.at_address, sessions.at_address, "holders per address");
        assert_eq!(self.holders_on_adapter, sessions.holders_on_adapter, "holders per adapter");
        assert_eq!(self.exclusive_per_uid, sessions.exclusive_per_uid, "exclusive per uid");
        assert_eq!(self.exclusive_on_adapter, sessions.exclusive_on_adapter, "exclusive per bus");
        // And every query agrees with a plain scan over the entries.
        for entry in self.entries.values() {
            let generation = entry.adapter.generation;
            let scan =
                |f: &dyn Fn(&SessionEntry) -> bool| self.entries.values().filter(|s| f(s)).count();
            assert_eq!(self.of_uid(entry.caller.uid), scan(&|s| s.caller.uid == entry.caller.uid));
            let at = |s: &SessionEntry| {
                s.holds_device()
                    && s.adapter.generation == generation
                    && s.target.address == entry.target.address
                    && s.target.ten_bit == entry.target.ten_bit
            };
            let holders = self.holders_at(generation, entry.target);
            assert_eq!(holders.all, scan(&at));
            assert_eq!(holders.exclusive, scan(&|s| at(s) && s.exclusive));
            assert_eq!(
                self.has_device_holders(generation),
                scan(&|s| s.holds_device() && s.adapter.generation == generation) > 0
            );
            let exclusive = |s: &SessionEntry| s.holds_device() && s.exclusive;
            assert_eq!(
                self.exclusive_of_uid(entry.caller.uid),
                scan(&|s| exclusive(s) && s.caller.uid == entry.caller.uid)
            );
            assert_eq!(
                self.exclusive_on(generation),
                scan(&|s| exclusive(s) && s.adapter.generation == generation)
            );
        }
    }
}
