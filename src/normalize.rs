//! Normalizing records: context filled in (record, then page, then command-line flags), times in
//! UTC microseconds, token contents canonical, and each event's identity computed from its content
//! so that the same event spelled differently is stored once.
//!
//! A record that cannot be stored (no participant id, name or time, an id of the wrong JSON type)
//! becomes a [`Reject`] with a reason; unknown names, error codes and fields are kept and counted.

mod eventbridge;

pub use eventbridge::{Composition, Recording};

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::formats::{Item, ItemKind, Member, Members, PageContext, Parsed};
use crate::timestamp;

/// Context given on the command line, used where neither the record nor its page names it.
#[derive(Debug, Default, Clone)]
pub struct Flags {
    pub stage_arn: Option<String>,
    pub session_id: Option<String>,
    pub participant_id: Option<String>,
}

impl Flags {
    /// The context as canonical JSON, as `imports.context` keeps it.
    pub fn to_json(&self) -> String {
        serde_json::json!({
            "stageArn": self.stage_arn,
            "sessionId": self.session_id,
            "participantId": self.participant_id,
        })
        .to_string()
    }

    /// This context where it is given, `fallback` where it is not.
    pub fn or(self, fallback: &Flags) -> Flags {
        Flags {
            stage_arn: self.stage_arn.or_else(|| fallback.stage_arn.clone()),
            session_id: self.session_id.or_else(|| fallback.session_id.clone()),
            participant_id: self
                .participant_id
                .or_else(|| fallback.participant_id.clone()),
        }
    }
}

/// Event names IVS documents; anything else is stored as written and counted as unknown.
pub const KNOWN_EVENT_NAMES: [&str; 12] = [
    "JOINED",
    "LEFT",
    "PUBLISH_STARTED",
    "PUBLISH_STOPPED",
    "SUBSCRIBE_STARTED",
    "SUBSCRIBE_STOPPED",
    "JOIN_ERROR",
    "PUBLISH_ERROR",
    "SUBSCRIBE_ERROR",
    "REPLICATION_STARTED",
    "REPLICATION_STOPPED",
    "TOKEN_EXCHANGED",
];

/// Error codes IVS documents.
pub const KNOWN_ERROR_CODES: [&str; 14] = [
    "INSUFFICIENT_CAPABILITIES",
    "QUOTA_EXCEEDED",
    "PUBLISHER_NOT_FOUND",
    "BITRATE_EXCEEDED",
    "RESOLUTION_EXCEEDED",
    "STREAM_DURATION_EXCEEDED",
    "INVALID_AUDIO_CODEC",
    "INVALID_VIDEO_CODEC",
    "INVALID_INPUT",
    "B_FRAME_PRESENT",
    "INVALID_PROTOCOL",
    "INVALID_STREAM_KEY",
    "REUSE_OF_STREAM_KEY",
    "INTERNAL_SERVER_EXCEPTION",
];

const EVENT_FIELDS: [&str; 12] = [
    "name",
    "participantId",
    "eventTime",
    "remoteParticipantId",
    "errorCode",
    "destinationStageArn",
    "destinationSessionId",
    "replica",
    "previousToken",
    "newToken",
    "stageArn",
    "sessionId",
];

const TOKEN_FIELDS: [&str; 4] = ["capabilities", "attributes", "userId", "expirationTime"];

/// An exchanged participant token, in canonical form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// Sorted, without repeats, as a JSON array; `None` when the token lists none (an empty
    /// list and an absent one are the same token).
    pub capabilities: Option<String>,
    pub user_id: Option<String>,
    /// JSON object with sorted keys; `None` for an empty or absent one.
    pub attributes: Option<String>,
    pub expiration_time_us: Option<i64>,
    /// Unknown fields, as a JSON object with sorted keys.
    pub extra_json: Option<String>,
}

impl Token {
    /// Content hash: equal tokens share one row.
    pub fn identity(&self) -> [u8; 16] {
        let digest = sha256_of_json(&(
            &self.capabilities,
            &self.user_id,
            &self.attributes,
            self.expiration_time_us,
            &self.extra_json,
        ));
        let mut identity = [0; 16];
        identity.copy_from_slice(&digest[..16]);
        identity
    }
}

