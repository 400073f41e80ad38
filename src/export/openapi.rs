//! OpenAPI 3.1 export.
//!
//! The export carries what OpenAPI can say natively (paths, parameters, bodies, statuses,
//! security) and puts the rest under `x-dialtone-*` extensions: the method × role matrix of
//! each operation, the rules that concern it, result codes, decisions and states.

use serde_json::{json, Map, Value};

use crate::plan::{self, PlanEntry};
use crate::spec::model::*;
use crate::spec::Spec;

use super::{implied, request};

/// Export one or several specs as a single OpenAPI 3.1 document.
pub fn export(specs: &[&Spec]) -> Value {
    let mut paths = Map::new();
    let mut schemas = Map::new();
    let mut security_schemes = Map::new();
    let mut apis = Vec::new();
    let multi = specs.len() > 1;
    for spec in specs {
        let api = spec.name();
        let plan = plan::plan(spec);
        let scheme_name = format!("{api}-auth");
        security_schemes.insert(scheme_name.clone(), security_scheme(spec));
        for s in spec.schemas() {
            schemas.insert(
                schema_key(api, s.name.get_ref(), multi),
                schema_json(api, s, multi),
            );
        }
        request::components(spec, &|n| schema_key(api, n, multi), &mut schemas);
        for ep in spec.endpoints() {
            let full = spec.full_path(ep);
            let key = if multi && paths.contains_key(&full) {
                format!("{full}#{api}")
            } else {
                full.clone()
            };
            let item = path_item(spec, ep, &plan, &scheme_name, multi);
            paths.insert(key, Value::Object(item));
        }
        apis.push(api_json(spec, &plan));
    }
    let title = if multi {
        "dialtone bundled specs".to_string()
    } else {
        specs[0].api().title.clone()
    };
    let version = if multi {
        env!("CARGO_PKG_VERSION").to_string()
    } else {
        specs[0].api().version.clone()
    };
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": title,
            "version": version,
            "description": "Exported by dialtone from its machine-readable specs. The x-dialtone-* extensions carry the method x role matrix, the rules and the decisions.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": security_schemes,
        },
        "x-dialtone-apis": apis,
    })
}

/// One path's item: its operations (those OpenAPI has a key for) and the endpoint's
/// extensions, including the matrix cells of the methods it lacks.
fn path_item(
    spec: &Spec,
    ep: &Endpoint,
    plan: &[PlanEntry],
    scheme_name: &str,
    multi: bool,
) -> Map<String, Value> {
    let api = spec.name();
    let mut item = Map::new();
    for op in &ep.op {
        let m = op.method.get_ref().to_ascii_lowercase();
        if !matches!(
            m.as_str(),
            "get" | "put" | "post" | "delete" | "options" | "head" | "patch" | "trace"
        ) {
            continue;
        }
        item.insert(m, operation(spec, ep, op, plan, scheme_name, multi));
    }
    item.insert("x-dialtone-endpoint".into(), json!(ep.id.get_ref()));
    item.insert("x-dialtone-api".into(), json!(api));
    if !ep.unsupported.is_empty() {
        item.insert("x-dialtone-unsupported".into(), json!(ep.unsupported));
    }
    let cells: Vec<Value> = plan
        .iter()
        .filter(|e| {
            e.kind == RuleKind::Matrix
                && e.endpoint.as_deref() == Some(ep.id.get_ref().as_str())
                && !ep
                    .op
                    .iter()
                    .any(|o| Some(o.method.get_ref()) == e.method.as_ref())
        })
        .map(cell_json)
        .collect();
    if !cells.is_empty() {
        item.insert("x-dialtone-unsupported-cells".into(), Value::Array(cells));
    }
    if !ep.aliases.is_empty() {
        item.insert("x-dialtone-aliases".into(), json!(ep.aliases));
    }
    item
}

