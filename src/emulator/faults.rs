//! The fault catalogue: realistic device bugs the emulator can be told to commit.
//!
//! Each fault breaks one named rule. `violates` lists patterns of plan test IDs (`*` matches
//! any run of characters) that a conformant runner must report as failing when the fault is
//! on; the runner's fault test (issue 4) checks exactly that. A fault that cannot apply to
//! an API (no cursor, no jobs) lists no pattern for it, and `applies_to` says which APIs it
//! bites on.

use std::collections::BTreeSet;

/// One entry of the catalogue.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Fault {
    pub name: &'static str,
    pub description: &'static str,
    /// The rule family the fault breaks, in words.
    pub rule: &'static str,
    /// Test-ID patterns that must fail, per API (`api` is a bundled name or `*`).
    pub violates: &'static [(&'static str, &'static str)],
}

macro_rules! faults {
    ($( $id:ident = $name:literal : $desc:literal ; $rule:literal ; [ $( ($api:literal, $pat:literal) ),* $(,)? ] )*) => {
        /// Fault identifiers, one per catalogue entry.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum FaultId { $( $id ),* }
        pub const CATALOGUE: &[(FaultId, Fault)] = &[
            $( (FaultId::$id, Fault { name: $name, description: $desc, rule: $rule, violates: &[ $( ($api, $pat) ),* ] }) ),*
        ];
    };
}

