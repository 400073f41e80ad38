//! The listener's table of connections by client address: each client's share, and which
//! connection gives way when every slot is taken and a lighter client arrives.
//!
//! A connection slot is a permit of the listener's semaphore. The permit of a served
//! connection is kept here, not in its task, so that a newcomer can take it over at once
//! when its owner is shed: otherwise the freed permit would go to whichever waiter the
//! semaphore serves first, and hogs queued behind it would take it.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Arc;

use tokio::sync::{Notify, OwnedSemaphorePermit};

/// One connection's entry: its permit once served, and how to tell it to close.
struct Slot {
    id: u64,
    permit: Option<OwnedSemaphorePermit>,
    shed: Arc<Notify>,
}

#[derive(Default)]
struct Table {
    by_ip: HashMap<IpAddr, VecDeque<Slot>>,
    next_id: u64,
}

/// Connections held per client address, shared by the accept loop and the connections.
#[derive(Clone, Default)]
pub(super) struct Clients(Arc<parking_lot::Mutex<Table>>);

/// One client's hold on a connection (served or waiting), given back when it is dropped.
pub(super) struct Held {
    clients: Clients,
    ip: IpAddr,
    id: u64,
    /// Notified when the connection is to give way to a lighter client.
    pub(super) shed: Arc<Notify>,
}

impl Clients {
    /// A hold for a new connection from `ip`, if that client holds fewer than `max`.
    pub(super) fn take(&self, ip: IpAddr, max: usize) -> Option<Held> {
        let mut t = self.0.lock();
        let id = t.next_id;
        let conns = t.by_ip.entry(ip).or_default();
        if conns.len() >= max.max(1) {
            return None;
        }
        let shed = Arc::new(Notify::new());
        conns.push_back(Slot {
            id,
            permit: None,
            shed: shed.clone(),
        });
        t.next_id += 1;
        Some(Held {
            clients: self.clone(),
            ip,
            id,
            shed,
        })
    }

    /// When every slot is taken: the permit of the oldest served connection of the client
    /// serving the most, if that client serves at least two more than `held`'s client does,
    /// and that connection is told to close. Shares so even out as clients arrive; a client
    /// never sheds its own connections, nor one of an equal client.
    pub(super) fn displace(&self, held: &Held) -> Option<OwnedSemaphorePermit> {
        let mut t = self.0.lock();
        let served = |c: &VecDeque<Slot>| c.iter().filter(|s| s.permit.is_some()).count();
        let mine = t.by_ip.get(&held.ip).map_or(0, served);
        let (_, conns) = t
            .by_ip
            .iter_mut()
            .filter(|(ip, _)| **ip != held.ip)
            .map(|(ip, c)| (served(c), (ip, c)))
            .max_by_key(|(n, _)| *n)
            .filter(|(n, _)| *n > mine + 1)?
            .1;
        let at = conns.iter().position(|s| s.permit.is_some())?;
        let victim = conns.remove(at)?;
        victim.shed.notify_one();
        victim.permit
    }
}

impl Held {
    /// Record that this connection is served under `permit`.
    pub(super) fn serve(&self, permit: OwnedSemaphorePermit) {
        let mut t = self.clients.0.lock();
        let slot = t
            .by_ip
            .get_mut(&self.ip)
            .and_then(|c| c.iter_mut().find(|s| s.id == self.id));
        match slot {
            Some(s) => s.permit = Some(permit),
            // Shed before it was served: the permit goes back at once.
            None => drop(permit),
        }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        let mut t = self.clients.0.lock();
        if let Some(conns) = t.by_ip.get_mut(&self.ip) {
            // Absent when the connection was shed: its permit has moved on already.
            conns.retain(|s| s.id != self.id);
            if conns.is_empty() {
                t.by_ip.remove(&self.ip);
            }
        }
    }
}
