//! The module import graph of `src/`: no loop (between files, or between top-level modules),
//! and no import from a lower floor to a higher one. One crate has no Cargo to refuse a loop
//! between its layers (ripgrep's layers are crates), so this test keeps them apart.
//!
//! An import is a `crate::…` or `super::…` path anywhere in a file's non-test code (a `use`
//! line, or a path written inline such as clap's `value_parser = crate::supervise::…`),
//! attributed to the longest module that exists as a file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use regex::Regex;

/// The top-level modules, lowest floor first. A module may import from its own floor or
/// below; a new module joins the floor of what it serves.
const FLOORS: &[&[&str]] = &[
    // The ground: types and helpers every layer may use.
    &[
        "secret",
        "problem",
        "env_vars",
        "bounded",
        "duration",
        "untrusted_text",
        "table",
        "suggest",
        "loopback",
        "stdout",
        "stderr",
        "inherited_signals",
        "interrupt",
        "random",
        "output",
        "logging",
        "metrics",
    ],
    // The one grammar: references, placeholders, the required-secrets table, env files.
    &["reference", "placeholder", "expand", "schema", "envfile"],
    // One TLS set-up for every network client (backends, PostgreSQL, Redis).
    &["tls"],
    &["config"],
    &["backend"],
    &["plan"],
    &["resolve"],
    &["validate"],
    // What a launch does with the resolved set.
    &["exec", "error", "export", "template", "runtime"],
    &["launch"],
    // The capabilities built on a launch.
    &["rotate", "scan", "supervise"],
    // What a deployment's secrets need granted, from its plan and what rotate touches.
    &["policy"],
    // The library's façade for Rust and Python programs (its cache refresh polls as the
    // watcher does).
    &["api"],
    // Backup, restore and migrate (reads and writes through the façade's audited paths), and
    // the production checklist (checked with what the commands below the façade know).
    &["backup", "doctor"],
    // What the user may type, then one glue file per subcommand.
    &["cli"],
    &["commands", "fuzzing", "test_inputs"],
    // The binary's own (src/main.rs declares it): the static build's global allocator.
    &["allocator"],
];

type Module = Vec<String>;

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `src/`, by module path (`backend::vault::kv`; `lib.rs` is `[]`).
fn modules() -> BTreeMap<Module, PathBuf> {
    fn walk(dir: &Path, found: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, found);
            } else if path.extension().is_some_and(|extension| extension == "rs") {
                found.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(&src(), &mut files);
    files
        .into_iter()
        .filter(|path| !path.ends_with("main.rs"))
        .map(|path| {
            let relative = path.strip_prefix(src()).unwrap().with_extension("");
            let mut module: Module = relative
                .iter()
                .map(|part| part.to_string_lossy().into_owned())
                .collect();
            if module
                .last()
                .is_some_and(|last| last == "mod" || last == "lib")
            {
                module.pop();
            }
            (module, path)
        })
        .collect()
}

/// The file's code without its `#[cfg(test)] mod tests` (kept at the end of a file, as
/// everywhere here) and without comments.
fn code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(at) => &text[..at],
        None => &text[..],
    };
    Regex::new(r"//[^\n]*")
        .unwrap()
        .replace_all(text, "")
        .into_owned()
}

/// The `crate::` and `super::` paths of `code`, with `{…}` groups spread out.
fn paths(code: &str) -> Vec<String> {
    let mut found = Vec::new();
    let group = Regex::new(r"\b((?:crate|super)(?:::(?:super\b|\w+))*)::\{").unwrap();
    for start in group.captures_iter(code) {
        let base = start.get(1).unwrap().as_str();
        let open = start.get(0).unwrap().end();
        let mut depth = 1;
        let mut end = open;
        for (offset, c) in code[open..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                _ => {}
            }
            if depth == 0 {
                end = open + offset;
                break;
            }
        }
        let mut depth = 0;
        let mut item = String::new();
        for c in code[open..end].chars().chain([',']) {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    let head: String = item
                        .trim()
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                        .collect();
                    let head = head.trim_end_matches(':');
                    if !head.is_empty() {
                        found.push(format!("{base}::{head}"));
                    }
                    item.clear();
                    continue;
                }
                _ => {}
            }
            item.push(c);
        }
    }
    let single = Regex::new(r"\b((?:crate|super)(?:::(?:super\b|\w+))+)").unwrap();
    found.extend(
        single
            .captures_iter(code)
            .map(|path| path.get(1).unwrap().as_str().to_string()),
    );
    found
}

/// Which module of `modules` each path of `from` names (the longest that exists).
fn imports(from: &Module, code: &str, modules: &BTreeMap<Module, PathBuf>) -> BTreeSet<Module> {
    let mut found = BTreeSet::new();
    for path in paths(code) {
        let mut parts: Vec<&str> = path.split("::").collect();
        let mut full: Module = if parts[0] == "crate" {
            parts.remove(0);
            Vec::new()
        } else {
            let mut here = from.clone();
            while parts.first() == Some(&"super") {
                parts.remove(0);
                here.pop();
            }
            here
        };
        full.extend(parts.iter().map(|part| part.to_string()));
        let target = (0..=full.len())
            .rev()
            .map(|length| full[..length].to_vec())
            .find(|candidate| modules.contains_key(candidate));
        if let Some(target) = target
            && !target.is_empty()
            && &target != from
        {
            found.insert(target);
        }
    }
    found
}