/// Where an event came from. The two are never duplicates of each other: for one participant,
/// `Api` data, when there is any, is what the reports count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventSource {
    /// An IVS `Event` object: ListParticipantEvents pages, event NDJSON or arrays.
    Api,
    EventBridge,
}

impl EventSource {
    pub fn as_str(self) -> &'static str {
        match self {
            EventSource::Api => "api",
            EventSource::EventBridge => "eventbridge",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Event {
    pub source: EventSource,
    /// The EventBridge envelope `id`.
    pub eventbridge_id: Option<String>,
    /// The participant's user id, where the event tells it (EventBridge does).
    pub user_id: Option<String>,
    pub stage_arn: String,
    pub session_id: String,
    pub participant_id: String,
    pub name: String,
    pub event_time_us: i64,
    pub remote_participant_id: Option<String>,
    pub error_code: Option<String>,
    pub destination_stage_arn: Option<String>,
    pub destination_session_id: Option<String>,
    pub replica: bool,
    pub previous_token: Option<Token>,
    pub new_token: Option<Token>,
    /// The record as written, when it has fields the columns do not hold.
    pub raw_json: Option<String>,
    /// The first 64 bits of the SHA-256 of the canonical content: it tells apart events of one
    /// participant at one instant, the rest of their primary key being equal.
    pub identity: [u8; 8],
}

/// Participant details from GetParticipant / ListParticipants. `None` fields leave what the
/// database already holds unchanged.
#[derive(Debug, Clone, Default)]
pub struct Participant {
    pub stage_arn: String,
    pub session_id: String,
    pub participant_id: String,
    pub user_id: Option<String>,
    pub state: Option<String>,
    pub first_join_time_us: Option<i64>,
    pub attributes: Option<String>,
    pub published: Option<bool>,
    pub isp_name: Option<String>,
    pub os_name: Option<String>,
    pub os_version: Option<String>,
    pub browser_name: Option<String>,
    pub browser_version: Option<String>,
    pub sdk_version: Option<String>,
    pub protocol: Option<String>,
    pub recording_s3_bucket_name: Option<String>,
    pub recording_s3_prefix: Option<String>,
    pub recording_state: Option<String>,
    pub replication_type: Option<String>,
    pub replication_state: Option<String>,
    pub source_stage_arn: Option<String>,
    pub source_session_id: Option<String>,
    pub redundant_ingest: Option<bool>,
    pub ingest_configuration_arn: Option<String>,
    pub extra_json: Option<String>,
}

/// Session times from ListStageSessions / GetStageSession.
#[derive(Debug, Clone)]
pub struct Session {
    pub stage_arn: String,
    pub session_id: String,
    pub start_time_us: Option<i64>,
    pub end_time_us: Option<i64>,
}

/// A normalized record.
#[derive(Debug, Clone)]
pub enum Record {
    Event(Box<Event>),
    Participant(Box<Participant>),
    Session(Session),
    Recording(Box<eventbridge::Recording>),
    Composition(Box<eventbridge::Composition>),
    /// An EventBridge event that is not stage data (channel events and the like): counted only.
    Skipped,
}

/// What a record holds beyond what IVS documents.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Unknowns {
    pub names: usize,
    pub error_codes: usize,
    pub fields: usize,
}

impl std::ops::AddAssign for Unknowns {
    fn add_assign(&mut self, other: Self) {
        self.names += other.names;
        self.error_codes += other.error_codes;
        self.fields += other.fields;
    }
}

/// A normalized record and what it held that was unknown.
pub struct Normalized {
    pub record: Record,
    pub unknowns: Unknowns,
}

/// A record that could not be stored: where it was and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    pub position: String,
    pub reason: String,
    pub raw: String,
    /// Rejected only for want of a stage or session: a file of nothing else fails as a whole.
    pub missing_context: bool,
}

/// Why a record is refused, inside this module.
enum Refusal {
    Invalid(String),
    NoContext(String),
}