/// What `x-dialtone-apis` says of one spec: identity, roles, matrix, codes, decisions,
/// states and the rules about no endpoint.
fn api_json(spec: &Spec, plan: &[PlanEntry]) -> Value {
    let api = spec.name();
    json!({
        "name": api,
        "title": spec.api().title,
        "document": spec.api().document,
        "version": spec.api().version,
        "bases": spec.api().bases,
        "roles": spec.roles_by_rank().iter().map(|r| json!({"name": r.name.get_ref(), "title": r.title, "rank": r.rank})).collect::<Vec<_>>(),
        "matrix": {
            "methods": spec.matrix().methods.get_ref(),
            "precedence": spec.matrix().precedence.get_ref(),
        },
        "codes": spec.codes().map(|c| json!({
            "id": c.id.get_ref(), "status": c.status, "message": c.message,
            "meaning": c.meaning, "class": c.class, "indeterminate": c.indeterminate,
        })).collect::<Vec<_>>(),
        "decisions": spec.decisions().map(|d| json!({
            "id": d.id.get_ref(), "question": d.question, "choice": d.choice,
            "alternatives": d.alternatives, "source": d.provenance.describe(),
        })).collect::<Vec<_>>(),
        "states": spec.states().map(|s| json!({
            "name": s.name.get_ref(), "description": s.description,
            "outcome": s.outcome.get_ref().to_string(),
        })).collect::<Vec<_>>(),
        "rules": plan.iter().filter(|e| e.endpoint.is_none()).map(rule_json).collect::<Vec<_>>(),
    })
}

