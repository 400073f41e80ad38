//! Splitting a plan into shards for a CI job matrix (`--partition count:K/N` or
//! `hash:K/N`, as cargo-nextest spells it). Tests that belong together form one group and
//! land in one shard: every write-class test of one collection (their order and the state
//! they leave matter), and each test on its own otherwise (a scenario case, a property
//! with its read-backs and a stateful sequence are already one test each).

use std::str::FromStr;

use super::PlanEntry;
use crate::spec::model::Safety;
use crate::spec::Spec;

/// How tests are dealt out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// Groups in plan order, dealt round-robin: shard `K` takes groups `K-1`, `K-1+N`, ...
    Count,
    /// Each group by a stable hash (FNV-1a 64) of its key, modulo `N`: a test keeps its
    /// shard when others are added or removed.
    Hash,
}

/// One shard of `N`: `K` counts from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partition {
    pub scheme: Scheme,
    pub k: u32,
    pub n: u32,
}

impl FromStr for Partition {
    type Err = String;

    fn from_str(s: &str) -> Result<Partition, String> {
        let usage = "expected `count:K/N` or `hash:K/N` with 1 <= K <= N (for example count:2/3)";
        let (scheme, shard) = s.split_once(':').ok_or_else(|| format!("`{s}`: {usage}"))?;
        let scheme = match scheme {
            "count" => Scheme::Count,
            "hash" => Scheme::Hash,
            other => return Err(format!("`{other}` is no partition scheme; {usage}")),
        };
        let (k, n) = shard
            .split_once('/')
            .ok_or_else(|| format!("`{s}`: {usage}"))?;
        let num = |x: &str| {
            x.trim()
                .parse::<u32>()
                .map_err(|_| format!("`{x}` in `{s}` is not a whole number; {usage}"))
        };
        let (k, n) = (num(k)?, num(n)?);
        if n == 0 || k == 0 || k > n {
            return Err(format!("`{s}`: {usage}"));
        }
        Ok(Partition { scheme, k, n })
    }
}

impl std::fmt::Display for Partition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scheme = match self.scheme {
            Scheme::Count => "count",
            Scheme::Hash => "hash",
        };
        write!(f, "{scheme}:{}/{}", self.k, self.n)
    }
}

/// The group an entry belongs to: the collection a write-class test changes, else the
/// test itself.
pub fn group_key(spec: Option<&Spec>, e: &PlanEntry) -> String {
    if e.safety == Safety::Read {
        return e.id.clone();
    }
    let Some(eid) = e.endpoint.as_deref() else {
        return e.id.clone();
    };
    let collection = spec
        .and_then(|s| s.endpoint(eid))
        .and_then(|ep| ep.collection.as_ref())
        .map(|c| c.get_ref().clone());
    match collection {
        Some(c) => format!("{}/collection:{c}", e.api),
        None => format!("{}/endpoint:{eid}", e.api),
    }
}

impl Partition {
    /// Which of `keys` (each test's group, in plan order) fall in this shard.
    pub fn select(&self, keys: &[String]) -> Vec<bool> {
        let n = self.n as usize;
        let mut first_seen: std::collections::HashMap<&str, usize> = Default::default();
        keys.iter()
            .map(|key| {
                let shard = match self.scheme {
                    Scheme::Count => {
                        let next = first_seen.len();
                        *first_seen.entry(key.as_str()).or_insert(next) % n
                    }
                    Scheme::Hash => (fnv1a(key.as_bytes()) % n as u64) as usize,
                };
                shard + 1 == self.k as usize
            })
            .collect()
    }
}

/// FNV-1a, 64 bits: stable across Rust releases and platforms, unlike `DefaultHasher`.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_parse_and_refuse_what_cannot_be_a_shard() {
        let p: Partition = "count:2/3".parse().unwrap();
        assert_eq!((p.scheme, p.k, p.n), (Scheme::Count, 2, 3));
        assert_eq!(p.to_string(), "count:2/3");
        assert_eq!(
            "hash:1/1".parse::<Partition>().unwrap().scheme,
            Scheme::Hash
        );
        for bad in [
            "count:0/3",
            "count:4/3",
            "count:1/0",
            "slice:1/2",
            "count:1",
            "count:a/2",
        ] {
            let e = bad.parse::<Partition>().unwrap_err();
            assert!(e.contains("count:K/N"), "{bad}: {e}");
        }
    }

    #[test]
    fn every_test_lands_in_exactly_one_shard_and_groups_stay_together() {
        let spec = crate::spec::load(&crate::spec::resolve("sipxconfig")).unwrap();
        let plan = crate::plan::plan(&spec);
        let keys: Vec<String> = plan.iter().map(|e| group_key(Some(&spec), e)).collect();
        for scheme in [Scheme::Count, Scheme::Hash] {
            for n in 1..=4 {
                let shards: Vec<Vec<bool>> = (1..=n)
                    .map(|k| Partition { scheme, k, n }.select(&keys))
                    .collect();
                for (i, key) in keys.iter().enumerate() {
                    let homes: Vec<usize> = (0..n as usize).filter(|s| shards[*s][i]).collect();
                    assert_eq!(homes.len(), 1, "{}: shards {homes:?}", plan[i].id);
                    // Every member of the group is in the same shard.
                    for (j, other) in keys.iter().enumerate() {
                        if other == key {
                            assert!(
                                shards[homes[0]][j],
                                "{} apart from {}",
                                plan[j].id, plan[i].id
                            );
                        }
                    }
                }
                if n > 1 {
                    assert!(
                        shards.iter().all(|s| s.iter().any(|x| *x)),
                        "{scheme:?} {n}: an empty shard"
                    );
                }
            }
        }
        // Writes to one collection share a group.
        let writes: Vec<&String> = plan
            .iter()
            .zip(&keys)
            .filter(|(e, _)| {
                e.safety != Safety::Read && e.endpoint.as_deref() == Some("branch/by-id")
            })
            .map(|(_, k)| k)
            .collect();
        assert!(
            writes.len() > 1 && writes.iter().all(|k| *k == writes[0]),
            "{writes:?}"
        );
    }
}