impl From<String> for Refusal {
    fn from(reason: String) -> Self {
        Refusal::Invalid(reason)
    }
}

impl From<&str> for Refusal {
    fn from(reason: &str) -> Self {
        Refusal::Invalid(reason.to_string())
    }
}

/// Normalizes one parsed item.
pub fn normalize(item: &Item<'_>, flags: &Flags) -> Result<Normalized, Reject> {
    let reject = |refusal: Refusal| {
        let (reason, missing_context) = match refusal {
            Refusal::Invalid(reason) => (reason, false),
            Refusal::NoContext(reason) => (reason, true),
        };
        Reject {
            position: item.position.to_string(),
            reason,
            raw: String::from_utf8_lossy(item.raw).into_owned(),
            missing_context,
        }
    };
    let Some(kind) = item.kind else {
        return Err(reject(Refusal::Invalid(
            "not an IVS event, participant or session record, nor a response holding them".into(),
        )));
    };
    let object = match &item.value {
        Parsed::Members(members) => Object::Members(members),
        Parsed::Value(Value::Object(map)) => Object::Map(map),
        Parsed::Value(other) => {
            return Err(reject(Refusal::Invalid(format!(
                "expected a JSON object, found {}",
                type_name(Field::of(other))
            ))))
        }
    };
    let fields = Fields {
        object,
        raw: item.raw,
    };
    let result = match kind {
        ItemKind::Event => event(&fields, &item.page, flags),
        ItemKind::Participant => participant(&fields, &item.page, flags),
        ItemKind::Session => session(&fields, &item.page, flags),
        ItemKind::EventBridge => eventbridge::normalize(&fields, flags),
    };
    result.map_err(reject)
}

/// A record's fields: the members of a record read in one pass, or a JSON object (a page's
/// record, a token, an EventBridge detail).
#[derive(Clone, Copy)]
enum Object<'a> {
    Members(&'a Members<'a>),
    Map(&'a Map<String, Value>),
}

/// One field's value as the typed accessors see it.
#[derive(Clone, Copy)]
enum Field<'a> {
    Text(&'a str),
    /// Any JSON value but a string.
    Json(&'a Value),
}

impl<'a> Field<'a> {
    fn of(value: &'a Value) -> Self {
        match value {
            Value::String(text) => Field::Text(text),
            other => Field::Json(other),
        }
    }

    fn of_member(member: &'a Member<'_>) -> Self {
        match member {
            Member::Text(text) => Field::Text(text),
            Member::Json(value) => Field::of(value),
        }
    }

    fn to_value(self) -> Value {
        match self {
            Field::Text(text) => Value::from(text),
            Field::Json(value) => value.clone(),
        }
    }
}

/// As JSON, the way error messages show a value.
impl std::fmt::Display for Field<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Field::Text(text) => write!(f, "{}", Value::from(*text)),
            Field::Json(value) => write!(f, "{value}"),
        }
    }
}

/// Typed access to a record's fields; errors name the field.
struct Fields<'a> {
    object: Object<'a>,
    /// The record's bytes as written.
    raw: &'a [u8],
}

impl<'a> Fields<'a> {
    /// The record as written, for keeping beside the columns.
    fn raw_text(&self) -> String {
        String::from_utf8_lossy(self.raw).into_owned()
    }

