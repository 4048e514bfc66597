//! Generates the `vendor_i2c` stand-in (Soong's `vendor.i2c-V1-rust`) from the AIDL sources, in
//! the shape of AOSP's Rust backend (system/tools/aidl/generate_rust.cpp, as its golden outputs
//! under tests/golden_output/ show it). See ../README.md for what is and is not reproduced.
//!
//! The parser is deliberately small: it knows the subset of AIDL this project uses (structured
//! parcelables with constants and defaults, `@Backing` enums, interfaces with constants, `in`
//! arguments, `oneway`) and refuses everything else with an error, so that a new construct in
//! aidl/ fails the check loudly instead of being mistranslated.
//!
//! It reads both aidl/vendor/i2c (what the brief names) and the frozen dump
//! aidl_api/vendor.i2c/1 (what Soong actually compiles into `vendor.i2c-V1-rust` for a frozen
//! interface), requires the two to describe the same API, and generates from aidl/.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

const PACKAGE: &str = "vendor.i2c";
/// The version Soong passes as `--version` for `vendor.i2c-V1-rust`.
const VERSION: i32 = 1;

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest.join("../../..").canonicalize().expect("project root");
    let source_dir = root.join("aidl/vendor/i2c");
    let dump_root = root.join(format!("aidl_api/{PACKAGE}/{VERSION}"));
    let dump_dir = dump_root.join("vendor/i2c");
    let hash_file = dump_root.join(".hash");
    println!("cargo:rerun-if-changed={}", source_dir.display());
    println!("cargo:rerun-if-changed={}", dump_dir.display());
    println!("cargo:rerun-if-changed={}", hash_file.display());

    let hash_text = std::fs::read_to_string(&hash_file)
        .unwrap_or_else(|e| fail(&format!("{}: {e}", hash_file.display())));
    let hash = hash_text.lines().last().unwrap_or_default().trim().to_string();
    if hash.len() != 40 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        fail(&format!("{}: last line {hash:?} is not a SHA-1", hash_file.display()));
    }

    let source = parse_dir(&source_dir);
    let dump = parse_dir(&dump_dir);
    if source != dump {
        for (name, decl) in &source {
            if dump.get(name) != Some(decl) {
                eprintln!("aidl/: {decl:#?}\ndump: {:#?}", dump.get(name));
            }
        }
        fail("aidl/vendor/i2c and aidl_api/vendor.i2c/1 describe different APIs");
    }

    let out = generate(&source, &hash);
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    std::fs::write(out_dir.join("vendor_i2c.rs"), out).expect("write generated code");
}

fn fail(message: &str) -> ! {
    panic!("vendor_i2c stand-in: {message}");
}

// --------------------------------------------------------------------------------- model ----

