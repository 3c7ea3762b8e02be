//! Builds a real `async_graphql` dynamic schema from the contract SDL.
//!
//! Root fields are delegated to a [`RootResolver`]; every nested field is
//! resolved generically from the `serde_json::Value` its parent produced,
//! guided by the field's declared type. That keeps the served shape exactly
//! the SDL's: a field missing from the SDL cannot be queried, and one missing
//! from the data comes back as `null`.

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::{Context as _, anyhow};
use async_graphql::dynamic::{
    Enum, EnumItem, Field, FieldFuture, FieldValue, InputObject, InputValue, Interface,
    InterfaceField, Object, ResolverContext, Scalar, Schema, TypeRef, Union,
};
use async_graphql::{Name, Value as GqlValue};
use async_graphql_parser::types::{
    BaseType, FieldDefinition, InputValueDefinition, Type, TypeKind, TypeSystemDefinition,
};
use serde_json::Value as Json;

/// The contract (kept identical to the shared API reference).
pub(crate) const SDL: &str = include_str!("../../assets/qpien.graphql");

/// Implements the root fields (Query / Mutation).
pub(crate) trait RootResolver: Send + Sync + 'static {
    /// `args` is the field's arguments as a JSON object.
    fn resolve(
        &self,
        ctx: &async_graphql::Context<'_>,
        field: &str,
        args: Json,
    ) -> async_graphql::Result<Json>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Composite,
    Enum,
    Scalar,
    Input,
}

type Kinds = Arc<HashMap<String, Kind>>;

pub(crate) fn build_schema(root: Arc<dyn RootResolver>) -> anyhow::Result<Schema> {
    let doc = async_graphql_parser::parse_schema(SDL).context("parsing assets/qpien.graphql")?;

    let mut query = "Query".to_string();
    let mut mutation = None;
    let mut kinds = HashMap::new();
    for def in &doc.definitions {
        match def {
            TypeSystemDefinition::Schema(s) => {
                if let Some(q) = &s.node.query {
                    query = q.node.to_string();
                }
                mutation = s.node.mutation.as_ref().map(|m| m.node.to_string());
            }
            TypeSystemDefinition::Type(t) => {
                let kind = match &t.node.kind {
                    TypeKind::Scalar => Kind::Scalar,
                    TypeKind::Enum(_) => Kind::Enum,
                    TypeKind::InputObject(_) => Kind::Input,
                    TypeKind::Object(_) | TypeKind::Interface(_) | TypeKind::Union(_) => {
                        Kind::Composite
                    }
                };
                kinds.insert(t.node.name.node.to_string(), kind);
            }
            TypeSystemDefinition::Directive(_) => {}
        }
    }
    for builtin in ["String", "Int", "Float", "Boolean", "ID"] {
        kinds.insert(builtin.to_string(), Kind::Scalar);
    }
    let kinds: Kinds = Arc::new(kinds);

    let mut builder = Schema::build(&query, mutation.as_deref(), None);
    for def in &doc.definitions {
        let TypeSystemDefinition::Type(t) = def else {
            continue;
        };
        let t = &t.node;
        let name = t.name.node.to_string();
        let desc = t.description.as_ref().map(|d| d.node.clone());
        match &t.kind {
            TypeKind::Scalar => {
                let mut s = Scalar::new(&name);
                if name == "Date" {
                    // Inputs may be ISO strings or epoch milliseconds.
                    s = s.validator(|v| matches!(v, GqlValue::String(_) | GqlValue::Number(_)));
                }
                if let Some(d) = desc {
                    s = s.description(d);
                }
                builder = builder.register(s);
            }
            TypeKind::Object(o) => {
                let is_root = name == query || Some(&name) == mutation.as_ref();
                let mut obj = Object::new(&name);
                if let Some(d) = desc {
                    obj = obj.description(d);
                }
                for i in &o.implements {
                    obj = obj.implement(i.node.to_string());
                }
                for f in &o.fields {
                    let field = if is_root {
                        root_field(&f.node, root.clone())
                    } else {
                        nested_field(&f.node, kinds.clone())
                    };
                    obj = obj.field(field);
                }
                builder = builder.register(obj);
            }
            TypeKind::Interface(i) => {
                let mut iface = Interface::new(&name);
                if let Some(d) = desc {
                    iface = iface.description(d);
                }
                for imp in &i.implements {
                    iface = iface.implement(imp.node.to_string());
                }
                for f in &i.fields {
                    let f = &f.node;
                    let mut field =
                        InterfaceField::new(f.name.node.to_string(), type_ref(&f.ty.node));
                    if let Some(d) = &f.description {
                        field = field.description(d.node.clone());
                    }
                    for a in &f.arguments {
                        field = field.argument(input_value(&a.node));
                    }
                    iface = iface.field(field);
                }
                builder = builder.register(iface);
            }
            TypeKind::Union(u) => {
                let mut union = Union::new(&name);
                if let Some(d) = desc {
                    union = union.description(d);
                }
                for m in &u.members {
                    union = union.possible_type(m.node.to_string());
                }
                builder = builder.register(union);
            }
            TypeKind::Enum(e) => {
                let mut en = Enum::new(&name);
                if let Some(d) = desc {
                    en = en.description(d);
                }
                for v in &e.values {
                    let mut item = EnumItem::new(v.node.value.node.to_string());
                    if let Some(d) = &v.node.description {
                        item = item.description(d.node.clone());
                    }
                    en = en.item(item);
                }
                builder = builder.register(en);
            }
            TypeKind::InputObject(io) => {
                let mut input = InputObject::new(&name);
                if let Some(d) = desc {
                    input = input.description(d);
                }
                for f in &io.fields {
                    input = input.field(input_value(&f.node));
                }
                builder = builder.register(input);
            }
        }
    }
    builder
        .finish()
        .map_err(|e| anyhow!("building the sandbox schema: {e}"))
}

