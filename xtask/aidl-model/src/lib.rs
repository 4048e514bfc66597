//! Just enough of AIDL to check the frozen contract on a host without AOSP's `aidl`: a parser
//! for the subset `aidl/` uses (one interface, parcelable or enum per file; annotations,
//! constants, field defaults, enumerators, `in`/`out`/`inout`, `oneway`, arrays and generic
//! types), the `aidl --dumpapi` rendering of it, AOSP's API hash, and the append-only
//! compatibility rule.
//!
//! The repository's one AIDL parser of its own: `cargo xtask check aidl` (xtask/src/aidl)
//! checks the frozen dump with it, and the build script of the `vendor_i2c` stand-in
//! (tests/android-target/vendor-i2c-aidl/build.rs, a build-dependency from that workspace)
//! generates Rust from what it parses. It depends on std alone, so that workspace, with its
//! own lock file, gains no crate with it.
//!
//! What it mirrors (system/tools/aidl, Android 15):
//! - `aidl_dumpapi.cpp`: the file's leading comments (the licence) then `kPreamble` (aidl.h),
//!   `package P;`, the type's annotations sorted and joined by spaces on one line, members
//!   indented by two spaces in the order methods, fields, constants; doc comments dropped
//!   (only `@hide`/`@deprecated` survive, which this parser refuses rather than renders);
//!   every defined type fully qualified (`AidlTypeSpecifier::Signature`); constants and
//!   enumerators evaluated and printed in decimal (`AidlConstantValue::ValueString`); enum
//!   references as `pkg.Enum.NAME` (`AidlConstantValueDecorator`); arguments keep a direction
//!   only where the source wrote one (`AidlArgument::ToString`); the methods of a `oneway
//!   interface` each print `oneway` (`AidlInterface` applies it to every method).
//! - `aidl.cpp`'s rules for a file: its path under the root is its type's qualified name
//!   (`check_filename`), and every import names a type that exists.
//! - `build/hash_gen.sh`: `(cd DIR && find ./ -name "*.aidl" -print0 | LC_ALL=C sort -z |
//!   xargs -0 sha1sum && echo latest-version) | sha1sum`; `latest-version` is what
//!   `versionForHashGen` (build/aidl_api.go) passes for version 1.
//! - `aidl_checkapi.cpp`: `--checkapi=equal` (the frozen dump is the dump of the sources) and
//!   `--checkapi=compatible` (nothing removed, renamed, retyped or reordered; methods,
//!   constants, fields and enumerators may only be added, fields at the end and with a useful
//!   default: a default value, `@nullable`, a primitive, or an enum with a 0 enumerator).
//!
//! Anything outside the subset fails with a message instead of being rendered wrongly.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

/// `kPreamble` of system/tools/aidl/aidl.h, which `aidl --dumpapi` writes into every file.
pub const PREAMBLE: &str = "\
///////////////////////////////////////////////////////////////////////////////
// THIS FILE IS IMMUTABLE. DO NOT EDIT IN ANY CASE.                          //
///////////////////////////////////////////////////////////////////////////////

// This file is a snapshot of an AIDL file. Do not edit it manually. There are
// two cases:
// 1). this is a frozen version file - do not edit this in any case.
// 2). this is a 'current' file. If you make a backwards compatible change to
//     the interface (from the latest frozen version), the build system will
//     prompt you to update this file with `m <name>-update-api`.
//
// You must not make a backward incompatible change to any AIDL file built
// with the aidl_interface module type with versions property set. The module
// type is used to build AIDL files in a way that they can be used across
// independently updatable components of the system. If a device is shipped
// with such a backward incompatible change, it has a high risk of breaking
// later when a module using the interface is updated, e.g., Mainline modules.

";

const PRIMITIVES: [&str; 8] = ["boolean", "byte", "char", "int", "long", "float", "double", "void"];
const BUILTINS: [&str; 7] =
    ["String", "IBinder", "List", "Map", "FileDescriptor", "ParcelFileDescriptor", "CharSequence"];

#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    Ident(String),
    Number(String),
    Str(String),
    Punct(char),
}

