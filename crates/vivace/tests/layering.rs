//! The crate layering of ARCHITECTURE.md, checked on every crate's `[dependencies]`: a crate
//! depends only on the crates its row allows, and a new crate must be given a row here.

use std::collections::BTreeSet;
use std::path::Path;

/// Each crate and the crates of ours it may depend on (ARCHITECTURE.md, "Crates and
/// layering"). `vivace`, the binary, may depend on all of them.
const ALLOWED: &[(&str, &[&str])] = &[
    ("vivace-common", &[]),
    ("vivace-protocol", &[]),
    ("vivace-sql", &["vivace-common", "vivace-protocol"]),
    ("vivace-spi", &["vivace-common"]),
    (
        "vivace-functions",
        &[
            "vivace-common",
            "vivace-protocol",
            "vivace-sql",
            "vivace-spi",
        ],
    ),
    ("vivace-connectors", &["vivace-common", "vivace-spi"]),
    (
        "vivace-engine",
        &[
            "vivace-common",
            "vivace-protocol",
            "vivace-sql",
            "vivace-spi",
            "vivace-functions",
            "vivace-connectors",
        ],
    ),
    ("vivace-security", &["vivace-common"]),
    (
        "vivace-cluster",
        &[
            "vivace-common",
            "vivace-spi",
            "vivace-functions",
            "vivace-engine",
            "vivace-security",
        ],
    ),
    (
        "vivace-server",
        &[
            "vivace-common",
            "vivace-protocol",
            "vivace-functions",
            "vivace-security",
            "vivace-cluster",
            "vivace-engine",
        ],
    ),
    ("vivace-client", &["vivace-protocol"]),
    ("vivace-cli", &["vivace-protocol", "vivace-client"]),
];

/// The crates of ours named in the `[dependencies]` table of a manifest.
fn our_dependencies(manifest: &str) -> BTreeSet<String> {
    let mut in_dependencies = false;
    let mut found = BTreeSet::new();
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_dependencies = line == "[dependencies]";
            continue;
        }
        if in_dependencies && line.starts_with("vivace-") {
            let name: String = line
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            found.insert(name);
        }
    }
    found
}

#[test]
fn every_crate_depends_only_on_the_crates_below_it() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut seen = BTreeSet::new();
    for entry in std::fs::read_dir(&crates).expect("crates directory") {
        let entry = entry.expect("entry");
        let manifest = entry.path().join("Cargo.toml");
        let Ok(text) = std::fs::read_to_string(&manifest) else {
            continue;
        };
        let name = entry.file_name().to_string_lossy().into_owned();
        seen.insert(name.clone());
        if name == "vivace" {
            continue;
        }
        let allowed: BTreeSet<String> = ALLOWED
            .iter()
            .find(|(crate_name, _)| *crate_name == name)
            .unwrap_or_else(|| panic!("{name} has no row in the layering table"))
            .1
            .iter()
            .map(|s| s.to_string())
            .collect();
        let extra: Vec<String> = our_dependencies(&text)
            .difference(&allowed)
            .cloned()
            .collect();
        assert!(
            extra.is_empty(),
            "{name} depends on {extra:?}, which ARCHITECTURE.md does not allow"
        );
    }
    for (name, _) in ALLOWED {
        assert!(
            seen.contains(*name),
            "{name} is in the table but not in crates/"
        );
    }
}

#[test]
fn the_dependency_reader_sees_only_the_dependencies_table() {
    let manifest = "[package]\nname = \"x\"\n\n[dependencies]\nvivace-common.workspace = true\n\
                    vivace-sql = { path = \"../vivace-sql\" }\nserde.workspace = true\n\n\
                    [dev-dependencies]\nvivace-engine.workspace = true\n";
    let found: Vec<String> = our_dependencies(manifest).into_iter().collect();
    assert_eq!(found, ["vivace-common", "vivace-sql"]);
}
