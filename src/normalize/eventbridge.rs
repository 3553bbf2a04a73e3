//! EventBridge events (`"source": "aws.ivs"`) as Firehose archives them: stage updates become
//! events under their canonical names, recording and composition state changes go to their own
//! tables, and other detail-types (channel events) are counted and skipped.

use serde_json::Value;

use super::{
    context, event_identity, required, Event, EventSource, Field, Fields, Flags, Normalized,
    Object, Record, Refusal, Unknowns, KNOWN_ERROR_CODES, KNOWN_EVENT_NAMES,
};

/// An `IVS Participant Recording State Change` event.
#[derive(Debug, Clone)]
pub struct Recording {
    pub eventbridge_id: String,
    pub stage_arn: String,
    pub session_id: String,
    pub participant_id: Option<String>,
    pub event_name: String,
    pub event_time_us: i64,
    pub recording_s3_bucket_name: Option<String>,
    pub recording_s3_key_prefix: Option<String>,
    pub raw_json: String,
}

/// An `IVS Composition State Change` event.
#[derive(Debug, Clone)]
pub struct Composition {
    pub eventbridge_id: String,
    pub composition_arn: String,
    pub stage_arn: Option<String>,
    pub session_id: Option<String>,
    pub event_name: String,
    pub event_time_us: i64,
    pub raw_json: String,
}

const ENVELOPE_FIELDS: [&str; 9] = [
    "version",
    "id",
    "detail-type",
    "source",
    "account",
    "time",
    "region",
    "resources",
    "detail",
];

const STAGE_UPDATE_FIELDS: [&str; 8] = [
    "session_id",
    "event_name",
    "event_time",
    "user_id",
    "participant_id",
    "error_code",
    "destination_stage_arn",
    "destination_session_id",
];

/// The canonical event name of a stage update's `event_name`. Replication's wording is not
/// published, so any name that speaks of replication and of starting or stopping is taken;
/// anything else is kept as written.
pub fn canonical_name(event_name: &str) -> String {
    match event_name {
        "Participant Published" => return "PUBLISH_STARTED".into(),
        "Participant Unpublished" => return "PUBLISH_STOPPED".into(),
        "Participant Publish Error" => return "PUBLISH_ERROR".into(),
        _ => {}
    }
    let lower = event_name.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    if words.iter().any(|w| w.starts_with("replicat")) {
        if words.iter().any(|w| w.starts_with("start")) {
            return "REPLICATION_STARTED".into();
        }
        let stops = |w: &&str| w.starts_with("stop") || matches!(*w, "end" | "ended" | "ends");
        if words.iter().any(stops) {
            return "REPLICATION_STOPPED".into();
        }
    }
    event_name.to_string()
}

