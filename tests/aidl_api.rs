//! The frozen AIDL contract (`aidl_api/vendor.i2c/1/`), checked on the host as Soong checks it
//! in a tree (system/tools/aidl/build/aidl_api.go): the dump is what `aidl --dumpapi` writes for
//! aidl/ (Soong's `--checkapi=equal` while `frozen: true`), its `.hash` is AOSP's hash of the
//! dump, and aidl/ is an append-only extension of v1 (`--checkapi=compatible`). The model and
//! its sources are in `tests/aidl_model/mod.rs`.
//!
//! `I2C_HAL_FREEZE_API=1 cargo test --test aidl_api` writes v1 when aidl_api/vendor.i2c/1 holds
//! no .aidl file yet (a frozen version is never rewritten); Android's own `m vendor.i2c-freeze-api`
//! writes the same files.

mod aidl_model;

use aidl_model::{api_hash, hex, incompatibilities, sha1, Api};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const V1: &str = "aidl_api/vendor.i2c/1";
/// versionForHashGen (build/aidl_api.go) for version 1.
const V1_HASH_WORD: &str = "latest-version";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn current() -> Api {
    Api::load(&repo().join("aidl")).expect("aidl/ parses")
}

fn frozen_v1() -> Api {
    Api::load(&repo().join(V1)).expect("the v1 dump parses")
}

/// The last line of a .hash file: the one Soong compares (`tail -1`).
fn recorded_hash(dir: &Path) -> String {
    let text = fs::read_to_string(dir.join(".hash")).expect(".hash exists");
    text.lines().last().expect(".hash has a line").trim().to_string()
}

fn write_dump(dir: &Path, api: &Api) {
    for (rel, text) in api.dump().expect("aidl/ dumps") {
        let path = dir.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }
}

#[test]
fn v1_is_frozen_exactly_as_aidl_dumpapi_writes_aidl() {
    let dir = repo().join(V1);
    let unfrozen = aidl_model::aidl_files(&dir).map_or(true, |files| files.is_empty());
    if std::env::var_os("I2C_HAL_FREEZE_API").is_some() && unfrozen {
        write_dump(&dir, &current());
        let hash = api_hash(&dir, V1_HASH_WORD).unwrap();
        fs::write(dir.join(".hash"), format!("{hash}\n")).unwrap();
    }
    let expected = current().dump().expect("aidl/ dumps");
    let mut on_disk = Vec::new();
    for path in aidl_model::aidl_files(&dir).expect("aidl_api/vendor.i2c/1 exists") {
        on_disk.push(path.strip_prefix(&dir).unwrap().to_string_lossy().into_owned());
    }
    assert_eq!(on_disk, expected.keys().cloned().collect::<Vec<_>>(), "files of the v1 dump");
    for (rel, text) in &expected {
        let frozen = fs::read_to_string(dir.join(rel)).unwrap();
        assert_eq!(
            &frozen, text,
            "{V1}/{rel} differs from the dump of aidl/ (frozen: true means aidl/ must equal the \
             last version; a change goes into a new version)"
        );
    }
}

#[test]
fn the_recorded_hash_is_the_hash_of_the_dump() {
    let dir = repo().join(V1);
    let computed = api_hash(&dir, V1_HASH_WORD).unwrap();
    assert_eq!(recorded_hash(&dir), computed, "{V1}/.hash");
    assert_eq!(computed.len(), 40);
}

#[test]
fn the_hash_changes_when_any_byte_of_the_dump_changes() {
    let scratch = tempfile::tempdir().unwrap();
    let v1 = repo().join(V1);
    for path in aidl_model::aidl_files(&v1).unwrap() {
        let copy = scratch.path().join(path.strip_prefix(&v1).unwrap());
        fs::create_dir_all(copy.parent().unwrap()).unwrap();
        fs::copy(&path, copy).unwrap();
    }
    let original = api_hash(scratch.path(), V1_HASH_WORD).unwrap();
    assert_eq!(original, recorded_hash(&v1), "a copy of v1 hashes as v1");
    let file = scratch.path().join("vendor/i2c/ErrorCode.aidl");
    let text = fs::read_to_string(&file).unwrap();
    fs::write(&file, text.replace("PEC_ERROR = 13,", "PEC_ERROR = 14,")).unwrap();
    assert_ne!(api_hash(scratch.path(), V1_HASH_WORD).unwrap(), original);
    fs::write(&file, text).unwrap();
    assert_eq!(api_hash(scratch.path(), V1_HASH_WORD).unwrap(), original);
    // The version word is part of the hash: v2's hash is not v1's over the same files.
    assert_ne!(api_hash(scratch.path(), "1").unwrap(), original);
}

