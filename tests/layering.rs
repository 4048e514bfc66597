//! Dependencies point inward (docs/architecture.md): `core` knows nothing of syscalls,
//! binder or the layers around it, and `platform` nothing of the layers built on it. This test
//! reads the source tree and fails on any path that breaks that, so the rule does not rest on
//! reviewers noticing one `use` line.
//!
//! The checker tokenizes Rust just enough to skip comments and literals, expands `use` trees
//! (`use crate::{core, platform::x}`), resolves `self::`/`super::` against the file's module
//! (inline `mod x { .. }` included), and looks at every `a::b` path in the code, so a fully
//! qualified `libc::EIO` counts as much as an import.

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

/// Paths that start with any of `forbidden` may not appear in files under `dir`.
struct Rule {
    dir: &'static str,
    forbidden: &'static [&'static str],
}

/// The core is a crate of its own (core/), so Cargo and Soong already refuse these as
/// dependencies (see `the_core_crate_links_only_log_and_serde`); the rule stays to catch a
/// path that reaches them anyway (a `#[path]` include, a macro) and to test the checker.
const CORE: Rule = Rule {
    dir: "core/src",
    forbidden: &[
        "libc",
        "nix",
        "rsbinder",
        "binder",
        "crate::platform",
        "crate::ipc",
        "crate::cli",
        "crate::daemon",
    ],
};

const PLATFORM: Rule =
    Rule { dir: "src/platform", forbidden: &["crate::ipc", "crate::cli", "crate::daemon"] };

#[derive(Debug)]
struct Violation {
    file: String,
    line: usize,
    /// The path as written, e.g. `super::super::ipc::client`.
    path: String,
    forbidden: &'static str,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: `{}` reaches {}", self.file, self.line, self.path, self.forbidden)
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Ident(String),
    /// `::`
    PathSep,
    Punct(char),
}

struct Token {
    tok: Tok,
    line: usize,
}

fn is_ident_start(c: char) -> bool {
    c == '_' || c.is_alphabetic()
}

