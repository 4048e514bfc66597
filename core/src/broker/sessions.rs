//! The session table and its indexes, so that no call scans every session: opening checks the
//! address, the uid's quota and the exclusive limits in a few hash lookups, and a removal or
//! revoke visits only the sessions of its adapter. A scan grows with the sessions held, and
//! with many held it was most of an open's cost (docs/perf.md, 'Cost of the service's own
//! code').
//!
//! Every change of a session's membership (insert, remove, death) goes through this type, which
//! keeps the counts in step; the entries themselves are reachable only read-only or for the
//! fields no index depends on. `verify` recomputes every index by a naive scan (tests).

use super::{SessionEntry, SessionId, SessionState};
use crate::bus::{Generation, LossReason};
use crate::device::Target;
use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

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

/// The sessions of one adapter.
#[derive(Debug, Default, PartialEq, Eq)]
struct OnAdapter {
    /// All of them, dead ones too: what removal and revoke visit.
    ids: FastSet<SessionId>,
    /// Device holders (whether the fd is still needed) and the exclusive ones among them.
    holders: Holders,
}

/// The sessions of one uid.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct OfUid {
    /// All of them, dead ones too: a zombie still counts against its uid's quota.
    sessions: usize,
    /// Exclusive device holders (the per-caller exclusive limit).
    exclusive: usize,
}

/// FxHash (rustc's own hasher): a multiply and a rotate per word. The keys here are ids the
/// service makes (session ids, generations), uids the kernel reports and bus addresses, none
/// chosen freely by a client, so SipHash's defence against crafted collisions buys nothing,
/// and it stood out in the profile of an open once the scans were gone (docs/perf.md, 'Cost of
/// the service's own code').
#[derive(Clone, Copy, Default)]
pub(super) struct FxHasher(u64);

const FX_SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(FX_SEED);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        bytes.iter().for_each(|b| self.add(u64::from(*b)));
    }

    fn write_u8(&mut self, n: u8) {
        self.add(n.into());
    }

    fn write_u16(&mut self, n: u16) {
        self.add(n.into());
    }

    fn write_u32(&mut self, n: u32) {
        self.add(n.into());
    }

    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type Fx = BuildHasherDefault<FxHasher>;
type FastMap<K, V> = HashMap<K, V, Fx>;
type FastSet<K> = HashSet<K, Fx>;

#[derive(Default)]
pub(super) struct Sessions {
    entries: FastMap<SessionId, SessionEntry>,
    adapters: FastMap<Generation, OnAdapter>,
    uids: FastMap<u32, OfUid>,
    /// Device holders per address.
    at_address: FastMap<AddressKey, Holders>,
    /// Exclusive device holders per uid and adapter (the per-bus exclusive limit).
    exclusive_of_uid_on: FastMap<(u32, Generation), usize>,
}

impl Sessions {
    pub fn get(&self, id: &SessionId) -> Option<&SessionEntry> {
        self.entries.get(id)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&SessionId, &SessionEntry)> {
        self.entries.iter()
    }

    pub fn of_uid(&self, uid: u32) -> usize {
        self.uids.get(&uid).map_or(0, |u| u.sessions)
    }

    pub fn holders_at(&self, generation: Generation, target: Target) -> Holders {
        self.at_address.get(&AddressKey::of(generation, target)).copied().unwrap_or_default()
    }

    pub fn has_device_holders(&self, generation: Generation) -> bool {
        self.adapters.get(&generation).is_some_and(|a| a.holders.all > 0)
    }

    pub fn exclusive_of_uid(&self, uid: u32) -> usize {
        self.uids.get(&uid).map_or(0, |u| u.exclusive)
    }

    pub fn exclusive_of_uid_on(&self, uid: u32, generation: Generation) -> usize {
        self.exclusive_of_uid_on.get(&(uid, generation)).copied().unwrap_or(0)
    }

    /// The sessions of one adapter, in no particular order.
    pub fn ids_on(&self, generation: Generation) -> Vec<SessionId> {
        self.adapters.get(&generation).map(|a| a.ids.iter().copied().collect()).unwrap_or_default()
    }

    pub fn insert(&mut self, id: SessionId, entry: SessionEntry) {
        // Ids are never reused; were one to be, the old entry's counts must not linger.
        self.remove(&id);
        self.adapters.entry(entry.adapter.generation).or_default().ids.insert(id);
        self.uids.entry(entry.caller.uid).or_default().sessions += 1;
        if entry.holds_device() {
            self.count_holder(&entry, Count::Up);
        }
        self.entries.insert(id, entry);
    }

