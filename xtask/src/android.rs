//! The Android tree's files, checked on the host: Android.bp, the init .rc, the VINTF manifest
//! fragment, the framework compatibility matrix fragment, ueventd.rc, config.fs and the
//! sepolicy contexts each parse in their format, and the names they share agree with each other
//! and with the code (binder/src/endpoint.rs, service/src/daemon.rs). No AOSP tool runs here:
//! the parsers below read each format as far as these files use it (docs/android.md says what
//! only a tree checks). Each check states its rule with an assertion whose message is written
//! for whoever edits these files; `check` runs them all and collects the messages.

use i2c_hal_binder::endpoint::{ADMIN_SERVICE_NAME, SERVICE_NAME};
use i2c_hal_service::daemon::ANDROID_POLICY_PATH;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    crate::repo()
}

fn read(rel: &str) -> String {
    fs::read_to_string(repo().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Both instances, as the code registers them.
fn instances() -> BTreeSet<String> {
    [SERVICE_NAME, ADMIN_SERVICE_NAME].iter().map(|s| s.to_string()).collect()
}

// ------------------------------------------------------------------------------ Blueprint ----

/// A Blueprint value (build/blueprint's parser: strings, booleans, integers, lists, maps).
#[derive(Clone, Debug, PartialEq)]
enum Bp {
    Str(String),
    Bool(bool),
    Int(i64),
    List(Vec<Bp>),
    Map(BTreeMap<String, Bp>),
}

impl Bp {
    /// The value at a dotted path of nested maps (`backend.cpp.enabled`).
    fn get(&self, key: &str) -> Option<&Bp> {
        key.split('.').try_fold(self, |v, k| match v {
            Bp::Map(inner) => inner.get(k),
            _ => None,
        })
    }
    fn str(&self, key: &str) -> Option<&str> {
        match self.get(key)? {
            Bp::Str(s) => Some(s),
            _ => None,
        }
    }
    fn strings(&self, key: &str) -> Vec<String> {
        match self.get(key) {
            Some(Bp::List(items)) => items
                .iter()
                .map(|i| match i {
                    Bp::Str(s) => s.clone(),
                    other => panic!("{key}: {other:?} is not a string"),
                })
                .collect(),
            None => Vec::new(),
            Some(other) => panic!("{key}: {other:?} is not a list"),
        }
    }
    fn flag(&self, key: &str) -> Option<bool> {
        match self.get(key)? {
            Bp::Bool(b) => Some(*b),
            _ => None,
        }
    }
}

struct BpParser<'a> {
    s: &'a [u8],
    i: usize,
}

impl BpParser<'_> {
    fn skip(&mut self) {
        loop {
            while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
                self.i += 1;
            }
            if self.s[self.i..].starts_with(b"//") {
                while self.i < self.s.len() && self.s[self.i] != b'\n' {
                    self.i += 1;
                }
            } else if self.s[self.i..].starts_with(b"/*") {
                let end = self.s[self.i..].windows(2).position(|w| w == b"*/").expect("comment");
                self.i += end + 2;
            } else {
                return;
            }
        }
    }
    fn eat(&mut self, c: u8) -> bool {
        self.skip();
        if self.s.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn expect(&mut self, c: u8) {
        assert!(self.eat(c), "Android.bp: expected `{}` at byte {}", c as char, self.i);
    }
    fn ident(&mut self) -> String {
        self.skip();
        let start = self.i;
        while self.i < self.s.len()
            && (self.s[self.i].is_ascii_alphanumeric() || self.s[self.i] == b'_')
        {
            self.i += 1;
        }
        assert!(self.i > start, "Android.bp: expected a name at byte {start}");
        String::from_utf8(self.s[start..self.i].to_vec()).unwrap()
    }
    fn value(&mut self) -> Bp {
        self.skip();
        match self.s[self.i] {
            b'"' => {
                self.i += 1;
                let start = self.i;
                while self.s[self.i] != b'"' {
                    self.i += if self.s[self.i] == b'\\' { 2 } else { 1 };
                }
                self.i += 1;
                Bp::Str(String::from_utf8(self.s[start..self.i - 1].to_vec()).unwrap())
            }
            b'[' => {
                self.i += 1;
                let mut items = Vec::new();
                while !self.eat(b']') {
                    items.push(self.value());
                    if !self.eat(b',') {
                        self.expect(b']');
                        break;
                    }
                }
                Bp::List(items)
            }
            b'{' => self.map(),
            c if c == b'-' || c.is_ascii_digit() => {
                let start = self.i;
                self.i += 1;
                while self.s[self.i].is_ascii_digit() {
                    self.i += 1;
                }
                Bp::Int(std::str::from_utf8(&self.s[start..self.i]).unwrap().parse().unwrap())
            }
            _ => match self.ident().as_str() {
                "true" => Bp::Bool(true),
                "false" => Bp::Bool(false),
                other => panic!("Android.bp: variables ({other}) are not used in this file"),
            },
        }
    }
    fn map(&mut self) -> Bp {
        self.expect(b'{');
        let mut map = BTreeMap::new();
        while !self.eat(b'}') {
            let key = self.ident();
            self.expect(b':');
            let value = self.value();
            assert!(map.insert(key.clone(), value).is_none(), "Android.bp: {key} twice");
            if !self.eat(b',') {
                self.expect(b'}');
                break;
            }
        }
        Bp::Map(map)
    }
}

