//! Generates the `vendor_i2c` stand-in (Soong's `vendor.i2c-V1-rust`) from the AIDL sources, in
//! the shape of AOSP's Rust backend (system/tools/aidl/generate_rust.cpp, as its golden outputs
//! under tests/golden_output/ show it). See ../README.md for what is and is not reproduced.
//!
//! It reads aidl/ with the repository's one model of AIDL, the crate `aidl-model`
//! (xtask/aidl-model, which `cargo xtask check aidl` uses too), and requires the frozen dump
//! aidl_api/vendor.i2c/1 (what Soong actually compiles into `vendor.i2c-V1-rust` for a frozen
//! interface) to be the dump of aidl/, as Soong's `--checkapi=equal` does; it generates from
//! aidl/. What is here is the rendering alone. It knows the subset of AIDL this project uses
//! (structured parcelables with constants and defaults, `@Backing` enums, interfaces with
//! constants, `in` arguments, `oneway`) and refuses everything else with an error, so that a
//! new construct in aidl/ fails the check loudly instead of being mistranslated.

use aidl_model::{Api, Decl, Kind, Method, TypeSpec, Value, Variable};
use std::fmt::Write as _;
use std::path::PathBuf;

const PACKAGE: &str = "vendor.i2c";
/// The version Soong passes as `--version` for `vendor.i2c-V1-rust`.
const VERSION: i32 = 1;

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest.join("../../..").canonicalize().expect("project root");
    let sources = root.join("aidl");
    let dump = format!("aidl_api/{PACKAGE}/{VERSION}");
    let dump_dir = root.join(&dump);
    println!("cargo:rerun-if-changed={}", sources.join("vendor").display());
    println!("cargo:rerun-if-changed={}", dump_dir.display());

    let hash = aidl_model::recorded_hash(&dump_dir).unwrap_or_else(|e| fail(&e));
    if hash.len() != 40 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        fail(&format!("{dump}/.hash: last line {hash:?} is not a SHA-1"));
    }

    let api = Api::load(&sources).unwrap_or_else(|e| fail(&format!("aidl/: {e}")));
    check_subset(&api).unwrap_or_else(|e| fail(&e));
    let differences = api.check_equal(&dump_dir, "aidl/").unwrap_or_else(|e| fail(&e));
    if !differences.is_empty() {
        let differences: Vec<String> = differences.iter().map(|d| format!("{dump}/{d}")).collect();
        fail(&format!(
            "aidl/ and {dump} describe different APIs ({}; `cargo xtask check aidl` says more)",
            differences.join("; ")
        ));
    }

    let out = generate(&api, &hash);
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    std::fs::write(out_dir.join("vendor_i2c.rs"), out).expect("write generated code");
}

fn fail(message: &str) -> ! {
    panic!("vendor_i2c stand-in: {message}");
}

// ------------------------------------------------------------------------------ the subset ----

/// Refuses what the stand-in does not render: a type outside PACKAGE, annotations that change
/// the Rust API (`@nullable`, `@RustDerive`, `@FixedSize`, ...: only `@VintfStability`,
/// `@utf8InCpp` and an enum's `@Backing` are accepted), generic types, arrays of arrays,
/// `out`/`inout` arguments, explicit transaction ids, string and boolean constants.
fn check_subset(api: &Api) -> Result<(), String> {
    if api.decls.is_empty() {
        return Err("aidl/: no .aidl files".into());
    }
    for decl in api.decls.values() {
        let at = |e: String| format!("aidl/{}: {e}", decl.path());
        if decl.package != PACKAGE {
            return Err(at(format!("package {} (only {PACKAGE} is modelled)", decl.package)));
        }
        for a in &decl.annotations {
            match a.name.as_str() {
                "VintfStability" => {}
                "Backing" if decl.kind == Kind::Enum => {}
                _ => return Err(at(format!("annotation {a} is not modelled by this stand-in"))),
            }
        }
        if decl.kind == Kind::Enum && decl.backing().is_none() {
            return Err(at("enum without @Backing".into()));
        }
        let mut types: Vec<&TypeSpec> = Vec::new();
        for m in &decl.methods {
            if m.args.iter().any(|a| a.direction.as_deref().is_some_and(|d| d != "in")) {
                return Err(at(format!("{}: out/inout arguments are not modelled", m.name)));
            }
            if m.id.is_some() {
                return Err(at(format!("{}: explicit transaction ids are not modelled", m.name)));
            }
            types.push(&m.ret);
            types.extend(m.args.iter().map(|a| &a.ty));
        }
        for v in decl.fields.iter().chain(&decl.constants) {
            types.push(&v.ty);
            if let Some(Value::Str(_) | Value::Bool(_)) = v.value {
                return Err(at(format!("{}: string and boolean values are not modelled", v.name)));
            }
        }
        for ty in types {
            if let Some(a) = ty.annotations.iter().find(|a| a.name != "utf8InCpp") {
                return Err(at(format!("annotation {a} is not modelled by this stand-in")));
            }
            if !ty.params.is_empty() || ty.arrays > 1 {
                return Err(at(format!("type {} is not modelled", ty.signature())));
            }
            shape(api, &ty.name).map_err(at)?;
        }
    }
    Ok(())
}