/// Splits AIDL source into tokens; returns them with the comments that precede `package` (the
/// licence the dump keeps). Refuses `@hide`/`@deprecated` in block comments: the dump would
/// keep those and this renderer does not.
fn tokenize(source: &str) -> Result<(Vec<Token>, Vec<String>), String> {
    let chars: Vec<char> = source.chars().collect();
    let mut tokens = Vec::new();
    let mut leading = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '/' && chars.get(i + 1) == Some(&'/') {
            let start = i;
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
            if tokens.is_empty() {
                // The lexer keeps a line comment with its newline.
                leading.push(chars[start..i].iter().collect::<String>() + "\n");
            }
        } else if c == '/' && chars.get(i + 1) == Some(&'*') {
            let start = i;
            i += 2;
            while i + 1 < chars.len() && !(chars[i] == '*' && chars[i + 1] == '/') {
                i += 1;
            }
            if i + 1 >= chars.len() {
                return Err("unterminated comment".into());
            }
            i += 2;
            let body: String = chars[start..i].iter().collect();
            if tokens.is_empty() {
                leading.push(body);
            } else if body.contains("@hide") || body.contains("@deprecated") {
                return Err(format!("@hide/@deprecated comments are not supported: {body}"));
            }
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            tokens.push(Token::Ident(chars[start..i].iter().collect()));
        } else if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric()) {
                i += 1;
            }
            tokens.push(Token::Number(chars[start..i].iter().collect()));
        } else if c == '"' {
            let start = i;
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            tokens.push(Token::Str(chars[start..i.min(chars.len())].iter().collect()));
        } else if "{}()[]<>,;=@.-".contains(c) {
            tokens.push(Token::Punct(c));
            i += 1;
        } else {
            return Err(format!("unexpected character {c:?}"));
        }
    }
    Ok((tokens, leading))
}

/// A constant expression as written; evaluated when rendered against its type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// Negated if written with a `-`; hex as AIDL reads it.
    Int(i128),
    /// As written, with its quotes.
    Str(String),
    Bool(bool),
    /// A qualified name (an enumerator), resolved to `pkg.Enum.NAME`.
    Ref(Vec<String>),
}

/// An annotation: `@name`, or `@name(key=value, ...)` with its parameters by name, each value
/// as written (a string with its quotes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Annotation {
    pub name: String,
    pub params: BTreeMap<String, String>,
}

impl Annotation {
    /// A string parameter's text, without its quotes.
    pub fn string_param(&self, key: &str) -> Option<&str> {
        self.params.get(key)?.strip_prefix('"')?.strip_suffix('"')
    }
}

/// `AidlAnnotation::ToString`: `AnnotationParams` is a std::map, so parameters print sorted by
/// name.
impl std::fmt::Display for Annotation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "@{}", self.name)?;
        if !self.params.is_empty() {
            let params: Vec<String> = self.params.iter().map(|(k, v)| format!("{k}={v}")).collect();
            write!(f, "({})", params.join(", "))?;
        }
        Ok(())
    }
}

