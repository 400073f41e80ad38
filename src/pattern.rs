//! Whole-value regular-expression matches (`pattern` on a field or path parameter, an
//! assertion's `matches`), each pattern compiled once per process instead of once per
//! value: compiling costs far more than matching, and the same few patterns are checked
//! on every request.

use std::collections::HashMap;
use std::sync::LazyLock;

use parking_lot::RwLock;
use regex::Regex;

/// Compiled patterns, `None` for one that does not compile. Emptied when it reaches
/// [`MAX_CACHED`], so that patterns built from captured values cannot grow it forever.
static CACHE: LazyLock<RwLock<HashMap<String, Option<Regex>>>> =
    LazyLock::new(|| RwLock::new(HashMap::new()));

const MAX_CACHED: usize = 4096;

/// Whether all of `text` matches `pattern` (as `^(?:pattern)$`). A pattern that does not
/// compile matches nothing.
pub fn matches_whole(pattern: &str, text: &str) -> bool {
    if let Some(re) = CACHE.read().get(pattern) {
        return re.as_ref().is_some_and(|r| r.is_match(text));
    }
    let re = Regex::new(&format!("^(?:{pattern})$")).ok();
    let hit = re.as_ref().is_some_and(|r| r.is_match(text));
    let mut cache = CACHE.write();
    if cache.len() >= MAX_CACHED {
        cache.clear();
    }
    cache.insert(pattern.to_string(), re);
    hit
}

#[cfg(test)]
mod tests {
    use super::matches_whole;

    #[test]
    fn anchored_cached_and_invalid() {
        assert!(matches_whole("[0-9]+", "123"));
        assert!(!matches_whole("[0-9]+", "12a"));
        assert!(!matches_whole("[0-9]+", "a123"));
        assert!(matches_whole("a|b", "b"));
        assert!(!matches_whole("a|b", "ab"));
        assert!(!matches_whole("(", "("));
        assert!(!matches_whole("(", ""));
    }
}