fn schema_key(api: &str, name: &str, multi: bool) -> String {
    let raw = if multi {
        format!("{api}.{name}")
    } else {
        name.to_string()
    };
    // Component keys must match ^[a-zA-Z0-9._-]+$.
    raw.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn security_scheme(spec: &Spec) -> Value {
    let a = spec.auth();
    match a.scheme {
        AuthScheme::Basic => json!({"type": "http", "scheme": "basic"}),
        AuthScheme::Bearer if a.header.eq_ignore_ascii_case("authorization") => {
            json!({"type": "http", "scheme": "bearer"})
        }
        AuthScheme::Bearer => json!({
            "type": "apiKey", "in": "header", "name": a.header,
            "description": format!("`{}: {} <token>`", a.header, a.prefix.clone().unwrap_or_default()),
        }),
    }
}

pub(super) fn field_type(t: FieldType) -> Value {
    match t {
        FieldType::String | FieldType::Enum => json!({"type": "string"}),
        FieldType::Integer => json!({"type": "integer"}),
        FieldType::Number => json!({"type": "number"}),
        FieldType::Boolean => json!({"type": "boolean"}),
        FieldType::Digits => json!({"type": "string", "pattern": "^[0-9]*$"}),
        FieldType::Ip => json!({"type": "string", "format": "ipv4"}),
        FieldType::Mac => json!({"type": "string", "pattern": "^[0-9A-Fa-f:.-]{12,17}$"}),
        FieldType::Uuid => json!({"type": "string", "format": "uuid"}),
        // The spec promises no syntax for these (`spec::check::format_ok`): a device stores
        // and returns what it was given.
        FieldType::Hostname => json!({"type": "string", "x-dialtone-format": "hostname"}),
        FieldType::Email => json!({"type": "string", "x-dialtone-format": "email"}),
        FieldType::Datetime => json!({"type": "string", "format": "date-time"}),
        FieldType::Date => json!({"type": "string", "format": "date"}),
        FieldType::Object => json!({"type": "object"}),
        FieldType::Array => json!({"type": "array"}),
        FieldType::Binary => json!({"type": "string", "contentEncoding": "base64"}),
        FieldType::Any => json!({}),
    }
}

fn toml_to_json(v: &toml::Value) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// Add `enum` to `schema`, with a `type` every listed value has: a spec's enumeration may
/// list numbers (Mediant's key sizes), which a `"type": "string"` would contradict.
pub(super) fn with_enum(schema: &mut Value, values: &[toml::Value]) {
    let values: Vec<Value> = values.iter().map(toml_to_json).collect();
    let kind = |v: &Value| match v {
        Value::String(_) => "string",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
        Value::Null => "null",
    };
    let mut kinds: Vec<&str> = values.iter().map(kind).collect();
    kinds.sort_unstable();
    kinds.dedup();
    if let Some(o) = schema.as_object_mut() {
        match kinds.as_slice() {
            [one] if o.get("type").and_then(Value::as_str) != Some(one) => {
                o.insert("type".into(), json!(one));
                // A string's pattern or format says nothing about a number.
                o.remove("pattern");
                o.remove("format");
            }
            [_] => {}
            _ => {
                o.remove("type");
            }
        }
        o.insert("enum".into(), Value::Array(values));
    }
}

/// An optional field may also be `null`: the suite reads a null value as an absent field, as
/// the documents' examples write them (sipXconfig's `"options":null`).
fn nullable(mut p: Value) -> Value {
    if p.get("$ref").is_some() {
        return json!({"anyOf": [p, {"type": "null"}]});
    }
    if let Some(Value::String(t)) = p.get("type").cloned() {
        p["type"] = json!([t, "null"]);
    }
    if let Some(Value::Array(e)) = p.get_mut("enum") {
        e.push(Value::Null);
    }
    p
}

fn schema_json(api: &str, s: &Schema, multi: bool) -> Value {
    let mut props = Map::new();
    let mut required = Vec::new();
    for f in &s.field {
        let mut p = match (&f.schema, f.ty) {
            (Some(sc), FieldType::Array) => {
                json!({"type": "array", "items": {"$ref": format!("#/components/schemas/{}", schema_key(api, sc.get_ref(), multi))}})
            }
            (Some(sc), _) => {
                json!({"$ref": format!("#/components/schemas/{}", schema_key(api, sc.get_ref(), multi))})
            }
            (None, _) => field_type(f.ty),
        };
        let o = p.as_object_mut().expect("object");
        if let Some(it) = f.items {
            o.insert("items".into(), field_type(it));
        }
        if !f.enum_values.is_empty() {
            with_enum(&mut p, &f.enum_values);
        }
        let o = p.as_object_mut().expect("object");
        if let Some(v) = f.min {
            o.insert("minimum".into(), json!(v));
        }
        if let Some(v) = f.max {
            o.insert("maximum".into(), json!(v));
        }
        if let Some(v) = f.min_len {
            o.insert("minLength".into(), json!(v));
        }
        if let Some(v) = f.max_len {
            o.insert("maxLength".into(), json!(v));
        }
        if let Some(v) = &f.default {
            o.insert("default".into(), toml_to_json(v));
        }
        if let Some(v) = &f.example {
            o.insert("examples".into(), json!([toml_to_json(v)]));
        }
        if let Some(d) = &f.description {
            o.insert("description".into(), json!(d));
        }
        if f.server_assigned {
            o.insert("readOnly".into(), json!(true));
        }
        if f.key {
            o.insert("x-dialtone-key".into(), json!(true));
        }
        if f.required {
            required.push(f.name.get_ref().clone());
        } else {
            p = nullable(p);
        }
        props.insert(f.name.get_ref().clone(), p);
    }
    let mut out = json!({
        "type": "object",
        "properties": props,
        "x-dialtone-source": s.provenance.describe(),
    });
    if !required.is_empty() {
        out["required"] = json!(required);
    }
    if s.unknown_fields == UnknownFields::Reject {
        out["additionalProperties"] = json!(false);
    }
    if let Some(x) = &s.xml_element {
        out["xml"] = json!({"name": x});
    }
    out
}

fn cell_json(e: &PlanEntry) -> Value {
    let mut v = json!({
        "id": e.id, "role": e.role, "expect": e.expect, "level": e.level, "source": e.source,
    });
    if let Some(m) = &e.method {
        v["method"] = json!(m);
    }
    if let Some(a) = &e.allow {
        v["allow"] = json!(a);
    }
    v
}

fn rule_json(e: &PlanEntry) -> Value {
    json!({
        "id": e.id, "kind": e.kind, "level": e.level, "expect": e.expect,
        "summary": e.summary, "source": e.source,
    })
}

fn operation(
    spec: &Spec,
    ep: &Endpoint,
    op: &Operation,
    plan: &[PlanEntry],
    scheme: &str,
    multi: bool,
) -> Value {
    let api = spec.name();
    let method = op.method.get_ref();
    let params = parameters(spec, ep, op);
    let responses = responses(spec, ep, op, plan, multi);
    let mut o = json!({
        "operationId": format!("{api}:{}:{method}", ep.id.get_ref()),
        "summary": op.summary.clone().or_else(|| ep.summary.clone()).unwrap_or_else(|| format!("{method} {}", ep.path.get_ref())),
        "security": [{ scheme: [] }],
        "responses": responses,
        "x-dialtone-safety": op.safety(),
        "x-dialtone-source": op.provenance.describe(),
        "x-dialtone-matrix": entries_for(plan, ep, method).filter(|e| e.kind == RuleKind::Matrix).map(cell_json).collect::<Vec<_>>(),
        "x-dialtone-rules": entries_for(plan, ep, method).filter(|e| e.kind != RuleKind::Matrix).map(rule_json).collect::<Vec<_>>(),
    });
    if !params.is_empty() {
        o["parameters"] = Value::Array(params);
    }
    if !op.codes.is_empty() {
        o["x-dialtone-codes"] = json!(op.codes.iter().map(|c| c.get_ref()).collect::<Vec<_>>());
    }
    if let Some(p) = &op.pagination {
        o["x-dialtone-pagination"] = json!(p.get_ref());
    }
    if let Some(req) = &op.request {
        // `none` in a request's content types: the body may be left out altogether.
        if !req.empty && req.content_types.iter().any(|c| c != "none") {
            o["requestBody"] = request_body(spec, ep, req, multi);
        }
        if let Some(c) = req.completeness {
            o["x-dialtone-completeness"] = json!(c);
        }
    }
    o
}

/// The plan entries about one operation, in plan order.
fn entries_for<'a>(
    plan: &'a [PlanEntry],
    ep: &'a Endpoint,
    method: &'a str,
) -> impl Iterator<Item = &'a PlanEntry> {
    plan.iter().filter(move |e| {
        e.endpoint.as_deref() == Some(ep.id.get_ref().as_str())
            && e.method.as_deref() == Some(method)
    })
}