fn is_ident_char(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

/// Identifiers, `::` and punctuation with their line numbers; comments, string, char and
/// number literals and lifetimes leave nothing behind.
fn tokenize(source: &str) -> Vec<Token> {
    let chars: Vec<char> = source.chars().collect();
    let at = |i: usize| chars.get(i).copied().unwrap_or('\0');
    let mut tokens = Vec::new();
    let mut line = 1;
    let mut i = 0;
    // Skips a "..." literal whose opening quote is at `i`; returns the index after it.
    let skip_string = |mut i: usize, line: &mut usize| {
        i += 1;
        while i < chars.len() && chars[i] != '"' {
            if chars[i] == '\\' {
                i += 1;
            }
            if at(i) == '\n' {
                *line += 1;
            }
            i += 1;
        }
        i + 1
    };
    while i < chars.len() {
        let c = chars[i];
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if c == '/' && at(i + 1) == '/' {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && at(i + 1) == '*' {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    if chars[i] == '\n' {
                        line += 1;
                    }
                    i += 1;
                }
            }
        } else if c == '"' {
            i = skip_string(i, &mut line);
        } else if c == '\'' {
            if at(i + 1) == '\\' {
                // Past the quote, the backslash and the escaped character, to the closing quote.
                i += 3;
                while i < chars.len() && chars[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if at(i + 2) == '\'' {
                i += 3;
            } else {
                // A lifetime or label: its name follows as an identifier, which is harmless.
                i += 1;
            }
        } else if c.is_ascii_digit() {
            while is_ident_char(at(i)) {
                i += 1;
            }
        } else if is_ident_start(c) {
            let start = i;
            while is_ident_char(at(i)) {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let prefix = matches!(word.as_str(), "r" | "b" | "br" | "c" | "cr");
            if prefix && (at(i) == '"' || (at(i) == '#' && matches!(at(i + 1), '"' | '#'))) {
                if word.ends_with('r') {
                    // Raw string: r##"..."## ends at a quote followed by as many hashes.
                    let hashes = chars[i..].iter().take_while(|&&h| h == '#').count();
                    i += hashes + 1;
                    loop {
                        if i >= chars.len() {
                            break;
                        }
                        if chars[i] == '"'
                            && chars[i + 1..].iter().take_while(|&&h| h == '#').count() >= hashes
                        {
                            i += 1 + hashes;
                            break;
                        }
                        if chars[i] == '\n' {
                            line += 1;
                        }
                        i += 1;
                    }
                } else {
                    i = skip_string(i, &mut line);
                }
            } else if word == "b" && at(i) == '\'' {
                i += if at(i + 1) == '\\' { 4 } else { 3 };
                while i < chars.len() && chars[i - 1] != '\'' {
                    i += 1;
                }
            } else if word == "r" && at(i) == '#' && is_ident_start(at(i + 1)) {
                // Raw identifier r#name.
                let start = i + 1;
                i += 1;
                while is_ident_char(at(i)) {
                    i += 1;
                }
                tokens.push(Token { tok: Tok::Ident(chars[start..i].iter().collect()), line });
            } else {
                tokens.push(Token { tok: Tok::Ident(word), line });
            }
        } else if c == ':' && at(i + 1) == ':' {
            tokens.push(Token { tok: Tok::PathSep, line });
            i += 2;
        } else {
            tokens.push(Token { tok: Tok::Punct(c), line });
            i += 1;
        }
    }
    tokens
}

/// One path found in the code: its segments as written and the line it is on.
struct FoundPath {
    segments: Vec<String>,
    line: usize,
}

/// Expands one use tree starting at `tokens[*i]` into full paths under `prefix`.
fn use_tree(tokens: &[Token], i: &mut usize, prefix: &[String], out: &mut Vec<FoundPath>) {
    let mut path = prefix.to_vec();
    while let Some(token) = tokens.get(*i) {
        match &token.tok {
            Tok::PathSep => {
                if path.is_empty() {
                    // A leading `::` names an extern crate.
                    path.push("::".to_string());
                }
                *i += 1;
            }
            Tok::Ident(name) => {
                *i += 1;
                // `self` at the start of a group is the group's prefix: `use a::{self, b}`.
                if !(name == "self" && !prefix.is_empty() && path.len() == prefix.len()) {
                    path.push(name.clone());
                }
                if tokens.get(*i).is_some_and(|t| t.tok == Tok::PathSep) {
                    *i += 1;
                    continue;
                }
                if tokens.get(*i).is_some_and(|t| t.tok == Tok::Ident("as".into())) {
                    *i += 2;
                }
                out.push(FoundPath { segments: path, line: token.line });
                return;
            }
            Tok::Punct('*') => {
                *i += 1;
                out.push(FoundPath { segments: path, line: token.line });
                return;
            }
            Tok::Punct('{') => {
                *i += 1;
                while let Some(next) = tokens.get(*i) {
                    match next.tok {
                        Tok::Punct('}') => {
                            *i += 1;
                            break;
                        }
                        Tok::Punct(',') => *i += 1,
                        _ => use_tree(tokens, i, &path, out),
                    }
                }
                return;
            }
            // Not a use tree we understand: stop rather than guess.
            Tok::Punct(_) => return,
        }
    }
}

/// Every path in `source` with the module it appears in (inline modules included).
fn paths_in(source: &str, file_module: &[String]) -> Vec<(FoundPath, Vec<String>)> {
    let tokens = tokenize(source);
    let mut found = Vec::new();
    let mut module = file_module.to_vec();
    // Brace depth at which each open inline module was entered.
    let mut inline_modules: Vec<usize> = Vec::new();
    let mut depth = 0;
    let mut i = 0;
    while i < tokens.len() {
        let ident = |k: usize| match tokens.get(k).map(|t| &t.tok) {
            Some(Tok::Ident(name)) => Some(name.as_str()),
            _ => None,
        };
        match &tokens[i].tok {
            Tok::Punct('{') => {
                depth += 1;
                i += 1;
            }
            Tok::Punct('}') => {
                if inline_modules.last() == Some(&depth) {
                    inline_modules.pop();
                    module.pop();
                }
                depth -= 1;
                i += 1;
            }
            Tok::Ident(word) if word == "mod" => {
                match (ident(i + 1), tokens.get(i + 2).map(|t| &t.tok)) {
                    (Some(name), Some(Tok::Punct('{'))) => {
                        module.push(name.to_string());
                        depth += 1;
                        inline_modules.push(depth);
                        i += 3;
                    }
                    _ => i += 1,
                }
            }
            Tok::Ident(word) if word == "use" => {
                i += 1;
                let mut trees = Vec::new();
                use_tree(&tokens, &mut i, &[], &mut trees);
                found.extend(trees.into_iter().map(|p| (p, module.clone())));
            }
            Tok::Ident(word) if word == "extern" && ident(i + 1) == Some("crate") => {
                if let Some(name) = ident(i + 2) {
                    let path = FoundPath { segments: vec![name.to_string()], line: tokens[i].line };
                    found.push((path, module.clone()));
                }
                i += 3;
            }
            Tok::Ident(_) | Tok::PathSep => {
                // A path in an expression, type or macro call: `a::b::c`, `::a::b`.
                let line = tokens[i].line;
                let mut segments = Vec::new();
                if tokens[i].tok == Tok::PathSep {
                    // After a name or `>` this continues a path (`Vec::<u8>::new`, `<T>::f`);
                    // only elsewhere does it start one at an extern crate.
                    let continues =
                        i > 0 && matches!(tokens[i - 1].tok, Tok::Ident(_) | Tok::Punct('>'));
                    i += 1;
                    if continues || ident(i).is_none() {
                        continue;
                    }
                    segments.push("::".to_string());
                }
                while let Some(name) = ident(i) {
                    segments.push(name.to_string());
                    i += 1;
                    let more = tokens.get(i).is_some_and(|t| t.tok == Tok::PathSep)
                        && ident(i + 1).is_some();
                    if !more {
                        break;
                    }
                    i += 1;
                }
                if segments.len() > 1 {
                    found.push((FoundPath { segments, line }, module.clone()));
                }
            }
            Tok::Punct(_) => i += 1,
        }
    }
    found
}

/// A path as it was written.
fn written(segments: &[String]) -> String {
    match segments.split_first() {
        Some((first, rest)) if first == "::" => format!("::{}", rest.join("::")),
        _ => segments.join("::"),
    }
}

/// The absolute form of a path written in `module`, where the language says what it is:
/// `crate::`, `self::`, `super::`, or a leading `::` (an extern crate). Anything else starts
/// with a crate or local name and is returned as written.
fn resolve(segments: &[String], module: &[String]) -> Vec<String> {
    match segments.first().map(String::as_str) {
        Some("::") => segments[1..].to_vec(),
        Some("self") => module.iter().chain(&segments[1..]).cloned().collect(),
        Some("super") => {
            let ups = segments.iter().take_while(|s| *s == "super").count();
            let base = &module[..module.len().saturating_sub(ups)];
            base.iter().chain(&segments[ups..]).cloned().collect()
        }
        _ => segments.to_vec(),
    }
}

/// The module a file defines: src/platform/sim/tree.rs is crate::platform::sim::tree, and
/// core/src/broker/tests.rs is the core crate's crate::broker::tests.
fn module_of(file: &str) -> Vec<String> {
    let relative = file.strip_prefix("core/src/").or_else(|| file.strip_prefix("src/"));
    let relative = relative.unwrap_or(file).trim_end_matches(".rs");
    let mut module = vec!["crate".to_string()];
    module.extend(relative.split('/').map(str::to_string));
    if matches!(module.last().map(String::as_str), Some("mod" | "lib" | "main")) {
        module.pop();
    }
    module
}

/// Every forbidden path in `source`, which is the file `file` (relative to the crate root).
fn check(file: &str, source: &str, rule: &Rule) -> Vec<Violation> {
    let mut violations = Vec::new();
    for (found, module) in paths_in(source, &module_of(file)) {
        let resolved = resolve(&found.segments, &module);
        let hit = rule.forbidden.iter().find(|forbidden| {
            let wanted: Vec<&str> = forbidden.split("::").collect();
            resolved.len() >= wanted.len() && resolved.iter().zip(&wanted).all(|(a, b)| a == b)
        });
        if let Some(forbidden) = hit {
            violations.push(Violation {
                file: file.to_string(),
                line: found.line,
                path: written(&found.segments),
                forbidden,
            });
        }
    }
    violations
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
}

/// Checks every file under the rule's directory; returns the violations and the file count.
fn check_tree(rule: &Rule) -> (Vec<Violation>, usize) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join(rule.dir), &mut files);
    files.sort();
    let mut violations = Vec::new();
    for path in &files {
        let source = fs::read_to_string(path).unwrap();
        let file = path.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
        violations.extend(check(&file, &source, rule));
    }
    (violations, files.len())
}

fn report(violations: &[Violation]) -> String {
    violations.iter().map(|v| format!("\n  {v}")).collect()
}

/// What the core crate may link: AOSP builds these for devices (toml for hosts only, behind
/// the core's `toml` feature).
const CORE_DEPENDENCIES: [&str; 4] = ["log", "serde", "serde_json", "toml"];

#[test]
fn the_core_crate_links_only_log_and_serde() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("core/Cargo.toml");
    let manifest: toml::Table = fs::read_to_string(manifest).unwrap().parse().unwrap();
    let dependencies = manifest["dependencies"].as_table().expect("[dependencies]");
    let extra: Vec<&String> =
        dependencies.keys().filter(|name| !CORE_DEPENDENCIES.contains(&name.as_str())).collect();
    assert!(
        extra.is_empty(),
        "core/Cargo.toml: the core may link only {CORE_DEPENDENCIES:?}, not {extra:?}"
    );
    let sections: Vec<&String> =
        manifest.keys().filter(|key| key.contains("dependencies") || *key == "target").collect();
    assert_eq!(sections, ["dependencies"], "core/Cargo.toml: no other dependency sections");
}

