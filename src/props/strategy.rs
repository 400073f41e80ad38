//! proptest strategies built from a spec's field schemas: values a conformant device must
//! accept, and values that break exactly one documented constraint (with the constraint
//! named), for every field type the spec language has.
//!
//! Only what the spec states is turned into an invalid value: a wrong type, a value outside
//! `min`/`max`, a length outside `min_len`/`max_len`, a value outside the enumeration, a
//! digit string with a letter in it, a boolean that is neither. Formats the documents do not
//! say a device checks (an IP address, a MAC, an e-mail) get valid values only.

use proptest::prelude::*;
use serde_json::{Map, Value};

use crate::spec::model::{Field, FieldType, Schema};
use crate::spec::Spec;

/// Nesting depth for objects inside objects.
const MAX_DEPTH: u32 = 3;

fn toml_json(v: &toml::Value) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// Text within the field's length bounds: letters, digits, spaces, and some non-ASCII
/// letters, so that devices see more than ASCII.
fn text(min: usize, max: usize) -> SBoxedStrategy<String> {
    let chars = prop_oneof![
        8 => proptest::char::range('a', 'z'),
        2 => proptest::char::range('A', 'Z'),
        2 => proptest::char::range('0', '9'),
        1 => Just(' '),
        1 => Just('é'),
        1 => Just('ß'),
        1 => Just('日'),
    ];
    proptest::collection::vec(chars, min..=max)
        .prop_map(|v| v.into_iter().collect::<String>())
        // Surrounding spaces are trimmed by many parsers (XML text, CSV): keep them inside.
        .prop_map(|s| {
            if s.starts_with(' ') || s.ends_with(' ') {
                s.replace(' ', "x")
            } else {
                s
            }
        })
        .sboxed()
}

fn length_bounds(f: &Field, default_max: usize) -> (usize, usize) {
    let min = f.min_len.unwrap_or(1) as usize;
    let max = f
        .max_len
        .map(|m| m as usize)
        .unwrap_or(default_max)
        .max(min);
    (min, max.min(min + 64))
}

/// A value the field accepts.
pub fn valid(spec: &Spec, f: &Field) -> SBoxedStrategy<Value> {
    valid_at(spec, f, 0)
}