// ----------------------------------------------------------------------------- generator ----

/// `_6_vendor_3_i2c_7_BusInfo` for `vendor.i2c.BusInfo`: generate_rust.cpp's `Mangled()`.
fn mangled(qualified: &str) -> String {
    let mut out = String::new();
    for part in qualified.split('.') {
        write!(out, "_{}_{}", part.len(), part).unwrap();
    }
    out
}

/// What a type is in Rust.
#[derive(PartialEq)]
enum Shape {
    Primitive(&'static str),
    String,
    Parcelable,
    Enum,
    Interface,
}

fn shape(api: &Api, name: &str) -> Result<Shape, String> {
    Ok(match name {
        "boolean" => Shape::Primitive("bool"),
        "byte" => Shape::Primitive("i8"),
        "char" => Shape::Primitive("u16"),
        "int" => Shape::Primitive("i32"),
        "long" => Shape::Primitive("i64"),
        "float" => Shape::Primitive("f32"),
        "double" => Shape::Primitive("f64"),
        "void" => Shape::Primitive("()"),
        "String" => Shape::String,
        other => match api.decls.get(other).map(|d| d.kind) {
            Some(Kind::Parcelable) => Shape::Parcelable,
            Some(Kind::Enum) => Shape::Enum,
            Some(Kind::Interface) => Shape::Interface,
            None => return Err(format!("unknown type {other}")),
        },
    })
}

fn shape_of(api: &Api, ty: &TypeSpec) -> Shape {
    shape(api, &ty.name).unwrap_or_else(|e| fail(&e))
}

/// The Rust type of a value (return value, field, array element): aidl_to_rust.cpp's
/// `RustNameOf` with `StorageMode::VALUE`.
fn value_type(api: &Api, ty: &TypeSpec) -> String {
    let array = ty.arrays > 0;
    let element = match shape_of(api, ty) {
        // `byte[]` is `Vec<u8>` in the Rust backend; a lone byte is `i8`.
        Shape::Primitive("i8") if array => "u8".to_string(),
        Shape::Primitive(p) => p.to_string(),
        Shape::String => "String".to_string(),
        Shape::Parcelable | Shape::Enum => format!("crate::mangled::{}", mangled(&ty.name)),
        Shape::Interface => format!("binder::Strong<dyn crate::mangled::{}>", mangled(&ty.name)),
    };
    if array {
        if element == "()" {
            fail("void[]");
        }
        format!("Vec<{element}>")
    } else {
        element
    }
}

/// The type of an `in` argument, with its lifetime when it is a reference
/// (`StorageMode::IN_ARGUMENT`): primitives and enums by value, `&str`, `&[T]`, `&T`,
/// `&binder::Strong<dyn I>`.
fn in_arg_type(api: &Api, ty: &TypeSpec, lifetime: &str) -> (String, bool) {
    if ty.arrays > 0 {
        let element = value_type(api, &TypeSpec { arrays: 0, ..ty.clone() });
        let element = if element == "i8" { "u8".to_string() } else { element };
        return (format!("&{lifetime} [{element}]"), true);
    }
    match shape_of(api, ty) {
        Shape::Primitive(p) => (p.to_string(), false),
        Shape::Enum => (value_type(api, ty), false),
        Shape::String => (format!("&{lifetime} str"), true),
        Shape::Parcelable | Shape::Interface => (format!("&{lifetime} {}", value_type(api, ty)), true),
    }
}

fn const_type(ty: &TypeSpec) -> &'static str {
    match (ty.name.as_str(), ty.arrays) {
        ("byte", 0) => "i8",
        ("int", 0) => "i32",
        ("long", 0) => "i64",
        ("boolean", 0) => "bool",
        _ => fail(&format!("constant of type {} is not modelled", ty.signature())),
    }
}