#[derive(Debug, Clone, PartialEq, Eq)]
struct Type {
    /// `int`, `String`, ... or the simple name of a type in PACKAGE.
    name: String,
    array: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Value {
    Int(i128),
    /// `LossReason.REMOVED`
    EnumRef(String, String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Const {
    ty: Type,
    name: String,
    value: Value,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Field {
    ty: Type,
    name: String,
    default: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Arg {
    ty: Type,
    name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Method {
    oneway: bool,
    ret: Type,
    name: String,
    args: Vec<Arg>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Decl {
    Parcelable { name: String, fields: Vec<Field>, consts: Vec<Const> },
    Enum { name: String, backing: String, values: Vec<(String, i128)> },
    Interface { name: String, methods: Vec<Method>, consts: Vec<Const> },
}

impl Decl {
    fn name(&self) -> &str {
        match self {
            Decl::Parcelable { name, .. } | Decl::Enum { name, .. } | Decl::Interface { name, .. } => {
                name
            }
        }
    }
}

// -------------------------------------------------------------------------------- parser ----

fn parse_dir(dir: &Path) -> BTreeMap<String, Decl> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| fail(&format!("{}: {e}", dir.display())))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "aidl"))
        .collect();
    files.sort();
    if files.is_empty() {
        fail(&format!("{}: no .aidl files", dir.display()));
    }
    let mut decls = BTreeMap::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let mut consts_sorted = parse_file(&text)
            .unwrap_or_else(|e| fail(&format!("{}: {e}", file.display())));
        // The dump may order members differently (aidl --dumpapi puts constants last); the
        // order of constants is not part of the API, the order of fields and methods is.
        match &mut consts_sorted {
            Decl::Parcelable { consts, .. } | Decl::Interface { consts, .. } => {
                consts.sort_by(|a, b| a.name.cmp(&b.name))
            }
            Decl::Enum { .. } => {}
        }
        let stem = file.file_stem().unwrap().to_string_lossy().to_string();
        if consts_sorted.name() != stem {
            fail(&format!("{}: declares {}", file.display(), consts_sorted.name()));
        }
        decls.insert(stem, consts_sorted);
    }
    decls
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Int(i128),
    Str(String),
    Punct(char),
}

fn tokenize(text: &str) -> Result<Vec<Tok>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    let mut toks = Vec::new();
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '/' && chars.get(i + 1) == Some(&'/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && chars.get(i + 1) == Some(&'*') {
            i += 2;
            while i + 1 < chars.len() && !(chars[i] == '*' && chars[i + 1] == '/') {
                i += 1;
            }
            i += 2;
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == '.') {
                i += 1;
            }
            toks.push(Tok::Ident(chars[start..i].iter().collect()));
        } else if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_alphanumeric() {
                i += 1;
            }
            let lit: String = chars[start..i].iter().collect();
            let value = if let Some(hex) = lit.strip_prefix("0x").or(lit.strip_prefix("0X")) {
                i128::from_str_radix(hex, 16)
            } else {
                lit.parse::<i128>()
            }
            .map_err(|_| format!("unsupported number literal {lit:?}"))?;
            toks.push(Tok::Int(value));
        } else if c == '"' {
            let start = i + 1;
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += 1;
            }
            toks.push(Tok::Str(chars[start..i].iter().collect()));
            i += 1;
        } else if "{}()[];,=<>@-".contains(c) {
            toks.push(Tok::Punct(c));
            i += 1;
        } else {
            return Err(format!("unsupported character {c:?}"));
        }
    }
    Ok(toks)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }
    fn next(&mut self) -> Result<Tok, String> {
        let t = self.toks.get(self.pos).cloned().ok_or("unexpected end of file")?;
        self.pos += 1;
        Ok(t)
    }
    fn punct(&mut self, c: char) -> Result<(), String> {
        match self.next()? {
            Tok::Punct(p) if p == c => Ok(()),
            other => Err(format!("expected {c:?}, found {other:?}")),
        }
    }
    fn is_punct(&self, c: char) -> bool {
        self.peek() == Some(&Tok::Punct(c))
    }
    fn ident(&mut self) -> Result<String, String> {
        match self.next()? {
            Tok::Ident(s) => Ok(s),
            other => Err(format!("expected a name, found {other:?}")),
        }
    }
    fn keyword(&mut self, word: &str) -> bool {
        if self.peek() == Some(&Tok::Ident(word.to_string())) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Annotations before a declaration, type or argument. Only those that do not change the
    /// Rust API are accepted (plus `@Backing`, returned); anything else (`@nullable`,
    /// `@RustDerive`, `@FixedSize`, ...) would change it and is refused.
    fn annotations(&mut self) -> Result<Option<String>, String> {
        let mut backing = None;
        while self.is_punct('@') {
            self.pos += 1;
            let name = self.ident()?;
            let mut params = Vec::new();
            if self.is_punct('(') {
                self.pos += 1;
                while !self.is_punct(')') {
                    params.push(self.next()?);
                }
                self.pos += 1;
            }
            match name.as_str() {
                "VintfStability" | "utf8InCpp" => {}
                "Backing" => match params.as_slice() {
                    [Tok::Ident(k), Tok::Punct('='), Tok::Str(t)] if k == "type" => {
                        backing = Some(t.clone())
                    }
                    _ => return Err(format!("unsupported @Backing{params:?}")),
                },
                other => return Err(format!("annotation @{other} is not modelled by this stand-in")),
            }
        }
        Ok(backing)
    }

    fn ty(&mut self) -> Result<Type, String> {
        if self.annotations()?.is_some() {
            return Err("@Backing on a type".into());
        }
        let full = self.ident()?;
        let name = match full.rsplit_once('.') {
            Some((pkg, simple)) if pkg == PACKAGE => simple.to_string(),
            Some(_) => return Err(format!("type {full} outside {PACKAGE}")),
            None => full,
        };
        if self.is_punct('<') {
            return Err(format!("generic type {name}<..> is not modelled"));
        }
        let mut array = false;
        if self.is_punct('[') {
            self.pos += 1;
            self.punct(']')?;
            array = true;
        }
        Ok(Type { name, array })
    }

    fn value(&mut self) -> Result<Value, String> {
        let negative = if self.is_punct('-') {
            self.pos += 1;
            true
        } else {
            false
        };
        match self.next()? {
            Tok::Int(v) => Ok(Value::Int(if negative { -v } else { v })),
            Tok::Ident(path) if !negative => {
                let path = path.strip_prefix(&format!("{PACKAGE}.")).unwrap_or(&path).to_string();
                match path.split_once('.') {
                    Some((ty, value)) if !value.contains('.') => {
                        Ok(Value::EnumRef(ty.to_string(), value.to_string()))
                    }
                    _ => Err(format!("unsupported constant expression {path}")),
                }
            }
            other => Err(format!("unsupported constant expression {other:?}")),
        }
    }
}