fn valid_at(spec: &Spec, f: &Field, depth: u32) -> SBoxedStrategy<Value> {
    if !f.enum_values.is_empty() {
        let values: Vec<Value> = f.enum_values.iter().map(toml_json).collect();
        return proptest::sample::select(values).sboxed();
    }
    match f.ty {
        FieldType::Integer => {
            let lo = f.min.map(|m| m.ceil() as i64).unwrap_or(-1_000_000);
            let hi = f.max.map(|m| m.floor() as i64).unwrap_or(1_000_000).max(lo);
            (lo..=hi).prop_map(Value::from).sboxed()
        }
        FieldType::Number => {
            let lo = f.min.unwrap_or(-1e6);
            let hi = f.max.unwrap_or(1e6).max(lo);
            (lo..=hi)
                .prop_map(|n| {
                    serde_json::Number::from_f64((n * 1000.0).round() / 1000.0)
                        .map(Value::Number)
                        .unwrap_or(Value::from(0))
                })
                .sboxed()
        }
        FieldType::Boolean => any::<bool>().prop_map(Value::Bool).sboxed(),
        FieldType::Digits => {
            let (min, max) = length_bounds(f, 12);
            proptest::collection::vec(proptest::char::range('0', '9'), min.max(1)..=max.max(1))
                .prop_map(|v| Value::String(v.into_iter().collect()))
                .sboxed()
        }
        FieldType::Ip => (1u8..=223, any::<u8>(), any::<u8>(), 1u8..=254)
            .prop_map(|(a, b, c, d)| Value::String(format!("{a}.{b}.{c}.{d}")))
            .sboxed(),
        FieldType::Mac => proptest::array::uniform6(any::<u8>())
            .prop_map(|b| {
                Value::String(
                    b.iter()
                        .map(|x| format!("{x:02x}"))
                        .collect::<Vec<_>>()
                        .join(":"),
                )
            })
            .sboxed(),
        FieldType::Uuid => any::<u128>()
            .prop_map(|n| {
                let h = format!("{n:032x}");
                Value::String(format!(
                    "{}-{}-4{}-8{}-{}",
                    &h[0..8],
                    &h[8..12],
                    &h[13..16],
                    &h[17..20],
                    &h[20..32]
                ))
            })
            .sboxed(),
        FieldType::Hostname => ("[a-z][a-z0-9]{0,9}", "[a-z]{2,6}")
            .prop_map(|(a, b)| Value::String(format!("{a}.example.{b}")))
            .sboxed(),
        FieldType::Email => "[a-z][a-z0-9]{0,9}"
            .prop_map(|u| Value::String(format!("{u}@example.com")))
            .sboxed(),
        FieldType::Datetime => (2000u32..2099, 1u32..=12, 1u32..=28, 0u32..24, 0u32..60)
            .prop_map(|(y, mo, d, h, mi)| {
                Value::String(format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:00Z"))
            })
            .sboxed(),
        FieldType::Date => (2000u32..2099, 1u32..=12, 1u32..=28)
            .prop_map(|(y, mo, d)| Value::String(format!("{y:04}-{mo:02}-{d:02}")))
            .sboxed(),
        FieldType::String => {
            let (min, max) = length_bounds(f, 24);
            text(min, max).prop_map(Value::String).sboxed()
        }
        FieldType::Object => match f.schema.as_ref().and_then(|s| spec.schema(s.get_ref())) {
            Some(sub) if depth < MAX_DEPTH => object_at(spec, sub, depth + 1)
                .prop_map(Value::Object)
                .sboxed(),
            _ => Just(Value::Object(Map::new())).sboxed(),
        },
        FieldType::Array => {
            let item = f.element();
            // A required list has an element: XML and CSV cannot carry an empty one, so an
            // empty list reads as a missing field.
            let min = usize::from(f.required);
            proptest::collection::vec(valid_at(spec, &item, depth + 1), min..3)
                .prop_map(Value::Array)
                .sboxed()
        }
        FieldType::Enum => Just(Value::String(String::new())).sboxed(),
        FieldType::Binary | FieldType::Any => text(1, 16).prop_map(Value::String).sboxed(),
    }
}

/// An invalid value and the constraint it breaks, e.g. `` `port` above its maximum 65535 ``.
type Invalid = SBoxedStrategy<(Value, String)>;

/// A value that breaks one documented constraint of the field, with the constraint's name.
/// `None` when the spec states no constraint a value can break (free text, `any`).
pub fn invalid(f: &Field) -> Option<SBoxedStrategy<(Value, String)>> {
    let name = f.name.get_ref();
    let mut options: Vec<Invalid> = match f.ty {
        FieldType::Integer | FieldType::Number => not_in_range(f, name),
        FieldType::Boolean => vec![not_boolean(name)],
        FieldType::Digits => not_digits(name),
        FieldType::Ip
        | FieldType::Mac
        | FieldType::Uuid
        | FieldType::Datetime
        | FieldType::Date => vec![malformed(f.ty, name)],
        FieldType::Object => vec![not_object(name)],
        _ => Vec::new(),
    };
    if !f.enum_values.is_empty() {
        options.push(outside_enum(f, name));
    }
    if f.ty.is_texty() {
        options.extend(wrong_length(f, name));
    }
    if options.is_empty() {
        None
    } else {
        Some(proptest::strategy::Union::new(options).sboxed())
    }
}

/// For a number: a fraction where an integer is due, text, and values beyond `min`/`max`.
fn not_in_range(f: &Field, name: &str) -> Vec<Invalid> {
    let mut options = Vec::new();
    if f.ty == FieldType::Integer {
        let n = name.to_owned();
        options.push(
            (-1000i64..1000)
                .prop_map(move |x| {
                    (
                        Value::from(x as f64 + 0.5),
                        format!("`{n}` is not an integer"),
                    )
                })
                .sboxed(),
        );
    }
    let n = name.to_owned();
    options.push(
        "[a-z]{1,6}"
            .prop_map(move |s| (Value::String(s), format!("`{n}` is not a number")))
            .sboxed(),
    );
    if let Some(min) = f.min {
        let n = name.to_owned();
        options.push(
            (1i64..1000)
                .prop_map(move |d| {
                    (
                        Value::from(min.floor() as i64 - d),
                        format!("`{n}` below its minimum {min}"),
                    )
                })
                .sboxed(),
        );
    }
    if let Some(max) = f.max {
        let n = name.to_owned();
        options.push(
            (1i64..1000)
                .prop_map(move |d| {
                    (
                        Value::from(max.ceil() as i64 + d),
                        format!("`{n}` above its maximum {max}"),
                    )
                })
                .sboxed(),
        );
    }
    options
}

/// For a boolean: text that is neither `true` nor `false`.
fn not_boolean(name: &str) -> Invalid {
    let n = name.to_owned();
    prop_oneof![Just("maybe"), Just("2"), Just("yes!")]
        .prop_map(move |s| (Value::String(s.into()), format!("`{n}` is not a boolean")))
        .sboxed()
}

/// For a digit string: a non-ASCII digit or control character, or a letter or sign, among
/// the digits.
fn not_digits(name: &str) -> Vec<Invalid> {
    let n = name.to_owned();
    // Digits outside ASCII and control characters: text a lax check takes for a
    // number. Between digits, since XML may trim whitespace at the edges.
    let lookalike = (
        "[0-9]{1,3}",
        proptest::sample::select(vec!["١", "٣", "０", "９", "\u{0}", "\t", "\u{7f}"]),
        "[0-9]{1,3}",
    )
        .prop_map(move |(a, x, b)| {
            (
                Value::String(format!("{a}{x}{b}")),
                format!("`{n}` has a non-ASCII digit or a control character"),
            )
        })
        .sboxed();
    let n = name.to_owned();
    let letter = ("[0-9]{0,4}", "[a-zA-Z+#*]", "[0-9]{0,4}")
        .prop_map(move |(a, x, b)| {
            (
                Value::String(format!("{a}{x}{b}")),
                format!("`{n}` has a character that is not a digit"),
            )
        })
        .sboxed();
    vec![lookalike, letter]
}

/// For a formatted string (IP, MAC, UUID, date-time, date): a value of the wrong shape.
fn malformed(ty: FieldType, name: &str) -> Invalid {
    let n = name.to_owned();
    let broken: Vec<&'static str> = match ty {
        FieldType::Ip => vec![
            "999.1.1.1",
            "1.2.3",
            "a.b.c.d",
            "10.0.0.1\u{0}",
            "１０.０.０.１",
        ],
        FieldType::Mac => vec![
            "zz:zz:zz:zz:zz:zz",
            "00:11:22:33:44",
            "0011223344556677",
            "00:11:22:33:44:5\n",
        ],
        FieldType::Uuid => vec![
            "not-a-uuid",
            "123e4567-e89b-12d3-a456",
            "123e4567e89b12d3a456426614174000zz",
        ],
        FieldType::Datetime => {
            vec!["2024-13-45T25:61:00Z", "yesterday", "2024-01-01 00:00"]
        }
        _ => vec!["2024-13-45", "01/02/2024", "tomorrow"],
    };
    let broken: Vec<String> = broken.into_iter().map(str::to_string).collect();
    proptest::sample::select(broken)
        .prop_map(move |s| (Value::String(s), format!("`{n}` is not a valid {ty:?}")))
        .sboxed()
}