/// A constant's value or a field's default. The model has checked that a reference names an
/// enumerator; it must be one of the field's own enum.
fn value_expr(ty: &TypeSpec, value: &Value) -> String {
    match value {
        Value::Int(v) => {
            if ty.name == "boolean" {
                fail("boolean constants are not modelled");
            }
            v.to_string()
        }
        Value::Ref(parts) => {
            let (enumerator, enum_type) = parts.split_last().expect("a qualified enumerator");
            let enum_type = enum_type.join(".");
            if ty.name != enum_type {
                fail(&format!("{enum_type}.{enumerator} assigned to a {}", ty.name));
            }
            format!("crate::mangled::{}::{enumerator}", mangled(&enum_type))
        }
        Value::Str(_) | Value::Bool(_) => fail(&format!("constant {value:?} is not modelled")),
    }
}

fn generate(api: &Api, hash: &str) -> String {
    let mut out = String::new();
    writeln!(out, "// Generated by tests/android-target/vendor-i2c-aidl/build.rs; do not edit.").unwrap();
    writeln!(out, "pub mod aidl {{ pub mod vendor {{ pub mod i2c {{").unwrap();
    for decl in api.decls.values() {
        let name = &decl.name;
        writeln!(out, "#[allow(non_snake_case)]\npub mod r#{name} {{").unwrap();
        writeln!(out, "#![forbid(unsafe_code)]\n#![allow(non_upper_case_globals)]\n#![allow(non_snake_case)]").unwrap();
        match decl.kind {
            Kind::Parcelable => gen_parcelable(&mut out, api, decl),
            Kind::Enum => gen_enum(&mut out, decl),
            Kind::Interface => gen_interface(&mut out, api, decl, hash),
        }
        // Soong's glue re-exports every alias; those no signature names are unused (AOSP's generated
        // crate is built with its own lint flags, which this stand-in does not share).
        writeln!(out, "#[allow(unused_imports)]\npub(crate) mod mangled {{\n pub use super::r#{name} as {};\n}}", mangled(&decl.qualified_name())).unwrap();
        writeln!(out, "}}").unwrap();
    }
    writeln!(out, "}} }} }}").unwrap();
    // The crate root Soong's aidl_rust_glue.py writes: every type's mangled alias in one place.
    writeln!(out, "#[allow(unused_imports)]\npub(crate) mod mangled {{").unwrap();
    for decl in api.decls.values() {
        writeln!(out, " pub use super::aidl::vendor::i2c::r#{}::mangled::*;", decl.name).unwrap();
    }
    writeln!(out, "}}").unwrap();
    out
}

fn gen_consts(out: &mut String, consts: &[Variable]) {
    for c in consts {
        let value = c.value.as_ref().expect("a constant has a value");
        writeln!(out, "pub const r#{}: {} = {};", c.name, const_type(&c.ty), value_expr(&c.ty, value)).unwrap();
    }
}

fn gen_parcelable(out: &mut String, api: &Api, decl: &Decl) {
    let name = &decl.name;
    // No @RustDerive: AOSP derives Debug only (no Clone, PartialEq, ...).
    writeln!(out, "#[derive(Debug)]\npub struct r#{name} {{").unwrap();
    for f in &decl.fields {
        if shape_of(api, &f.ty) == Shape::Interface {
            fail("interface-typed parcelable fields are not modelled");
        }
        writeln!(out, "  pub r#{}: {},", f.name, value_type(api, &f.ty)).unwrap();
    }
    writeln!(out, "}}").unwrap();
    gen_consts(out, &decl.constants);
    writeln!(out, "impl Default for r#{name} {{\n  fn default() -> Self {{\n    Self {{").unwrap();
    for f in &decl.fields {
        let array = f.ty.arrays > 0;
        let init = match (&f.value, shape_of(api, &f.ty)) {
            (Some(v), _) if !array => value_expr(&f.ty, v),
            (Some(_), _) => fail("array defaults are not modelled"),
            (None, Shape::Primitive("bool")) if !array => "false".to_string(),
            (None, Shape::Primitive(_)) if !array => "0".to_string(),
            (None, _) => "Default::default()".to_string(),
        };
        writeln!(out, "      r#{}: {init},", f.name).unwrap();
    }
    writeln!(out, "    }}\n  }}\n}}").unwrap();
}