/// Android.bp's modules: (module type, properties).
fn blueprint() -> Vec<(String, Bp)> {
    let text = read("Android.bp");
    let mut p = BpParser { s: text.as_bytes(), i: 0 };
    let mut modules = Vec::new();
    loop {
        p.skip();
        if p.i >= p.s.len() {
            return modules;
        }
        let kind = p.ident();
        modules.push((kind, p.map()));
    }
}

fn module<'a>(modules: &'a [(String, Bp)], kind: &str, name: &str) -> &'a Bp {
    modules
        .iter()
        .find(|(k, m)| k == kind && m.str("name") == Some(name))
        .map(|(_, m)| m)
        .unwrap_or_else(|| panic!("Android.bp has no {kind} {name}"))
}

/// A tab-separated table of android/: its rows as maps from the header's column names, `#`
/// comments and blank lines skipped.
fn table(rel: &str) -> Vec<BTreeMap<String, String>> {
    let text = read(rel);
    let mut lines = text.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty());
    let header: Vec<&str> = lines.next().expect("a header row").split('\t').collect();
    lines
        .map(|line| {
            let cells: Vec<&str> = line.split('\t').collect();
            assert_eq!(cells.len(), header.len(), "{rel}: {line:?} has {} cells", cells.len());
            header.iter().zip(cells).map(|(h, c)| (h.to_string(), c.to_string())).collect()
        })
        .collect()
}

/// One crate as AOSP builds it (android/aosp-rust-crates.tsv).
#[derive(Debug)]
struct AospCrate {
    module: String,
    krate: String,
    version: String,
    device: bool,
    vendor: bool,
    features: BTreeSet<String>,
}

fn aosp_crates() -> Vec<AospCrate> {
    let yes = |row: &BTreeMap<String, String>, key: &str| match row[key].as_str() {
        "yes" => true,
        "no" => false,
        other => panic!("aosp-rust-crates.tsv: {key} {other:?} is neither yes nor no"),
    };
    table("android/aosp-rust-crates.tsv")
        .iter()
        .map(|row| AospCrate {
            module: row["module"].clone(),
            krate: row["crate"].clone(),
            version: row["version"].clone(),
            device: yes(row, "device"),
            vendor: yes(row, "vendor"),
            features: match row["features"].as_str() {
                "-" => BTreeSet::new(),
                list => list.split(',').map(String::from).collect(),
            },
        })
        .collect()
}

/// Not in AOSP: README.md ("Android") and docs/android.md say how to import it.
const VENDOR_IMPORTED: [&str; 2] = ["libi2cdev", "libembedded_hal"];

/// Module types that build for the host only; every other Rust module builds for a device.
const HOST_ONLY: [&str; 3] = ["rust_binary_host", "rust_library_host", "rust_test_host"];