    fn get(&self, key: &str) -> Option<Field<'a>> {
        match self.object {
            Object::Members(members) => members.get(key).map(Field::of_member),
            Object::Map(map) => map.get(key).map(Field::of),
        }
    }

    /// A string field; JSON null and absence are the same (the CLI drops nulls).
    fn text(&self, key: &str) -> Result<Option<String>, String> {
        text_value(self.get(key), format_args!("{key}")).map(|t| t.map(str::to_owned))
    }

    fn boolean(&self, key: &str) -> Result<Option<bool>, String> {
        match self.get(key) {
            None | Some(Field::Json(Value::Null)) => Ok(None),
            Some(Field::Json(Value::Bool(b))) => Ok(Some(*b)),
            Some(other) => Err(format!("{key}: expected true or false, found {other}")),
        }
    }

    fn time(&self, key: &str) -> Result<Option<i64>, String> {
        time_value(self.get(key), key)
    }

    /// A JSON object, canonical (keys sorted).
    fn object_json(&self, key: &str) -> Result<Option<String>, String> {
        match self.get(key) {
            None | Some(Field::Json(Value::Null)) => Ok(None),
            Some(Field::Json(v @ Value::Object(_))) => Ok(Some(v.to_string())),
            Some(other) => Err(format!("{key}: expected an object, found {other}")),
        }
    }

    /// How many fields are not among `known`: counted without copying them.
    fn unknown_count(&self, known: &[&str]) -> usize {
        let unknown = |key: &str| !known.contains(&key);
        match self.object {
            Object::Members(members) => members.iter().filter(|(k, _)| unknown(k)).count(),
            Object::Map(map) => map.keys().filter(|k| unknown(k)).count(),
        }
    }

    fn unknown(&self, known: &[&str]) -> Map<String, Value> {
        let unknown = |key: &str| !known.contains(&key);
        match self.object {
            Object::Members(members) => members
                .iter()
                .filter(|(k, _)| unknown(k))
                .map(|(k, v)| (k.to_owned(), Field::of_member(v).to_value()))
                .collect(),
            Object::Map(map) => map
                .iter()
                .filter(|(k, _)| unknown(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        }
    }
}

/// `key` names the field in an error, and is spelled out only then.
fn text_value<'v>(
    value: Option<Field<'v>>,
    key: std::fmt::Arguments<'_>,
) -> Result<Option<&'v str>, String> {
    match value {
        None | Some(Field::Json(Value::Null)) => Ok(None),
        Some(Field::Text(s)) => Ok(Some(s)),
        Some(other) => Err(format!(
            "{key}: expected a string, found {} {other} (ids are kept as text, never converted)",
            type_name(other)
        )),
    }
}

fn time_value(value: Option<Field>, key: &str) -> Result<Option<i64>, String> {
    match value {
        None | Some(Field::Json(Value::Null)) => Ok(None),
        Some(Field::Text(s)) => timestamp::parse_rfc3339(s)
            .map(Some)
            .map_err(|e| format!("{key}: cannot read {s:?} as a time: {e}")),
        Some(Field::Json(Value::Number(n))) => n
            .as_f64()
            .ok_or_else(|| format!("{key}: {n} is not a number of seconds"))
            .and_then(|s| timestamp::from_epoch_seconds(s).map_err(|e| format!("{key}: {n}: {e}")))
            .map(Some),
        Some(other) => Err(format!("{key}: expected a time, found {other}")),
    }
}

fn type_name(value: Field) -> &'static str {
    match value {
        Field::Text(_) => "string",
        Field::Json(Value::Null) => "null",
        Field::Json(Value::Bool(_)) => "boolean",
        Field::Json(Value::Number(_)) => "number",
        Field::Json(Value::String(_)) => "string",
        Field::Json(Value::Array(_)) => "array",
        Field::Json(Value::Object(_)) => "object",
    }
}

/// Context by precedence: the record's own field, then the page's, then the flag. An empty
/// string counts as missing.
fn context(
    own: Option<String>,
    page: Option<&Value>,
    flag: &Option<String>,
    key: &str,
) -> Result<Option<String>, String> {
    let page = text_value(page.map(Field::of), format_args!("page {key}"))?;
    let given = |v: &&str| !v.is_empty();
    Ok(own
        .filter(|v| given(&v.as_str()))
        .or_else(|| page.filter(given).map(str::to_owned))
        .or_else(|| flag.as_deref().filter(given).map(str::to_owned)))
}

fn required(value: Option<String>, what: &str, how: &str) -> Result<String, String> {
    value.ok_or_else(|| format!("no {what}: {how}"))
}