/// For an object: a number.
fn not_object(name: &str) -> Invalid {
    let n = name.to_owned();
    (1i64..100)
        .prop_map(move |x| (Value::from(x), format!("`{n}` is not an object")))
        .sboxed()
}

/// For an enumeration: a string that is none of its values.
fn outside_enum(f: &Field, name: &str) -> Invalid {
    let n = name.to_owned();
    let allowed: Vec<String> = f
        .enum_values
        .iter()
        .map(|e| match e {
            toml::Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect();
    "[a-z]{3,10}"
        .prop_filter("must not be an allowed value", move |s| {
            !allowed.contains(s)
        })
        .prop_map(move |s| {
            (
                Value::String(format!("dialtone-{s}")),
                format!("`{n}` outside its enumeration"),
            )
        })
        .sboxed()
}

/// For text: a string longer than `max_len` or shorter than a positive `min_len`.
fn wrong_length(f: &Field, name: &str) -> Vec<Invalid> {
    let mut options = Vec::new();
    if let Some(max) = f.max_len {
        let n = name.to_owned();
        let max = max as usize;
        options.push(
            (1usize..16)
                .prop_map(move |extra| {
                    (
                        Value::String("x".repeat(max + extra)),
                        format!("`{n}` longer than {max}"),
                    )
                })
                .sboxed(),
        );
    }
    if let Some(min) = f.min_len.filter(|m| *m > 0) {
        let n = name.to_owned();
        let min = min as usize;
        options.push(
            (0usize..min)
                .prop_map(move |len| {
                    (
                        Value::String("x".repeat(len)),
                        format!("`{n}` shorter than {min}"),
                    )
                })
                .sboxed(),
        );
    }
    options
}

/// A complete object for a schema: every field the client sends (server-assigned ones
/// left out), each from its valid strategy.
pub fn object(spec: &Spec, schema: &Schema) -> SBoxedStrategy<Map<String, Value>> {
    object_at(spec, schema, 0)
}

fn object_at(spec: &Spec, schema: &Schema, depth: u32) -> SBoxedStrategy<Map<String, Value>> {
    let fields: Vec<(String, SBoxedStrategy<Value>)> = schema
        .field
        .iter()
        .filter(|f| !f.server_assigned)
        .map(|f| (f.name.get_ref().clone(), valid_at(spec, f, depth)))
        .collect();
    let (names, strategies): (Vec<String>, Vec<SBoxedStrategy<Value>>) = fields.into_iter().unzip();
    strategies
        .prop_map(move |values| names.iter().cloned().zip(values).collect::<Map<_, _>>())
        .sboxed()
}