fn android_bp_declares_the_modules_in_aosp_form() {
    let modules = blueprint();
    let aidl = module(&modules, "aidl_interface", "vendor.i2c");
    assert_eq!(aidl.str("stability"), Some("vintf"));
    assert_eq!(aidl.flag("frozen"), Some(true));
    assert_eq!(aidl.flag("backend.cpp.enabled"), Some(false), "the cpp backend is off");
    for backend in ["java", "ndk", "rust"] {
        assert_eq!(aidl.flag(&format!("backend.{backend}.enabled")), Some(true), "{backend}");
    }
    let versions = match aidl.get("versions_with_info") {
        Some(Bp::List(v)) => v.clone(),
        other => panic!("versions_with_info: {other:?}"),
    };
    let numbers: Vec<&str> = versions.iter().filter_map(|v| v.str("version")).collect();
    assert_eq!(numbers, ["1"]);
    for n in numbers {
        let dump = repo().join(format!("aidl_api/vendor.i2c/{n}"));
        assert!(dump.join(".hash").is_file(), "version {n} has no frozen dump");
    }
    // aidl/'s package path is the interface name: vendor.i2c -> aidl/vendor/i2c.
    assert!(aidl.strings("srcs").iter().all(|s| s.starts_with("aidl/vendor/i2c/")));

    let service = module(&modules, "rust_binary", "vendor.i2c-service");
    assert_eq!(service.flag("vendor"), Some(true));
    assert_eq!(service.str("relative_install_path"), Some("hw"));
    assert_eq!(service.strings("init_rc"), ["android/vendor.i2c-service.rc"]);
    assert_eq!(service.strings("vintf_fragments"), ["android/vendor.i2c-service.xml"]);
    assert!(service.strings("required").contains(&"vendor.i2c-policy".to_string()));

    let library = module(&modules, "rust_library", "libi2c_hal_service");
    assert_eq!(library.flag("vendor"), Some(true));
    assert!(library.strings("features").is_empty(), "the vendor library has no simulator");
    let client = module(&modules, "rust_library", "libi2c_hal_client");
    assert_ne!(client.flag("vendor"), Some(true), "the client build stays out of the vendor image");

    let policy = module(&modules, "prebuilt_etc", "vendor.i2c-policy");
    let installed = format!(
        "/vendor/etc/{}/{}",
        policy.str("sub_dir").unwrap(),
        policy.str("filename").unwrap()
    );
    assert_eq!(installed, ANDROID_POLICY_PATH, "where the service reads its policy");
    // What is installed is the JSON form, made at build time from the TOML in the tree.
    let generated = policy.str("src").and_then(|src| src.strip_prefix(':')).expect(":module");
    let genrule = module(&modules, "genrule", generated);
    assert_eq!(genrule.strings("srcs"), ["android/policy.toml"]);
    assert_eq!(genrule.strings("tools"), ["i2c_hal_policy"]);
    assert_eq!(genrule.str("cmd"), Some("$(location i2c_hal_policy) json $(in) > $(out)"));
    let tool = module(&modules, "rust_binary_host", "i2c_hal_policy");
    assert_eq!(tool.strings("srcs"), ["src/bin/i2c-hal-policy.rs"]);
    assert_eq!(tool.strings("rustlibs"), ["libi2c_hal_core"], "the tool links the core alone");

    // The core crate (core/): one library for the service, the client and the host tool, its
    // host variant reading TOML; its unit tests on the host and on a device.
    let core = module(&modules, "rust_library", "libi2c_hal_core");
    assert_eq!(core.strings("srcs"), ["core/src/lib.rs"]);
    assert_eq!(
        (core.flag("host_supported"), core.flag("vendor_available")),
        (Some(true), Some(true))
    );
    assert_eq!(core.strings("target.host.features"), ["toml"]);
    let core_test = module(&modules, "rust_test", "i2c_hal_core_test");
    assert_eq!(core_test.strings("srcs"), core.strings("srcs"));
    assert_eq!(core_test.flag("host_supported"), Some(true));

    // Soong's lint set follows the directory unless a module names one; "vendor" keeps the
    // crate building wherever a device puts it (the platform set denies missing docs).
    for (kind, m) in modules.iter().filter(|(k, _)| k.starts_with("rust_")) {
        let with_defaults = |key: &str| {
            m.str(key).map(String::from).or_else(|| {
                m.strings("defaults")
                    .iter()
                    .find_map(|d| module(&modules, "rust_defaults", d).str(key).map(String::from))
            })
        };
        for key in ["lints", "clippy_lints"] {
            let name = m.str("name").unwrap_or("?");
            assert_eq!(with_defaults(key).as_deref(), Some("vendor"), "{kind} {name}: {key}");
        }
    }

    let vts = module(&modules, "rust_test", "VtsHalI2cTargetTest");
    assert_eq!(vts.strings("test_suites"), ["general-tests", "vts"]);
    assert_eq!(vts.flag("require_root"), Some(true));
    assert_eq!(vts.strings("srcs"), ["vts/i2c_hal_vts.rs"]);
    assert!(vts.strings("rustlibs").contains(&"libi2c_hal_client".to_string()));
}

fn every_file_and_library_android_bp_names_exists() {
    let modules = blueprint();
    let defined: BTreeSet<String> =
        modules.iter().filter_map(|(_, m)| m.str("name").map(String::from)).collect();
    for (kind, m) in &modules {
        let name = m.str("name").unwrap_or("?");
        for key in ["srcs", "init_rc", "vintf_fragments"] {
            for path in m.strings(key) {
                // The VTS suite's source is written on its own branch; its path is fixed here.
                if path == "vts/i2c_hal_vts.rs" || path.contains('*') {
                    continue;
                }
                assert!(repo().join(&path).is_file(), "{kind} {name}: {key} {path} missing");
            }
        }
        if let Some(src) = m.str("src").filter(|src| !src.starts_with(':')) {
            assert!(repo().join(src).is_file(), "{kind} {name}: src {src} missing");
        }
        if let Some(src) = m.str("src").and_then(|src| src.strip_prefix(':')) {
            assert!(defined.contains(src), "{kind} {name}: src :{src} is not defined here");
        }
        for default in m.strings("defaults") {
            assert!(defined.contains(&default), "{kind} {name}: defaults {default} undefined");
        }
    }
    let readme = read("README.md");
    for lib in VENDOR_IMPORTED {
        assert!(readme.contains(lib), "README.md does not say how to import {lib}");
    }
}

/// The module's own list under `key` and those of the defaults it names.
fn with_defaults_list(modules: &[(String, Bp)], m: &Bp, key: &str) -> Vec<String> {
    let mut list = m.strings(key);
    for default in m.strings("defaults") {
        list.extend(module(modules, "rust_defaults", &default).strings(key));
    }
    list
}