faults! {
    SkipPrivilegeCheck = "skip-privilege-check":
        "The privilege check is missing on the first endpoint whose operations need more than the lowest role: any authenticated caller is served.";
        "matrix: a role below the operation's privilege is refused";
        [("mediant", "mediant/*/matrix/*"), ("sipxconfig", "sipxconfig/*/matrix/*"), ("rome", "rome/*/matrix/*"), ("roaming-profile", "roaming-profile/*/matrix/*/enterprise")]
    NotFoundForMethod = "404-for-405":
        "A method the resource lacks is answered 404 Not Found instead of 405.";
        "matrix: an unsupported method gets 405 Method Not Allowed";
        [("mediant", "mediant/*/matrix/*"), ("sipxconfig", "sipxconfig/*/matrix/*")]
    NoAllowHeader = "no-allow-header":
        "405 answers carry no Allow header.";
        "matrix: a 405 lists the resource's methods in Allow";
        [("mediant", "mediant/*/matrix/*"), ("sipxconfig", "sipxconfig/*/matrix/*")]
    BadCredentialsAccepted = "bad-credentials-accepted":
        "A known user name with a wrong password (or any bearer token) is treated as that user.";
        "auth: wrong credentials are refused";
        [("*", "*/matrix/*/bad-credentials")]
    CursorSkipsItem = "cursor-skips-item":
        "The next-page cursor points one item too far, so one item at every page boundary is never listed.";
        "cursor: a forward walk visits every item exactly once";
        [("mediant", "mediant/*/cursor/walk-forward")]
    MissingSentinel = "missing-sentinel":
        "The last page carries cursor value 0 instead of the -1 sentinel.";
        "cursor: the sentinel marks both ends";
        [("mediant", "mediant/*/cursor/sentinel")]
    LimitIgnored = "limit-ignored":
        "The limit (page size) parameter is ignored: a page holds up to 1000 items.";
        "cursor: a page never exceeds the limit";
        [("mediant", "mediant/*/cursor/limit"), ("sipxconfig", "sipxconfig/*/cursor/limit")]
    EmptyAs200 = "empty-as-200":
        "An empty result is answered 200 with an empty list instead of the documented empty status.";
        "cursor: an empty result has the documented status";
        [("mediant", "mediant/*/cursor/empty")]
    SkipCompleteness = "skip-completeness":
        "Required fields are not checked: a body missing one is accepted and stored with the field absent.";
        "completeness: a body without a required field is rejected and changes nothing";
        [("*", "*/completeness/*/omit-*")]
    SkipValueChecks = "skip-value-checks":
        "Field values are not checked: wrong types, numbers out of range, text out of its length bounds and values outside the enumeration are stored as sent.";
        "completeness: a value that breaks a documented field constraint is rejected and changes nothing";
        [("*", "*/property/*/invalid-rejected")]
    UpdateAppends = "update-appends":
        "An update appends to the stored lists and text instead of replacing them, so sending the same update twice changes the record again.";
        "behaviour: the same update sent twice leaves the state it left once";
        [("sipxconfig", "sipxconfig/*/property/*/idempotent"), ("roaming-profile", "roaming-profile/*/property/*/idempotent")]
    UpdateNotKept = "update-not-kept":
        "An update is answered as a success, but nothing is stored: a read-back shows the old values.";
        "behaviour: what a successful write stores reads back";
        [("sipxconfig", "sipxconfig/*/put-round-trip"), ("roaming-profile", "roaming-profile/modify/partial")]
    ListReversed = "list-reversed":
        "Lists are served back to front: a listing in a documented order comes in the other.";
        "behaviour: a listing is in its documented order";
        [("sipxconfig", "sipxconfig/phone-groups/weight-order")]
    DropOptionalField = "drop-optional-field":
        "Every optional field of a documented record is left out of read answers; the required ones stay.";
        "format: an answer carries the fields the document lists for it";
        [("mediant", "mediant/kpi/current/applications"), ("sipxconfig", "sipxconfig/branch/list-item-fields")]
    PartialApply = "partial-apply":
        "A many-row upload is applied row by row and stops at the first bad row, leaving the rows before it applied.";
        "completeness: an invalid upload is rejected as a whole and changes nothing";
        [("rome", "rome/case/replace-bad-row")]
    WrongErrorEnvelope = "wrong-error-envelope":
        "Error answers are sent as bare text/plain instead of the API's error envelope.";
        "envelope: errors use the documented envelope";
        [("mediant", "mediant/envelope/error-shape"), ("roaming-profile", "roaming-profile/envelope/error-shape")]
    SwappedResultCode = "swapped-result-code":
        "Update answers carry the create operation's success code (e.g. 1201 for a modify).";
        "codes: each operation answers its own documented result code";
        [("roaming-profile", "roaming-profile/modify/*"), ("sipxconfig", "sipxconfig/*/PUT/*")]
    MalformedXml500 = "malformed-xml-500":
        "A request body that is not well-formed XML crashes the handler: 500 Internal Server Error.";
        "robustness: a malformed body gets the API's 4xx, never a 5xx";
        [("sipxconfig", "sipxconfig/*/robustness/*/malformed-body"), ("rome", "rome/*/robustness/*/malformed-body")]
    MalformedJson500 = "malformed-json-500":
        "A request body that is not well-formed JSON crashes the handler: 500 Internal Server Error.";
        "robustness: a malformed body gets the API's 4xx, never a 5xx";
        [("mediant", "mediant/*/robustness/*/malformed-body"), ("roaming-profile", "roaming-profile/*/robustness/*/malformed-body")]
    BadCursor500 = "bad-cursor-500":
        "A cursor or paging parameter that does not parse (a non-numeric cursor, a negative limit) crashes the list handler: 500 Internal Server Error.";
        "cursor: an invalid cursor or limit gets the documented invalid outcome, never a 5xx";
        [("mediant", "mediant/*/cursor/invalid")]
    XmlForJson = "xml-for-json":
        "Resources that can produce both XML and JSON always answer XML, even when JSON was asked for.";
        "format: the representation asked for is the one served";
        [("sipxconfig", "sipxconfig/*/format/GET/xml-json-equivalent"), ("rome", "rome/*/format/GET/xml-json-equivalent")]
    IgnoreAccept = "ignore-accept":
        "The Accept header is ignored: a representation the client cannot take is served with 200 instead of 406.";
        "format: an Accept the resource cannot produce gets 406";
        [("mediant", "mediant/*/format/GET/not-acceptable")]
    StateIgnored = "state-ignored":
        "Device states (HA synchronisation, load-balance slave, special mode) are ignored: writes succeed in them.";
        "state: a write in a blocking device state is refused and changes nothing";
        [("mediant", "mediant/*/state/*"), ("rome", "rome/*/state/*")]
    JobNeverReady = "job-never-ready":
        "An asynchronous job (the debug file) stays pending forever.";
        "async: polling a started job ends in its done outcome";
        [("mediant", "mediant/job/*/flow")]
    DeleteReferenced = "delete-referenced":
        "An object still referenced by another is deleted anyway, leaving the reference dangling.";
        "reference: a referenced object cannot be deleted";
        [("roaming-profile", "roaming-profile/reference/*")]
    ClientIdsHonoured = "client-ids-honoured":
        "On create, an id sent by the client is used instead of being ignored, overwriting any row with that id.";
        "completeness: server-assigned fields are ignored on create";
        [("sipxconfig", "sipxconfig/case/branch-crud"), ("roaming-profile", "roaming-profile/*/completeness/*/full")]
    DropRequiredField = "drop-required-field":
        "The first resource whose answer has a required field (not its key) leaves that field out of every record it reads back.";
        "schema: every required field of a record is present";
        [("mediant", "mediant/*"), ("sipxconfig", "sipxconfig/*"), ("rome", "rome/*"), ("roaming-profile", "roaming-profile/*")]
    NumberAsString = "number-as-string":
        "The first resource whose records have a numeric field sends that number as a JSON string.";
        "schema: a field has its documented JSON type";
        [("mediant", "mediant/*"), ("sipxconfig", "sipxconfig/*"), ("rome", "rome/*")]
    ValueOutsideEnum = "value-outside-enum":
        "The first resource whose records have an enumerated field answers a value outside the enumeration.";
        "schema: an enumerated field holds one of its values";
        [("mediant", "mediant/*"), ("sipxconfig", "sipxconfig/*"), ("rome", "rome/*"), ("roaming-profile", "roaming-profile/*")]
    MalformedDate = "malformed-date":
        "The first resource whose records have a date answers a date with month 13, day 45 and hour 25.";
        "schema: a date or date-time field is a valid one";
        [("mediant", "mediant/*"), ("sipxconfig", "sipxconfig/*"), ("rome", "rome/*")]
    ListAsObject = "list-as-object":
        "The first list resource answers its first record alone, not a list.";
        "schema: a list answer is a list";
        [("mediant", "mediant/*"), ("sipxconfig", "sipxconfig/*"), ("rome", "rome/*"), ("roaming-profile", "roaming-profile/*")]
    ExtraWrapper = "extra-wrapper":
        "The first readable resource wraps its whole answer in one more object level.";
        "schema: the records sit where the response says";
        [("mediant", "mediant/*"), ("sipxconfig", "sipxconfig/*"), ("rome", "rome/*"), ("roaming-profile", "roaming-profile/*")]
    XmlElementRenamed = "xml-element-renamed":
        "XML answers of reads name their root element wrongly.";
        "schema: XML answers use the documented element names";
        [("sipxconfig", "sipxconfig/*"), ("rome", "rome/*")]
    CodeSwappedMessageKept = "code-swapped-message-kept":
        "Answers carrying a failure result code carry another documented code of the same status instead (a duplicate name answered as created), with the failure's message.";
        "codes: the result code identifies the outcome, whatever the message";
        [("roaming-profile", "roaming-profile/*")]
    MissingLocation = "missing-location":
        "Successful answers that must carry a Location header carry none.";
        "headers: a documented Location is present";
        [("mediant", "mediant/*")]
    LocationNowhere = "location-nowhere":
        "Location headers point to a path that does not exist.";
        "headers: a Location leads to something a GET can read";
        [("mediant", "mediant/*")]
    ErrorWithoutCode = "error-without-code":
        "Error answers (and failure codes in a success status) leave out the result code their envelope carries.";
        "envelope: an error carries its code";
        [("roaming-profile", "roaming-profile/*")]
    SuccessAsError = "success-as-error":
        "Successful reads answer with the API's error envelope instead of the documented body.";
        "schema: a success carries the documented body, not an error envelope";
        [("mediant", "mediant/*"), ("sipxconfig", "sipxconfig/*"), ("rome", "rome/*"), ("roaming-profile", "roaming-profile/*")]
    PathFilterIgnored = "path-filter-ignored":
        "A path parameter that selects records (registrations by IP, schedules by group) is ignored: every record is answered.";
        "behaviour: a selecting path parameter answers only the records it selects";
        [("sipxconfig", "sipxconfig/*/filter/*")]
    OversizeAccepted = "oversize-accepted":
        "The documented body-size limit is not enforced; an oversized body is read in full and processed.";
        "robustness: a body above the documented limit gets 413";
        [("*", "*/robustness/oversize")]
}