fn parse_file(text: &str) -> Result<Decl, String> {
    let mut p = Parser { toks: tokenize(text)?, pos: 0 };
    if !p.keyword("package") {
        return Err("no package".into());
    }
    let package = p.ident()?;
    if package != PACKAGE {
        return Err(format!("package {package}"));
    }
    p.punct(';')?;
    while p.keyword("import") {
        let imported = p.ident()?;
        if !imported.starts_with(&format!("{PACKAGE}.")) {
            return Err(format!("import {imported} outside {PACKAGE}"));
        }
        p.punct(';')?;
    }
    let backing = p.annotations()?;
    let oneway_interface = p.keyword("oneway");
    let kind = p.ident()?;
    let name = p.ident()?;
    p.punct('{')?;
    let decl = match kind.as_str() {
        "parcelable" => {
            let (mut fields, mut consts) = (Vec::new(), Vec::new());
            while !p.is_punct('}') {
                if p.keyword("const") {
                    consts.push(parse_const(&mut p)?);
                    continue;
                }
                let ty = p.ty()?;
                let field = p.ident()?;
                let default = if p.is_punct('=') {
                    p.pos += 1;
                    Some(p.value()?)
                } else {
                    None
                };
                p.punct(';')?;
                fields.push(Field { ty, name: field, default });
            }
            Decl::Parcelable { name, fields, consts }
        }
        "enum" => {
            let backing = backing.ok_or("enum without @Backing")?;
            let mut values = Vec::new();
            while !p.is_punct('}') {
                let value_name = p.ident()?;
                p.punct('=')?;
                let Value::Int(v) = p.value()? else { return Err("enum value".into()) };
                values.push((value_name, v));
                if p.is_punct(',') {
                    p.pos += 1;
                }
            }
            Decl::Enum { name, backing, values }
        }
        "interface" => {
            let (mut methods, mut consts) = (Vec::new(), Vec::new());
            while !p.is_punct('}') {
                if p.keyword("const") {
                    consts.push(parse_const(&mut p)?);
                    continue;
                }
                p.annotations()?;
                let oneway = p.keyword("oneway") || oneway_interface;
                let ret = p.ty()?;
                let method = p.ident()?;
                p.punct('(')?;
                let mut args = Vec::new();
                while !p.is_punct(')') {
                    p.annotations()?;
                    if p.keyword("out") || p.keyword("inout") {
                        return Err(format!("{method}: out/inout arguments are not modelled"));
                    }
                    p.keyword("in");
                    let ty = p.ty()?;
                    let arg = p.ident()?;
                    args.push(Arg { ty, name: arg });
                    if p.is_punct(',') {
                        p.pos += 1;
                    }
                }
                p.punct(')')?;
                if p.is_punct('=') {
                    return Err(format!("{method}: explicit transaction ids are not modelled"));
                }
                p.punct(';')?;
                methods.push(Method { oneway, ret, name: method, args });
            }
            Decl::Interface { name, methods, consts }
        }
        other => return Err(format!("{other} declarations are not modelled")),
    };
    p.punct('}')?;
    if p.peek().is_some() {
        return Err("more than one declaration in a file".into());
    }
    Ok(decl)
}

fn parse_const(p: &mut Parser) -> Result<Const, String> {
    let ty = p.ty()?;
    let name = p.ident()?;
    p.punct('=')?;
    let value = p.value()?;
    p.punct(';')?;
    Ok(Const { ty, name, value })
}

// ----------------------------------------------------------------------------- generator ----

/// `_6_vendor_3_i2c_7_BusInfo`: generate_rust.cpp's `Mangled()`.
fn mangled(name: &str) -> String {
    let mut out = String::new();
    for part in PACKAGE.split('.').chain(std::iter::once(name)) {
        write!(out, "_{}_{}", part.len(), part).unwrap();
    }
    out
}

