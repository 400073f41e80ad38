//! Product overlays: applying one changes exactly what it says, and nothing else.

use std::path::Path;

use dialtone::spec::overlay::Overlay;
use dialtone::spec::{self, BUNDLED};

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// Writing every endpoint, schema and code out and reading it back changes no test: the
/// round trip through TOML that overlays use loses nothing the plan sees.
#[test]
fn an_overlay_that_changes_nothing_changes_no_test() {
    let dir = crate::common::scratch_dir("overlay-same");
    for name in BUNDLED {
        let path = spec::resolve(name);
        let base = dialtone::load(&path).unwrap();
        let mut text = format!(
            "[overlay]\nname = \"same\"\nspec = \"{name}\"\nproduct = \"none\"\n\n\
             [[deviation]]\nid = \"every-endpoint\"\nsummary = \"s\"\nevidence = \"e\"\n\
             endpoint = \"*\"\nset = {{}}\n"
        );
        for s in base.schemas() {
            text.push_str(&format!(
                "\n[[deviation]]\nid = \"schema-{0}\"\nsummary = \"s\"\nevidence = \"e\"\nschema = \"{0}\"\nset = {{}}\n",
                s.name.get_ref()
            ));
        }
        for c in base.codes() {
            text.push_str(&format!(
                "\n[[deviation]]\nid = \"code-{0}\"\nsummary = \"s\"\nevidence = \"e\"\ncode = \"{0}\"\nset = {{}}\n",
                c.id.get_ref()
            ));
        }
        let o = Overlay::load(&write(&dir, &format!("{name}.toml"), &text)).unwrap();
        let overlaid = spec::load_overlaid(&path, std::slice::from_ref(&o), None)
            .unwrap_or_else(|d| panic!("{name}: {}", d[0]));
        let (changes, unused) = dialtone::plan::overlay_changes(&base, &overlaid, &[]);
        assert!(
            changes.changed.is_empty() && changes.removed.is_empty(),
            "{name}: an empty overlay changed {:?} and removed {:?}",
            changes.changed.keys().take(5).collect::<Vec<_>>(),
            changes.removed.keys().take(5).collect::<Vec<_>>()
        );
        assert!(unused.is_empty());
        // The loaded plans are the same, entry for entry.
        let a = serde_json::to_string(&dialtone::plan::plan(&base)).unwrap();
        let b = serde_json::to_string(&dialtone::plan::plan(&overlaid)).unwrap();
        assert!(a == b, "{name}: the plan changed");
    }
}
