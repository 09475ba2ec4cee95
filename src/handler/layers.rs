//! The crate's layering, checked on its sources: the leaf modules (`error`, `extensions`,
//! `options`, `ssrc_map`) use none of the others; `connection` uses only the leaves; each direction
//! (`send`, and the receive side when it comes) uses the leaves and `connection`, never the
//! other direction. What a direction gives the connection goes through the connection's own
//! types (an interceptor `Registry`, its events), so no `use` points upwards.

use std::path::Path;

/// The top-level modules a file's paths name: after `crate::`
/// (`crate::connection::driver::Driver`: `connection`), and, in a file one folder down
/// (`connection/driver.rs`), after `super::super::` when that names a top-level module.
fn named_modules(source: &str, in_folder: bool) -> Vec<String> {
    let mut found = crate_paths(source);
    if in_folder {
        found.extend(
            prefixed_names(source, "super::super::")
                .into_iter()
                .filter(|n| TOP_LEVEL.contains(&n.as_str())),
        );
    }
    found
}

/// The checked top-level modules.
const TOP_LEVEL: &[&str] = &[
    "error",
    "extensions",
    "options",
    "ssrc_map",
    "connection",
    "send",
    "recv",
];

/// The names that follow `prefix` in code (comments skipped).
fn prefixed_names(source: &str, prefix: &str) -> Vec<String> {
    let mut found = Vec::new();
    for line in source.lines() {
        let code = line.trim_start();
        if code.starts_with("//") {
            continue;
        }
        let mut rest = code;
        while let Some(at) = rest.find(prefix) {
            rest = &rest[at + prefix.len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                found.push(name);
            }
        }
    }
    found
}

/// The top-level modules named after `crate::`, including in `crate::{a, b::c}`.
fn crate_paths(source: &str) -> Vec<String> {
    let mut found = Vec::new();
    for line in source.lines() {
        let code = line.trim_start();
        if code.starts_with("//") {
            continue;
        }
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if rest.starts_with('{') {
                // `crate::{a, b::c}`: each item up to the closing brace
                let inner = &rest[1..rest.find('}').unwrap_or(rest.len())];
                found.extend(
                    inner
                        .split(',')
                        .map(|item| item.trim().split("::").next().unwrap_or("").to_owned())
                        .filter(|n| !n.is_empty()),
                );
            } else if !name.is_empty() {
                found.push(name);
            }
        }
    }
    found
}

/// The modules each top-level module may use (besides itself).
fn allowed(module: &str) -> &'static [&'static str] {
    const LEAVES: &[&str] = &["error", "extensions", "options", "ssrc_map"];
    match module {
        "error" | "extensions" | "options" | "ssrc_map" => LEAVES,
        "connection" => LEAVES,
        "send" | "recv" => &["error", "extensions", "options", "ssrc_map", "connection"],
        _ => &[],
    }
}

fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_module_uses_a_layer_above_it_or_the_other_direction() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    sources(root, &mut files);
    let mut checked = 0;
    let mut wrong = Vec::new();
    for file in files {
        let relative = file.strip_prefix(root).unwrap();
        let first = relative.components().next().unwrap();
        let module = first.as_os_str().to_string_lossy();
        let module = module.trim_end_matches(".rs");
        if ![
            "error",
            "extensions",
            "options",
            "ssrc_map",
            "connection",
            "send",
            "recv",
        ]
        .contains(&module)
        {
            continue; // lib.rs (the top), the tests, testdata
        }
        checked += 1;
        let source = std::fs::read_to_string(&file).unwrap();
        let in_folder = relative.components().count() > 1;
        for used in named_modules(&source, in_folder) {
            if used != module && !allowed(module).contains(&used.as_str()) {
                wrong.push(format!("{} uses crate::{used}", relative.display()));
            }
        }
    }
    assert!(checked > 10, "no sources found under {}", root.display());
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn the_check_sees_every_form_of_use() {
    let source = "use crate::send::writer::X;\n// use crate::recv;\nlet a = crate::error::E;\n\
                  use crate::{options::O, connection};\nuse super::super::send::Y;\n\
                  use super::super::gather;";
    assert_eq!(
        named_modules(source, true),
        ["send", "error", "options", "connection", "send"]
    );
    assert_eq!(named_modules(source, false).len(), 4);
}