fn every_rust_library_a_module_links_is_built_for_where_it_runs() {
    let modules = blueprint();
    let crates = aosp_crates();
    let defined: BTreeSet<String> =
        modules.iter().filter_map(|(_, m)| m.str("name").map(String::from)).collect();
    let mut checked = 0;
    for (kind, m) in modules.iter().filter(|(k, _)| k.starts_with("rust_") && k != "rust_defaults")
    {
        let name = m.str("name").unwrap_or("?");
        let device = !HOST_ONLY.contains(&kind.as_str());
        let vendor = m.flag("vendor") == Some(true);
        // What every variant links, then what only the host variant does.
        let everywhere = with_defaults_list(&modules, m, "rustlibs");
        let host = with_defaults_list(&modules, m, "target.host.rustlibs");
        let links = everywhere.iter().map(|l| (l, device)).chain(host.iter().map(|l| (l, false)));
        for (lib, on_device) in links {
            checked += 1;
            // Generated by aidl_interface vendor.i2c (vendor_available), defined here, or
            // imported by the vendor (README.md).
            if lib == "vendor.i2c-V1-rust"
                || defined.contains(lib)
                || VENDOR_IMPORTED.contains(&lib.as_str())
            {
                continue;
            }
            let Some(krate) = crates.iter().find(|c| &c.module == lib) else {
                panic!(
                    "{kind} {name}: rustlibs {lib} is not in AOSP (android/aosp-rust-crates.tsv)"
                )
            };
            assert!(
                !on_device || krate.device,
                "{kind} {name}: rustlibs {lib} is host-only in AOSP (rust_library_host), so a \
                 device build of {name} cannot link it; link it under target.host, or use a \
                 crate AOSP builds for devices"
            );
            assert!(
                !on_device || !vendor || krate.vendor,
                "{kind} {name}: rustlibs {lib} is not vendor_available in AOSP"
            );
        }
    }
    assert!(checked > 20, "only {checked} rustlibs entries were checked");
}

/// The accepted property names of android/soong-properties.tsv, by (module type, where).
fn soong_properties() -> BTreeMap<(String, String), BTreeSet<String>> {
    table("android/soong-properties.tsv")
        .into_iter()
        .map(|row| {
            let names = row["names"].split(',').map(String::from).collect();
            ((row["type"].clone(), row["where"].clone()), names)
        })
        .collect()
}

/// Checks `map` (the properties of a `kind` module at `path`) against the table, recursing
/// into the nested maps the table describes.
fn check_properties(
    table: &BTreeMap<(String, String), BTreeSet<String>>,
    kind: &str,
    name: &str,
    path: &str,
    map: &BTreeMap<String, Bp>,
) {
    let accepted = table.get(&(kind.to_string(), path.to_string())).unwrap_or_else(|| {
        panic!("{kind} {name}: android/soong-properties.tsv has no row for `{path}`; add Soong's")
    });
    for (key, value) in map {
        let at = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
        assert!(
            accepted.contains(key),
            "{kind} {name}: `{at}` is not a property of {kind} at android15-release (Blueprint \
             refuses the whole tree); android/soong-properties.tsv lists what is"
        );
        match value {
            Bp::Map(inner) if key == "target" => {
                for (target, properties) in inner {
                    let Bp::Map(properties) = properties else { panic!("target.{target}") };
                    check_properties(table, kind, name, "target.*", properties);
                }
            }
            Bp::Map(inner) => check_properties(table, kind, name, &at, inner),
            Bp::List(items) => {
                for item in items {
                    if let Bp::Map(inner) = item {
                        check_properties(table, kind, name, &format!("{at}[]"), inner);
                    }
                }
            }
            _ => {}
        }
    }
}

fn every_android_bp_property_is_one_soong_defines() {
    let table = soong_properties();
    for (kind, m) in blueprint() {
        let Bp::Map(properties) = &m else { unreachable!("a module is a map") };
        check_properties(&table, &kind, m.str("name").unwrap_or("package"), "", properties);
    }
}

fn the_version_the_binaries_print_is_cargo_tomls() {
    // A literal in the crate, since Soong sets no CARGO_PKG_VERSION.
    let manifest: toml::Table = read("Cargo.toml").parse().expect("Cargo.toml is TOML");
    let version = manifest["package"]["version"].as_str().expect("[package] version");
    assert_eq!(
        i2c_hal_core::VERSION,
        version,
        "core/src/lib.rs's VERSION (what --version prints) differs from Cargo.toml's"
    );
}

/// The crate name a `rustlibs` entry gives the sources: a module of Android.bp by its
/// crate_name, the AIDL crate as Soong names it, an AOSP crate by its crates.io name (libbinder_rs,
/// which has none there, is crate `binder`), a vendor-imported one by its module name.
fn crate_linked_as(modules: &[(String, Bp)], crates: &[AospCrate], lib: &str) -> String {
    if lib == "vendor.i2c-V1-rust" {
        return "vendor_i2c".to_string();
    }
    if let Some((_, m)) =
        modules.iter().find(|(k, m)| k == "rust_library" && m.str("name") == Some(lib))
    {
        return m
            .str("crate_name")
            .unwrap_or_else(|| panic!("{lib} has no crate_name"))
            .to_string();
    }
    if let Some(krate) = crates.iter().find(|c| c.module == lib && c.krate != "-") {
        return krate.krate.replace('-', "_");
    }
    let bare = lib.strip_prefix("lib").unwrap_or_else(|| panic!("rustlibs {lib}: not a library"));
    if lib == "libbinder_rs" || VENDOR_IMPORTED.contains(&lib) {
        return bare.trim_end_matches("_rs").to_string();
    }
    panic!("rustlibs {lib} is neither defined here, in AOSP nor vendor-imported")
}