    pub fn remove(&mut self, id: &SessionId) -> Option<SessionEntry> {
        let entry = self.entries.remove(id)?;
        if entry.holds_device() {
            self.count_holder(&entry, Count::Down);
        }
        let generation = entry.adapter.generation;
        if let Entry::Occupied(mut adapter) = self.adapters.entry(generation) {
            adapter.get_mut().ids.remove(id);
            // Nothing is left behind for an adapter or uid once its last session is gone.
            if adapter.get().ids.is_empty() {
                adapter.remove();
            }
        }
        if let Entry::Occupied(mut uid) = self.uids.entry(entry.caller.uid) {
            uid.get_mut().sessions -= 1;
            if uid.get().sessions == 0 {
                uid.remove();
            }
        }
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
        let holder = Holder::of(entry);
        self.count(holder, Count::Down);
        Some(was)
    }

    fn count_holder(&mut self, entry: &SessionEntry, step: Count) {
        self.count(Holder::of(entry), step);
    }

    /// Adds or takes away one device holder. The uid and adapter entries exist: their session
    /// is in the table.
    fn count(&mut self, holder: Holder, step: Count) {
        let apply = |n: &mut usize, by: bool| match step {
            Count::Up => *n += usize::from(by),
            Count::Down => *n -= usize::from(by),
        };
        let key = AddressKey::of(holder.generation, holder.target);
        let at = self.at_address.entry(key).or_default();
        apply(&mut at.all, true);
        apply(&mut at.exclusive, holder.exclusive);
        if at.all == 0 {
            self.at_address.remove(&key);
        }
        let adapter = &mut self.adapters.entry(holder.generation).or_default().holders;
        apply(&mut adapter.all, true);
        apply(&mut adapter.exclusive, holder.exclusive);
        if holder.exclusive {
            apply(&mut self.uids.entry(holder.uid).or_default().exclusive, true);
            let key = (holder.uid, holder.generation);
            let on = self.exclusive_of_uid_on.entry(key).or_default();
            apply(on, true);
            if *on == 0 {
                self.exclusive_of_uid_on.remove(&key);
            }
        }
    }

    /// Recomputes every index by scanning all sessions and compares: the indexes must say
    /// exactly what a scan says.
    #[cfg(test)]
    pub fn verify(&self) {
        let mut adapters = FastMap::<Generation, OnAdapter>::default();
        let mut uids = FastMap::<u32, OfUid>::default();
        let mut at_address = FastMap::<AddressKey, Holders>::default();
        let mut exclusive_of_uid_on = FastMap::<(u32, Generation), usize>::default();
        for (id, entry) in &self.entries {
            let adapter = adapters.entry(entry.adapter.generation).or_default();
            adapter.ids.insert(*id);
            let uid = uids.entry(entry.caller.uid).or_default();
            uid.sessions += 1;
            if entry.holds_device() {
                let exclusive = usize::from(entry.exclusive);
                adapter.holders.all += 1;
                adapter.holders.exclusive += exclusive;
                uid.exclusive += exclusive;
                let at = at_address
                    .entry(AddressKey::of(entry.adapter.generation, entry.target))
                    .or_default();
                at.all += 1;
                at.exclusive += exclusive;
                if entry.exclusive {
                    *exclusive_of_uid_on
                        .entry((entry.caller.uid, entry.adapter.generation))
                        .or_default() += 1;
                }
            }
        }
        assert_eq!(self.adapters, adapters, "sessions per adapter");
        assert_eq!(self.uids, uids, "sessions per uid");
        assert_eq!(self.at_address, at_address, "holders per address");
        assert_eq!(self.exclusive_of_uid_on, exclusive_of_uid_on, "exclusive per uid and bus");
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
                self.exclusive_of_uid_on(entry.caller.uid, generation),
                scan(&|s| {
                    exclusive(s)
                        && s.adapter.generation == generation
                        && s.caller.uid == entry.caller.uid
                })
            );
        }
    }
}

#[derive(Clone, Copy)]
enum Count {
    Up,
    Down,
}

/// What the indexes know of a device holder.
#[derive(Clone, Copy)]
struct Holder {
    uid: u32,
    generation: Generation,
    target: Target,
    exclusive: bool,
}

impl Holder {
    fn of(entry: &SessionEntry) -> Holder {
        Holder {
            uid: entry.caller.uid,
            generation: entry.adapter.generation,
            target: entry.target,
            exclusive: entry.exclusive,
        }
    }
}