#[test]
fn core_and_platform_depend_only_inward() {
    let mut violations = Vec::new();
    for rule in [&CORE, &PLATFORM] {
        let (found, files) = check_tree(rule);
        assert!(files >= 8, "only {files} files under {}: wrong directory?", rule.dir);
        violations.extend(found);
    }
    assert!(
        violations.is_empty(),
        "dependencies must point inward: {} may not use {:?}, {} may not use {:?}:{}",
        CORE.dir,
        CORE.forbidden,
        PLATFORM.dir,
        PLATFORM.forbidden,
        report(&violations)
    );
}

/// The binder crates (rsbinder on hosts, libbinder_rs's `binder` on Android) are named only by
/// the compat module, plus the one line that includes the host's generated AIDL code: nothing
/// else differs between the two builds.
const BINDER: Rule = Rule { dir: "src", forbidden: &["rsbinder", "binder"] };

fn allowed_binder_use(violation: &Violation) -> bool {
    violation.file == "src/ipc/compat.rs"
        || (violation.file == "src/ipc/mod.rs" && violation.path == "rsbinder::include_aidl")
}

#[test]
fn only_the_compat_module_names_a_binder_crate() {
    let (found, files) = check_tree(&BINDER);
    assert!(files >= 30, "only {files} files under src: wrong directory?");
    let violations: Vec<Violation> = found.into_iter().filter(|v| !allowed_binder_use(v)).collect();
    assert!(
        violations.is_empty(),
        "name binder types through src/ipc/compat.rs:{}",
        report(&violations)
    );
    // The rule is live: the exempted files do name the crate, and would be caught elsewhere.
    let compat = "src/ipc/compat.rs";
    let source = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(compat)).unwrap();
    assert!(!check("src/ipc/service.rs", &source, &BINDER).is_empty());
}