fn gen_enum(out: &mut String, decl: &Decl) {
    let (name, values) = (&decl.name, &decl.enumerators);
    let (rust, align) = match decl.backing() {
        Some("byte") => ("i8", 1),
        Some("int") => ("i32", 4),
        Some("long") => ("i64", 8),
        other => fail(&format!("@Backing(type={other:?})")),
    };
    // The expansion of android-binder 0.2.2's declare_binder_enum! (binder.rs), less its parcel
    // (Serialize/Deserialize), zerocopy and WriteTo impls.
    writeln!(out, "#[repr(C, align({align}))]").unwrap();
    writeln!(out, "#[derive(Default, Copy, Clone, PartialOrd, Ord, PartialEq, Eq, Hash)]").unwrap();
    writeln!(out, "pub struct r#{name}(pub {rust});").unwrap();
    writeln!(out, "impl r#{name} {{").unwrap();
    for (v, n) in values {
        writeln!(out, "  pub const r#{v}: Self = Self({n});").unwrap();
    }
    let list: Vec<String> = values.iter().map(|(v, _)| format!("Self::r#{v}")).collect();
    writeln!(out, "  #[inline(always)]\n  pub const fn enum_values() -> [Self; {}] {{ [{}] }}", values.len(), list.join(", ")).unwrap();
    writeln!(out, "  #[inline(always)]\n  pub const fn get(&self) -> {rust} {{ self.0 }}\n}}").unwrap();
    writeln!(out, "impl core::fmt::Debug for r#{name} {{\n  fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {{\n    match self.0 {{").unwrap();
    for (v, n) in values {
        writeln!(out, "      {n} => f.write_str(\"{v}\"),").unwrap();
    }
    writeln!(out, "      _ => f.write_fmt(format_args!(\"{{}}\", self.0))\n    }}\n  }}\n}}").unwrap();
    for (tr, method, op) in [("BitOr", "bitor", "|"), ("BitAnd", "bitand", "&"), ("BitXor", "bitxor", "^")] {
        writeln!(out, "impl core::ops::{tr} for r#{name} {{ type Output = Self; fn {method}(self, rhs: Self) -> Self {{ Self(self.0 {op} rhs.0) }} }}").unwrap();
        writeln!(out, "impl core::ops::{tr}Assign for r#{name} {{ fn {method}_assign(&mut self, rhs: Self) {{ self.0 = self.0 {op} rhs.0; }} }}").unwrap();
    }
}

/// `fn r#name<'a, 'l1, >(&'a self, _arg_x: &'l1 str) -> binder::Result<T>` as generate_rust.cpp
/// writes it for the sync trait.
fn method_signature(api: &Api, m: &Method) -> String {
    let mut lifetimes = vec!["'a".to_string()];
    let mut args = vec!["&'a self".to_string()];
    let mut n = 0;
    for a in &m.args {
        let lifetime = format!("'l{}", n + 1);
        let (ty, is_ref) = in_arg_type(api, &a.ty, &lifetime);
        if is_ref {
            n += 1;
            lifetimes.push(lifetime);
        }
        args.push(format!("_arg_{}: {ty}", a.name));
    }
    if m.oneway && m.ret.name != "void" {
        fail(&format!("oneway {} returns a value", m.name));
    }
    format!(
        "fn r#{}<{}, >({}) -> binder::Result<{}>",
        m.name,
        lifetimes.join(", "),
        args.join(", "),
        value_type(api, &m.ret)
    )
}