/// A reference to a component schema, or an array of them when `many`.
fn schema_ref(api: &str, name: &str, many: bool, multi: bool) -> Value {
    let r = json!({"$ref": format!("#/components/schemas/{}", schema_key(api, name, multi))});
    if many {
        json!({"type": "array", "items": r})
    } else {
        r
    }
}

/// The path parameters, then the query parameters, then any paging parameters the query
/// does not already name.
fn parameters(spec: &Spec, ep: &Endpoint, op: &Operation) -> Vec<Value> {
    let mut params = Vec::new();
    for (name, p) in &ep.params {
        let s = p.spec();
        // A write whose body describes a record of the collection: the path fills a field
        // of it (its key, or the field the parameter filters by), which must take the value.
        let fills_key = op.request.as_ref().is_some_and(|r| !r.empty)
            && match ep.path_fill(spec) {
                Some((p, fill)) if p == *name => implied::path_value_checked(spec, ep, op, fill),
                _ => false,
            };
        let mut schema = implied::param_schema(&s, fills_key);
        // An empty path value is no segment at all: the URL names another resource.
        if schema.get("type") == Some(&json!("string")) && schema.get("minLength").is_none() {
            schema["minLength"] = json!(1);
        }
        let mut pj = json!({"name": name, "in": "path", "required": true, "schema": schema});
        if let Some(d) = &s.description {
            pj["description"] = json!(d);
        }
        params.push(pj);
    }
    // Headers the API requires on every request besides the credentials (roaming-profile's
    // `X-Requested-With`); OpenAPI describes Content-Type by the request body instead.
    for (name, value) in &spec.auth().required_headers {
        if !name.eq_ignore_ascii_case("content-type") {
            params.push(json!({"name": name, "in": "header", "required": true, "schema": {"type": "string", "enum": [value]}}));
        }
    }
    let mut paging: Vec<(String, Value)> = Vec::new();
    let pagination = op
        .pagination
        .as_ref()
        .and_then(|p| spec.pagination(p.get_ref()));
    // Paging parameters the query declares itself take their role's type too, unless the
    // query says more of them (an enumeration, a pattern).
    for (p, (role, name)) in pagination
        .iter()
        .flat_map(|p| p.params.iter().map(move |r| (p, r)))
    {
        let plain = op.query.get(name).map(|q| q.spec()).is_some_and(|s| {
            s.enum_values.is_empty()
                && s.pattern.is_none()
                && matches!(s.ty, FieldType::String | FieldType::Integer)
        });
        let counted = matches!(
            role.as_str(),
            "limit" | "pagesize" | "page" | "start" | "end" | "offset"
        );
        // And the cursors: the device checks every paging parameter.
        let cursor = matches!(role.as_str(), "after" | "before");
        if plain && (counted || cursor) {
            paging.push((name.clone(), implied::paging_schema(p, role)));
        }
    }
    let mut query: Vec<(String, ParamSpec)> = op
        .query
        .iter()
        .map(|(k, v)| (k.clone(), v.spec()))
        .collect();
    if let Some(p) = op
        .pagination
        .as_ref()
        .and_then(|p| spec.pagination(p.get_ref()))
    {
        for (role, name) in &p.params {
            if !query.iter().any(|(k, _)| k == name) {
                paging.push((name.clone(), implied::paging_schema(p, role)));
                query.push((
                    name.clone(),
                    ParamSpec {
                        ty: FieldType::String,
                        required: false,
                        example: None,
                        enum_values: vec![],
                        default: None,
                        description: Some(format!("paging parameter ({})", p.name.get_ref())),
                        empty: None,
                        missing: None,
                        invalid: None,
                        filter: None,
                        lookup: None,
                        min_len: None,
                        pattern: None,
                        names: None,
                    },
                ));
            }
        }
    }
    for (name, s) in query {
        let mut schema = match paging.iter().find(|(k, _)| *k == name) {
            Some((_, typed)) => typed.clone(),
            None => implied::param_schema(&s, false),
        };
        if let Some(d) = &s.default {
            let d = toml_to_json(d);
            // A parameter exported as text takes its default as text.
            schema["default"] = match (schema["type"].as_str(), crate::spec::check::scalar_text(&d))
            {
                (Some("string"), Some(t)) => json!(t),
                _ => d,
            };
        }
        let mut pj = json!({"name": name, "in": "query", "required": s.required, "schema": schema});
        if let Some(d) = &s.description {
            pj["description"] = json!(d);
        }
        params.push(pj);
    }
    params
}

