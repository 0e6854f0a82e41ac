//! The layers of `src/` depend one way: a module may use the shared ground
//! and the layers before its own, never one after it. A newcomer can then
//! read the code in this order, and test each layer without the ones above.

use std::path::{Path, PathBuf};

/// In order, lowest first; each entry is a top-level module of the library.
const LAYERS: &[&[&str]] = &[
    &["error", "home", "settings", "text"],
    &["vision"],
    &["capture"],
    &["matching"],
    &["store"],
    &["ledger"],
    &["secretariat"],
    &["present"],
    &["dashboard"],
    &["measure"],
    &["config"],
];

fn rank(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

/// The top-level modules a source text names through `crate::`, comments left out.
fn uses(source: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in source.lines().map(|l| l.split("//").next().unwrap_or_default()) {
        for (i, _) in line.match_indices("crate::") {
            let name: String =
                line[i + "crate::".len()..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            out.push(name);
        }
        // `use crate::{a, b}` is not used in this code base; refuse it so that nothing hides.
        assert!(!line.contains("crate::{"), "write one `use crate::layer::...` per layer: {line}");
    }
    out
}

/// Every upward use in `source`, a file of `module`'s layer.
fn violations(module: &str, file: &str, source: &str) -> Vec<String> {
    let own = rank(module).unwrap_or_else(|| panic!("src/{module} is in no layer of tests/layers.rs: place it"));
    uses(source)
        .into_iter()
        .filter_map(|dep| {
            let theirs = rank(&dep).unwrap_or_else(|| panic!("{file} uses crate::{dep}, which is in no layer"));
            (theirs > own).then(|| format!("{file} ({module}) uses crate::{dep}, a higher layer"))
        })
        .collect()
}

fn library_files(src: &Path) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(src).unwrap().filter_map(|e| e.ok()) {
        let path = entry.path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            if name == "cli" {
                continue; // the binary: above every layer
            }
            for f in walk(&path) {
                out.push((name.clone(), f));
            }
        } else if path.extension().is_some_and(|e| e == "rs") && !["lib", "main"].contains(&name.as_str()) {
            out.push((name, path));
        }
    }
    out
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().filter_map(|e| e.ok()) {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}

#[test]
fn no_layer_uses_a_layer_above_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let files = library_files(&src);
    assert!(files.len() > 30, "found only {} files under {}", files.len(), src.display());
    let mut found = Vec::new();
    for (module, path) in &files {
        let source = std::fs::read_to_string(path).unwrap();
        let rel = path.strip_prefix(&src).unwrap().display().to_string();
        found.extend(violations(module, &rel, &source));
    }
    assert!(found.is_empty(), "dependencies must point down the layers:\n{}", found.join("\n"));
}

#[test]
fn every_module_of_the_library_has_its_layer() {
    let lib = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs")).unwrap();
    for line in lib.lines().filter_map(|l| l.strip_prefix("pub mod ")) {
        let module = line.trim_end_matches(';');
        assert!(rank(module).is_some(), "src/lib.rs declares `{module}`, which tests/layers.rs does not place");
    }
}

#[test]
fn the_check_catches_a_lower_layer_using_a_higher_one() {
    let bad = "use crate::vision::face::Face;\nuse crate::present::model::Model; // the window, from vision\n";
    assert_eq!(violations("vision", "vision/x.rs", bad).len(), 1);
    assert!(violations("present", "present/x.rs", bad).is_empty());
    assert!(violations("vision", "vision/x.rs", "// crate::present in a comment is fine\n").is_empty());
}
