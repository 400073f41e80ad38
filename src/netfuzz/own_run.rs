//! The fuzz loop's side of write-fuzzing a device (`own`): the seed objects made before
//! the run, the records remembered after each write, and the deletion at the end.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use super::fuzzer::{Fuzzer, Target};
use super::own::{self, Kind, Listed};
use super::seed::{role_for, Seed};
use crate::runner::http::Auth;
use crate::spec::model::Effect;

/// (API, collection).
type Coll = (String, String);

/// What the fuzzer knows of the objects on a device.
#[derive(Debug, Default)]
pub(crate) struct OwnState {
    /// The keys each collection listed before the run: never the fuzzer's.
    before: HashMap<Coll, HashSet<Vec<String>>>,
    /// The seed object of each collection whose updates and deletes are fuzzed.
    objects: HashMap<Coll, Listed>,
    /// Every record the fuzzer created, to delete at the end.
    created: Vec<(Coll, Listed)>,
    /// How many records the fuzzer has created in all.
    made: u64,
}

impl Fuzzer {
    fn auth_of(t: &Target, role: &str) -> Auth {
        t.session
            .auth(t.spec.name(), role)
            .cloned()
            .unwrap_or(Auth::None)
    }

    /// Before the run: the keys listed now, and a seed object for every collection whose
    /// updates or deletes are fuzzed.
    pub(super) async fn own_prepare(&self) {
        for t in &self.targets {
            let mut colls: Vec<(String, String, bool)> = Vec::new();
            for s in &t.seeds {
                if let Some(o) = &s.own {
                    match colls.iter_mut().find(|c| c.0 == o.collection) {
                        Some(c) => c.2 |= o.kind == Kind::Record,
                        None => colls.push((
                            o.collection.clone(),
                            s.role.clone(),
                            o.kind == Kind::Record,
                        )),
                    }
                }
            }
            for (c, role, record) in colls {
                let key = (t.spec.name().to_string(), c.clone());
                let listed = own::list(&t.session, &t.spec, &c, &Self::auth_of(t, &role))
                    .await
                    .unwrap_or_default();
                self.own
                    .lock()
                    .before
                    .insert(key.clone(), listed.into_iter().map(|(k, _)| k).collect());
                if record {
                    self.own_make(t, &key).await;
                }
            }
        }
    }

    /// Create the seed object of `coll`, and remember it (none when it cannot be made).
    async fn own_make(&self, t: &Target, coll: &Coll) {
        self.own.lock().objects.remove(coll);
        let spec = &t.spec;
        let Some(c) = spec.collection(&coll.1) else {
            return;
        };
        let Some((ep, op)) = own::op_of(spec, &coll.1, &[Effect::Create], None) else {
            return;
        };
        let Some(role) = role_for(&t.session, spec, op) else {
            return;
        };
        let prefix = t.session.opts.prefix.clone();
        let Some((d, _)) = own::create_draft(spec, c, ep, op, &prefix) else {
            return;
        };
        let auth = Self::auth_of(t, &role);
        let _ = t.session.client.send(&own::request(&d, &role, &auth)).await;
        let new = self.own_learn(t, coll, &role).await;
        if let Some(first) = new.into_iter().next() {
            self.own.lock().objects.insert(coll.clone(), first);
        }
    }

    /// List `coll` and remember the records of the fuzzer's own it had not seen: the new
    /// ones, returned.
    async fn own_learn(&self, t: &Target, coll: &Coll, role: &str) -> Vec<Listed> {
        let Some(c) = t.spec.collection(&coll.1) else {
            return vec![];
        };
        let Some(listed) = own::list(&t.session, &t.spec, &coll.1, &Self::auth_of(t, role)).await
        else {
            return vec![];
        };
        let prefix = &t.session.opts.prefix;
        let mut st = self.own.lock();
        let before = st.before.get(coll).cloned().unwrap_or_default();
        let mut new = Vec::new();
        for rec in listed {
            let known = st.created.iter().any(|(k, r)| k == coll && r.0 == rec.0);
            if !known && own::is_own(&t.spec, c, prefix, &before, &rec) {
                st.created.push((coll.clone(), rec.clone()));
                st.made += 1;
                new.push(rec);
            }
        }
        // The seed object, if it is no longer listed, is gone.
        if let Some(obj) = st.objects.get(coll) {
            if !st.created.iter().any(|(k, r)| k == coll && r.0 == obj.0) {
                st.objects.remove(coll);
            }
        }
        new
    }