/// The loops of `graph` (strongly connected parts of two or more nodes).
fn loops<N: Ord + Clone>(graph: &BTreeMap<N, BTreeSet<N>>) -> Vec<Vec<N>> {
    // Two nodes are in one loop when each reaches the other.
    let reach = |start: &N| {
        let mut seen = BTreeSet::new();
        let mut todo = vec![start.clone()];
        while let Some(node) = todo.pop() {
            for next in graph.get(&node).into_iter().flatten() {
                if seen.insert(next.clone()) {
                    todo.push(next.clone());
                }
            }
        }
        seen
    };
    let reached: BTreeMap<N, BTreeSet<N>> = graph
        .keys()
        .map(|node| (node.clone(), reach(node)))
        .collect();
    let mut placed = BTreeSet::new();
    let mut found = Vec::new();
    for node in graph.keys() {
        if placed.contains(node) || !reached[node].contains(node) {
            continue;
        }
        let members: Vec<N> = reached[node]
            .iter()
            .filter(|other| reached.get(*other).is_some_and(|back| back.contains(node)))
            .cloned()
            .collect();
        placed.extend(members.iter().cloned());
        found.push(members);
    }
    found
}

fn file_graph() -> BTreeMap<Module, BTreeSet<Module>> {
    let modules = modules();
    modules
        .iter()
        .map(|(module, path)| (module.clone(), imports(module, &code(path), &modules)))
        .collect()
}

fn floor_of(room: &str) -> Option<usize> {
    FLOORS.iter().position(|floor| floor.contains(&room))
}

#[test]
fn no_file_imports_in_a_loop() {
    let graph = file_graph();
    assert!(graph.len() > 100, "read {} files", graph.len());
    let found: Vec<String> = loops(&graph)
        .into_iter()
        .map(|members| {
            members
                .iter()
                .map(|module| module.join("::"))
                .collect::<Vec<_>>()
                .join(" ↔ ")
        })
        .collect();
    assert!(found.is_empty(), "import loops between files: {found:#?}");
}

#[test]
fn no_module_imports_from_a_higher_floor_or_in_a_loop() {
    let mut rooms: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (from, targets) in file_graph() {
        let Some(room) = from.first() else { continue };
        let entry = rooms.entry(room.clone()).or_default();
        entry.extend(
            targets
                .iter()
                .map(|target| target[0].clone())
                .filter(|target| target != room),
        );
    }
    let unplaced: Vec<&String> = rooms
        .keys()
        .filter(|room| floor_of(room).is_none())
        .collect();
    assert!(
        unplaced.is_empty(),
        "modules on no floor of tests/architecture.rs's FLOORS (add each where it belongs): {unplaced:?}"
    );
    let mut upward = Vec::new();
    for (room, targets) in &rooms {
        for target in targets {
            if floor_of(target) > floor_of(room) {
                upward.push(format!("{room} → {target}"));
            }
        }
    }
    assert!(
        upward.is_empty(),
        "imports from a lower floor to a higher one: {upward:#?}"
    );
    let found = loops(&rooms);
    assert!(found.is_empty(), "import loops between modules: {found:?}");
}

/// The reader itself: a loop, an upward import and an inline path are all seen.
#[test]
fn the_reader_sees_grouped_inline_and_relative_paths() {
    let modules: BTreeMap<Module, PathBuf> = [
        vec!["a".to_string()],
        vec!["b".to_string()],
        vec!["b".to_string(), "c".to_string()],
        vec!["d".to_string()],
    ]
    .into_iter()
    .map(|module| (module, PathBuf::new()))
    .collect();
    let from = vec!["b".to_string(), "c".to_string()];
    let code =
        "use crate::{a::X, d::{Y, Z}};\nuse super::W;\n#[arg(value_parser = crate::d::parse)]";
    let found = imports(&from, code, &modules);
    let names: Vec<String> = found.iter().map(|module| module.join("::")).collect();
    assert_eq!(names, ["a", "b", "d"]);
    let graph: BTreeMap<&str, BTreeSet<&str>> = [
        ("a", BTreeSet::from(["b"])),
        ("b", BTreeSet::from(["a"])),
        ("c", BTreeSet::from(["a"])),
    ]
    .into_iter()
    .collect();
    assert_eq!(loops(&graph), vec![vec!["a", "b"]]);
}

/// Every value read is audited (issue 20 item 5): a backend's `fetch` is called only by
/// `resolve/read.rs`, the one audited read path, and by the backends themselves (a cheap
/// poll that falls back to a read). A new command that read around it would fail here.
#[test]
fn only_the_audited_read_path_calls_a_backends_fetch() {
    let call = Regex::new(r"\.fetch\s*\(").unwrap();
    let audited = src().join("resolve").join("read.rs");
    let backends = src().join("backend");
    let mut readers: Vec<String> = modules()
        .into_values()
        .filter(|path| *path != audited && !path.starts_with(&backends))
        .filter(|path| call.is_match(&code(path)))
        .map(|path| path.strip_prefix(src()).unwrap().display().to_string())
        .collect();
    readers.sort();
    assert!(
        readers.is_empty(),
        "Backend::fetch called outside resolve/read.rs (read through resolve::read, which audits every value read): {readers:?}"
    );
    assert!(
        call.is_match(&code(&audited)),
        "the reader sees the audited call"
    );
}
