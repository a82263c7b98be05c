//! The crate layering of ARCHITECTURE.md, checked on every crate's `[dependencies]`: a crate
//! depends only on the crates its row allows, and a new crate must be given a row here. Inside
//! a crate, its top-level modules import each other one way only.

#![allow(clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

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
    ("vivace-access", &["vivace-common"]),
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

/// Every `.rs` file below `dir`.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// For each top-level module of the crate at `src`, the other top-level modules its code
/// (tests left out) names as `crate::module`.
fn module_imports(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let mut imports: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let relative = file.strip_prefix(src).expect("below src");
        let first = relative.components().next().expect("a component");
        let module = first
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        if module == "lib" || module == "main" || relative.ends_with("tests.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("readable source");
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        let named = imports.entry(module.clone()).or_default();
        for (at, _) in code.match_indices("crate::") {
            let rest = &code[at + "crate::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() && name != module {
                named.insert(name);
            }
        }
    }
    imports
}

/// A cycle among `imports`, as the modules on it, if there is one.
fn find_cycle(imports: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        module: &str,
        imports: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|m| m == module) {
            return Some(path[start..].to_vec());
        }
        if done.contains(module) {
            return None;
        }
        path.push(module.to_string());
        for next in imports.get(module).into_iter().flatten() {
            if imports.contains_key(next)
                && let Some(cycle) = visit(next, imports, path, done)
            {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(module.to_string());
        None
    }
    let mut done = BTreeSet::new();
    imports
        .keys()
        .find_map(|module| visit(module, imports, &mut Vec::new(), &mut done))
}

#[test]
fn no_crate_has_an_import_cycle_between_its_modules() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for entry in std::fs::read_dir(&crates)
        .expect("crates directory")
        .flatten()
    {
        let src = entry.path().join("src");
        if !src.is_dir() {
            continue;
        }
        let imports = module_imports(&src);
        if let Some(cycle) = find_cycle(&imports) {
            panic!(
                "{}: modules import each other in a cycle: {}",
                entry.file_name().to_string_lossy(),
                cycle.join(" -> ")
            );
        }
    }
}

#[test]
fn the_cycle_finder_finds_cycles() {
    let imports = |pairs: &[(&str, &[&str])]| -> BTreeMap<String, BTreeSet<String>> {
        pairs
            .iter()
            .map(|(m, to)| (m.to_string(), to.iter().map(|t| t.to_string()).collect()))
            .collect()
    };
    let one_way = imports(&[("a", &["b"]), ("b", &["c"]), ("c", &[])]);
    assert_eq!(find_cycle(&one_way), None);
    let cycle = imports(&[("a", &["b"]), ("b", &["c"]), ("c", &["a"])]);
    assert_eq!(
        find_cycle(&cycle),
        Some(vec!["a".to_string(), "b".to_string(), "c".to_string()])
    );
}
