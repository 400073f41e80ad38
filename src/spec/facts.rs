//! Facts derived from a spec that more than one layer needs: the default error envelope,
//! item element names, collection keys, server-assigned fields, an endpoint's operation.
//!
//! The runner, the plan, the strategies and the emulator all read these here, so that
//! each is worked out once and the client and the server cannot disagree on them.

use super::model::*;
use super::Spec;

impl Spec {
    /// The envelope errors come in when an outcome names none: the one the matrix's
    /// not-found, forbidden or method-not-allowed answers name, else the first envelope
    /// that carries a message or a template.
    pub fn default_envelope(&self) -> Option<&Envelope> {
        let m = self.matrix();
        let named = [&m.not_found, &m.forbidden, &m.method_not_allowed]
            .iter()
            .find_map(|c| c.envelope.as_ref().map(|e| e.get_ref().clone()));
        named.and_then(|n| self.envelope(&n)).or_else(|| {
            self.envelopes()
                .find(|e| e.message_path.is_some() || e.template.is_some())
        })
    }

    /// What a body larger than the device accepts gets: the matrix's `payload_too_large`,
    /// else 413.
    pub fn payload_too_large(&self) -> Outcome {
        self.matrix()
            .payload_too_large
            .as_ref()
            .map(|c| c.expect.get_ref().clone())
            .unwrap_or(Outcome {
                status: 413,
                code: None,
            })
    }

    /// What a body of a media type `req` does not take gets: the matrix's
    /// `unsupported_media_type`, else the request's rejection, else 415.
    pub fn unsupported_media_type(&self, req: &Request) -> Outcome {
        self.matrix()
            .unsupported_media_type
            .as_ref()
            .map(|c| c.expect.get_ref().clone())
            .or_else(|| req.reject.as_ref().map(|r| r.get_ref().clone()))
            .unwrap_or(Outcome {
                status: 415,
                code: None,
            })
    }

    /// The schema of `op`'s request body, when it takes one.
    pub fn request_schema(&self, op: &Operation) -> Option<&Schema> {
        op.request
            .as_ref()
            .filter(|r| !r.empty)
            .and_then(|r| r.schema.as_ref())
            .and_then(|s| self.schema(s.get_ref()))
    }

    /// A collection's key fields: its own `key`, else its schema's fields marked `key`.
    pub fn collection_keys(&self, c: &Collection) -> Vec<String> {
        if !c.key.is_empty() {
            return c.key.clone();
        }
        self.schema(c.schema.get_ref())
            .map(|s| s.key_fields().map(str::to_string).collect())
            .unwrap_or_default()
    }

