//! The frozen AIDL contract (`aidl_api/vendor.i2c/1/`), checked as Soong checks it in a tree
//! (system/tools/aidl/build/aidl_api.go): the dump is what `aidl --dumpapi` writes for aidl/
//! (Soong's `--checkapi=equal` while `frozen: true`), its `.hash` is AOSP's hash of the dump,
//! and aidl/ is an append-only extension of v1 (`--checkapi=compatible`).
//!
//! The model of AIDL these checks use (the parser, the dump, the hash, the compatibility rule)
//! is the crate `aidl-model` (xtask/aidl-model), with its own tests (`cargo test -p
//! aidl-model`); tests/android-target/vendor-i2c-aidl/build.rs generates the `vendor_i2c`
//! stand-in from the same model, so the repository has one AIDL parser of its own (the host
//! build's code comes from rsbinder-aidl). What is here is the repository's side: which
//! directories, which version, and what to do on failure.

use aidl_model::{
    aidl_files, api_hash, incompatibilities, recorded_hash, version_for_hash_gen, Api,
};
use std::fs;
use std::path::Path;

/// The frozen version, relative to the repository.
pub const V1: &str = "aidl_api/vendor.i2c/1";
/// Its number, which picks the word hash_gen.sh hashes with (`version_for_hash_gen`).
const V1_NUMBER: u32 = 1;

/// What whoever edits aidl/ reads when a check fails.
pub const HINT: &str = "aidl/ is frozen at version 1 (Android.bp: frozen: true): a change to \
    the contract goes into a new version, aidl_api/vendor.i2c/2, with members appended only \
    (docs/contract.md, 'Errors and the growth rule' and 'What v2 would add').";

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
    for problem in current.check_equal(&dir, "aidl/")? {
        problems.push(format!("{V1}/{problem}"));
    }

    // The recorded hash is AOSP's hash of the dump (what getInterfaceHash() answers).
    let computed = api_hash(&dir, &version_for_hash_gen(V1_NUMBER))?;
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
    let hash = api_hash(&dir, &version_for_hash_gen(V1_NUMBER))?;
    fs::write(dir.join(".hash"), format!("{hash}\n")).map_err(|e| format!(".hash: {e}"))
}

// The checks on the tree and on a broken copy of it; the model's own tests (that it refuses
// what Soong refuses and agrees with AOSP's tools) are aidl-model's.
#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn repo() -> PathBuf {
        crate::repo()
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
        assert!(
            problems.contains(&format!(
                "{V1}/vendor/i2c/ErrorCode.aidl differs from the dump of aidl/"
            )),
            "{problems}"
        );
        assert!(
            problems.contains("aidl/ breaks v1: vendor.i2c.ErrorCode: PEC_ERROR was 13"),
            "{problems}"
        );
    }
}