/// The success response with its body, then one response per status the plan expects of
/// the operation; statuses OpenAPI cannot key go under `default`.
fn responses(
    spec: &Spec,
    ep: &Endpoint,
    op: &Operation,
    plan: &[PlanEntry],
    multi: bool,
) -> Map<String, Value> {
    let api = spec.name();
    let mut responses = Map::new();
    let success = op.success_outcome();
    let mut ok = json!({"description": "success"});
    if let Some(r) = &op.response {
        let mut content = Map::new();
        for ct in &r.content_types {
            let mut media = json!({});
            // The schema describes the JSON answer; an XML or CSV answer's shape is its own.
            let json = ct == "application/json" || ct.ends_with("+json");
            if let (Some(s), true) = (&r.schema, json) {
                let inner = schema_ref(api, s.get_ref(), r.many, multi);
                media["schema"] = json_body(spec, op, r, inner);
            }
            content.insert(ct.clone(), media);
        }
        if !content.is_empty() {
            ok["content"] = Value::Object(content);
        }
    }
    // Result codes the operation documents: a failure that travels with the success status
    // (roaming-profile's 200 with a failure code) is one more shape of that answer, and a
    // code with its own status is one more response.
    let codes: Vec<&Code> = op
        .codes
        .iter()
        .filter_map(|c| spec.code(c.get_ref()))
        .filter(|c| success.code.as_deref() != Some(c.id.get_ref().as_str()))
        .collect();
    let as200: Vec<&Code> = codes
        .iter()
        .copied()
        .filter(|c| c.status == success.status)
        .collect();
    let env = code_envelope(spec, op);
    let body = |codes: &[&Code]| env.and_then(|e| code_body(e, codes));
    if let (Some(fail), Some(json)) = (
        body(&as200),
        ok.pointer_mut("/content/application~1json/schema"),
    ) {
        *json = json!({"anyOf": [json.take(), fail]});
    } else if let Some(media) = ok.pointer_mut("/content/application~1json") {
        // No data schema: the answer is the envelope with the success code or a failure.
        let mut all = as200.clone();
        all.extend(success.code.as_deref().and_then(|c| spec.code(c)));
        if let (None, Some(b)) = (media.get("schema"), body(&all)) {
            media["schema"] = b;
        }
    }
    if (100..=599).contains(&success.status) {
        responses.insert(success.status.to_string(), ok);
    } else {
        responses.insert("default".into(), ok);
    }
    let mut coded: Vec<u16> = codes
        .iter()
        .map(|c| c.status)
        .filter(|s| *s != success.status && (100..=599).contains(s))
        .collect();
    coded.sort_unstable();
    coded.dedup();
    for st in coded {
        let same: Vec<&Code> = codes.iter().copied().filter(|c| c.status == st).collect();
        let r = responses
            .entry(st.to_string())
            .or_insert_with(|| json!({"description": same[0].meaning}));
        if let (Some(e), Some(b)) = (env, body(&same)) {
            r["content"] = json!({ e.content_type.clone(): {"schema": b} });
        }
    }
    let mut statuses: Vec<(u16, String)> = Vec::new();
    for e in entries_for(plan, ep, op.method.get_ref()) {
        for o in &e.expect {
            statuses.push((o.status, e.summary.clone()));
        }
    }
    // What the spec's general rules let the operation answer besides (an unknown record, a
    // body that does not validate...).
    statuses.extend(implied::statuses(spec, ep, op));
    // OpenAPI only admits 1XX..5XX response keys; statuses beyond (sipXconfig's 743..747)
    // travel under `default` and are listed in an extension.
    let mut nonstandard: Vec<u16> = Vec::new();
    for (st, why) in statuses {
        if (100..=599).contains(&st) {
            responses
                .entry(st.to_string())
                .or_insert_with(|| json!({"description": why}));
        } else if !nonstandard.contains(&st) {
            nonstandard.push(st);
        }
    }
    if !nonstandard.is_empty() {
        nonstandard.sort_unstable();
        responses.insert(
            "default".into(),
            json!({
                "description": "non-standard statuses this operation documents",
                "x-dialtone-statuses": nonstandard,
            }),
        );
    }
    responses
}