    /// The names of the fields the server assigns in a collection's records.
    pub fn server_assigned(&self, c: &Collection) -> std::collections::HashSet<&str> {
        self.schema(c.schema.get_ref())
            .map(|s| {
                s.field
                    .iter()
                    .filter(|f| f.server_assigned)
                    .map(|f| f.name.get_ref().as_str())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// For an `owned` endpoint whose path (or, without a path parameter, `op`'s example
    /// body) names a record: the user name of the account that owns the seed record the
    /// example names (`None` when it names none).
    pub fn example_owner(&self, ep: &Endpoint, op: &Operation) -> Option<String> {
        let owned = ep.owned.as_ref()?;
        let c = self.collection(ep.collection.as_ref()?.get_ref())?;
        let owner = c.owner.as_ref()?;
        let text = |v: &toml::Value| match v {
            toml::Value::String(s) => Some(s.clone()),
            toml::Value::Integer(i) => Some(i.to_string()),
            _ => None,
        };
        let keys = self.collection_keys(c);
        let assigns = ep.op.iter().any(|o| o.assign.is_some());
        let last = ep.params.keys().last().filter(|_| !assigns);
        let want = match owned.param.as_ref().or(last) {
            Some(name) => text(&ep.params.get(name)?.spec().example?)?,
            None => {
                let body = op.request.as_ref()?.example.as_ref()?;
                let v: serde_json::Value = serde_json::from_str(body).ok()?;
                let k = v.get(keys.first()?)?;
                k.as_str()
                    .map(str::to_string)
                    .or_else(|| k.as_i64().map(|i| i.to_string()))?
            }
        };
        let holds = |row: &toml::Value, fields: &[String]| {
            fields
                .iter()
                .any(|f| row.get(f).and_then(text).as_deref() == Some(want.as_str()))
        };
        let row = c.seed.iter().find(|r| holds(r, &keys)).or_else(|| {
            c.seed.iter().find(|r| {
                r.as_table()
                    .is_some_and(|t| t.values().any(|v| text(v).as_deref() == Some(&want)))
            })
        })?;
        let value = row.get(&owner.field).and_then(text)?;
        let Some(via) = owner.via.as_ref().and_then(|v| self.collection(v)) else {
            return Some(value);
        };
        let by = owner.by.as_deref().unwrap_or("username");
        let vkeys = self.collection_keys(via);
        via.seed
            .iter()
            .find(|r| {
                vkeys
                    .iter()
                    .any(|k| r.get(k).and_then(text).as_deref() == Some(value.as_str()))
            })
            .and_then(|r| r.get(by).and_then(text))
    }
}

impl Schema {
    /// The names of the fields marked `key`.
    pub fn key_fields(&self) -> impl Iterator<Item = &str> {
        self.field
            .iter()
            .filter(|f| f.key)
            .map(|f| f.name.get_ref().as_str())
    }
}

impl Field {
    /// The field one element of this list field is: its `items` type (text when it names
    /// none), with the list's own bounds and enumeration left to the list.
    pub fn element(&self) -> Field {
        Field {
            // Elements of a list of records are objects of the field's schema.
            ty: self.items.unwrap_or(if self.schema.is_some() {
                FieldType::Object
            } else {
                FieldType::String
            }),
            items: None,
            enum_values: vec![],
            min: None,
            max: None,
            min_len: None,
            max_len: None,
            ..self.clone()
        }
    }
}

/// What a write's path fills into the items of its body that leave it out, or give it as
/// `null` ([`Endpoint::path_fill`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathFill<'a> {
    /// The record's key fields: the path names the record (`/gateways/{gatewayId}`).
    Key,
    /// The field the parameter filters the collection by: the path names the records'
    /// owner (`/schedules/user/{userId}/personal` fills `userId`), not the record.
    Field(&'a str),
}

impl Endpoint {
    /// The endpoint's operation for `method`, if it has one.
    pub fn operation(&self, method: &str) -> Option<&Operation> {
        self.op.iter().find(|o| o.method.get_ref() == method)
    }

    /// The path parameter a write to the endpoint's collection takes a body field from, and
    /// the field it fills: the last one in the path other than the collection's scope.
    pub fn path_fill(&self, spec: &Spec) -> Option<(String, PathFill<'_>)> {
        let c = self.collection.as_ref()?.get_ref();
        let scope = spec.collection(c).and_then(|x| x.scope_param.clone());
        let names = super::template_params(self.path.get_ref()).ok()?;
        let name = names
            .into_iter()
            .rev()
            .find(|n| Some(n) != scope.as_ref())?;
        let fill = match self.params.get(&name) {
            Some(Param::Full(p)) => match &p.filter {
                Some(f) => PathFill::Field(&f.field),
                None => PathFill::Key,
            },
            _ => PathFill::Key,
        };
        Some((name, fill))
    }
}

impl Operation {
    /// The rejection of an invalid request: the request's `reject`, else 400.
    pub fn reject_outcome(&self) -> Outcome {
        self.request
            .as_ref()
            .and_then(|r| r.reject.as_ref())
            .map(|r| r.get_ref().clone())
            .unwrap_or(Outcome {
                status: 400,
                code: None,
            })
    }
}

impl Field {
    /// What a value this unique field already holds in another record gets: its
    /// `on_duplicate`, else 409.
    pub fn duplicate_outcome(&self) -> Outcome {
        self.on_duplicate
            .as_ref()
            .map(|o| o.get_ref().clone())
            .unwrap_or(Outcome {
                status: 409,
                code: None,
            })
    }
}

/// The element name of one item: the schema's XML element, else its name, else `item`.
pub fn item_name(schema: Option<&Schema>) -> String {
    schema
        .map(|s| {
            s.xml_element
                .clone()
                .unwrap_or_else(|| s.name.get_ref().clone())
        })
        .unwrap_or_else(|| "item".into())
}