/// The response-oracle check (`Finding::check`) a body-level fault must trip in at least
/// one failing test, beside failing a test its `violates` patterns name.
pub const FINDINGS: &[(FaultId, &str)] = &[
    (FaultId::DropRequiredField, "required"),
    (FaultId::NumberAsString, "type"),
    (FaultId::ValueOutsideEnum, "enum"),
    (FaultId::MalformedDate, "format"),
    (FaultId::ListAsObject, "shape"),
    (FaultId::ExtraWrapper, "*"),
    (FaultId::XmlElementRenamed, "xml-element"),
    (FaultId::MissingLocation, "header"),
    (FaultId::LocationNowhere, "location"),
    (FaultId::ErrorWithoutCode, "envelope"),
    (FaultId::SuccessAsError, "*"),
];

impl FaultId {
    pub fn info(self) -> &'static Fault {
        &CATALOGUE
            .iter()
            .find(|(id, _)| *id == self)
            .expect("every id is in the catalogue")
            .1
    }
    pub fn by_name(name: &str) -> Option<FaultId> {
        CATALOGUE
            .iter()
            .find(|(_, f)| f.name == name)
            .map(|(id, _)| *id)
    }
}

/// The faults switched on in one emulator.
#[derive(Debug, Clone, Default)]
pub struct Faults(BTreeSet<FaultId>);