fn stage_and_session(
    fields: &Fields,
    page: &PageContext,
    flags: &Flags,
) -> Result<(String, String), Refusal> {
    let stage = context(
        fields.text("stageArn")?,
        page.stage_arn.as_ref(),
        &flags.stage_arn,
        "stageArn",
    )?;
    let session = context(
        fields.text("sessionId")?,
        page.session_id.as_ref(),
        &flags.session_id,
        "sessionId",
    )?;
    let no_context = Refusal::NoContext;
    Ok((
        required(stage, "stage ARN", "give --stage-arn, or a stageArn key").map_err(no_context)?,
        required(
            session,
            "session id",
            "give --session-id, or a sessionId key",
        )
        .map_err(no_context)?,
    ))
}

fn event(fields: &Fields, page: &PageContext, flags: &Flags) -> Result<Normalized, Refusal> {
    // Context first: when it is missing, that is what the user must fix for every record.
    let (stage_arn, session_id) = stage_and_session(fields, page, flags)?;
    let name = required(
        fields.text("name")?.filter(|n| !n.is_empty()),
        "event name",
        "the record has no name",
    )?;
    let participant_id = context(
        fields.text("participantId")?,
        page.participant_id.as_ref(),
        &flags.participant_id,
        "participantId",
    )?;
    let participant_id = required(
        participant_id,
        "participant id",
        "the record has no participantId (give --participant-id for a page of one participant)",
    )?;
    let event_time_us = fields
        .time("eventTime")?
        .ok_or("no event time: the record has no eventTime")?;
    let error_code = fields.text("errorCode")?;
    let previous_token = token(fields.get("previousToken"), "previousToken")?;
    let new_token = token(fields.get("newToken"), "newToken")?;

    let unknown_fields = fields.unknown_count(&EVENT_FIELDS);
    let token_unknowns = [&previous_token, &new_token]
        .into_iter()
        .flatten()
        .filter_map(|t| t.extra_json.as_ref())
        .count();
    let unknowns = Unknowns {
        names: usize::from(!KNOWN_EVENT_NAMES.contains(&name.as_str())),
        error_codes: usize::from(
            error_code
                .as_deref()
                .is_some_and(|c| !KNOWN_ERROR_CODES.contains(&c)),
        ),
        fields: unknown_fields + token_unknowns,
    };
    let raw_json = (unknown_fields > 0).then(|| fields.raw_text());

    let mut event = Event {
        source: EventSource::Api,
        eventbridge_id: None,
        user_id: None,
        stage_arn,
        session_id,
        participant_id,
        name,
        event_time_us,
        remote_participant_id: fields.text("remoteParticipantId")?,
        error_code,
        destination_stage_arn: fields.text("destinationStageArn")?,
        destination_session_id: fields.text("destinationSessionId")?,
        replica: fields.boolean("replica")?.unwrap_or(false),
        previous_token,
        new_token,
        raw_json,
        identity: [0; 8],
    };
    event.identity = event_identity(&event);
    Ok(Normalized {
        record: Record::Event(Box::new(event)),
        unknowns,
    })
}

/// The identity covers every field the issue names; unknown extra fields are not part of it.
fn event_identity(e: &Event) -> [u8; 8] {
    let token = |t: &Option<Token>| t.as_ref().map(|t| crate::hex(&t.identity()));
    let digest = sha256_of_json(&(
        e.source.as_str(),
        &e.stage_arn,
        &e.session_id,
        &e.participant_id,
        &e.name,
        e.event_time_us,
        &e.remote_participant_id,
        &e.error_code,
        &e.destination_stage_arn,
        &e.destination_session_id,
        e.replica,
        token(&e.previous_token),
        token(&e.new_token),
    ));
    let mut identity = [0; 8];
    identity.copy_from_slice(&digest[..8]);
    identity
}

