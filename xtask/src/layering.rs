//! The direction of the workspace's dependencies, read from `cargo metadata`: each crate may
//! depend only on the crates inward of it (docs/architecture.md draws the picture). Cargo
//! already refuses an import of a crate a manifest does not name, so the manifests are the
//! whole rule; what is checked here is that nobody adds an outward edge to one.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

/// Each library crate and the workspace crates its normal dependencies may name. The root
/// package (the programs and the end-to-end tests), the tools and xtask may use any.
const INWARD: &[(&str, &[&str])] = &[
    ("i2c-hal-core", &[]),
    ("i2c-hal-platform", &["i2c-hal-core"]),
    ("vendor-i2c", &[]),
    ("i2c-hal-binder", &["i2c-hal-core", "vendor-i2c"]),
    ("i2c-hal-sim", &["i2c-hal-core", "i2c-hal-platform"]),
    ("i2c-hal-service", &["i2c-hal-core", "i2c-hal-platform", "i2c-hal-binder", "i2c-hal-sim"]),
    ("i2c-hal-client", &["i2c-hal-core", "i2c-hal-platform", "i2c-hal-binder"]),
    ("i2c-hal-testkit", &[]),
    // std only: tests/android-target builds it (its vendor_i2c stand-in's build script) outside
    // this workspace.
    ("aidl-model", &[]),
];

/// The only crates.io crates the core links: it must build for a device and a host alike,
/// with no binder, no syscalls (nix, libc, i2cdev) and no command line (clap).
const CORE_CRATES: [&str; 4] = ["log", "serde", "serde_json", "toml"];

/// The binder implementations, and the crates that may name one: the seam, the generated
/// code, and the service, whose RPC transport (service/src/transport/host.rs) is rsbinder's.
const BINDERS: [&str; 3] = ["rsbinder", "binder", "vendor-i2c"];
const MAY_NAME_BINDER: [&str; 3] = ["vendor-i2c", "i2c-hal-binder", "i2c-hal-service"];

/// A workspace package as `cargo metadata` describes it.
struct Package {
    name: String,
    has_lib: bool,
    /// Normal (not dev, not build) dependencies, with whether each is optional.
    deps: Vec<(String, bool)>,
    dir: String,
}

fn packages(repo: &Path) -> Result<Vec<Package>, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--no-deps", "--locked"])
        .current_dir(repo)
        .output()
        .map_err(|e| format!("cargo metadata: {e}"))?;
    if !out.status.success() {
        return Err(format!("cargo metadata: {}", String::from_utf8_lossy(&out.stderr)));
    }
    let json: Value = serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())?;
    let list = json["packages"].as_array().ok_or("cargo metadata: no packages")?;
    Ok(list.iter().map(package).collect())
}

fn package(json: &Value) -> Package {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let has_lib =
        json["targets"].as_array().into_iter().flatten().any(|target| {
            target["kind"].as_array().into_iter().flatten().any(|kind| kind == "lib")
        });
    let deps = json["dependencies"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|dep| dep["kind"].is_null())
        .map(|dep| (text(&dep["name"]), dep["optional"].as_bool().unwrap_or(false)))
        .collect();
    let manifest = text(&json["manifest_path"]);
    let dir = Path::new(&manifest).parent().map(|d| d.display().to_string()).unwrap_or_default();
    Package { name: text(&json["name"]), has_lib, deps, dir }
}

/// Every outward edge, each a line naming the manifest to fix.
pub fn check(repo: &Path) -> Vec<String> {
    match packages(repo) {
        Ok(packages) => problems(&packages),
        Err(problem) => vec![problem],
    }
}

fn problems(packages: &[Package]) -> Vec<String> {
    let workspace: BTreeSet<&str> = packages.iter().map(|p| p.name.as_str()).collect();
    let inward: BTreeMap<&str, &[&str]> = INWARD.iter().copied().collect();
    let mut problems = Vec::new();
    for package in packages {
        let at = format!("{}/Cargo.toml", package.dir);
        for (dep, optional) in &package.deps {
            let dep = dep.as_str();
            if let Some(allowed) = inward.get(package.name.as_str()) {
                if workspace.contains(dep) && !allowed.contains(&dep) {
                    problems.push(format!(
                        "{at}: {} may not depend on {dep} (inward of it: {allowed:?})",
                        package.name
                    ));
                }
            }
            let outside = !workspace.contains(dep) && !CORE_CRATES.contains(&dep);
            if package.name == "i2c-hal-core" && outside {
                problems.push(format!(
                    "{at}: the core links only {CORE_CRATES:?}, not {dep} (it builds for \
                     devices and hosts and has no binder, syscalls or command line)"
                ));
            }
            if package.has_lib && dep == "clap" {
                problems.push(format!(
                    "{at}: {} is a library and may not depend on clap (command lines belong \
                     to the programs)",
                    package.name
                ));
            }
            if BINDERS.contains(&dep) && !MAY_NAME_BINDER.contains(&package.name.as_str()) {
                problems.push(format!(
                    "{at}: {} may not link {dep}; binder is named only in {MAY_NAME_BINDER:?} \
                     (use i2c_hal_binder's names)",
                    package.name
                ));
            }
            if dep == "i2c-hal-sim" && package.has_lib && !optional {
                problems.push(format!(
                    "{at}: {} links the simulator unconditionally; a shipped crate may only \
                     take it behind its `sim` feature",
                    package.name
                ));
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lib(name: &str, deps: &[(&str, bool)]) -> Package {
        Package {
            name: name.to_string(),
            has_lib: true,
            deps: deps.iter().map(|(d, o)| (d.to_string(), *o)).collect(),
            dir: name.to_string(),
        }
    }

    #[test]
    fn the_workspace_passes_its_own_check() {
        assert_eq!(check(&crate::repo()), Vec::<String>::new());
    }

    #[test]
    fn each_outward_edge_is_named_with_its_manifest() {
        let packages = [
            lib("i2c-hal-core", &[("nix", false), ("log", false)]),
            lib("i2c-hal-platform", &[("i2c-hal-core", false), ("i2c-hal-binder", false)]),
            lib("i2c-hal-binder", &[("i2c-hal-core", false), ("rsbinder", false)]),
            lib("i2c-hal-client", &[("clap", false), ("rsbinder", false)]),
            lib("i2c-hal-service", &[("i2c-hal-sim", false), ("i2c-hal-client", false)]),
        ];
        let problems = problems(&packages);
        let expected = [
            "i2c-hal-core/Cargo.toml: the core links only",
            "i2c-hal-platform/Cargo.toml: i2c-hal-platform may not depend on i2c-hal-binder",
            "i2c-hal-client/Cargo.toml: i2c-hal-client is a library and may not depend on clap",
            "i2c-hal-client/Cargo.toml: i2c-hal-client may not link rsbinder",
            "i2c-hal-service/Cargo.toml: i2c-hal-service links the simulator unconditionally",
            "i2c-hal-service/Cargo.toml: i2c-hal-service may not depend on i2c-hal-client",
        ];
        assert_eq!(problems.len(), expected.len(), "{problems:#?}");
        for (problem, start) in problems.iter().zip(expected) {
            assert!(problem.starts_with(start), "{problem}\n  expected: {start}...");
        }
    }

    #[test]
    fn the_inward_edges_pass() {
        let packages = [
            lib("i2c-hal-core", &[("log", false), ("serde", false), ("toml", true)]),
            lib("i2c-hal-service", &[("i2c-hal-core", false), ("i2c-hal-sim", true)]),
        ];
        assert_eq!(problems(&packages), Vec::<String>::new());
    }
}
