//! The model's own tests: it must refuse what Soong refuses and agree with AOSP's tools. Some
//! read the repository's aidl/ and frozen dump (aidl_api/vendor.i2c/1), found from this crate's
//! directory (xtask/aidl-model).

use aidl_model::{
    aidl_files, api_hash, hex, incompatibilities, recorded_hash, sha1, version_for_hash_gen, Api,
    Kind, Value, PREAMBLE,
};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const V1: &str = "aidl_api/vendor.i2c/1";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("the repository")
}

fn frozen_v1() -> Api {
    Api::load(&repo().join(V1)).expect("the v1 dump parses")
}

/// An empty directory of this test's own under Cargo's scratch directory for tests.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("aidl-model").join(name);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// Copies every .aidl file under `from` to the same place under `to`.
fn copy_aidl(from: &Path, to: &Path) {
    for path in aidl_files(from).unwrap() {
        let target = to.join(path.strip_prefix(from).unwrap());
        fs::create_dir_all(target.parent().unwrap()).unwrap();
        fs::copy(&path, target).unwrap();
    }
}

#[test]
fn the_hash_changes_when_any_byte_of_the_dump_changes() {
    let scratch = scratch("hash");
    let v1 = repo().join(V1);
    copy_aidl(&v1, &scratch);
    let word = version_for_hash_gen(1);
    let original = api_hash(&scratch, &word).unwrap();
    assert_eq!(original, recorded_hash(&v1).unwrap(), "a copy of v1 hashes as v1");
    let file = scratch.join("vendor/i2c/ErrorCode.aidl");
    let text = fs::read_to_string(&file).unwrap();
    fs::write(&file, text.replace("PEC_ERROR = 13,", "PEC_ERROR = 14,")).unwrap();
    assert_ne!(api_hash(&scratch, &word).unwrap(), original);
    fs::write(&file, text).unwrap();
    assert_eq!(api_hash(&scratch, &word).unwrap(), original);
    // The version word is part of the hash: v2's hash is not v1's over the same files.
    assert_ne!(api_hash(&scratch, &version_for_hash_gen(2)).unwrap(), original);
}

#[test]
fn the_hash_word_is_aosps() {
    // build/aidl_api.go's versionForHashGen: the version before, "latest-version" for the first.
    assert_eq!(version_for_hash_gen(1), "latest-version");
    assert_eq!(version_for_hash_gen(2), "1");
    assert_eq!(version_for_hash_gen(10), "9");
}

