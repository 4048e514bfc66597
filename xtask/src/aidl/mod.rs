//! The frozen AIDL contract (`aidl_api/vendor.i2c/1/`), checked as Soong checks it in a tree
//! (system/tools/aidl/build/aidl_api.go): the dump is what `aidl --dumpapi` writes for aidl/
//! (Soong's `--checkapi=equal` while `frozen: true`), its `.hash` is AOSP's hash of the dump,
//! and aidl/ is an append-only extension of v1 (`--checkapi=compatible`). The model of AIDL
//! these checks use is `model`.

pub mod model;

use model::{aidl_files, api_hash, incompatibilities, Api};
use std::fs;
use std::path::Path;

/// The frozen version, relative to the repository.
pub const V1: &str = "aidl_api/vendor.i2c/1";
/// versionForHashGen (build/aidl_api.go) for version 1.
const V1_HASH_WORD: &str = "latest-version";

/// What whoever edits aidl/ reads when a check fails.
pub const HINT: &str = "aidl/ is frozen at version 1 (Android.bp: frozen: true): a change to \
    the contract goes into a new version, aidl_api/vendor.i2c/2, with members appended only \
    (docs/contract.md, 'Errors and the growth rule' and 'What v2 would add').";

/// The last line of a .hash file: the one Soong compares (`tail -1`).
fn recorded_hash(dir: &Path) -> Result<String, String> {
    let path = dir.join(".hash");
    let text = fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let last = text.lines().last().ok_or_else(|| format!("{}: empty", path.display()))?;
    Ok(last.trim().to_string())
}

/// Every way aidl/ and the frozen v1 disagree, each a line; empty when they agree.
pub fn check(repo: &Path) -> Vec<String> {
    match check_all(repo) {
        Ok(problems) => problems,
        Err(problem) => vec![problem],
    }
}

fn check_all(repo: &Path) -> Result<Vec<String>, String> {
    let current = Api::load(&repo.join("aidl")).map_err(|e| format!("aidl/: {e}"))?;
    let dir = repo.join(V1);
    let frozen = Api::load(&dir).map_err(|e| format!("{V1}: {e}"))?;
    let mut problems = Vec::new();

    // --checkapi=equal: the dump of aidl/ is the frozen dump, file for file, byte for byte.
    let expected = current.dump().map_err(|e| format!("aidl/: {e}"))?;
    let on_disk: Vec<String> = aidl_files(&dir)?
        .iter()
        .map(|path| path.strip_prefix(&dir).unwrap_or(path).to_string_lossy().into_owned())
        .collect();
    let wanted: Vec<String> = expected.keys().cloned().collect();
    if on_disk != wanted {
        problems.push(format!("{V1} holds {on_disk:?}, but aidl/ dumps to {wanted:?}"));
    }
    for (rel, text) in &expected {
        if fs::read_to_string(dir.join(rel)).ok().as_ref() != Some(text) {
            problems.push(format!("{V1}/{rel} differs from the dump of aidl/"));
        }
    }

    // The recorded hash is AOSP's hash of the dump (what getInterfaceHash() answers).
    let computed = api_hash(&dir, V1_HASH_WORD)?;
    let recorded = recorded_hash(&dir)?;
    if recorded != computed {
        problems.push(format!("{V1}/.hash says {recorded}, the dump hashes to {computed}"));
    }

    // --checkapi=compatible: nothing removed, renamed, retyped or reordered.
    for problem in incompatibilities(&frozen, &current) {
        problems.push(format!("aidl/ breaks v1: {problem}"));
    }
    Ok(problems)
}

/// Writes v1 from aidl/ when aidl_api/vendor.i2c/1 holds no .aidl file yet, as Android's
/// `m vendor.i2c-freeze-api` would; a frozen version is never rewritten.
pub fn freeze(repo: &Path) -> Result<(), String> {
    let dir = repo.join(V1);
    if aidl_files(&dir).is_ok_and(|files| !files.is_empty()) {
        return Err(format!("{V1} is frozen already; a change goes into a new version"));
    }
    let current = Api::load(&repo.join("aidl"))?;
    for (rel, text) in current.dump()? {
        let path = dir.join(rel);
        let parent = path.parent().ok_or("a dump file has no directory")?;
        fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    let hash = api_hash(&dir, V1_HASH_WORD)?;
    fs::write(dir.join(".hash"), format!("{hash}\n")).map_err(|e| format!(".hash: {e}"))
}

// The model's own tests: it must refuse what Soong refuses and agree with AOSP's tools.
#[cfg(test)]
mod tests {
    use super::*;
    use model::{hex, sha1};
    use std::path::PathBuf;
    use std::process::Command;

    fn repo() -> PathBuf {
        crate::repo()
    }

    fn frozen_v1() -> Api {
        Api::load(&repo().join(V1)).expect("the v1 dump parses")
    }

    #[test]
    fn the_tree_passes_its_own_check() {
        assert_eq!(check(&repo()), Vec::<String>::new());
    }

    #[test]
    fn an_edited_dump_fails_the_check_naming_the_file() {
        let scratch = tempfile::tempdir().unwrap();
        let copy = |from: &Path, to: &Path| {
            for path in aidl_files(from).unwrap() {
                let target = to.join(path.strip_prefix(from).unwrap());
                fs::create_dir_all(target.parent().unwrap()).unwrap();
                fs::copy(&path, target).unwrap();
            }
        };
        copy(&repo().join("aidl"), &scratch.path().join("aidl"));
        copy(&repo().join(V1), &scratch.path().join(V1));
        fs::copy(repo().join(V1).join(".hash"), scratch.path().join(V1).join(".hash")).unwrap();
        assert_eq!(check(scratch.path()), Vec::<String>::new());
        let file = scratch.path().join("aidl/vendor/i2c/ErrorCode.aidl");
        let text = fs::read_to_string(&file).unwrap();
        fs::write(&file, text.replace("PEC_ERROR = 13,", "PEC_ERROR = 14,")).unwrap();
        let problems = check(scratch.path()).join("\n");
        assert!(problems.contains("ErrorCode.aidl differs"), "{problems}");
        assert!(problems.contains("renumbered") || problems.contains("PEC_ERROR"), "{problems}");
    }

    #[test]
    fn the_hash_changes_when_any_byte_of_the_dump_changes() {
        let scratch = tempfile::tempdir().unwrap();
        let v1 = repo().join(V1);
        for path in model::aidl_files(&v1).unwrap() {
            let copy = scratch.path().join(path.strip_prefix(&v1).unwrap());
            fs::create_dir_all(copy.parent().unwrap()).unwrap();
            fs::copy(&path, copy).unwrap();
        }
        let original = api_hash(scratch.path(), V1_HASH_WORD).unwrap();
        assert_eq!(original, recorded_hash(&v1).unwrap(), "a copy of v1 hashes as v1");
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
        let have =
            |tool: &str| Command::new("sh").args(["-c", &format!("command -v {tool}")]).output();
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

    /// v1 with one file's text edited: the compatibility check must refuse each breaking edit
    /// and accept each compatible one.
    fn v1_with(file: &str, from: &str, to: &str) -> Api {
        let dir = repo().join(V1);
        let mut sources = Vec::new();
        for path in model::aidl_files(&dir).unwrap() {
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
        let p = model::PREAMBLE;
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
            format!(
                "{p}package foo.bar;\ninterface IListener {{\n  oneway void on(in int x);\n}}\n"
            )
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
}