fn gen_interface(out: &mut String, api: &Api, decl: &Decl, hash: &str) {
    let name = &decl.name;
    let base = name.strip_prefix('I').unwrap_or_else(|| fail(&format!("interface {name} without I")));
    let (bn, bp, default, default_ref) = (format!("Bn{base}"), format!("Bp{base}"), format!("{name}Default"), format!("{name}DefaultRef"));
    let descriptor = decl.qualified_name();
    let sigs: Vec<String> = decl.methods.iter().map(|m| method_signature(api, m)).collect();

    writeln!(out, "pub trait r#{name}: binder::Interface + Send {{").unwrap();
    writeln!(out, "  fn get_descriptor() -> &'static str where Self: Sized {{ \"{descriptor}\" }}").unwrap();
    for s in &sigs {
        writeln!(out, "  {s};").unwrap();
    }
    writeln!(out, "  fn r#getInterfaceVersion<'a, >(&'a self) -> binder::Result<i32> {{\n    Ok(VERSION)\n  }}").unwrap();
    writeln!(out, "  fn r#getInterfaceHash<'a, >(&'a self) -> binder::Result<String> {{\n    Ok(HASH.into())\n  }}").unwrap();
    writeln!(out, "  fn getDefaultImpl() -> {default_ref} where Self: Sized {{\n    DEFAULT_IMPL.lock().unwrap().clone()\n  }}").unwrap();
    writeln!(out, "  fn setDefaultImpl(d: {default_ref}) -> {default_ref} where Self: Sized {{\n    std::mem::replace(&mut *DEFAULT_IMPL.lock().unwrap(), d)\n  }}").unwrap();
    writeln!(out, "}}").unwrap();

    // The real default methods answer Err(UNKNOWN_TRANSACTION.into()); the stand-in's bodies are
    // never run.
    writeln!(out, "pub trait {default}: Send + Sync {{").unwrap();
    for s in &sigs {
        writeln!(out, "  {s} {{\n    unimplemented!(\"stand-in of generated AIDL code\")\n  }}").unwrap();
    }
    writeln!(out, "}}").unwrap();
    writeln!(out, "pub type {default_ref} = Option<std::sync::Arc<dyn {default}>>;").unwrap();
    writeln!(out, "static DEFAULT_IMPL: std::sync::Mutex<{default_ref}> = std::sync::Mutex::new(None);").unwrap();
    gen_consts(out, &decl.constants);
    writeln!(out, "pub const VERSION: i32 = {VERSION};\npub const HASH: &str = \"{hash}\";").unwrap();

    // What declare_binder_interface! (android-binder 0.2.2 binder.rs) declares, less the
    // transport (Remotable, Proxy, parcel Serialize impls) and the async interfaces.
    writeln!(out, "pub struct {bp} {{\n  #[allow(dead_code)]\n  binder: binder::SpIBinder,\n  #[allow(dead_code)]\n  cached_version: std::sync::atomic::AtomicI32,\n  #[allow(dead_code)]\n  cached_hash: std::sync::Mutex<Option<String>>,\n}}").unwrap();
    writeln!(out, "impl binder::Interface for {bp} {{\n  fn as_binder(&self) -> binder::SpIBinder {{\n    self.binder.clone()\n  }}\n}}").unwrap();
    writeln!(out, "#[repr(transparent)]\npub struct {bn}(#[allow(dead_code)] Box<dyn r#{name} + Sync + Send + 'static>);").unwrap();
    writeln!(out, "impl {bn} {{").unwrap();
    writeln!(out, "  pub fn new_binder<T: r#{name} + Sync + Send + 'static>(inner: T, features: binder::BinderFeatures) -> binder::Strong<dyn r#{name}> {{\n    let _native = {bn}(Box::new(inner));\n    let _ = features;\n    unimplemented!(\"stand-in of generated AIDL code\")\n  }}").unwrap();
    writeln!(out, "  pub fn downcast_binder<T: r#{name}>(&self) -> Option<&T> {{\n    unimplemented!(\"stand-in of generated AIDL code\")\n  }}\n}}").unwrap();
    writeln!(out, "impl binder::FromIBinder for dyn r#{name} {{\n  fn try_from(_ibinder: binder::SpIBinder) -> core::result::Result<binder::Strong<dyn r#{name}>, binder::StatusCode> {{\n    unimplemented!(\"stand-in of generated AIDL code\")\n  }}\n}}").unwrap();
    writeln!(out, "impl core::fmt::Debug for dyn r#{name} + '_ {{\n  fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {{\n    f.pad(\"{name}\")\n  }}\n}}").unwrap();
    writeln!(out, "impl std::borrow::ToOwned for dyn r#{name} {{\n  type Owned = binder::Strong<dyn r#{name}>;\n  fn to_owned(&self) -> Self::Owned {{\n    unimplemented!(\"stand-in of generated AIDL code\")\n  }}\n}}").unwrap();
    writeln!(out, "impl r#{name} for {bp} {{").unwrap();
    for s in &sigs {
        writeln!(out, "  {s} {{\n    unimplemented!(\"stand-in of generated AIDL code\")\n  }}").unwrap();
    }
    writeln!(out, "}}").unwrap();
}
