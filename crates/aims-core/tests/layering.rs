//! The crate's modules form layers: the call vocabulary at the bottom, the runtime at the top,
//! and no module imports one that imports it back. This test reads every source file, collects
//! which top-level modules each one names through `crate::`, and fails on any cycle, printing it.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

fn source_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            source_files(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file belongs to (`guard` for `src/guard/decide.rs` and
/// `src/guard.rs`), or `None` for the crate root.
fn top_module(src: &Path, file: &Path) -> Option<String> {
    let relative = file.strip_prefix(src).ok()?;
    let first = relative.components().next()?.as_os_str().to_str()?;
    match first.strip_suffix(".rs") {
        Some("lib") => None,
        Some(stem) => Some(stem.to_owned()),
        None => Some(first.to_owned()),
    }
}

/// The top-level modules named by `crate::x` in code (comments are skipped: doc links may point
/// anywhere), including grouped imports like `use crate::{a::X, b::Y}`.
fn named_modules(text: &str) -> BTreeSet<String> {
    let mut named = BTreeSet::new();
    for line in text.lines() {
        let code = match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        };
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            if let Some(group) = rest.strip_prefix('{') {
                let end = group.find('}').unwrap_or(group.len());
                for item in group[..end].split(',') {
                    named.extend(ident(item.trim()));
                }
            } else {
                named.extend(ident(rest));
            }
        }
    }
    named
}

fn ident(text: &str) -> Option<String> {
    let end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    (end > 0).then(|| text[..end].to_owned())
}

fn module_graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    source_files(&src, &mut files);
    let mut modules: BTreeSet<String> = BTreeSet::new();
    let mut uses: Vec<(String, BTreeSet<String>)> = Vec::new();
    for file in &files {
        let Some(module) = top_module(&src, file) else {
            continue;
        };
        let text = fs::read_to_string(file).unwrap_or_default();
        modules.insert(module.clone());
        uses.push((module, named_modules(&text)));
    }
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, named) in uses {
        let edges = graph.entry(module.clone()).or_default();
        for other in named {
            if other != module && modules.contains(&other) {
                edges.insert(other);
            }
        }
    }
    graph
}

/// Every cycle's modules, found by depth-first search (one path per back edge).
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
        found: &mut Vec<Vec<String>>,
    ) {
        if let Some(at) = path.iter().position(|seen| seen == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_owned());
            found.push(cycle);
            return;
        }
        if done.contains(node) {
            return;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            visit(next, graph, path, done, found);
        }
        path.pop();
        done.insert(node.to_owned());
    }
    let mut found = Vec::new();
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        visit(node, graph, &mut Vec::new(), &mut done, &mut found);
    }
    found
}

#[test]
fn modules_import_each_other_without_cycles() {
    let graph = module_graph();
    assert!(graph.len() >= 10, "too few modules found: {graph:?}");
    let found = cycles(&graph);
    assert!(
        found.is_empty(),
        "aims-core modules import each other in a cycle: {}",
        found
            .iter()
            .map(|cycle| cycle.join(" -> "))
            .collect::<Vec<_>>()
            .join("; ")
    );
}

#[test]
fn the_call_vocabulary_is_the_bottom_layer() {
    let graph = module_graph();
    let call = graph.get("call").cloned().unwrap_or_default();
    assert!(call.is_empty(), "call imports {call:?}");
}

#[test]
fn the_cycle_finder_finds_a_planted_cycle() {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    graph.entry("a".into()).or_default().insert("b".into());
    graph.entry("b".into()).or_default().insert("c".into());
    graph.entry("c".into()).or_default().insert("a".into());
    graph.entry("d".into()).or_default().insert("a".into());
    assert_eq!(cycles(&graph), vec![vec!["a", "b", "c", "a"]]);
    assert_eq!(
        named_modules(
            "use crate::{audit::X, guard::Y}; // crate::report\nlet x = crate::pii::f();"
        ),
        ["audit", "guard", "pii"]
            .into_iter()
            .map(String::from)
            .collect()
    );
}