/// `AidlAnnotatable::ToString`: the annotations rendered, sorted, joined by spaces.
fn render_annotations(annotations: &[Annotation]) -> String {
    annotations.iter().map(Annotation::to_string).collect::<Vec<_>>().join(" ")
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TypeSpec {
    /// Sorted as rendered (`AidlAnnotatable::ToString`).
    pub annotations: Vec<Annotation>,
    /// Fully qualified once resolved.
    pub name: String,
    /// Generic parameters (`List<String>`).
    pub params: Vec<TypeSpec>,
    /// How many `[]`.
    pub arrays: usize,
}

impl TypeSpec {
    /// `AidlTypeSpecifier::Signature`.
    pub fn signature(&self) -> String {
        let mut s = self.name.clone();
        if !self.params.is_empty() {
            // Type parameters print by signature alone, annotations dropped.
            let params: Vec<String> = self.params.iter().map(TypeSpec::signature).collect();
            s += &format!("<{}>", params.join(","));
        }
        s + &"[]".repeat(self.arrays)
    }

    /// `AidlTypeSpecifier::ToString`: annotations, then the signature.
    pub fn to_aidl(&self) -> String {
        if self.annotations.is_empty() {
            self.signature()
        } else {
            format!("{} {}", render_annotations(&self.annotations), self.signature())
        }
    }

    pub fn has_annotation(&self, name: &str) -> bool {
        self.annotations.iter().any(|a| a.name == name)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Arg {
    /// `in`, `out` or `inout` where the source wrote one.
    pub direction: Option<String>,
    pub ty: TypeSpec,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Method {
    /// Written on the method or on its interface.
    pub oneway: bool,
    pub ret: TypeSpec,
    pub name: String,
    pub args: Vec<Arg>,
    /// An explicit transaction id (`= N`).
    pub id: Option<i128>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Variable {
    pub ty: TypeSpec,
    pub name: String,
    /// A field's default, or a constant's value (always present).
    pub value: Option<Value>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Interface,
    Parcelable,
    Enum,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decl {
    pub kind: Kind,
    pub package: String,
    pub name: String,
    /// Sorted as rendered.
    pub annotations: Vec<Annotation>,
    pub methods: Vec<Method>,
    pub fields: Vec<Variable>,
    pub constants: Vec<Variable>,
    /// Name and value (implicit values already assigned).
    pub enumerators: Vec<(String, i128)>,
    /// Comments before `package`, as the lexer keeps them.
    pub licence: Vec<String>,
    imports: Vec<String>,
}

impl Decl {
    pub fn qualified_name(&self) -> String {
        format!("{}.{}", self.package, self.name)
    }

    /// Where the file declaring it lies under a root (`vendor/i2c/X.aidl`), and its dump.
    pub fn path(&self) -> String {
        format!("{}/{}.aidl", self.package.replace('.', "/"), self.name)
    }

    /// An enum's `@Backing(type="...")`, if written (AIDL's default is `byte`).
    pub fn backing(&self) -> Option<&str> {
        self.annotations.iter().find(|a| a.name == "Backing")?.string_param("type")
    }
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }
    fn peek_is(&self, p: char) -> bool {
        self.peek() == Some(&Token::Punct(p))
    }
    fn peek_ident(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token::Ident(w)) if w == word)
    }
    fn next(&mut self) -> Result<Token, String> {
        let t = self.tokens.get(self.pos).cloned().ok_or("unexpected end of file")?;
        self.pos += 1;
        Ok(t)
    }
    fn expect(&mut self, p: char) -> Result<(), String> {
        match self.next()? {
            Token::Punct(c) if c == p => Ok(()),
            other => Err(format!("expected `{p}`, found {other:?}")),
        }
    }
    fn ident(&mut self) -> Result<String, String> {
        match self.next()? {
            Token::Ident(w) => Ok(w),
            other => Err(format!("expected a name, found {other:?}")),
        }
    }
    fn qualified(&mut self) -> Result<Vec<String>, String> {
        let mut parts = vec![self.ident()?];
        while self.peek_is('.') {
            self.pos += 1;
            parts.push(self.ident()?);
        }
        Ok(parts)
    }

    fn value(&mut self) -> Result<Value, String> {
        match self.next()? {
            Token::Punct('-') => match self.value()? {
                Value::Int(v) => Ok(Value::Int(-v)),
                other => Err(format!("cannot negate {other:?}")),
            },
            Token::Number(n) => parse_int(&n).map(Value::Int),
            Token::Str(s) => Ok(Value::Str(s)),
            Token::Ident(w) if w == "true" || w == "false" => Ok(Value::Bool(w == "true")),
            Token::Ident(w) => {
                let mut parts = vec![w];
                while self.peek_is('.') {
                    self.pos += 1;
                    parts.push(self.ident()?);
                }
                Ok(Value::Ref(parts))
            }
            other => Err(format!("unsupported constant expression at {other:?}")),
        }
    }

    fn annotation(&mut self) -> Result<Annotation, String> {
        self.expect('@')?;
        let name = self.ident()?;
        let mut params = BTreeMap::new();
        if !self.peek_is('(') {
            return Ok(Annotation { name, params });
        }
        self.pos += 1;
        while !self.peek_is(')') {
            let key = self.ident()?;
            self.expect('=')?;
            let value = match self.value()? {
                Value::Str(s) => s,
                Value::Int(i) => i.to_string(),
                Value::Bool(b) => b.to_string(),
                Value::Ref(r) => return Err(format!("annotation parameter {}", r.join("."))),
            };
            params.insert(key, value);
            if self.peek_is(',') {
                self.pos += 1;
            }
        }
        self.expect(')')?;
        Ok(Annotation { name, params })
    }

    fn annotations(&mut self) -> Result<Vec<Annotation>, String> {
        let mut out = Vec::new();
        while self.peek_is('@') {
            out.push(self.annotation()?);
        }
        out.sort_by_cached_key(Annotation::to_string);
        Ok(out)
    }

    fn type_spec(&mut self) -> Result<TypeSpec, String> {
        let annotations = self.annotations()?;
        let name = self.qualified()?.join(".");
        let mut params = Vec::new();
        if self.peek_is('<') {
            self.pos += 1;
            loop {
                params.push(self.type_spec()?);
                if self.peek_is(',') {
                    self.pos += 1;
                } else {
                    break;
                }
            }
            self.expect('>')?;
        }
        let mut arrays = 0;
        while self.peek_is('[') {
            self.pos += 1;
            self.expect(']')?;
            arrays += 1;
        }
        Ok(TypeSpec { annotations, name, params, arrays })
    }
}

/// Decimal, hex (`0x`, two's complement past the signed range as AIDL reads it) and `L`.
fn parse_int(text: &str) -> Result<i128, String> {
    let t = text.trim_end_matches(['l', 'L']);
    let parsed = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(hex) => i128::from_str_radix(hex, 16),
        None => t.parse::<i128>(),
    };
    parsed.map_err(|e| format!("bad integer {text}: {e}"))
}

/// Parses one .aidl file (one top-level type).
pub fn parse(source: &str) -> Result<Decl, String> {
    let (tokens, licence) = tokenize(source)?;
    let mut p = Parser { tokens, pos: 0 };
    if !p.peek_ident("package") {
        return Err("a file without `package` is not supported".into());
    }
    p.pos += 1;
    let package = p.qualified()?.join(".");
    p.expect(';')?;
    let mut imports = Vec::new();
    while p.peek_ident("import") {
        p.pos += 1;
        imports.push(p.qualified()?.join("."));
        p.expect(';')?;
    }
    let annotations = p.annotations()?;
    let oneway = p.peek_ident("oneway");
    if oneway {
        p.pos += 1;
    }
    let kind = match p.ident()?.as_str() {
        "interface" => Kind::Interface,
        "parcelable" => Kind::Parcelable,
        "enum" => Kind::Enum,
        other => return Err(format!("unsupported declaration `{other}`")),
    };
    if oneway && kind != Kind::Interface {
        return Err("only an interface can be oneway".into());
    }
    let name = p.ident()?;
    let mut decl = Decl {
        kind,
        package,
        name,
        annotations,
        methods: Vec::new(),
        fields: Vec::new(),
        constants: Vec::new(),
        enumerators: Vec::new(),
        licence,
        imports,
    };
    p.expect('{')?;
    let mut next_enum = 0;
    while !p.peek_is('}') {
        if kind == Kind::Enum {
            let n = p.ident()?;
            let v = if p.peek_is('=') {
                p.pos += 1;
                match p.value()? {
                    Value::Int(v) => v,
                    other => return Err(format!("enumerator {n} = {other:?} is not supported")),
                }
            } else {
                next_enum
            };
            next_enum = v + 1;
            decl.enumerators.push((n, v));
            if p.peek_is(',') {
                p.pos += 1;
            }
            continue;
        }
        if p.peek_ident("const") {
            p.pos += 1;
            let ty = p.type_spec()?;
            let n = p.ident()?;
            p.expect('=')?;
            let value = Some(p.value()?);
            p.expect(';')?;
            decl.constants.push(Variable { ty, name: n, value });
            continue;
        }
        let method_oneway = p.peek_ident("oneway");
        if method_oneway {
            if kind != Kind::Interface {
                return Err("only a method can be oneway".into());
            }
            p.pos += 1;
        }
        let ty = p.type_spec()?;
        let n = p.ident()?;
        if kind == Kind::Interface {
            p.expect('(')?;
            let mut args = Vec::new();
            while !p.peek_is(')') {
                let direction = match p.peek() {
                    Some(Token::Ident(d)) if d == "in" || d == "out" || d == "inout" => {
                        let d = d.clone();
                        p.pos += 1;
                        Some(d)
                    }
                    _ => None,
                };
                let arg_ty = p.type_spec()?;
                let arg_name = p.ident()?;
                args.push(Arg { direction, ty: arg_ty, name: arg_name });
                if p.peek_is(',') {
                    p.pos += 1;
                }
            }
            p.expect(')')?;
            let id = if p.peek_is('=') {
                p.pos += 1;
                match p.value()? {
                    Value::Int(i) => Some(i),
                    other => return Err(format!("method id {other:?}")),
                }
            } else {
                None
            };
            p.expect(';')?;
            decl.methods.push(Method {
                oneway: oneway || method_oneway,
                ret: ty,
                name: n,
                args,
                id,
            });
        } else {
            let value = if p.peek_is('=') {
                p.pos += 1;
                Some(p.value()?)
            } else {
                None
            };
            p.expect(';')?;
            decl.fields.push(Variable { ty, name: n, value });
        }
    }
    p.expect('}')?;
    if p.peek_is(';') {
        p.pos += 1;
    }
    if p.peek().is_some() {
        return Err("more than one declaration in a file is not supported".into());
    }
    Ok(decl)
}

/// The types of one package, parsed and with every type name fully qualified.
#[derive(Clone, Debug)]
pub struct Api {
    pub decls: BTreeMap<String, Decl>,
}

impl Api {
    /// Parses every `.aidl` under `root` (a directory laid out by package, as aidl/ and the
    /// dump are; each file where its type's qualified name puts it) and resolves names against
    /// the package and the imports.
    pub fn load(root: &Path) -> Result<Api, String> {
        let mut decls = Vec::new();
        for file in aidl_files(root)? {
            let text = fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            let decl = parse(&text).map_err(|e| format!("{}: {e}", file.display()))?;
            let expected = root.join(decl.path());
            if file != expected {
                return Err(format!(
                    "{}: declares {}, which belongs in {}",
                    file.display(),
                    decl.qualified_name(),
                    expected.display()
                ));
            }
            decls.push(decl);
        }
        Api::resolve(decls)
    }

    /// As `load`, from (name for messages, text) pairs, wherever they came from.
    pub fn from_sources<'a>(
        sources: impl IntoIterator<Item = (String, &'a str)>,
    ) -> Result<Api, String> {
        let mut decls = Vec::new();
        for (origin, text) in sources {
            decls.push(parse(text).map_err(|e| format!("{origin}: {e}"))?);
        }
        Api::resolve(decls)
    }

    /// Qualifies every type name and enumerator reference; refuses a type declared twice, an
    /// import of no known type, and a reference to none.
    fn resolve(parsed: Vec<Decl>) -> Result<Api, String> {
        let mut decls = BTreeMap::new();
        for decl in parsed {
            let name = decl.qualified_name();
            if decls.insert(name.clone(), decl).is_some() {
                return Err(format!("{name} is declared twice"));
            }
        }
        let known: BTreeSet<String> = decls.keys().cloned().collect();
        let enums: BTreeMap<String, BTreeSet<String>> = decls
            .iter()
            .filter(|(_, d)| d.kind == Kind::Enum)
            .map(|(k, d)| (k.clone(), d.enumerators.iter().map(|(n, _)| n.clone()).collect()))
            .collect();
        for decl in decls.values_mut() {
            let scope = Scope::of(decl, &known);
            let origin = decl.qualified_name();
            let fail = |e: String| format!("{origin}: {e}");
            if let Some(import) = decl.imports.iter().find(|i| !known.contains(*i)) {
                return Err(fail(format!("import {import}: unknown type")));
            }
            for m in &mut decl.methods {
                scope.resolve(&mut m.ret).map_err(fail)?;
                for a in &mut m.args {
                    scope.resolve(&mut a.ty).map_err(fail)?;
                }
            }
            for v in decl.fields.iter_mut().chain(decl.constants.iter_mut()) {
                scope.resolve(&mut v.ty).map_err(fail)?;
                if let Some(Value::Ref(parts)) = &mut v.value {
                    let (ty, item) = parts.split_at(parts.len() - 1);
                    let ty = scope.qualify(&ty.join(".")).map_err(fail)?;
                    if !enums.get(&ty).is_some_and(|e| e.contains(&item[0])) {
                        return Err(fail(format!("{} is not an enumerator", parts.join("."))));
                    }
                    *parts = ty.split('.').map(String::from).chain([item[0].clone()]).collect();
                }
            }
        }
        Ok(Api { decls })
    }

    /// The `aidl --dumpapi` text of every type, by relative path (`vendor/i2c/X.aidl`).
    pub fn dump(&self) -> Result<BTreeMap<String, String>, String> {
        let mut out = BTreeMap::new();
        for decl in self.decls.values() {
            out.insert(decl.path(), dump_decl(decl)?);
        }
        Ok(out)
    }

    /// `--checkapi=equal` against a frozen dump: every way the `.aidl` files under `dir`
    /// differ from this API's dump, byte for byte, each a line naming a file relative to `dir`;
    /// empty when they agree. `sources` names what the API was loaded from, for the lines.
    pub fn check_equal(&self, dir: &Path, sources: &str) -> Result<Vec<String>, String> {
        let expected = self.dump().map_err(|e| format!("{sources}: {e}"))?;
        let mut problems = Vec::new();
        for path in aidl_files(dir)? {
            let rel = path.strip_prefix(dir).unwrap_or(&path).to_string_lossy().into_owned();
            if !expected.contains_key(&rel) {
                problems.push(format!("{rel} is not a type of {sources}"));
            }
        }
        for (rel, text) in &expected {
            match fs::read_to_string(dir.join(rel)) {
                Ok(frozen) if frozen == *text => {}
                Ok(_) => problems.push(format!("{rel} differs from the dump of {sources}")),
                Err(_) => problems.push(format!("{rel} is missing ({sources} declares it)")),
            }
        }
        problems.sort();
        Ok(problems)
    }
}

struct Scope<'a> {
    package: String,
    imports: Vec<String>,
    known: &'a BTreeSet<String>,
}

impl<'a> Scope<'a> {
    fn of(decl: &Decl, known: &'a BTreeSet<String>) -> Scope<'a> {
        Scope { package: decl.package.clone(), imports: decl.imports.clone(), known }
    }

    fn qualify(&self, name: &str) -> Result<String, String> {
        if self.known.contains(name) {
            return Ok(name.to_string());
        }
        if let Some(import) = self.imports.iter().find(|i| i.rsplit('.').next() == Some(name)) {
            return Ok(import.clone());
        }
        let local = format!("{}.{name}", self.package);
        if self.known.contains(&local) {
            return Ok(local);
        }
        Err(format!("unknown type {name}"))
    }

    fn resolve(&self, ty: &mut TypeSpec) -> Result<(), String> {
        for p in &mut ty.params {
            self.resolve(p)?;
        }
        if PRIMITIVES.contains(&ty.name.as_str()) || BUILTINS.contains(&ty.name.as_str()) {
            return Ok(());
        }
        ty.name = self.qualify(&ty.name)?;
        Ok(())
    }
}

/// `AidlConstantValue::ValueString` for the types this subset has.
fn render_value(ty: &TypeSpec, value: &Value) -> Result<String, String> {
    let sig = ty.signature();
    match (sig.as_str(), value) {
        ("byte", Value::Int(v)) => Ok((*v as i8).to_string()),
        ("int", Value::Int(v)) => Ok((*v as i32).to_string()),
        ("long", Value::Int(v)) => Ok((*v as i64).to_string()),
        ("boolean", Value::Bool(b)) => Ok(b.to_string()),
        ("String", Value::Str(s)) => Ok(s.clone()),
        // AidlConstantValueDecorator: the (qualified) enum type, a dot, the enumerator.
        (_, Value::Ref(parts)) => Ok(parts.join(".")),
        _ => Err(format!("constant {value:?} of type {sig} is not supported")),
    }
}

fn dump_decl(decl: &Decl) -> Result<String, String> {
    let mut s = String::new();
    // dump_api's DumpComments: each comment's body, and a newline unless the last had one.
    for c in &decl.licence {
        s += c;
    }
    if decl.licence.last().is_some_and(|c| !c.ends_with('\n')) {
        s.push('\n');
    }
    s += PREAMBLE;
    writeln!(s, "package {};", decl.package).unwrap();
    if !decl.annotations.is_empty() {
        writeln!(s, "{}", render_annotations(&decl.annotations)).unwrap();
    }
    let keyword = match decl.kind {
        Kind::Interface => "interface",
        Kind::Parcelable => "parcelable",
        Kind::Enum => "enum",
    };
    writeln!(s, "{keyword} {} {{", decl.name).unwrap();
    if decl.kind == Kind::Enum {
        let backing = decl.backing().unwrap_or("byte").to_string();
        let backing = TypeSpec { annotations: vec![], name: backing, params: vec![], arrays: 0 };
        for (name, value) in &decl.enumerators {
            writeln!(s, "  {name} = {},", render_value(&backing, &Value::Int(*value))?).unwrap();
        }
    }
    for m in &decl.methods {
        writeln!(s, "  {};", method_to_string(m)).unwrap();
    }
    for f in &decl.fields {
        match &f.value {
            Some(v) => {
                writeln!(s, "  {} {} = {};", f.ty.to_aidl(), f.name, render_value(&f.ty, v)?)
            }
            None => writeln!(s, "  {} {};", f.ty.to_aidl(), f.name),
        }
        .unwrap();
    }
    for c in &decl.constants {
        let value = c.value.as_ref().ok_or("constant without a value")?;
        writeln!(s, "  const {} {} = {};", c.ty.to_aidl(), c.name, render_value(&c.ty, value)?)
            .unwrap();
    }
    s += "}\n";
    Ok(s)
}

/// `AidlMethod::ToString`.
fn method_to_string(m: &Method) -> String {
    let args: Vec<String> = m
        .args
        .iter()
        .map(|a| match &a.direction {
            Some(d) => format!("{d} {} {}", a.ty.to_aidl(), a.name),
            None => format!("{} {}", a.ty.to_aidl(), a.name),
        })
        .collect();
    let mut s = format!(
        "{}{} {}({})",
        if m.oneway { "oneway " } else { "" },
        m.ret.to_aidl(),
        m.name,
        args.join(", ")
    );
    if let Some(id) = m.id {
        s += &format!(" = {id}");
    }
    s
}

/// Every `.aidl` file under `root`, recursively.
pub fn aidl_files(root: &Path) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let entries = fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for entry in entries {
            let path = entry.map_err(|e| e.to_string())?.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "aidl") {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// What `versionForHashGen` (build/aidl_api.go) passes to hash_gen.sh for a version:
/// "latest-version" for version 1, else the previous version's number.
pub fn version_for_hash_gen(version: u32) -> String {
    match version {
        0 | 1 => "latest-version".to_string(),
        v => (v - 1).to_string(),
    }
}

/// The hash a frozen version's `.hash` in `dir` records: its last line, the one Soong compares
/// (`tail -1`) and passes to the backends as `--hash`.
pub fn recorded_hash(dir: &Path) -> Result<String, String> {
    let path = dir.join(".hash");
    let text = fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let last = text.lines().last().ok_or_else(|| format!("{}: empty", path.display()))?;
    Ok(last.trim().to_string())
}

/// AOSP's API hash of the dump in `dir` (build/hash_gen.sh), for `latest` = the word
/// `version_for_hash_gen` gives.
pub fn api_hash(dir: &Path, latest: &str) -> Result<String, String> {
    // `find ./` prints `./vendor/i2c/X.aidl`; `LC_ALL=C sort -z` orders those by bytes.
    let mut names: Vec<(Vec<u8>, PathBuf)> = aidl_files(dir)?
        .into_iter()
        .map(|p| {
            let rel = p.strip_prefix(dir).expect("under dir").to_string_lossy().into_owned();
            (format!("./{rel}").into_bytes(), p)
        })
        .collect();
    names.sort();
    let mut listing = String::new();
    for (name, path) in names {
        let bytes = fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        // sha1sum's line: the digest, two spaces (text mode), the name.
        writeln!(listing, "{}  {}", hex(&sha1(&bytes)), String::from_utf8_lossy(&name)).unwrap();
    }
    writeln!(listing, "{latest}").unwrap();
    Ok(hex(&sha1(listing.as_bytes())))
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-1 (FIPS 180-4), as coreutils' sha1sum computes it; the hash rule needs nothing else.
pub fn sha1(data: &[u8]) -> [u8; 20] {
    let mut h: [u32; 5] = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0];
    let mut message = data.to_vec();
    message.push(0x80);
    while message.len() % 64 != 56 {
        message.push(0);
    }
    message.extend_from_slice(&((data.len() as u64) * 8).to_be_bytes());
    for block in message.chunks(64) {
        let mut w = [0u32; 80];
        for (i, word) in block.chunks(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (i, wi) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5A827999),
                20..=39 => (b ^ c ^ d, 0x6ED9EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1BBCDC),
                _ => (b ^ c ^ d, 0xCA62C1D6),
            };
            let t =
                a.rotate_left(5).wrapping_add(f).wrapping_add(e).wrapping_add(k).wrapping_add(*wi);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = t;
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e]) {
            *x = x.wrapping_add(y);
        }
    }
    let mut out = [0u8; 20];
    for (i, x) in h.iter().enumerate() {
        out[i * 4..i * 4 + 4].copy_from_slice(&x.to_be_bytes());
    }
    out
}