#[derive(PartialEq)]
enum Kind {
    Primitive(&'static str),
    String,
    Parcelable,
    Enum,
    Interface,
}

fn kind(decls: &BTreeMap<String, Decl>, name: &str) -> Result<Kind, String> {
    Ok(match name {
        "boolean" => Kind::Primitive("bool"),
        "byte" => Kind::Primitive("i8"),
        "char" => Kind::Primitive("u16"),
        "int" => Kind::Primitive("i32"),
        "long" => Kind::Primitive("i64"),
        "float" => Kind::Primitive("f32"),
        "double" => Kind::Primitive("f64"),
        "void" => Kind::Primitive("()"),
        "String" => Kind::String,
        other => match decls.get(other) {
            Some(Decl::Parcelable { .. }) => Kind::Parcelable,
            Some(Decl::Enum { .. }) => Kind::Enum,
            Some(Decl::Interface { .. }) => Kind::Interface,
            None => return Err(format!("unknown type {other}")),
        },
    })
}

/// The Rust type of a value (return value, field, array element): aidl_to_rust.cpp's
/// `RustNameOf` with `StorageMode::VALUE`.
fn value_type(decls: &BTreeMap<String, Decl>, ty: &Type) -> String {
    let element = match kind(decls, &ty.name).unwrap_or_else(|e| fail(&e)) {
        // `byte[]` is `Vec<u8>` in the Rust backend; a lone byte is `i8`.
        Kind::Primitive("i8") if ty.array => "u8".to_string(),
        Kind::Primitive(p) => p.to_string(),
        Kind::String => "String".to_string(),
        Kind::Parcelable | Kind::Enum => format!("crate::mangled::{}", mangled(&ty.name)),
        Kind::Interface => format!("binder::Strong<dyn crate::mangled::{}>", mangled(&ty.name)),
    };
    if ty.array {
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
fn in_arg_type(decls: &BTreeMap<String, Decl>, ty: &Type, lifetime: &str) -> (String, bool) {
    let k = kind(decls, &ty.name).unwrap_or_else(|e| fail(&e));
    if ty.array {
        let element = value_type(decls, &Type { name: ty.name.clone(), array: false });
        let element = if element == "i8" { "u8".to_string() } else { element };
        return (format!("&{lifetime} [{element}]"), true);
    }
    match k {
        Kind::Primitive(p) => (p.to_string(), false),
        Kind::Enum => (value_type(decls, ty), false),
        Kind::String => (format!("&{lifetime} str"), true),
        Kind::Parcelable | Kind::Interface => (format!("&{lifetime} {}", value_type(decls, ty)), true),
    }
}

fn const_type(ty: &Type) -> &'static str {
    match (ty.name.as_str(), ty.array) {
        ("byte", false) => "i8",
        ("int", false) => "i32",
        ("long", false) => "i64",
        ("boolean", false) => "bool",
        _ => fail(&format!("constant of type {ty:?} is not modelled")),
    }
}

fn value_expr(decls: &BTreeMap<String, Decl>, ty: &Type, value: &Value) -> String {
    match value {
        Value::Int(v) => {
            if ty.name == "boolean" {
                fail("boolean constants are not modelled");
            }
            v.to_string()
        }
        Value::EnumRef(enum_name, enumerator) => {
            match decls.get(enum_name) {
                Some(Decl::Enum { values, .. }) if values.iter().any(|(n, _)| n == enumerator) => {}
                _ => fail(&format!("unknown enumerator {enum_name}.{enumerator}")),
            }
            if &ty.name != enum_name {
                fail(&format!("{enum_name}.{enumerator} assigned to a {}", ty.name));
            }
            format!("crate::mangled::{}::{enumerator}", mangled(enum_name))
        }
    }
}

fn generate(decls: &BTreeMap<String, Decl>, hash: &str) -> String {
    let mut out = String::new();
    writeln!(out, "// Generated by tests/android-target/vendor-i2c-aidl/build.rs; do not edit.").unwrap();
    writeln!(out, "pub mod aidl {{ pub mod vendor {{ pub mod i2c {{").unwrap();
    for decl in decls.values() {
        let name = decl.name();
        writeln!(out, "#[allow(non_snake_case)]\npub mod r#{name} {{").unwrap();
        writeln!(out, "#![forbid(unsafe_code)]\n#![allow(non_upper_case_globals)]\n#![allow(non_snake_case)]").unwrap();
        match decl {
            Decl::Parcelable { fields, consts, .. } => gen_parcelable(&mut out, decls, name, fields, consts),
            Decl::Enum { backing, values, .. } => gen_enum(&mut out, name, backing, values),
            Decl::Interface { methods, consts, .. } => gen_interface(&mut out, decls, name, methods, consts, hash),
        }
        // Soong's glue re-exports every alias; those no signature names are unused (AOSP's generated
        // crate is built with its own lint flags, which this stand-in does not share).
        writeln!(out, "#[allow(unused_imports)]\npub(crate) mod mangled {{\n pub use super::r#{name} as {};\n}}", mangled(name)).unwrap();
        writeln!(out, "}}").unwrap();
    }
    writeln!(out, "}} }} }}").unwrap();
    // The crate root Soong's aidl_rust_glue.py writes: every type's mangled alias in one place.
    writeln!(out, "#[allow(unused_imports)]\npub(crate) mod mangled {{").unwrap();
    for name in decls.keys() {
        writeln!(out, " pub use super::aidl::vendor::i2c::r#{name}::mangled::*;").unwrap();
    }
    writeln!(out, "}}").unwrap();
    out
}

fn gen_consts(out: &mut String, decls: &BTreeMap<String, Decl>, consts: &[Const]) {
    for c in consts {
        writeln!(out, "pub const r#{}: {} = {};", c.name, const_type(&c.ty), value_expr(decls, &c.ty, &c.value)).unwrap();
    }
}

fn gen_parcelable(out: &mut String, decls: &BTreeMap<String, Decl>, name: &str, fields: &[Field], consts: &[Const]) {
    // No @RustDerive: AOSP derives Debug only (no Clone, PartialEq, ...).
    writeln!(out, "#[derive(Debug)]\npub struct r#{name} {{").unwrap();
    for f in fields {
        if kind(decls, &f.ty.name).unwrap_or_else(|e| fail(&e)) == Kind::Interface {
            fail("interface-typed parcelable fields are not modelled");
        }
        writeln!(out, "  pub r#{}: {},", f.name, value_type(decls, &f.ty)).unwrap();
    }
    writeln!(out, "}}").unwrap();
    gen_consts(out, decls, consts);
    writeln!(out, "impl Default for r#{name} {{\n  fn default() -> Self {{\n    Self {{").unwrap();
    for f in fields {
        let k = kind(decls, &f.ty.name).unwrap();
        let init = match (&f.default, &k) {
            (Some(v), _) if !f.ty.array => value_expr(decls, &f.ty, v),
            (Some(_), _) => fail("array defaults are not modelled"),
            (None, Kind::Primitive("bool")) if !f.ty.array => "false".to_string(),
            (None, Kind::Primitive(_)) if !f.ty.array => "0".to_string(),
            (None, _) => "Default::default()".to_string(),
        };
        writeln!(out, "      r#{}: {init},", f.name).unwrap();
    }
    writeln!(out, "    }}\n  }}\n}}").unwrap();
}

fn gen_enum(out: &mut String, name: &str, backing: &str, values: &[(String, i128)]) {
    let (rust, align) = match backing {
        "byte" => ("i8", 1),
        "int" => ("i32", 4),
        "long" => ("i64", 8),
        other => fail(&format!("@Backing(type=\"{other}\")")),
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
fn method_signature(decls: &BTreeMap<String, Decl>, m: &Method) -> String {
    let mut lifetimes = vec!["'a".to_string()];
    let mut args = vec!["&'a self".to_string()];
    let mut n = 0;
    for a in &m.args {
        let lifetime = format!("'l{}", n + 1);
        let (ty, is_ref) = in_arg_type(decls, &a.ty, &lifetime);
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
        value_type(decls, &m.ret)
    )
}

fn gen_interface(out: &mut String, decls: &BTreeMap<String, Decl>, name: &str, methods: &[Method], consts: &[Const], hash: &str) {
    let base = name.strip_prefix('I').unwrap_or_else(|| fail(&format!("interface {name} without I")));
    let (bn, bp, default, default_ref) = (format!("Bn{base}"), format!("Bp{base}"), format!("{name}Default"), format!("{name}DefaultRef"));
    let descriptor = format!("{PACKAGE}.{name}");
    let sigs: Vec<String> = methods.iter().map(|m| method_signature(decls, m)).collect();

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
    gen_consts(out, decls, consts);
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
