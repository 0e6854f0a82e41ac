//! The layers of `src/` depend one way: a module may use the shared ground
//! and the layers before its own, never one after it. A newcomer can then
//! read the code in this order, and test each layer without the ones above.

use std::path::{Path, PathBuf};

/// In order, lowest first; each entry is a top-level module of the library.
const LAYERS: &[&[&str]] = &[
    &["base", "error", "home", "settings", "text"],
    &["vision"],
    &["capture"],
    &["matching"],
    &["store"],
    &["ledger"],
    &["secretariat"],
    &["checkin"],
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

/// The files of `folder` that a source text names: `crate::folder::file`,
/// and, in the folder's `mod.rs`, its own children by their bare names.
fn siblings_used(folder: &str, is_mod: bool, source: &str, files: &[String]) -> Vec<String> {
    let prefix = format!("crate::{folder}::");
    let mut out = Vec::new();
    for line in source.lines().map(|l| l.split("//").next().unwrap_or_default()) {
        for (i, _) in line.match_indices(&prefix) {
            let name: String =
                line[i + prefix.len()..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            // `crate::folder::Item` names something of mod.rs.
            out.push(if files.contains(&name) { name } else { "mod".into() });
        }
        if is_mod && let Some(rest) = line.trim_start().strip_prefix("use ") {
            let name: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            if files.contains(&name) {
                out.push(name);
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// A cycle among `edges` (file → files it uses), as the files along it.
fn cycle(edges: &[(String, Vec<String>)]) -> Option<Vec<String>> {
    fn visit(at: &str, edges: &[(String, Vec<String>)], path: &mut Vec<String>, done: &mut Vec<String>) -> bool {
        if let Some(start) = path.iter().position(|p| p == at) {
            path.drain(..start);
            path.push(at.to_string());
            return true;
        }
        if done.iter().any(|d| d == at) {
            return false;
        }
        path.push(at.to_string());
        let next = edges.iter().find(|(f, _)| f == at).map(|(_, n)| n.clone()).unwrap_or_default();
        for n in next.iter().filter(|n| *n != at) {
            if visit(n, edges, path, done) {
                return true;
            }
        }
        path.pop();
        done.push(at.to_string());
        false
    }
    let mut done = Vec::new();
    edges.iter().find_map(|(file, _)| {
        let mut path = Vec::new();
        visit(file, edges, &mut path, &mut done).then_some(path)
    })
}

/// Within a folder too, files depend one way: a cycle means two files that
/// can only be understood (and tested) together, so they are one thing.
#[test]
fn no_two_files_of_a_folder_use_each_other() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&src).unwrap().filter_map(|e| e.ok()).filter(|e| e.path().is_dir()) {
        let folder = entry.file_name().to_string_lossy().into_owned();
        let paths: Vec<PathBuf> =
            walk(&entry.path()).into_iter().filter(|p| p.parent() == Some(&entry.path())).collect();
        let files: Vec<String> = paths.iter().map(|p| p.file_stem().unwrap().to_string_lossy().into_owned()).collect();
        let edges: Vec<(String, Vec<String>)> = paths
            .iter()
            .zip(&files)
            .map(|(path, file)| {
                let source = std::fs::read_to_string(path).unwrap();
                (file.clone(), siblings_used(&folder, file == "mod", &source, &files))
            })
            .collect();
        if let Some(c) = cycle(&edges) {
            found.push(format!("src/{folder}: {}", c.join(" → ")));
        }
    }
    assert!(found.is_empty(), "files of one folder that use each other:\n{}", found.join("\n"));
}

#[test]
fn the_cycle_check_finds_a_cycle_and_only_a_cycle() {
    let files: Vec<String> = ["mod", "a", "b", "c"].iter().map(|s| s.to_string()).collect();
    let a = siblings_used("x", false, "use crate::x::b::B;\nuse crate::x::Config;\n", &files);
    assert_eq!(a, ["b", "mod"]);
    assert_eq!(siblings_used("x", true, "use c::C;\nuse crate::y::a::A;\n", &files), ["c"]);
    let edge = |f: &str, to: &[&str]| (f.to_string(), to.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    let open = [edge("mod", &["a", "c"]), edge("a", &["b"]), edge("b", &["c"]), edge("c", &[])];
    assert_eq!(cycle(&open), None);
    let closed = [edge("mod", &["a"]), edge("a", &["b"]), edge("b", &["c"]), edge("c", &["a"])];
    assert_eq!(cycle(&closed), Some(vec!["a".into(), "b".into(), "c".into(), "a".into()]));
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
