//! One API as the emulator serves it: built from its spec (route table, accounts, vendor
//! module, tables), and what tests and the control interface may read or set on it.

use std::hash::{Hash, Hasher};

use parking_lot::Mutex;

use super::engine::route::Routes;
use super::store::Table;
use super::{tables, vendor, Account, ApiEmu, Device, EmulatorError};
use crate::spec::model::AuthScheme;
use crate::spec::Spec;

impl ApiEmu {
    pub(super) fn new(spec: Spec) -> Result<ApiEmu, EmulatorError> {
        let routes = Routes::new(&spec);
        let accounts = accounts(&spec);
        let vendor = vendor::select(&spec)?;
        let tables = tables::build(&spec);
        let emu = ApiEmu {
            routes,
            tables,
            accounts,
            device: Mutex::new(Device::fresh(&spec)),
            vendor,
            spec,
        };
        emu.reseed()?;
        Ok(emu)
    }

    pub fn name(&self) -> &str {
        self.spec.name()
    }

    pub fn accounts(&self) -> &[Account] {
        &self.accounts
    }

    /// A digest of everything a request can change: every table's rows (keys and values,
    /// in order), the device states, the running jobs, the changed settings and the live
    /// tokens. Two equal fingerprints mean (up to hash collisions) that nothing observable
    /// changed.
    pub fn fingerprint(&self) -> u64 {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        for (name, table) in &self.tables {
            name.hash(&mut h);
            let rows = table.snapshot();
            rows.len().hash(&mut h);
            for (k, row) in rows.iter() {
                k.hash(&mut h);
                row.to_value().to_string().hash(&mut h);
            }
        }
        let d = self.device.lock();
        d.states.hash(&mut h);
        let mut jobs: Vec<_> = d
            .jobs
            .iter()
            .map(|(k, j)| (k, &j.job, j.polls_left))
            .collect();
        jobs.sort();
        jobs.hash(&mut h);
        d.next_job.hash(&mut h);
        d.settings.hash(&mut h);
        self.vendor.tokens_held().hash(&mut h);
        h.finish()
    }

    /// The names of this API's tables.
    pub fn table_names(&self) -> impl Iterator<Item = &str> {
        self.tables.keys().map(String::as_str)
    }

    /// Rows of a collection (for tests and the control interface).
    pub fn table(&self, collection: &str) -> Option<&Table> {
        self.tables.get(collection)
    }

    /// Active device states.
    pub fn states(&self) -> Vec<String> {
        self.device.lock().states.iter().cloned().collect()
    }

    /// Enter (`on`) or leave a device state; false if the spec has no such state.
    pub fn set_state(&self, name: &str, on: bool) -> bool {
        if !self.spec.states().any(|s| s.name.get_ref() == name) {
            return false;
        }
        let mut d = self.device.lock();
        if on {
            d.states.insert(name.to_string());
        } else {
            d.states.remove(name);
        }
        true
    }
}

/// One account per role, lowest rank first, with the emulator's throwaway secrets.
fn accounts(spec: &Spec) -> Vec<Account> {
    spec.roles_by_rank()
        .into_iter()
        .map(|r| {
            let role = r.name.get_ref().clone();
            let user = r.user.clone().unwrap_or_else(|| role.clone());
            let bearer = spec.auth().scheme == AuthScheme::Bearer;
            let secret = if bearer {
                format!("dialtone-{}-{}-token", spec.name(), role)
            } else {
                format!("{user}-dialtone")
            };
            Account {
                api: spec.name().to_string(),
                role,
                user,
                secret,
                bearer,
            }
        })
        .collect()
}