/// tests/android-target, which type-checks every device module of Android.bp for Android: one
/// package per module, compiling the module's own sources with exactly the crates its rustlibs
/// name (so a crate a module uses but does not list fails there, as in Soong), the crates.io
/// ones at AOSP's versions and with AOSP's features ([workspace.dependencies]).
fn the_android_check_links_aosps_crates_as_aosp_builds_them() {
    const DIR: &str = "tests/android-target";
    let manifest: toml::Table = read(&format!("{DIR}/Cargo.toml")).parse().expect("TOML");
    let workspace = manifest["workspace"].as_table().expect("[workspace]");
    let deps = workspace["dependencies"].as_table().expect("[workspace.dependencies]");
    let crates = aosp_crates();
    let mut compared = 0;
    for krate in crates.iter().filter(|c| c.device && deps.contains_key(&c.krate)) {
        let dep = deps[&krate.krate].as_table().expect("a dependency table");
        if dep.contains_key("path") {
            // A stub of the crate's API, not the crate (README.md there); libbinder_rs's has no
            // crates.io name, so android_logger is the only other one.
            assert_eq!(krate.krate, "android_logger", "{}: a path, not AOSP's crate", krate.krate);
            continue;
        }
        let version = dep.get("version").and_then(|v| v.as_str());
        assert_eq!(version, Some(format!("={}", krate.version).as_str()), "{}", krate.krate);
        let mut features: BTreeSet<String> = dep
            .get("features")
            .and_then(|f| f.as_array())
            .map(|f| f.iter().filter_map(|v| v.as_str()).map(String::from).collect())
            .unwrap_or_default();
        if dep.get("default-features").and_then(|d| d.as_bool()) != Some(false) {
            features.insert("default".to_string());
        }
        assert_eq!(features, krate.features, "{}: features", krate.krate);
        compared += 1;
    }
    assert!(compared >= 5, "only {compared} crates compared");

    // Each member package: the files its targets compile, and what it depends on.
    let members: Vec<(String, toml::Table)> = workspace["members"]
        .as_array()
        .expect("members")
        .iter()
        .map(|m| {
            let m = m.as_str().expect("a member path").to_string();
            let text = read(&format!("{DIR}/{m}/Cargo.toml"));
            (m, text.parse().expect("TOML"))
        })
        .collect();
    let sources = |member: &str, package: &toml::Table| -> Vec<PathBuf> {
        let lib = package.get("lib").into_iter();
        let others = ["bin", "test"].into_iter().filter_map(|k| package.get(k));
        let targets = others.flat_map(|t| t.as_array().expect("[[target]]s").iter());
        lib.chain(targets)
            .filter_map(|t| t.get("path").and_then(|p| p.as_str()))
            .map(|p| repo().join(DIR).join(member).join(p))
            .filter_map(|p| p.canonicalize().ok())
            .collect()
    };

    let modules = blueprint();
    let mut mirrored = BTreeSet::new();
    for (kind, m) in modules.iter().filter(|(k, _)| {
        k.starts_with("rust_") && k != "rust_defaults" && !HOST_ONLY.contains(&k.as_str())
    }) {
        let name = m.str("name").expect("a name");
        let src = m.strings("srcs").first().cloned().unwrap_or_else(|| panic!("{name}: srcs"));
        let src = repo().join(&src).canonicalize().unwrap_or_else(|e| panic!("{src}: {e}"));
        let Some((member, package)) = members.iter().find(|(d, p)| sources(d, p).contains(&src))
        else {
            panic!("{kind} {name}: no package of {DIR} compiles {}", src.display())
        };
        let mut rustlibs = with_defaults_list(&modules, m, "rustlibs");
        rustlibs.extend(with_defaults_list(&modules, m, "target.android.rustlibs"));
        let linked: BTreeSet<String> =
            rustlibs.iter().map(|lib| crate_linked_as(&modules, &crates, lib)).collect();
        let mut depends = BTreeSet::new();
        for key in ["dependencies", "dev-dependencies"] {
            for (dep, spec) in package.get(key).and_then(|d| d.as_table()).into_iter().flatten() {
                // The workspace's entry, so AOSP's version and features (checked above).
                assert_eq!(
                    spec.get("workspace").and_then(|w| w.as_bool()),
                    Some(true),
                    "{DIR}/{member}/Cargo.toml: {dep} must be `{dep}.workspace = true`"
                );
                assert!(deps.contains_key(dep), "{DIR}/Cargo.toml: no workspace dependency {dep}");
                depends.insert(dep.replace('-', "_"));
            }
        }
        assert_eq!(
            depends, linked,
            "{kind} {name}: {DIR}/{member}/Cargo.toml must depend on exactly the crates its \
             rustlibs link"
        );
        mirrored.insert(name.to_string());
    }
    // None is left out: the libraries, the service and the VTS suite.
    for name in [
        "libi2c_hal_core",
        "libi2c_hal_platform",
        "libi2c_hal_binder",
        "libi2c_hal_service",
        "libi2c_hal_client",
        "libi2c_hal_testkit",
        "vendor.i2c-service",
        "VtsHalI2cTargetTest",
    ] {
        assert!(mirrored.contains(name), "Android.bp has no device module {name}");
    }
}