/// `--checkapi=compatible` of `new` against the frozen `old`: every incompatibility found.
pub fn incompatibilities(old: &Api, new: &Api) -> Vec<String> {
    let mut problems = Vec::new();
    for (name, o) in &old.decls {
        let Some(n) = new.decls.get(name) else {
            problems.push(format!("{name}: removed"));
            continue;
        };
        if o.kind != n.kind {
            problems.push(format!("{name}: was {:?}, now {:?}", o.kind, n.kind));
            continue;
        }
        if o.annotations != n.annotations {
            problems.push(format!(
                "{name}: annotations `{}` became `{}`",
                render_annotations(&o.annotations),
                render_annotations(&n.annotations)
            ));
        }
        for (i, om) in o.methods.iter().enumerate() {
            match n.methods.get(i) {
                Some(nm) if nm == om => {}
                Some(nm) => problems.push(format!(
                    "{name}: method {i} `{}` became `{}` (methods may only be appended)",
                    method_to_string(om),
                    method_to_string(nm)
                )),
                None => problems.push(format!("{name}: method `{}` removed", method_to_string(om))),
            }
        }
        for (i, of) in o.fields.iter().enumerate() {
            match n.fields.get(i) {
                Some(nf) if nf == of => {}
                Some(nf) => problems.push(format!(
                    "{name}: field {i} `{} {}` became `{} {}` (fields may only be appended)",
                    of.ty.to_aidl(),
                    of.name,
                    nf.ty.to_aidl(),
                    nf.name
                )),
                None => problems.push(format!("{name}: field `{}` removed", of.name)),
            }
        }
        for nf in n.fields.iter().skip(o.fields.len()) {
            if !has_useful_default(nf, new) {
                problems.push(format!(
                    "{name}: new field `{}` needs a default value or @nullable",
                    nf.name
                ));
            }
        }
        for oc in &o.constants {
            match n.constants.iter().find(|c| c.name == oc.name) {
                Some(nc) if nc == oc => {}
                Some(_) => problems.push(format!("{name}: constant {} changed", oc.name)),
                None => problems.push(format!("{name}: constant {} removed", oc.name)),
            }
        }
        for (en, ev) in &o.enumerators {
            match n.enumerators.iter().find(|(nn, _)| nn == en) {
                Some((_, nv)) if nv == ev => {}
                Some((_, nv)) => problems.push(format!("{name}: {en} was {ev}, now {nv}")),
                None => problems.push(format!("{name}: enumerator {en} removed")),
            }
        }
    }
    problems
}

/// `AidlVariableDeclaration::HasUsefulDefaultValue` plus what aidl_checkapi accepts besides.
fn has_useful_default(field: &Variable, api: &Api) -> bool {
    if field.value.is_some() || field.ty.has_annotation("nullable") {
        return true;
    }
    // A primitive gets an implicit default value (AidlConstantValue::Default).
    if field.ty.arrays == 0 && PRIMITIVES.contains(&field.ty.name.as_str()) {
        return true;
    }
    // An enum field may stay without a default if 0 is one of its enumerators.
    api.decls
        .get(&field.ty.name)
        .is_some_and(|d| d.kind == Kind::Enum && d.enumerators.iter().any(|(_, v)| *v == 0))
}