fn token(value: Option<Field>, key: &str) -> Result<Option<Token>, String> {
    let object = match value {
        None | Some(Field::Json(Value::Null)) => return Ok(None),
        Some(Field::Json(Value::Object(o))) => o,
        Some(other) => return Err(format!("{key}: expected an object, found {other}")),
    };
    let fields = Fields {
        object: Object::Map(object),
        raw: &[],
    };
    let capabilities = match object.get("capabilities") {
        None | Some(Value::Null) => None,
        Some(Value::Array(items)) => {
            let mut names = items
                .iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s.clone()),
                    other => Err(format!(
                        "{key}.capabilities: expected strings, found {other}"
                    )),
                })
                .collect::<Result<Vec<_>, _>>()?;
            names.sort();
            names.dedup();
            (!names.is_empty()).then(|| Value::from(names).to_string())
        }
        Some(other) => {
            return Err(format!(
                "{key}.capabilities: expected an array, found {other}"
            ))
        }
    };
    let extra = fields.unknown(&TOKEN_FIELDS);
    Ok(Some(Token {
        capabilities,
        user_id: fields.text("userId").map_err(|e| format!("{key}.{e}"))?,
        attributes: fields
            .object_json("attributes")
            .map_err(|e| format!("{key}.{e}"))?
            .filter(|a| a != "{}"),
        expiration_time_us: fields
            .time("expirationTime")
            .map_err(|e| format!("{key}.{e}"))?,
        extra_json: (!extra.is_empty()).then(|| Value::Object(extra).to_string()),
    }))
}

const PARTICIPANT_FIELDS: [&str; 24] = [
    "participantId",
    "userId",
    "state",
    "firstJoinTime",
    "attributes",
    "published",
    "ispName",
    "osName",
    "osVersion",
    "browserName",
    "browserVersion",
    "sdkVersion",
    "protocol",
    "recordingS3BucketName",
    "recordingS3Prefix",
    "recordingState",
    "replicationType",
    "replicationState",
    "sourceStageArn",
    "sourceSessionId",
    "redundantIngest",
    "ingestConfigurationArn",
    "stageArn",
    "sessionId",
];

fn participant(fields: &Fields, page: &PageContext, flags: &Flags) -> Result<Normalized, Refusal> {
    let participant_id = required(
        context(fields.text("participantId")?, None, &None, "participantId")?,
        "participant id",
        "the record has no participantId",
    )?;
    let (stage_arn, session_id) = stage_and_session(fields, page, flags)?;
    let extra = fields.unknown(&PARTICIPANT_FIELDS);
    let unknowns = Unknowns {
        fields: extra.len(),
        ..Unknowns::default()
    };
    let record = Participant {
        stage_arn,
        session_id,
        participant_id,
        user_id: fields.text("userId")?,
        state: fields.text("state")?,
        first_join_time_us: fields.time("firstJoinTime")?,
        attributes: fields.object_json("attributes")?,
        published: fields.boolean("published")?,
        isp_name: fields.text("ispName")?,
        os_name: fields.text("osName")?,
        os_version: fields.text("osVersion")?,
        browser_name: fields.text("browserName")?,
        browser_version: fields.text("browserVersion")?,
        sdk_version: fields.text("sdkVersion")?,
        protocol: fields.text("protocol")?,
        recording_s3_bucket_name: fields.text("recordingS3BucketName")?,
        recording_s3_prefix: fields.text("recordingS3Prefix")?,
        recording_state: fields.text("recordingState")?,
        replication_type: fields.text("replicationType")?,
        replication_state: fields.text("replicationState")?,
        source_stage_arn: fields.text("sourceStageArn")?,
        source_session_id: fields.text("sourceSessionId")?,
        redundant_ingest: fields.boolean("redundantIngest")?,
        ingest_configuration_arn: fields.text("ingestConfigurationArn")?,
        extra_json: (!extra.is_empty()).then(|| Value::Object(extra).to_string()),
    };
    Ok(Normalized {
        record: Record::Participant(Box::new(record)),
        unknowns,
    })
}

const SESSION_FIELDS: [&str; 4] = ["sessionId", "startTime", "endTime", "stageArn"];

fn session(fields: &Fields, page: &PageContext, flags: &Flags) -> Result<Normalized, Refusal> {
    let (stage_arn, session_id) = stage_and_session(fields, page, flags)?;
    let unknowns = Unknowns {
        fields: fields.unknown_count(&SESSION_FIELDS),
        ..Unknowns::default()
    };
    Ok(Normalized {
        record: Record::Session(Session {
            stage_arn,
            session_id,
            start_time_us: fields.time("startTime")?,
            end_time_us: fields.time("endTime")?,
        }),
        unknowns,
    })
}

