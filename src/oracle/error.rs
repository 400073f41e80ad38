//! Error answers: the API's error envelope and its documented codes; and errors that
//! travel with a success status (the roaming-profile API's result codes in a 200).

use serde_json::Value;

use super::body::{parse, pointer, Tree};
use super::{family, push, Answer, Finding, Oracle};
use crate::codec::get_path;
use crate::spec::model::*;

impl Oracle<'_> {
    /// The envelopes an error of `status` may come in: those of the codes documented with
    /// that status, then the API's default.
    fn error_envelopes(&self, status: u16) -> Vec<&Envelope> {
        let mut envs: Vec<&Envelope> = Vec::new();
        let named = self
            .spec
            .codes()
            .filter(|c| c.status == status)
            .filter_map(|c| c.envelope.as_ref())
            .filter_map(|e| self.spec.envelope(e.get_ref()));
        for e in named.chain(self.spec.default_envelope()) {
            if !envs.iter().any(|x| x.name.get_ref() == e.name.get_ref()) {
                envs.push(e);
            }
        }
        envs
    }

    /// A 4xx answer: in one of its envelopes, parsed, with the code and message the
    /// envelope names, and a code the spec documents for that status.
    pub(super) fn error(&self, op: Option<&Operation>, a: &Answer, out: &mut Vec<Finding>) {
        let mut envs = self.error_envelopes(a.status);
        // An operation's own envelope carries its errors too.
        let own = op
            .and_then(|o| o.response.as_ref())
            .and_then(|r| r.envelope.as_ref())
            .and_then(|e| self.spec.envelope(e.get_ref()));
        if let Some(e) = own {
            if !envs.iter().any(|x| x.name.get_ref() == e.name.get_ref()) {
                envs.push(e);
            }
        }
        if envs.is_empty() || a.body.is_empty() {
            // No documented error body, or none sent (HEAD, a bare status): the runner
            // judges the status.
            return;
        }
        let fam = family(a.content_type());
        let Some(env) = envs.iter().find(|e| family(&e.content_type) == fam) else {
            let wanted: Vec<String> = envs
                .iter()
                .map(|e| format!("{} ({})", e.name.get_ref(), e.content_type))
                .collect();
            out.push(self.finding(
                "envelope",
                "header:Content-Type",
                format!("an error body in {}", wanted.join(" or ")),
                Some(&Value::String(a.content_type().into())),
                format!("envelope {}", envs[0].name.get_ref()),
                envs[0].provenance.describe(),
            ));
            return;
        };
        self.in_envelope(env, a, out);
    }

    /// The body of an answer in `env`: it parses, sits under the envelope's root, and
    /// carries the code and message the envelope names.
    fn in_envelope(&self, env: &Envelope, a: &Answer, out: &mut Vec<Finding>) {
        let rule = || format!("envelope {}", env.name.get_ref());
        let src = || env.provenance.describe();
        let tree = match parse(&family(&env.content_type), a.body) {
            None => return,
            Some(Err(e)) => {
                let mut f = self.finding("parse", "", "a well-formed body", None, rule(), src());
                f.value = Some(e);
                out.push(f);
                return;
            }
            Some(Ok(t)) => t,
        };
        if let (Tree::Xml(root, _), Some(want)) = (&tree, &env.root) {
            if want != "*" && root != want {
                out.push(self.finding(
                    "xml-element",
                    &push("", root),
                    format!("the root element is `<{want}>`"),
                    Some(&Value::String(format!("<{root}>"))),
                    rule(),
                    src(),
                ));
                return;
            }
        }
        let v = tree.value();
        if let Some(p) = &env.message_path {
            if get_path(&v, p).is_none_or(|x| x.is_null()) {
                out.push(self.finding(
                    "envelope",
                    &pointer(p),
                    format!("the error carries its message at `{p}`"),
                    None,
                    rule(),
                    src(),
                ));
            }
        }
        let Some(p) = &env.code_path else { return };
        // A code is owed where the spec documents one for this status in this envelope.
        let owed = self.spec.codes().any(|c| {
            c.status == a.status
                && c.envelope.as_ref().map(|e| e.get_ref()) == Some(env.name.get_ref())
        });
        match get_path(&v, p).filter(|x| !x.is_null()) {
            None if !owed => {}
            None => out.push(self.finding(
                "envelope",
                &pointer(p),
                format!("the error carries its code at `{p}`"),
                None,
                rule(),
                src(),
            )),
            Some(code) => {
                let text = crate::spec::check::scalar_text(code).unwrap_or_default();
                match self.documented(&text, a.status) {
                    None => out.push(self.finding(
                        "code",
                        &pointer(p),
                        format!("a result code the spec documents with status {}", a.status),
                        Some(code),
                        rule(),
                        src(),
                    )),
                    // A code the spec ties to other operations only: a decision may accept
                    // it (a duplicate name on modify), so lenient mode notes it.
                    Some(c) if !self.for_this_operation(c) => out.push(self.lenient_note(self.finding(
                        "code",
                        &pointer(p),
                        format!(
                            "a result code documented for this operation (`{text}` is documented for {})",
                            c.operations
                                .iter()
                                .map(|o| format!("`{}`", o.get_ref()))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                        Some(code),
                        format!("code {}", c.id.get_ref()),
                        c.provenance.describe(),
                    ))),
                    Some(_) => {}
                }
            }
        }
    }

    /// `f` as a note in lenient mode, a breach under `--strict`.
    fn lenient_note(&self, mut f: Finding) -> Finding {
        if !self.mode.strict {
            f.severity = super::Severity::Note;
        }
        f
    }

    /// Whether `c` may answer the operation the request reached: it names no operations,
    /// names this one, or the request reached none.
    fn for_this_operation(&self, c: &Code) -> bool {
        match self.ep_id {
            Some(id) => c.operations.is_empty() || c.operations.iter().any(|o| o.get_ref() == id),
            None => true,
        }
    }

    /// The `[[code]]` whose value is `text` and whose status is `status`.
    fn documented(&self, text: &str, status: u16) -> Option<&Code> {
        self.spec
            .codes()
            .find(|c| c.status == status && c.value.as_deref().unwrap_or(c.id.get_ref()) == text)
    }

    /// A 2xx answer whose envelope carries a failure code is an error that travels with a
    /// success status: check it as an error, and not against the success schema. Returns
    /// whether it was one.
    pub(super) fn failure_in_success(
        &self,
        op: &Operation,
        a: &Answer,
        parsed: Option<&Result<Tree, String>>,
        out: &mut Vec<Finding>,
    ) -> bool {
        let env = op
            .response
            .as_ref()
            .and_then(|r| r.envelope.as_ref())
            .and_then(|e| self.spec.envelope(e.get_ref()));
        let Some(env) = env.filter(|e| e.code_path.is_some()) else {
            return false;
        };
        if family(a.content_type()) != family(&env.content_type) {
            return false;
        }
        let Some(Ok(tree)) = parsed else {
            return false;
        };
        let v = tree.value();
        let code = env
            .code_path
            .as_ref()
            .and_then(|p| get_path(&v, p))
            .and_then(crate::spec::check::scalar_text);
        let failure = code
            .and_then(|c| self.documented(&c, a.status))
            .is_some_and(|c| {
                !matches!(
                    c.class,
                    CodeClass::Success | CodeClass::Empty | CodeClass::Partial
                )
            });
        if failure {
            self.in_envelope(env, a, out);
        }
        failure
    }
}