impl Faults {
    pub fn none() -> Faults {
        Faults::default()
    }
    /// Parse fault names; the error names the unknown one and lists the catalogue.
    pub fn parse<S: AsRef<str>>(names: &[S]) -> Result<Faults, String> {
        let mut set = BTreeSet::new();
        for n in names {
            let n = n.as_ref();
            match FaultId::by_name(n) {
                Some(id) => {
                    set.insert(id);
                }
                None => {
                    let known: Vec<&str> = CATALOGUE.iter().map(|(_, f)| f.name).collect();
                    let hint = crate::diag::did_you_mean(n, known.iter().copied())
                        .map(|s| format!(" (did you mean `{s}`?)"))
                        .unwrap_or_default();
                    return Err(format!(
                        "unknown fault `{n}`{hint}; `dialtone emulate --list-faults` lists the {} faults",
                        known.len()
                    ));
                }
            }
        }
        Ok(Faults(set))
    }
    pub fn on(&self, id: FaultId) -> bool {
        self.0.contains(&id)
    }
    pub fn iter(&self) -> impl Iterator<Item = FaultId> + '_ {
        self.0.iter().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_has_at_least_fifteen_distinct_faults() {
        assert!(CATALOGUE.len() >= 15, "{}", CATALOGUE.len());
        let names: BTreeSet<_> = CATALOGUE.iter().map(|(_, f)| f.name).collect();
        assert_eq!(names.len(), CATALOGUE.len());
        for (_, f) in CATALOGUE {
            assert!(!f.violates.is_empty(), "{} names no rule", f.name);
        }
    }

    #[test]
    fn unknown_fault_is_named_with_a_hint() {
        let e = Faults::parse(&["no-allow-headr"]).unwrap_err();
        assert!(
            e.contains("no-allow-headr") && e.contains("no-allow-header"),
            "{e}"
        );
        assert!(Faults::parse(&["limit-ignored"])
            .unwrap()
            .on(FaultId::LimitIgnored));
    }
}