pub(super) fn normalize(envelope: &Fields, flags: &Flags) -> Result<Normalized, Refusal> {
    let detail_type = envelope.text("detail-type")?.unwrap_or_default();
    let stage_data = matches!(
        detail_type.as_str(),
        "IVS Stage Update"
            | "IVS Participant Recording State Change"
            | "IVS Composition State Change"
    );
    if envelope.text("source")?.as_deref() != Some("aws.ivs") || !stage_data {
        return Ok(Normalized {
            record: Record::Skipped,
            unknowns: Unknowns::default(),
        });
    }
    let id = required(
        envelope.text("id")?.filter(|id| !id.is_empty()),
        "envelope id",
        "the EventBridge event has no id",
    )?;
    let detail = match envelope.get("detail") {
        Some(Field::Json(Value::Object(detail))) => detail,
        _ => return Err("detail: expected an object".into()),
    };
    let detail = Fields {
        object: Object::Map(detail),
        raw: &[],
    };
    let resource = first_resource(envelope)?;
    let time = match detail.time("event_time")? {
        Some(t) => t,
        None => envelope
            .time("time")?
            .ok_or("no event time: neither detail.event_time nor time")?,
    };
    let event_name = detail.text("event_name")?.unwrap_or_default();
    let text = |key: &str| detail.text(key).map_err(|e| format!("detail.{e}"));

    match detail_type.as_str() {
        "IVS Stage Update" => {
            let unknown_fields = envelope.unknown_count(&ENVELOPE_FIELDS)
                + detail.unknown_count(&STAGE_UPDATE_FIELDS);
            let name = canonical_name(&event_name);
            if name.is_empty() {
                return Err("no event name: detail.event_name is missing".into());
            }
            let error_code = text("error_code")?;
            let (stage_arn, session_id) = stage_and_session(resource, text("session_id")?, flags)?;
            let participant_id = required(
                context(text("participant_id")?, None, &flags.participant_id, "")?,
                "participant id",
                "detail.participant_id is missing",
            )?;
            let unknowns = Unknowns {
                names: usize::from(!KNOWN_EVENT_NAMES.contains(&name.as_str())),
                error_codes: usize::from(
                    error_code
                        .as_deref()
                        .is_some_and(|c| !KNOWN_ERROR_CODES.contains(&c)),
                ),
                fields: unknown_fields,
            };
            let mut event = Event {
                source: EventSource::EventBridge,
                eventbridge_id: Some(id),
                user_id: text("user_id")?.filter(|u| !u.is_empty()),
                stage_arn,
                session_id,
                participant_id,
                name,
                event_time_us: time,
                remote_participant_id: None,
                error_code,
                destination_stage_arn: text("destination_stage_arn")?,
                destination_session_id: text("destination_session_id")?,
                replica: false,
                previous_token: None,
                new_token: None,
                // Kept only for its unknown fields: copying every envelope made reading an
                // EventBridge archive again 8% slower.
                raw_json: (unknown_fields > 0).then(|| envelope.raw_text()),
                identity: [0; 8],
            };
            event.identity = event_identity(&event);
            Ok(Normalized {
                record: Record::Event(Box::new(event)),
                unknowns,
            })
        }
        "IVS Participant Recording State Change" => {
            let (stage_arn, session_id) = stage_and_session(resource, text("session_id")?, flags)?;
            Ok(Normalized {
                record: Record::Recording(Box::new(Recording {
                    eventbridge_id: id,
                    stage_arn,
                    session_id,
                    participant_id: text("participant_id")?,
                    event_name,
                    event_time_us: time,
                    recording_s3_bucket_name: text("recording_s3_bucket_name")?,
                    recording_s3_key_prefix: text("recording_s3_key_prefix")?,
                    raw_json: envelope.raw_text(),
                })),
                unknowns: Unknowns::default(),
            })
        }
        _ => Ok(Normalized {
            record: Record::Composition(Box::new(Composition {
                eventbridge_id: id,
                composition_arn: required(resource, "composition ARN", "resources[0] is missing")?,
                stage_arn: text("stage_arn")?,
                session_id: text("session_id")?,
                event_name,
                event_time_us: time,
                raw_json: envelope.raw_text(),
            })),
            unknowns: Unknowns::default(),
        }),
    }
}

/// `resources[0]`: the stage ARN of stage updates and recording events.
fn first_resource(envelope: &Fields) -> Result<Option<String>, Refusal> {
    match envelope.get("resources") {
        None | Some(Field::Json(Value::Null)) => Ok(None),
        Some(Field::Json(Value::Array(items))) => match items.first() {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone()).filter(|s| !s.is_empty())),
            Some(other) => Err(format!("resources[0]: expected a string, found {other}").into()),
        },
        Some(other) => Err(format!("resources: expected an array, found {other}").into()),
    }
}

fn stage_and_session(
    resource: Option<String>,
    session_id: Option<String>,
    flags: &Flags,
) -> Result<(String, String), Refusal> {
    let stage = context(resource, None, &flags.stage_arn, "")?;
    let session = context(session_id, None, &flags.session_id, "")?;
    Ok((
        required(stage, "stage ARN", "resources[0] is missing").map_err(Refusal::NoContext)?,
        required(session, "session id", "detail.session_id is missing")
            .map_err(Refusal::NoContext)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stage_update_names() {
        assert_eq!(canonical_name("Participant Published"), "PUBLISH_STARTED");
        assert_eq!(canonical_name("Participant Unpublished"), "PUBLISH_STOPPED");
        assert_eq!(canonical_name("Participant Publish Error"), "PUBLISH_ERROR");
        assert_eq!(
            canonical_name("Participant Replication Started"),
            "REPLICATION_STARTED"
        );
        assert_eq!(
            canonical_name("participant replication END"),
            "REPLICATION_STOPPED"
        );
        assert_eq!(canonical_name("Participant Muted"), "Participant Muted");
        assert_eq!(
            canonical_name("Participant Replication Pending"),
            "Participant Replication Pending"
        );
    }
}