/// The recipe itself, run by the shell where coreutils are: the Rust version must agree with
/// `hash_gen.sh`'s pipeline byte for byte (sort order, sha1sum's line format, the echo).
#[test]
fn the_hash_agrees_with_aosp_hash_gen_pipeline() {
    let have = |tool: &str| Command::new("sh").args(["-c", &format!("command -v {tool}")]).output();
    if !["find", "sort", "xargs", "sha1sum", "cut"]
        .iter()
        .all(|t| have(t).is_ok_and(|o| o.status.success()))
    {
        eprintln!("coreutils/findutils missing: the pipeline cross-check did not run");
        return;
    }
    let script = format!(
        "cd '{}' && {{ find ./ -name \"*.aidl\" -print0 | LC_ALL=C sort -z | xargs -0 sha1sum \
         && echo {V1_HASH_WORD}; }} | sha1sum | cut -d \" \" -f 1",
        repo().join(V1).display()
    );
    let out = Command::new("sh").args(["-c", &script]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let shell = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert_eq!(shell, api_hash(&repo().join(V1), V1_HASH_WORD).unwrap());
}

#[test]
fn sha1_matches_the_fips_180_examples() {
    assert_eq!(hex(&sha1(b"abc")), "a9993e364706816aba3e25717850c26c9cd0d89d");
    assert_eq!(hex(&sha1(b"")), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    let two_blocks = b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    assert_eq!(hex(&sha1(two_blocks)), "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
}

#[test]
fn aidl_is_an_append_only_extension_of_v1() {
    let problems = incompatibilities(&frozen_v1(), &current());
    assert!(problems.is_empty(), "aidl/ breaks v1:\n{}", problems.join("\n"));
}

/// v1 with one file's text edited: the compatibility check must refuse each breaking edit
/// and accept each compatible one.
fn v1_with(file: &str, from: &str, to: &str) -> Api {
    let dir = repo().join(V1);
    let mut sources = Vec::new();
    for path in aidl_model::aidl_files(&dir).unwrap() {
        let mut text = fs::read_to_string(&path).unwrap();
        if path.ends_with(file) {
            assert!(text.contains(from), "{file} has no `{from}`");
            text = text.replacen(from, to, 1);
        }
        sources.push((path.display().to_string(), text));
    }
    Api::from_sources(sources.iter().map(|(p, t)| (p.clone(), t.as_str()))).unwrap()
}

#[test]
fn the_compatibility_check_refuses_every_breaking_change() {
    let v1 = frozen_v1();
    let breaking = [
        ("removed method", "II2cAdmin.aidl", "  int reloadPolicy();\n", ""),
        (
            "reordered methods",
            "II2cAdmin.aidl",
            "  int reloadPolicy();\n  vendor.i2c.ServiceStatus getStatus();\n",
            "  vendor.i2c.ServiceStatus getStatus();\n  int reloadPolicy();\n",
        ),
        ("renamed method", "II2cAdmin.aidl", "int reloadPolicy()", "int reloadPolicies()"),
        (
            "retyped argument",
            "II2cSession.aidl",
            "void smbusWriteByte(int value)",
            "void smbusWriteByte(long value)",
        ),
        (
            "new argument",
            "II2cSession.aidl",
            "void smbusWriteByte(int value)",
            "void smbusWriteByte(int value, int more)",
        ),
        ("lost direction", "II2cSession.aidl", "transfer(in ", "transfer(inout "),
        ("lost oneway", "IBusListener.aidl", "oneway void onBusAdded", "void onBusAdded"),
        ("removed field", "Counter.aidl", "  long value;\n", ""),
        ("retyped field", "Counter.aidl", "  long value;", "  int value;"),
        ("renamed field", "Counter.aidl", "  long value;", "  long count;"),
        (
            "field inserted before others",
            "Counter.aidl",
            "  long value;",
            "  int first;\n  long value;",
        ),
        ("removed enumerator", "ErrorCode.aidl", "  PEC_ERROR = 13,\n", ""),
        ("renumbered enumerator", "ErrorCode.aidl", "PEC_ERROR = 13,", "PEC_ERROR = 31,"),
        ("changed constant", "II2cSession.aidl", "MAX_MESSAGES = 42;", "MAX_MESSAGES = 43;"),
        ("removed constant", "II2cManager.aidl", "  const int FLAG_PEC = 4;\n", ""),
        ("dropped annotation", "BusInfo.aidl", "  @utf8InCpp String name;", "  String name;"),
        (
            "new field without a default",
            "Counter.aidl",
            "  long value;",
            "  long value;\n  String unit;",
        ),
        (
            "new enum field, enum without 0",
            "Counter.aidl",
            "  long value;",
            "  long value;\n  vendor.i2c.LossReason why;",
        ),
    ];
    for (what, file, from, to) in breaking {
        let problems = incompatibilities(&v1, &v1_with(file, from, to));
        assert!(!problems.is_empty(), "{what} passed the compatibility check");
    }
}

#[test]
fn the_compatibility_check_accepts_appended_members() {
    let v1 = frozen_v1();
    let compatible = [
        (
            "appended method",
            "II2cAdmin.aidl",
            "  int reloadPolicy();\n  vendor.i2c.ServiceStatus getStatus();\n",
            "  int reloadPolicy();\n  vendor.i2c.ServiceStatus getStatus();\n  void flush();\n",
        ),
        (
            "appended field with default",
            "Counter.aidl",
            "  long value;",
            "  long value;\n  String unit = \"\";",
        ),
        (
            "appended primitive field",
            "Counter.aidl",
            "  long value;",
            "  long value;\n  int scale;",
        ),
        (
            "appended nullable field",
            "Counter.aidl",
            "  long value;",
            "  long value;\n  @nullable String unit;",
        ),
        (
            "new enumerator",
            "ErrorCode.aidl",
            "  PEC_ERROR = 13,\n",
            "  PEC_ERROR = 13,\n  BUSY_RETRY = 14,\n",
        ),
        (
            "new constant",
            "II2cManager.aidl",
            "  const int FLAG_PEC = 4;\n",
            "  const int FLAG_PEC = 4;\n  const int FLAG_NEW = 8;\n",
        ),
    ];
    for (what, file, from, to) in compatible {
        let problems = incompatibilities(&v1, &v1_with(file, from, to));
        assert!(problems.is_empty(), "{what} was refused: {problems:?}");
    }
}

/// The renderer against AOSP's own expectations (aidl_unittest.cpp's ApiDump tests, the
/// inputs and outputs restated here, not copied): doc comments dropped, types qualified,
/// directions only where written, constants evaluated, enum defaults qualified.
#[test]
fn the_dump_renders_as_aosp_aidl_does() {
    let foo = "// comment\npackage foo.bar;\nimport foo.bar.Data;\n/** doc */\ninterface IFoo {\n    \
               /** gone */\n    int foo(out int[] a, String b, boolean c, inout List<String> d);\n    \
               @utf8InCpp String name(@utf8InCpp String x);\n    Data getData();\n    \
               const int A = 0x10;\n    const long B = -2;\n    const String S = \"Hello\";\n}\n";
    let data = "package foo.bar;\nimport foo.bar.E;\n@VintfStability\nparcelable Data {\n    \
                E e = E.FOO;\n    int x = 10;\n    int y;\n}\n";
    let e =
        "package foo.bar;\n@VintfStability @Backing(type=\"int\")\nenum E { FOO, BAR = 5, BAZ }\n";
    let listener = "package foo.bar;\noneway interface IListener { void on(in int x); }\n";
    let api = Api::from_sources([
        ("IFoo".to_string(), foo),
        ("Data".to_string(), data),
        ("E".to_string(), e),
        ("IListener".to_string(), listener),
    ])
    .unwrap();
    let dump = api.dump().unwrap();
    let p = aidl_model::PREAMBLE;
    assert_eq!(
        dump["foo/bar/IFoo.aidl"],
        format!(
            "// comment\n{p}package foo.bar;\ninterface IFoo {{\n  int foo(out int[] a, String b, \
             boolean c, inout List<String> d);\n  @utf8InCpp String name(@utf8InCpp String x);\n  \
             foo.bar.Data getData();\n  const int A = 16;\n  const long B = -2;\n  const String S \
             = \"Hello\";\n}}\n"
        )
    );
    assert_eq!(
        dump["foo/bar/Data.aidl"],
        format!(
            "{p}package foo.bar;\n@VintfStability\nparcelable Data {{\n  foo.bar.E e = \
             foo.bar.E.FOO;\n  int x = 10;\n  int y;\n}}\n"
        )
    );
    assert_eq!(
        dump["foo/bar/E.aidl"],
        format!(
            "{p}package foo.bar;\n@Backing(type=\"int\") @VintfStability\nenum E {{\n  FOO = 0,\n  \
             BAR = 5,\n  BAZ = 6,\n}}\n"
        )
    );
    assert_eq!(
        dump["foo/bar/IListener.aidl"],
        format!("{p}package foo.bar;\ninterface IListener {{\n  oneway void on(in int x);\n}}\n")
    );
}

#[test]
fn the_parser_refuses_what_it_cannot_render() {
    let hidden = "package a;\ninterface I {\n  /** @hide */\n  void f();\n}\n";
    assert!(Api::from_sources([("I".to_string(), hidden)]).is_err());
    let unknown = "package a;\ninterface I {\n  Missing f();\n}\n";
    assert!(Api::from_sources([("I".to_string(), unknown)]).is_err());
    let expression = "package a;\ninterface I {\n  const int X = 1 << 2;\n}\n";
    assert!(Api::from_sources([("I".to_string(), expression)]).is_err());
}

/// build.rs stamps the recorded hash into the host build, so the service's
/// getInterfaceHash() (checked in tests/service.rs) is this file's last line.
#[test]
fn the_host_build_stamps_the_recorded_hash() {
    use i2c_hal_binder::aidl::II2cManager;
    assert_eq!(II2cManager::HASH, recorded_hash(&repo().join(V1)));
    assert_eq!(II2cManager::VERSION, 1);
}