fn type_ref(ty: &Type) -> TypeRef {
    let base = match &ty.base {
        BaseType::Named(n) => TypeRef::Named(n.to_string().into()),
        BaseType::List(inner) => TypeRef::List(Box::new(type_ref(inner))),
    };
    if ty.nullable {
        base
    } else {
        TypeRef::NonNull(Box::new(base))
    }
}

fn input_value(def: &InputValueDefinition) -> InputValue {
    let mut iv = InputValue::new(def.name.node.to_string(), type_ref(&def.ty.node));
    if let Some(d) = &def.description {
        iv = iv.description(d.node.clone());
    }
    if let Some(dv) = &def.default_value {
        iv = iv.default_value(dv.node.clone());
    }
    iv
}

fn root_field(def: &FieldDefinition, root: Arc<dyn RootResolver>) -> Field {
    let name = def.name.node.to_string();
    let field_name = name.clone();
    let mut field = Field::new(
        name,
        type_ref(&def.ty.node),
        move |ctx: ResolverContext<'_>| {
            let mut args = serde_json::Map::new();
            for (k, v) in ctx.args.iter() {
                // Enum values become strings, numbers stay numbers.
                let json = v.as_value().clone().into_json().unwrap_or(Json::Null);
                args.insert(k.to_string(), json);
            }
            let result = root.resolve(ctx.ctx, &field_name, Json::Object(args));
            FieldFuture::new(async move { result.map(|v| Some(FieldValue::owned_any(v))) })
        },
    );
    if let Some(d) = &def.description {
        field = field.description(d.node.clone());
    }
    for a in &def.arguments {
        field = field.argument(input_value(&a.node));
    }
    field
}

fn nested_field(def: &FieldDefinition, kinds: Kinds) -> Field {
    let name = def.name.node.to_string();
    let key = name.clone();
    let ty = type_ref(&def.ty.node);
    let declared = ty.clone();
    let mut field = Field::new(name, ty, move |ctx: ResolverContext<'_>| {
        let parent: &FieldValue<'_> = ctx.parent_value;
        let value = parent
            .downcast_ref::<Json>()
            .and_then(|obj| obj.get(&key))
            .and_then(|v| to_field_value(v, &declared, &kinds));
        FieldFuture::Value(value)
    });
    if let Some(d) = &def.description {
        field = field.description(d.node.clone());
    }
    for a in &def.arguments {
        field = field.argument(input_value(&a.node));
    }
    field
}