#[test]
fn the_recorded_hash_is_the_last_line() {
    let dir = scratch("recorded");
    fs::write(dir.join(".hash"), "0123\n  abcd  \n").unwrap();
    assert_eq!(recorded_hash(&dir).unwrap(), "abcd");
    fs::write(dir.join(".hash"), "").unwrap();
    assert!(recorded_hash(&dir).unwrap_err().contains("empty"));
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
         && echo {}; }} | sha1sum | cut -d \" \" -f 1",
        repo().join(V1).display(),
        version_for_hash_gen(1)
    );
    let out = Command::new("sh").args(["-c", &script]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let shell = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert_eq!(shell, api_hash(&repo().join(V1), &version_for_hash_gen(1)).unwrap());
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
    for path in aidl_files(&dir).unwrap() {
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
    let p = PREAMBLE;
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

#[test]
fn the_sources_dump_to_the_frozen_v1() {
    let current = Api::load(&repo().join("aidl")).unwrap();
    assert_eq!(current.check_equal(&repo().join(V1), "aidl/").unwrap(), Vec::<String>::new());
}

/// `--checkapi=equal` names each file that differs, is missing, or is not a type of the sources.
#[test]
fn check_equal_names_every_file_that_disagrees() {
    let dump = scratch("equal");
    copy_aidl(&repo().join(V1), &dump);
    let current = Api::load(&repo().join("aidl")).unwrap();
    let error_code = dump.join("vendor/i2c/ErrorCode.aidl");
    let text = fs::read_to_string(&error_code).unwrap();
    fs::write(&error_code, text.replace("PEC_ERROR = 13,", "PEC_ERROR = 14,")).unwrap();
    fs::remove_file(dump.join("vendor/i2c/Counter.aidl")).unwrap();
    fs::write(dump.join("vendor/i2c/Extra.aidl"), "package vendor.i2c;\nparcelable Extra {}\n")
        .unwrap();
    assert_eq!(
        current.check_equal(&dump, "aidl/").unwrap(),
        [
            "vendor/i2c/Counter.aidl is missing (aidl/ declares it)",
            "vendor/i2c/ErrorCode.aidl differs from the dump of aidl/",
            "vendor/i2c/Extra.aidl is not a type of aidl/",
        ]
    );
}

/// What a generator of code reads: kinds, annotations, directions, oneway, transaction ids,
/// constants and defaults, enumerators with their values, every name fully qualified.
#[test]
fn the_model_keeps_what_a_code_generator_needs() {
    let e = "package p;\n@VintfStability @Backing(type=\"long\")\nenum E { A = -1, B, C = 0x10 }\n";
    let data = "package p;\nparcelable Data {\n  const int K = 3;\n  @utf8InCpp String s;\n  \
                E e = E.B;\n  byte[] raw;\n}\n";
    let foo = "package p;\ninterface IFoo {\n  oneway void a(in Data d, out int[] x) = 7;\n  \
               @nullable String b(inout List<String> l);\n}\n";
    let listener = "package p;\noneway interface IListener { void on(int x); }\n";
    let api = Api::from_sources([
        ("E".to_string(), e),
        ("Data".to_string(), data),
        ("IFoo".to_string(), foo),
        ("IListener".to_string(), listener),
    ])
    .unwrap();

    let e = &api.decls["p.E"];
    assert_eq!(e.kind, Kind::Enum);
    assert_eq!(e.backing(), Some("long"));
    assert_eq!(e.enumerators, [("A".into(), -1), ("B".into(), 0), ("C".into(), 16)]);
    let names: Vec<String> = e.annotations.iter().map(|a| a.to_string()).collect();
    assert_eq!(names, ["@Backing(type=\"long\")", "@VintfStability"]);

    let data = &api.decls["p.Data"];
    assert_eq!(data.kind, Kind::Parcelable);
    assert_eq!(data.backing(), None);
    assert_eq!(data.path(), "p/Data.aidl");
    assert_eq!(data.constants[0].name, "K");
    assert_eq!(data.constants[0].value, Some(Value::Int(3)));
    assert!(data.fields[0].ty.has_annotation("utf8InCpp"));
    assert_eq!(data.fields[1].ty.name, "p.E");
    assert_eq!(data.fields[1].value, Some(Value::Ref(vec!["p".into(), "E".into(), "B".into()])));
    assert_eq!((data.fields[2].ty.name.as_str(), data.fields[2].ty.arrays), ("byte", 1));

    let foo = &api.decls["p.IFoo"];
    let (a, b) = (&foo.methods[0], &foo.methods[1]);
    assert!(a.oneway && !b.oneway);
    assert_eq!((a.id, b.id), (Some(7), None));
    assert_eq!(a.args[0].direction.as_deref(), Some("in"));
    assert_eq!(a.args[0].ty.name, "p.Data");
    assert_eq!(a.args[1].direction.as_deref(), Some("out"));
    assert!(b.ret.has_annotation("nullable"));
    assert_eq!(b.args[0].ty.params[0].name, "String");
    assert!(api.decls["p.IListener"].methods[0].oneway, "a oneway interface's methods are oneway");
}

#[test]
fn the_loader_refuses_what_aidl_refuses() {
    // A file's path under the root is its type's qualified name.
    let root = scratch("misplaced");
    fs::create_dir_all(root.join("p")).unwrap();
    fs::write(root.join("p/Wrong.aidl"), "package p;\nparcelable Right {}\n").unwrap();
    let error = Api::load(&root).unwrap_err();
    assert!(error.contains("declares p.Right, which belongs in"), "{error}");
    fs::rename(root.join("p/Wrong.aidl"), root.join("p/Right.aidl")).unwrap();
    assert!(Api::load(&root).is_ok());

    let sources = |texts: &[&'static str]| {
        Api::from_sources(texts.iter().enumerate().map(|(i, t)| (i.to_string(), *t)))
    };
    let twice = sources(&["package p;\nparcelable A {}\n", "package p;\nparcelable A {}\n"]);
    assert!(twice.unwrap_err().contains("p.A is declared twice"));
    let import = sources(&["package p;\nimport q.Missing;\nparcelable A {}\n"]);
    assert!(import.unwrap_err().contains("import q.Missing: unknown type"));
    let oneway = sources(&["package p;\noneway parcelable A {}\n"]);
    assert!(oneway.is_err());
    let oneway_field = sources(&["package p;\nparcelable A { oneway int x; }\n"]);
    assert!(oneway_field.is_err());
    let not_an_enumerator =
        sources(&["package p;\nenum E { A }\n", "package p;\nparcelable P { E e = E.B; }\n"]);
    assert!(not_an_enumerator.unwrap_err().contains("E.B is not an enumerator"));
}