/// The SHA-256 of `value` written as compact JSON (a tuple as an array), fed to the hash as it
/// is written: identities stored by earlier versions, which hashed the same text, still match.
fn sha256_of_json(value: &impl serde::Serialize) -> [u8; 32] {
    let mut hasher = Sha256::new();
    serde_json::to_writer(&mut hasher, value).expect("writing JSON to a hash cannot fail");
    hasher.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::Position;
    use std::rc::Rc;

    /// Normalizes `json` as the reader hands on a record of its own (its members, parsed in
    /// one pass) and as it hands on a page's record (a `Value`): the two must agree.
    fn normalized_with(json: &str, page: PageContext, flags: &Flags) -> Result<Normalized, Reject> {
        let page = Rc::new(page);
        let item = |value| Item {
            position: Position::Line(1),
            kind: Some(ItemKind::Event),
            value,
            raw: json.as_bytes(),
            page: page.clone(),
        };
        let members = Parsed::Members(Members::parse(json).unwrap());
        let as_members = normalize(&item(members), flags);
        let value = Parsed::Value(serde_json::from_str(json).unwrap());
        let as_value = normalize(&item(value), flags);
        let shown = |n: &Result<Normalized, Reject>| match n {
            Ok(n) => format!("{:?} {:?}", n.record, n.unknowns),
            Err(reject) => format!("{reject:?}"),
        };
        assert_eq!(shown(&as_members), shown(&as_value), "{json}");
        as_members
    }

    fn normalized(json: &str, flags: &Flags) -> Result<Normalized, Reject> {
        normalized_with(json, PageContext::default(), flags)
    }

    fn flags() -> Flags {
        Flags {
            stage_arn: Some("arn:aws:ivs:us-west-2:1:stage/a".into()),
            session_id: Some("st-1".into()),
            participant_id: None,
        }
    }

    fn event_of(json: &str) -> Event {
        match normalized(json, &flags()).unwrap().record {
            Record::Event(e) => *e,
            other => panic!("not an event: {other:?}"),
        }
    }

    #[test]
    fn one_instant_spelled_two_ways_has_one_identity() {
        let a =
            event_of(r#"{"name":"JOINED","participantId":"p","eventTime":"2025-06-02T14:00:01Z"}"#);
        let b = event_of(
            r#"{"eventTime":"2025-06-02 14:00:01.000000+00:00","participantId":"p","name":"JOINED"}"#,
        );
        assert_eq!(a.identity, b.identity);
    }

    /// Identities in databases written before they were hashed as a stream came from this text.
    #[test]
    fn identities_hash_the_json_text_earlier_versions_hashed() {
        let e = event_of(
            r#"{"name":"TOKEN_EXCHANGED","participantId":"p \"é\"\n","eventTime":"2025-06-02T14:00:01.5Z",
                "remoteParticipantId":"r","replica":true,
                "previousToken":{"userId":"u","capabilities":["PUBLISH"],"expirationTime":"2025-06-03T00:00:00Z"},
                "newToken":{"attributes":{"b":"1"},"x":2}}"#,
        );
        let token = |t: &Option<Token>| {
            t.as_ref().map(|t| {
                let text = serde_json::json!([
                    t.capabilities,
                    t.user_id,
                    t.attributes,
                    t.expiration_time_us,
                    t.extra_json
                ])
                .to_string();
                crate::hex(&Sha256::digest(text.as_bytes())[..16])
            })
        };
        let text = serde_json::json!([
            "api",
            e.stage_arn,
            e.session_id,
            e.participant_id,
            e.name,
            e.event_time_us,
            e.remote_participant_id,
            e.error_code,
            e.destination_stage_arn,
            e.destination_session_id,
            e.replica,
            token(&e.previous_token),
            token(&e.new_token),
        ])
        .to_string();
        assert!(text.contains(r#""p \"é\"\n""#), "{text}");
        assert_eq!(e.identity[..], Sha256::digest(text.as_bytes())[..8]);
    }

    #[test]
    fn token_contents_are_canonical() {
        let a = event_of(
            r#"{"name":"TOKEN_EXCHANGED","participantId":"p","eventTime":"2025-06-02T14:00:01Z",
                "newToken":{"capabilities":["SUBSCRIBE","PUBLISH"],"attributes":{"b":"1","a":"2"}}}"#,
        );
        let b = event_of(
            r#"{"name":"TOKEN_EXCHANGED","participantId":"p","eventTime":"2025-06-02T14:00:01Z",
                "newToken":{"attributes":{"a":"2","b":"1"},"capabilities":["PUBLISH","SUBSCRIBE"]}}"#,
        );
        assert_eq!(a.identity, b.identity);
        let token = a.new_token.unwrap();
        assert_eq!(
            token.capabilities.as_deref(),
            Some(r#"["PUBLISH","SUBSCRIBE"]"#)
        );
        assert_eq!(token.attributes.as_deref(), Some(r#"{"a":"2","b":"1"}"#));
    }

    #[test]
    fn numeric_looking_ids_stay_distinct_text() {
        let a = event_of(
            r#"{"name":"LEFT","participantId":"000123","eventTime":"2025-06-02T14:00:01Z"}"#,
        );
        let b =
            event_of(r#"{"name":"LEFT","participantId":"123","eventTime":"2025-06-02T14:00:01Z"}"#);
        assert_eq!(a.participant_id, "000123");
        assert_ne!(a.identity, b.identity);
    }

    #[test]
    fn a_number_where_an_id_belongs_is_a_reject() {
        let err = normalized(
            r#"{"name":"LEFT","participantId":123,"eventTime":"2025-06-02T14:00:01Z"}"#,
            &flags(),
        )
        .err()
        .unwrap();
        assert!(
            err.reason.starts_with("participantId: expected a string"),
            "{}",
            err.reason
        );
    }

    #[test]
    fn missing_pieces_are_rejects_with_reasons() {
        let reason = |json: &str| normalized(json, &flags()).err().unwrap().reason;
        assert!(
            reason(r#"{"participantId":"p","eventTime":"2025-06-02T14:00:01Z"}"#)
                .starts_with("no event name")
        );
        assert!(
            reason(r#"{"name":"LEFT","participantId":"","eventTime":"2025-06-02T14:00:01Z"}"#)
                .starts_with("no participant id")
        );
        assert!(
            reason(r#"{"name":"LEFT","participantId":"p","eventTime":"2025-06-02T14:00:01"}"#)
                .contains("no UTC offset")
        );
        let no_context = normalized(
            r#"{"name":"LEFT","participantId":"p","eventTime":"2025-06-02T14:00:01Z"}"#,
            &Flags::default(),
        );
        assert!(no_context.err().unwrap().reason.contains("--stage-arn"));
    }

    #[test]
    fn record_wins_over_page_wins_over_flags() {
        let page = PageContext {
            stage_arn: Some("arn:page".into()),
            session_id: Some("st-page".into()),
            participant_id: None,
        };
        let json = r#"{"name":"LEFT","participantId":"p","eventTime":"2025-06-02T14:00:01Z","sessionId":"st-own"}"#;
        let Record::Event(e) = normalized_with(json, page, &flags()).unwrap().record else {
            panic!()
        };
        assert_eq!(
            (e.stage_arn.as_str(), e.session_id.as_str()),
            ("arn:page", "st-own")
        );
    }

    #[test]
    fn unknown_values_are_counted_and_the_raw_record_kept() {
        let n = normalized(r#"{"name":"PARTICIPANT_MUTED","participantId":"p","eventTime":"2025-06-02T14:00:01Z","errorCode":"NEW_CODE","muteReason":"x"}"#, &flags(),
        )
        .unwrap();
        assert_eq!(
            n.unknowns,
            Unknowns {
                names: 1,
                error_codes: 1,
                fields: 1
            }
        );
        let Record::Event(e) = n.record else { panic!() };
        assert!(e.raw_json.unwrap().contains("muteReason"));
    }
}