    /// `seed` as it is sent now: a write of a seed object names the current one; `None`
    /// when there is none.
    pub(super) fn own_seed(&self, t: &Target, seed: &Seed) -> Option<Seed> {
        let Some(o) = seed.own.as_ref().filter(|o| o.kind == Kind::Record) else {
            return Some(seed.clone());
        };
        let coll = (t.spec.name().to_string(), o.collection.clone());
        let (key, fields) = self.own.lock().objects.get(&coll).cloned()?;
        let spec = &t.spec;
        let ep = spec.endpoint(&seed.endpoint)?;
        let op = ep
            .op
            .iter()
            .find(|op| op.method.get_ref().eq_ignore_ascii_case(&seed.method))?;
        let c = spec.collection(&o.collection)?;
        let kv: Vec<(String, String)> = spec.collection_keys(c).into_iter().zip(key).collect();
        let scalars: Map<String, Value> = fields
            .into_iter()
            .filter(|(_, v)| !v.is_object() && !v.is_array())
            .collect();
        let mut s = seed.clone();
        s.draft = own::record_draft(spec, ep, op, &kv, &scalars);
        Some(s)
    }

    /// After a write of `seed` that may have changed the device: remember what it
    /// created, and make the seed object again if it is gone.
    pub(super) async fn own_after_write(&self, t: &Target, seed: &Seed) {
        let Some(o) = &seed.own else { return };
        let coll = (t.spec.name().to_string(), o.collection.clone());
        // Records deleted since are forgotten: listed again, they would be someone else's.
        self.own_forget_gone(t, &coll, &seed.role).await;
        self.own_learn(t, &coll, &seed.role).await;
        let wanted = t.seeds.iter().any(|s| {
            s.own
                .as_ref()
                .is_some_and(|x| x.collection == o.collection && x.kind == Kind::Record)
        });
        if wanted && !self.own.lock().objects.contains_key(&coll) {
            self.own_make(t, &coll).await;
        }
    }

    /// Drop the remembered records of `coll` that are no longer listed.
    async fn own_forget_gone(&self, t: &Target, coll: &Coll, role: &str) {
        let Some(listed) = own::list(&t.session, &t.spec, &coll.1, &Self::auth_of(t, role)).await
        else {
            return;
        };
        let keys: HashSet<Vec<String>> = listed.into_iter().map(|(k, _)| k).collect();
        let mut st = self.own.lock();
        st.created.retain(|(k, r)| k != coll || keys.contains(&r.0));
        let gone = st
            .objects
            .get(coll)
            .is_some_and(|obj| !keys.contains(&obj.0));
        if gone {
            st.objects.remove(coll);
        }
    }

    /// After the run: delete every record the fuzzer created; what is still listed
    /// afterwards, as `api collection key`.
    pub(super) async fn own_cleanup(&self) -> (u64, Vec<String>) {
        let (created, made) = {
            let mut st = self.own.lock();
            (std::mem::take(&mut st.created), st.made)
        };
        let mut colls: Vec<Coll> = Vec::new();
        for (coll, (key, fields)) in &created {
            let Some(t) = self.targets.iter().find(|t| t.spec.name() == coll.0) else {
                continue;
            };
            if !colls.contains(coll) {
                colls.push(coll.clone());
            }
            let spec = &t.spec;
            let Some(c) = spec.collection(&coll.1) else {
                continue;
            };
            let Some((ep, op)) = own::op_of(spec, &coll.1, &[Effect::Delete], None) else {
                continue;
            };
            let Some(role) = role_for(&t.session, spec, op) else {
                continue;
            };
            let kv: Vec<(String, String)> = spec
                .collection_keys(c)
                .into_iter()
                .zip(key.iter().cloned())
                .collect();
            let scalars: Map<String, Value> = fields
                .iter()
                .filter(|(_, v)| !v.is_object() && !v.is_array())
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let d = own::record_draft(spec, ep, op, &kv, &scalars);
            let auth = Self::auth_of(t, &role);
            let _ = t.session.client.send(&own::request(&d, &role, &auth)).await;
        }
        let mut left = Vec::new();
        for coll in colls {
            let Some(t) = self.targets.iter().find(|t| t.spec.name() == coll.0) else {
                continue;
            };
            let role = t
                .seeds
                .iter()
                .find(|s| s.own.as_ref().is_some_and(|o| o.collection == coll.1))
                .map(|s| s.role.clone())
                .unwrap_or_default();
            let listed = own::list(&t.session, &t.spec, &coll.1, &Self::auth_of(t, &role))
                .await
                .unwrap_or_default();
            for (k, _) in listed {
                if created.iter().any(|(c, r)| *c == coll && r.0 == k) {
                    left.push(format!("{} {} {:?}", coll.0, coll.1, k));
                }
            }
        }
        (made, left)
    }
}