#[test]
fn the_checker_sees_the_real_imports_of_a_file() {
    // i2cdev.rs may use libc and nix; held to the core's rule, it must be caught doing so.
    let file = "src/platform/i2cdev.rs";
    let source = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(file)).unwrap();
    let caught: Vec<&str> = check(file, &source, &CORE).iter().map(|v| v.forbidden).collect();
    assert!(caught.contains(&"libc") && caught.contains(&"nix"), "{caught:?}");
}

const FORBIDDEN_SNIPPET: &str = r##"//! use libc; in a doc comment is fine
/* nix::unistd in a /* nested */ block comment is fine */
use std::sync::Mutex;
use crate::{core::request, platform::i2cdev};
fn errno() -> i32 {
    let _ = "libc::EIO in a string is fine";
    let _ = r#"so is crate::ipc in a raw string"#;
    let _ = ['"', '\'', '\\'];
    libc::EIO
}
mod inner {
    use super::super::super::ipc::client;
    fn f<'a>(x: &'a str) -> Vec::<u8> { x.into() }
}
use rsbinder::{self, Parcel};
extern crate nix;
use super::device::DeviceFault;
"##;

#[test]
fn the_checker_fails_on_forbidden_paths_and_names_file_line_and_path() {
    let violations = check("src/core/example.rs", FORBIDDEN_SNIPPET, &CORE);
    let found: Vec<(usize, &str, &str)> =
        violations.iter().map(|v| (v.line, v.path.as_str(), v.forbidden)).collect();
    assert_eq!(
        found,
        [
            (4, "crate::platform::i2cdev", "crate::platform"),
            (9, "libc::EIO", "libc"),
            (12, "super::super::super::ipc::client", "crate::ipc"),
            (15, "rsbinder", "rsbinder"),
            (15, "rsbinder::Parcel", "rsbinder"),
            (16, "nix", "nix"),
        ]
    );
    let message = report(&violations);
    assert!(message.contains("src/core/example.rs:9: `libc::EIO` reaches libc"), "{message}");

    // The platform may use the core and libc, but not the ipc layer, however it is spelled.
    let violations = check("src/platform/example.rs", FORBIDDEN_SNIPPET, &PLATFORM);
    let found: Vec<(usize, &str)> = violations.iter().map(|v| (v.line, v.path.as_str())).collect();
    assert_eq!(found, [(12, "super::super::super::ipc::client")]);
}