// ------------------------------------------------------------------------------- init .rc ----

/// An init service: its name, binary, and options (keyword, arguments).
struct RcService {
    name: String,
    path: String,
    options: Vec<(String, Vec<String>)>,
}

impl RcService {
    fn option(&self, keyword: &str) -> Vec<&Vec<String>> {
        self.options.iter().filter(|(k, _)| k == keyword).map(|(_, a)| a).collect()
    }
}

/// Options init's service parser knows (system/core/init/service_parser.cpp), of which the
/// .rc may use any; anything else is a typo init would reject.
const RC_OPTIONS: [&str; 14] = [
    "class",
    "user",
    "group",
    "capabilities",
    "interface",
    "task_profiles",
    "disabled",
    "oneshot",
    "onrestart",
    "writepid",
    "ioprio",
    "priority",
    "socket",
    "rlimit",
];

fn rc_services(text: &str) -> Vec<RcService> {
    let mut services: Vec<RcService> = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap().trim();
        if line.is_empty() {
            continue;
        }
        let words: Vec<String> = line.split_whitespace().map(String::from).collect();
        if raw.starts_with(|c: char| !c.is_whitespace()) {
            assert_eq!(words[0], "service", "line {}: only services here: {raw}", n + 1);
            assert!(words.len() >= 3, "line {}: service NAME PATH [ARGS]", n + 1);
            services.push(RcService {
                name: words[1].clone(),
                path: words[2].clone(),
                options: Vec::new(),
            });
        } else {
            let service = services.last_mut().expect("an option outside a service");
            assert!(
                RC_OPTIONS.contains(&words[0].as_str()),
                "line {}: unknown option {}",
                n + 1,
                words[0]
            );
            service.options.push((words[0].clone(), words[1..].to_vec()));
        }
    }
    services
}

/// The vendor AID config.fs declares, by its user name (AID_VENDOR_I2C -> vendor_i2c).
fn vendor_aid() -> (String, u32) {
    let text = read("android/config.fs");
    let mut section = None;
    let mut value = None;
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            assert!(section.is_none(), "one AID only");
            section = Some(name.to_string());
        } else if let Some(v) = line.strip_prefix("value:") {
            value = Some(v.trim().parse::<u32>().expect("a numeric AID"));
        } else {
            panic!("config.fs: unexpected line {line}");
        }
    }
    let section = section.expect("an [AID_...] section");
    let user = section.strip_prefix("AID_").expect("AID_ prefix").to_lowercase();
    assert!(section.starts_with("AID_VENDOR_"), "vendor AIDs are named AID_VENDOR_*");
    (user, value.expect("value:"))
}

fn the_init_rc_starts_the_service_least_privileged_with_both_instances() {
    let services = rc_services(&read("android/vendor.i2c-service.rc"));
    assert_eq!(services.len(), 1);
    let service = &services[0];
    assert_eq!(service.name, "vendor.i2c-default");
    // Android.bp: vendor, relative_install_path hw, name vendor.i2c-service.
    assert_eq!(service.path, "/vendor/bin/hw/vendor.i2c-service");
    assert_eq!(service.option("class"), [&vec!["hal".to_string()]]);
    let interfaces: BTreeSet<String> = service
        .option("interface")
        .iter()
        .map(|args| {
            assert_eq!(args.len(), 2, "interface aidl NAME");
            assert_eq!(args[0], "aidl");
            args[1].clone()
        })
        .collect();
    assert_eq!(interfaces, instances());
    let (aid, value) = vendor_aid();
    assert!((2900..=2999).contains(&value) || (5000..=5999).contains(&value), "vendor AID range");
    assert_eq!(service.option("user"), [&vec![aid.clone()]], "its own uid, not root or system");
    assert_eq!(service.option("group"), [&vec![aid]], "no supplementary groups");
    assert!(service.option("capabilities").is_empty(), "no capabilities");
    // Instead, a resource limit lets the callback threads take notifier::CALLBACK_NICE:
    // RLIMIT_NICE counts 20 - nice (can_nice() in kernel/sched, through nice_to_rlimit() in
    // include/linux/sched/prio.h).
    let nice_limit = (20 - i2c_hal_service::notifier::CALLBACK_NICE).to_string();
    assert_eq!(
        service.option("rlimit"),
        [&vec!["nice".to_string(), nice_limit.clone(), nice_limit]]
    );
}

fn ueventd_gives_the_nodes_to_the_service_group_only() {
    let text = read("android/ueventd.vendor.i2c.rc");
    let lines: Vec<Vec<&str>> = text
        .lines()
        .map(|l| l.split('#').next().unwrap().split_whitespace().collect::<Vec<_>>())
        .filter(|w| !w.is_empty())
        .collect();
    assert_eq!(lines.len(), 1);
    let (aid, _) = vendor_aid();
    assert_eq!(lines[0], ["/dev/i2c-*", "0660", "root", aid.as_str()]);
}

// ------------------------------------------------------------------------------------ XML ----