/// The envelope a JSON result code of the operation travels in.
fn code_envelope<'a>(spec: &'a Spec, op: &Operation) -> Option<&'a Envelope> {
    op.response
        .as_ref()
        .and_then(|r| r.envelope.as_ref())
        .and_then(|n| spec.envelope(n.get_ref()))
        .or_else(|| spec.default_envelope())
        .filter(|e| e.format == BodyFormat::Json && e.code_path.is_some())
}

/// The JSON body of an answer carrying one of `codes`: the envelope's code (one of their
/// values) and its message, at the envelope's paths.
fn code_body(env: &Envelope, codes: &[&Code]) -> Option<Value> {
    if codes.is_empty() {
        return None;
    }
    let values: Vec<String> = codes
        .iter()
        .map(|c| c.value.clone().unwrap_or_else(|| c.id.get_ref().clone()))
        .collect();
    let mut leaves = vec![(
        env.code_path.clone()?,
        json!({"type": "string", "enum": values}),
    )];
    if let Some(m) = &env.message_path {
        leaves.push((m.clone(), json!({"type": "string"})));
    }
    let mut root = json!({"type": "object"});
    for (path, leaf) in leaves {
        let mut at = &mut root;
        let keys: Vec<&str> = path.split('.').collect();
        for (i, k) in keys.iter().enumerate() {
            let obj = at.as_object_mut()?;
            let req = obj.entry("required").or_insert_with(|| json!([]));
            if !req.as_array()?.contains(&json!(k)) {
                req.as_array_mut()?.push(json!(k));
            }
            let props = obj.entry("properties").or_insert_with(|| json!({}));
            let next = if i + 1 == keys.len() {
                leaf.clone()
            } else {
                json!({"type": "object"})
            };
            at = props.as_object_mut()?.entry(k.to_string()).or_insert(next);
        }
    }
    Some(root)
}