/// Converts a JSON value into what the engine expects for `ty`. Mismatches
/// become `None`: the engine then reports a null in a non-null position as a
/// proper GraphQL error instead of anything panicking.
fn to_field_value<'a>(
    v: &'a Json,
    ty: &TypeRef,
    kinds: &HashMap<String, Kind>,
) -> Option<FieldValue<'a>> {
    match ty {
        TypeRef::NonNull(inner) => to_field_value(v, inner, kinds),
        TypeRef::List(inner) => match v {
            Json::Array(items) => {
                Some(FieldValue::list(items.iter().map(|i| {
                    to_field_value(i, inner, kinds).unwrap_or(FieldValue::NULL)
                })))
            }
            _ => None,
        },
        TypeRef::Named(name) => {
            if v.is_null() {
                return None;
            }
            match kinds.get(name.as_ref()) {
                Some(Kind::Composite) => Some(FieldValue::borrowed_any(v)),
                Some(Kind::Enum) => v
                    .as_str()
                    .map(|s| FieldValue::value(GqlValue::Enum(Name::new(s)))),
                _ => scalar(name, v).map(FieldValue::value),
            }
        }
    }
}

fn scalar(name: &str, v: &Json) -> Option<GqlValue> {
    match name {
        "Int" => match v {
            Json::Number(n) => n.as_i64().map(GqlValue::from),
            Json::String(s) => s.parse::<i64>().ok().map(GqlValue::from),
            _ => None,
        },
        "Float" => v.as_f64().map(GqlValue::from),
        "Boolean" => v.as_bool().map(GqlValue::from),
        "String" | "ID" | "Date" => match v {
            Json::String(s) => Some(GqlValue::String(s.clone())),
            Json::Number(n) => Some(GqlValue::String(n.to_string())),
            Json::Bool(b) => Some(GqlValue::String(b.to_string())),
            _ => None,
        },
        _ => GqlValue::from_json(v.clone()).ok(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use async_graphql_parser::types::TypeKind;

    use super::*;

    struct NoRoot;
    impl RootResolver for NoRoot {
        fn resolve(
            &self,
            _: &async_graphql::Context<'_>,
            _: &str,
            _: Json,
        ) -> async_graphql::Result<Json> {
            Ok(Json::Null)
        }
    }

    const BUILTINS: &[&str] = &["String", "Int", "Float", "Boolean", "ID"];

    fn ty_str(t: &Type) -> String {
        t.to_string()
    }

    fn iv_str(iv: &InputValueDefinition) -> String {
        let default = iv
            .default_value
            .as_ref()
            .map(|d| format!(" = {}", d.node))
            .unwrap_or_default();
        format!("{}: {}{}", iv.name.node, ty_str(&iv.ty.node), default)
    }

    fn fields_str(
        fields: &[async_graphql_parser::Positioned<FieldDefinition>],
        out: &mut BTreeSet<String>,
    ) {
        for f in fields {
            let f = &f.node;
            let mut args: Vec<String> = f.arguments.iter().map(|a| iv_str(&a.node)).collect();
            args.sort();
            out.insert(format!(
                "field {}({}): {}",
                f.name.node,
                args.join(", "),
                ty_str(&f.ty.node)
            ));
        }
    }

    /// Type name -> set of facts (kind, interfaces, fields with args and
    /// defaults, input fields, enum values). Descriptions and order ignored.
    fn normalize(sdl: &str) -> BTreeMap<String, BTreeSet<String>> {
        let doc = async_graphql_parser::parse_schema(sdl).expect("SDL parses");
        let mut out = BTreeMap::new();
        for def in doc.definitions {
            let TypeSystemDefinition::Type(t) = def else {
                continue;
            };
            let t = t.node;
            let name = t.name.node.to_string();
            if name.starts_with("__") || BUILTINS.contains(&name.as_str()) {
                continue;
            }
            let mut facts = BTreeSet::new();
            match &t.kind {
                TypeKind::Scalar => {
                    facts.insert("kind scalar".to_string());
                }
                TypeKind::Object(o) => {
                    facts.insert("kind object".to_string());
                    for i in &o.implements {
                        facts.insert(format!("implements {}", i.node));
                    }
                    fields_str(&o.fields, &mut facts);
                }
                TypeKind::Interface(i) => {
                    facts.insert("kind interface".to_string());
                    for imp in &i.implements {
                        facts.insert(format!("implements {}", imp.node));
                    }
                    fields_str(&i.fields, &mut facts);
                }
                TypeKind::Union(u) => {
                    facts.insert("kind union".to_string());
                    for m in &u.members {
                        facts.insert(format!("member {}", m.node));
                    }
                }
                TypeKind::Enum(e) => {
                    facts.insert("kind enum".to_string());
                    for v in &e.values {
                        facts.insert(format!("value {}", v.node.value.node));
                    }
                }
                TypeKind::InputObject(io) => {
                    facts.insert("kind input".to_string());
                    for f in &io.fields {
                        facts.insert(format!("input {}", iv_str(&f.node)));
                    }
                }
            }
            out.insert(name, facts);
        }
        out
    }

    fn diff(
        a: &BTreeMap<String, BTreeSet<String>>,
        b: &BTreeMap<String, BTreeSet<String>>,
    ) -> Vec<String> {
        let mut d = Vec::new();
        let names: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
        for n in names {
            match (a.get(n), b.get(n)) {
                (Some(x), Some(y)) => {
                    for f in x.difference(y) {
                        d.push(format!("{n}: only in contract: {f}"));
                    }
                    for f in y.difference(x) {
                        d.push(format!("{n}: only in served schema: {f}"));
                    }
                }
                (Some(_), None) => d.push(format!("type {n} missing from served schema")),
                (None, Some(_)) => d.push(format!("type {n} not in contract")),
                (None, None) => {}
            }
        }
        d
    }

    #[test]
    fn served_sdl_matches_contract() {
        let schema = build_schema(Arc::new(NoRoot)).expect("schema builds");
        let served = normalize(&schema.sdl());
        let contract = normalize(SDL);
        assert!(
            contract.len() > 50,
            "contract parsed into {} types",
            contract.len()
        );
        let d = diff(&contract, &served);
        assert!(
            d.is_empty(),
            "served schema differs from the contract:\n{}",
            d.join("\n")
        );
    }

    #[test]
    fn normalizer_sees_missing_fields_values_and_defaults() {
        let base = normalize(SDL);
        let variants = [
            SDL.replacen(
                "  frontMsgId: String\n  \"[D] List",
                "  frontMsgIdX: String\n  \"[D] List",
                1,
            ),
            SDL.replacen("  hasPrevPage: Boolean\n", "", 1),
            SDL.replacen("  URGENT\n", "\n", 1),
            SDL.replacen("limit: Int = 30", "limit: Int = 31", 1),
            SDL.replacen(
                "getMessages(input: GetMessagesInput!)",
                "getMessages(input: GetMessagesInput)",
                1,
            ),
            SDL.replacen("interface BaseResponse", "interface BaseResponseX", 1),
        ];
        for (i, v) in variants.iter().enumerate() {
            assert_ne!(&v[..], SDL, "variant {i} did not change the SDL");
            assert!(
                !diff(&base, &normalize(v)).is_empty(),
                "variant {i} went unnoticed"
            );
        }
    }

    #[test]
    fn nested_conversion_follows_declared_types() {
        let kinds: HashMap<String, Kind> = [("AckType".to_string(), Kind::Enum)].into();
        let v = serde_json::json!("READ");
        let fv = to_field_value(&v, &TypeRef::named("AckType"), &kinds).expect("enum");
        assert_eq!(fv.as_value(), Some(&GqlValue::Enum(Name::new("READ"))));
        let n = serde_json::json!(null);
        assert!(to_field_value(&n, &TypeRef::named_nn("String"), &kinds).is_none());
        let wrong = serde_json::json!({"a": 1});
        assert!(to_field_value(&wrong, &TypeRef::named("Int"), &kinds).is_none());
    }
}