/// An XML element: name, attributes, children, text (enough of XML for the VINTF files:
/// declarations, comments, elements, attributes and text, no entities).
#[derive(Debug)]
struct Element {
    name: String,
    attrs: BTreeMap<String, String>,
    children: Vec<Element>,
    text: String,
}

impl Element {
    fn all(&self, name: &str) -> Vec<&Element> {
        self.children.iter().filter(|c| c.name == name).collect()
    }
    fn one(&self, name: &str) -> &Element {
        let found = self.all(name);
        assert_eq!(found.len(), 1, "<{}> needs exactly one <{name}>", self.name);
        found[0]
    }
}

fn parse_xml(text: &str) -> Element {
    fn skip_misc(s: &str, mut i: usize) -> usize {
        loop {
            let rest = &s[i..];
            let trimmed = rest.trim_start();
            i += rest.len() - trimmed.len();
            if trimmed.starts_with("<!--") {
                i += trimmed.find("-->").expect("unterminated comment") + 3;
            } else if trimmed.starts_with("<?") {
                i += trimmed.find("?>").expect("unterminated declaration") + 2;
            } else {
                return i;
            }
        }
    }
    fn element(s: &str, i: &mut usize) -> Element {
        *i = skip_misc(s, *i);
        assert!(s[*i..].starts_with('<'), "expected an element at {}", *i);
        let end = *i + s[*i..].find('>').expect("unterminated tag");
        let tag = &s[*i + 1..end];
        let self_closing = tag.ends_with('/');
        let tag = tag.trim_end_matches('/');
        let name = tag.split_whitespace().next().unwrap().to_string();
        let mut attrs = BTreeMap::new();
        let mut rest = tag[name.len()..].trim();
        while !rest.is_empty() {
            let (key, after) = rest.split_once('=').expect("attribute without a value");
            let after = after.trim_start();
            assert!(after.starts_with('"'), "attribute {key} is not quoted");
            let close = after[1..].find('"').expect("unterminated attribute") + 1;
            attrs.insert(key.trim().to_string(), after[1..close].to_string());
            rest = after[close + 1..].trim();
        }
        *i = end + 1;
        let mut el = Element { name, attrs, children: Vec::new(), text: String::new() };
        if self_closing {
            return el;
        }
        loop {
            let j = skip_misc(s, *i);
            if s[j..].starts_with("</") {
                el.text.push_str(s[*i..j].trim());
                let close = j + s[j..].find('>').unwrap();
                assert_eq!(&s[j + 2..close], el.name, "mismatched closing tag");
                *i = close + 1;
                return el;
            }
            if s[j..].starts_with('<') {
                el.children.push(element(s, i));
            } else {
                let next = j + s[j..].find('<').expect("text runs to the end");
                el.text.push_str(s[j..next].trim());
                *i = next;
            }
        }
    }
    let mut i = 0;
    let root = element(text, &mut i);
    assert_eq!(skip_misc(text, i), text.len(), "content after the root element");
    root
}

fn the_vintf_manifest_declares_every_instance() {
    let root = parse_xml(&read("android/vendor.i2c-service.xml"));
    assert_eq!(root.name, "manifest");
    assert_eq!(root.attrs.get("type").map(String::as_str), Some("device"));
    assert_eq!(root.attrs.get("version").map(String::as_str), Some("1.0"));
    let mut declared = BTreeSet::new();
    for hal in root.all("hal") {
        assert_eq!(hal.attrs.get("format").map(String::as_str), Some("aidl"));
        let package = &hal.one("name").text;
        assert_eq!(hal.one("version").text, "1", "the frozen version");
        for fqname in hal.all("fqname") {
            let (interface, instance) = fqname.text.split_once('/').expect("INTERFACE/INSTANCE");
            declared.insert(format!("{package}.{interface}/{instance}"));
        }
    }
    assert_eq!(declared, instances());
}

fn the_compatibility_matrix_covers_every_instance() {
    let root = parse_xml(&read("android/compatibility_matrix.vendor.i2c.xml"));
    assert_eq!(root.name, "compatibility-matrix");
    assert_eq!(root.attrs.get("type").map(String::as_str), Some("framework"));
    let mut required = BTreeSet::new();
    for hal in root.all("hal") {
        assert_eq!(hal.attrs.get("format").map(String::as_str), Some("aidl"));
        let package = &hal.one("name").text;
        assert_eq!(hal.one("version").text, "1");
        for interface in hal.all("interface") {
            let name = &interface.one("name").text;
            for instance in interface.all("instance") {
                required.insert(format!("{package}.{name}/{}", instance.text));
            }
        }
    }
    assert_eq!(required, instances());
}

// ------------------------------------------------------------------------------ sepolicy ----

/// `type NAME, ATTR...;` declarations of the vendor policy.
fn sepolicy_types() -> BTreeMap<String, BTreeSet<String>> {
    let mut types = BTreeMap::new();
    for entry in fs::read_dir(repo().join("sepolicy/vendor")).unwrap() {
        let path = entry.unwrap().path();
        if !path.extension().is_some_and(|e| e == "te") {
            continue;
        }
        for line in fs::read_to_string(&path).unwrap().lines() {
            let line = line.split('#').next().unwrap().trim();
            if let Some(decl) = line.strip_prefix("type ").and_then(|d| d.strip_suffix(';')) {
                let mut parts = decl.split(',').map(str::trim);
                let name = parts.next().unwrap().to_string();
                types.insert(name, parts.map(String::from).collect());
            }
        }
    }
    types
}