/// Where a JSON answer holds its data, as the emulator serves it and the oracle reads it: at
/// the envelope's data path (a list in a result-code envelope), at the pagination's items
/// path, under the response's wrapper key, or under `items` beside paging fields; else the
/// data is the whole body.
fn json_body(spec: &Spec, op: &Operation, r: &Response, inner: Value) -> Value {
    let envelope = r
        .envelope
        .as_ref()
        .and_then(|n| spec.envelope(n.get_ref()))
        .filter(|e| e.format == BodyFormat::Json);
    let paging = op
        .pagination
        .as_ref()
        .and_then(|p| spec.pagination(p.get_ref()));
    let at = match (r.many, envelope.and_then(|e| e.data_path.clone())) {
        (true, Some(d)) => Some(d),
        (true, None) => paging
            .and_then(|p| p.fields.get("items").cloned())
            .or_else(|| r.wrapper.clone())
            .or_else(|| paging.map(|_| "items".to_string())),
        (false, _) => r.wrapper.clone(),
    };
    match at {
        Some(path) => path.rsplit('.').fold(
            inner,
            |v, key| json!({"type": "object", "properties": { key: v }, "required": [key]}),
        ),
        None => inner,
    }
}

/// The request body: one media type per content type, with the schema the device reads it
/// by (wrapped, or the file part for multipart) when the request names one.
fn request_body(spec: &Spec, ep: &Endpoint, req: &Request, multi: bool) -> Value {
    let api = spec.name();
    let mut content = Map::new();
    let schema = req.schema.as_ref().and_then(|s| spec.schema(s.get_ref()));
    for ct in req.content_types.iter().filter(|c| *c != "none") {
        let mut media = json!({});
        if let Some(s) = schema {
            let xml = ct == "application/xml" || ct == "text/xml" || ct.ends_with("+xml");
            let k = schema_key(api, s.name.get_ref(), multi);
            let item = request::item(spec, s, ep, req, request::reference(&k, xml));
            media["schema"] = if xml {
                implied::xml_body(spec, req, item)
            } else {
                let inner = if req.many {
                    request::many(item, &crate::spec::item_name(Some(s)))
                } else {
                    item
                };
                match &req.wrapper {
                    Some(w) => {
                        json!({"type": "object", "properties": { w.clone(): inner }, "required": [w]})
                    }
                    None => inner,
                }
            };
        }
        // A JSON or XML body without a schema is still one object (one element).
        if media.get("schema").is_none() && ct.ends_with("xml") {
            media["schema"] = json!({"type": "object", "xml": {"name": "data"}});
        }
        if media.get("schema").is_none() && ct.ends_with("json") {
            media["schema"] = json!({"type": "object"});
        }
        // Any other body is text or bytes, of at least the length the device requires.
        if let (None, Some(n)) = (media.get("schema"), req.min_bytes) {
            media["schema"] = json!({"type": "string", "minLength": n});
        }
        if let Some(ff) = &req.file_field {
            if ct.starts_with("multipart/") {
                // The file and nothing else (the emulator refuses other parts).
                media["schema"] = json!({"type": "object", "properties": { ff.clone(): request::file_part(req) }, "required": [ff], "additionalProperties": false});
            }
        }
        content.insert(ct.clone(), media);
    }
    let required = !req.content_types.iter().any(|c| c == "none");
    json!({"required": required, "content": content})
}