/// (first field, type) of each line of a contexts file.
fn contexts(path: &Path) -> Vec<(String, String)> {
    fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| l.split('#').next().unwrap().split_whitespace().collect::<Vec<_>>())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let context: Vec<&str> = w.last().unwrap().split(':').collect();
            assert_eq!(context.len(), 4, "{}: u:object_r:TYPE:s0", path.display());
            (w[0].to_string(), context[2].to_string())
        })
        .collect()
}

fn service_contexts_name_every_instance_with_a_declared_service_type_each() {
    let types = sepolicy_types();
    let entries = contexts(&repo().join("sepolicy/vendor/service_contexts"));
    let names: BTreeSet<String> = entries.iter().map(|(n, _)| n.clone()).collect();
    assert_eq!(names, instances());
    let service_types: BTreeSet<&String> = entries.iter().map(|(_, t)| t).collect();
    assert_eq!(service_types.len(), entries.len(), "the admin instance has a type of its own");
    for (name, ty) in &entries {
        let attrs = types.get(ty).unwrap_or_else(|| panic!("{name}: type {ty} undeclared"));
        for attr in ["service_manager_type", "hal_service_type", "protected_service"] {
            assert!(attrs.contains(attr), "{ty} lacks {attr}");
        }
    }
}

fn file_contexts_label_the_binary_and_the_nodes_with_declared_types() {
    let types = sepolicy_types();
    let entries = contexts(&repo().join("sepolicy/vendor/file_contexts"));
    let label = |path_part: &str| -> &String {
        &entries
            .iter()
            .find(|(p, _)| p.contains(path_part))
            .unwrap_or_else(|| panic!("{path_part}"))
            .1
    };
    // The path the .rc starts, escaped as a regular expression.
    let binary = label("/bin/hw/vendor\\.i2c-service");
    assert!(types[binary].contains("exec_type") && types[binary].contains("vendor_file_type"));
    let domain = binary.strip_suffix("_exec").expect("DOMAIN_exec");
    assert!(types[domain].contains("domain"));
    let node = label("/dev/i2c-[0-9]+");
    assert!(types[node].contains("dev_type"));
    assert_ne!(node, "device", "a generic device node may not be opened (AOSP neverallow)");
    for (path, ty) in &entries {
        assert!(types.contains_key(ty), "{path}: type {ty} undeclared");
    }
}

// ------------------------------------------------------------------------------ the check ----

/// Every rule, by what it says.
const RULES: &[(&str, fn())] = &[
    ("android bp declares the modules in aosp form", android_bp_declares_the_modules_in_aosp_form),
    (
        "every file and library android bp names exists",
        every_file_and_library_android_bp_names_exists,
    ),
    (
        "every rust library a module links is built for where it runs",
        every_rust_library_a_module_links_is_built_for_where_it_runs,
    ),
    (
        "every android bp property is one soong defines",
        every_android_bp_property_is_one_soong_defines,
    ),
    (
        "the version the binaries print is cargo tomls",
        the_version_the_binaries_print_is_cargo_tomls,
    ),
    (
        "the android check links aosps crates as aosp builds them",
        the_android_check_links_aosps_crates_as_aosp_builds_them,
    ),
    (
        "the init rc starts the service least privileged with both instances",
        the_init_rc_starts_the_service_least_privileged_with_both_instances,
    ),
    (
        "ueventd gives the nodes to the service group only",
        ueventd_gives_the_nodes_to_the_service_group_only,
    ),
    ("the vintf manifest declares every instance", the_vintf_manifest_declares_every_instance),
    (
        "the compatibility matrix covers every instance",
        the_compatibility_matrix_covers_every_instance,
    ),
    (
        "service contexts name every instance with a declared service type each",
        service_contexts_name_every_instance_with_a_declared_service_type_each,
    ),
    (
        "file contexts label the binary and the nodes with declared types",
        file_contexts_label_the_binary_and_the_nodes_with_declared_types,
    ),
];

/// Every rule that does not hold, each with the message its assertion gives.
pub fn check(_repo: &Path) -> Vec<String> {
    // The assertions' messages are the report: keep the default hook from printing them too.
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let problems = RULES
        .iter()
        .filter_map(|(rule, run)| {
            let outcome = std::panic::catch_unwind(run);
            outcome.err().map(|payload| format!("{rule}: {}", panic_text(payload.as_ref())))
        })
        .collect();
    std::panic::set_hook(previous);
    problems
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "failed".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tree_passes_the_android_check() {
        assert_eq!(check(&repo()), Vec::<String>::new());
    }

    #[test]
    fn a_failed_rule_is_reported_with_its_message() {
        fn broken() {
            panic!("Android.bp: `x` is wrong");
        }
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let outcome = std::panic::catch_unwind(broken).unwrap_err();
        std::panic::set_hook(previous);
        assert_eq!(panic_text(outcome.as_ref()), "Android.bp: `x` is wrong");
    }
}
