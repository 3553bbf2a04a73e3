//! Issue 3: importing from real pipelines. EventBridge / Firehose archives, directories, gzip,
//! context from paths, messy files, strict mode, and the safety of nightly runs.
//!
//! Fixtures: `tests/fixtures/pipelines/` (see its README.md for what each file holds and how the
//! binary ones were made). Every expected value is worked out by hand from the issue's text and
//! the fixture; the comments show the arithmetic.

use super::*;

const ARN_PREFIX: &str = "arn:aws:ivs:us-west-2:111122223333:stage/";
/// EventBridge fixtures: `pipelines/eventbridge/`.
const STAGE_E: &str = "arn:aws:ivs:us-west-2:111122223333:stage/StgE0000eeee";
const E1: &str = "st-E1bridge00001";
/// Coverage fixtures: `pipelines/coverage/`.
const STAGE_V: &str = "arn:aws:ivs:us-west-2:111122223333:stage/StgV0000vvvv";
const V1: &str = "st-V1covered0001";
const V2: &str = "st-V2lateend0002";
/// Messy files, pages and strict mode: context from the flags.
const STAGE_M: &str = "arn:aws:ivs:us-west-2:111122223333:stage/StgM0000mmmm";
const M1: &str = "st-M1messy000001";
const M2: &str = "st-M2times000002";
const M3: &str = "st-M3pages000003";

fn pipeline(name: &str) -> String {
    fixture(&format!("pipelines/{name}"))
}

/// The context flags for stage M and one of its sessions.
fn m_flags(session: &str) -> [&str; 4] {
    ["--stage-arn", STAGE_M, "--session-id", session]
}

/// A direct SQLite connection to a test database, as another program (or `sqlite3`) would hold.
fn sqlite(s: &Stagelog) -> rusqlite::Connection {
    rusqlite::Connection::open(&s.db).expect("rusqlite opens the test database")
}

/// `<db>-wal`, `<db>-shm`, `<db>-journal` that exist.
fn side_files(db: &Path) -> Vec<String> {
    ["-wal", "-shm", "-journal"]
        .iter()
        .map(|suffix| format!("{}{suffix}", db.display()))
        .filter(|p| Path::new(p).exists())
        .collect()
}

/// The migrations in `migrations/` as (version, name), by version: the schema this binary
/// reaches. Read from the folder so that a new migration does not break these tests.
fn migration_files() -> Vec<(i64, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let mut found: Vec<(i64, String)> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            let stem = name.strip_suffix(".sql")?.strip_prefix('V')?;
            let (version, title) = stem.split_once("__")?;
            Some((version.parse().ok()?, title.to_string()))
        })
        .collect();
    found.sort();
    found
}

/// Per-file figures from `imports`, by path suffix, in import order.
fn import_counts(s: &Stagelog, suffix: &str) -> Vec<Value> {
    s.sql(
        "SELECT records_read AS r, records_inserted AS i, records_duplicate AS d, \
                records_rejected AS x, records_skipped AS k \
         FROM imports WHERE path LIKE :p ORDER BY import_key",
        &[("p", &format!("%{suffix}"))],
    )
}

fn counts_row(r: i64, i: i64, d: i64, x: i64, k: i64) -> Value {
    json!({"r": r, "i": i, "d": d, "x": x, "k": k})
}

/// One session-quality row (all 18 columns).
#[allow(clippy::too_many_arguments)]
fn quality_row(
    stage_arn: &str,
    session_id: &str,
    started_at: &str,
    ended_at: &str,
    duration_s: f64,
    (participants, joined_participants, join_errors): (i64, i64, i64),
    join_success_rate: Value,
    (reconnects, publishers, publish_errors, subscribe_errors): (i64, i64, i64, i64),
    (connected_seconds, publish_seconds, subscribe_seconds): (f64, f64, f64),
    median_time_to_publish_s: Value,
    error_rate: Value,
) -> Value {
    json!({
        "stage_arn": stage_arn,
        "session_id": session_id,
        "started_at": started_at,
        "ended_at": ended_at,
        "duration_s": duration_s,
        "participants": participants,
        "joined_participants": joined_participants,
        "join_errors": join_errors,
        "join_success_rate": join_success_rate,
        "reconnects": reconnects,
        "publishers": publishers,
        "publish_errors": publish_errors,
        "subscribe_errors": subscribe_errors,
        "connected_seconds": connected_seconds,
        "publish_seconds": publish_seconds,
        "subscribe_seconds": subscribe_seconds,
        "median_time_to_publish_s": median_time_to_publish_s,
        "error_rate": error_rate,
    })
}

/// Events of one session with where they came from, in time order.
fn session_events(s: &Stagelog, session: &str) -> Vec<Value> {
    s.sql(
        "SELECT l.stage_arn, l.participant_id, l.name, l.event_time, l.remote_participant_id \
                AS remote, l.error_code, l.destination_stage_arn AS dest_stage, \
                l.destination_session_id AS dest_session, l.source, l.covered, l.eventbridge_id \
         FROM event_list l \
         WHERE l.session_id = :s ORDER BY l.event_time_us, l.participant_id, l.name",
        &[("s", session)],
    )
}

// ---------------------------------------------------------------------------------------------
// EventBridge
// ---------------------------------------------------------------------------------------------

/// `pipelines/eventbridge/stage-events.*` hold the same nine envelopes: six `IVS Stage Update`s,
/// a recording and a composition state change, and a channel event.
fn expected_eventbridge_events() -> Vec<Value> {
    let row =
        |participant: &str, name: &str, time: &str, error_code: Value, dest: bool, id: &str| {
            json!({
                // resources[0]; detail.session_id is the session (selected by).
                "stage_arn": STAGE_E,
                "participant_id": participant,
                "name": name,
                "event_time": time,
                "remote": null,
                "error_code": error_code,
                "dest_stage": if dest { json!(STAGE_B) } else { Value::Null },
                "dest_session": if dest { json!("st-E9replica0009") } else { Value::Null },
                "source": "eventbridge",
                "covered": 0, // no API data for anyone in this session
                "eventbridge_id": id,
            })
        };
    vec![
        // `Participant Published`; detail.event_time 10:00:00 wins over the envelope's 10:00:02.
        row(
            "Eve000000021",
            "PUBLISH_STARTED",
            "2026-03-06T10:00:00.000000Z",
            Value::Null,
            false,
            "eb-0001-published",
        ),
        // `Participant Publish Error` with detail.error_code; no detail.event_time, so the
        // envelope time 10:01:00.
        row(
            "Rtmp00000022",
            "PUBLISH_ERROR",
            "2026-03-06T10:01:00.000000Z",
            json!("INVALID_STREAM_KEY"),
            false,
            "eb-0002-publish-error",
        ),
        // `Participant Replication Started`, destination from detail.destination_*.
        row(
            "Eve000000021",
            "REPLICATION_STARTED",
            "2026-03-06T10:02:00.000000Z",
            Value::Null,
            true,
            "eb-0003-replication-start",
        ),
        // An event_name stagelog does not know: kept as written.
        row(
            "Mute00000023",
            "Participant Muted",
            "2026-03-06T10:03:00.000000Z",
            Value::Null,
            false,
            "eb-0004-muted",
        ),
        // `PARTICIPANT REPLICATION STOPPED`: replication and stop, matched case-insensitively.
        row(
            "Eve000000021",
            "REPLICATION_STOPPED",
            "2026-03-06T10:04:30.000000Z",
            Value::Null,
            true,
            "eb-0005-replication-stop",
        ),
        // `Participant Unpublished`.
        row(
            "Eve000000021",
            "PUBLISH_STOPPED",
            "2026-03-06T10:05:00.000000Z",
            Value::Null,
            false,
            "eb-0006-unpublished",
        ),
    ]
}

fn expected_eventbridge_quality() -> Value {
    quality_row(
        STAGE_E,
        E1,
        "2026-03-06T10:00:00.000Z", // Eve's Published
        "2026-03-06T10:05:00.000Z", // Eve's Unpublished
        300.0,
        // Eve, Rtmp, Mute; EventBridge has no joins.
        (3, 0, 0),
        Value::Null, // 0 / 0
        // publishers: Eve; publish_errors: Rtmp's INVALID_STREAM_KEY.
        (0, 1, 1, 0),
        // Connected 0 (no JOINED); publishing Eve 10:00:00 → 10:05:00 = 300; subscribed 0.
        (0.0, 300.0, 0.0),
        Value::Null, // no publisher has a JOINED
        json!(0.5),  // 1 error / (PUBLISH_STARTED 1 + PUBLISH_ERROR 1)
    )
}

#[test]
fn eventbridge_one_per_line_in_an_array_and_firehose_gzipped_give_the_same_events() {
    for file in [
        "eventbridge/stage-events.ndjson",
        "eventbridge/stage-events.array.json",
        // `}{` with no separator, gzipped, named as Firehose names its objects (no .json).
        "eventbridge/firehose-2026-03-06-10.gz",
    ] {
        let s = Stagelog::new();
        s.run(&["import", &pipeline(file)]).code(0);
        assert_rows(
            &format!("{file}: events"),
            &session_events(&s, E1),
            &expected_eventbridge_events(),
        );
        // 9 read: 6 stage updates + 1 recording + 1 composition stored, the channel event
        // skipped; one unknown event name (`Participant Muted`).
        assert_rows(
            &format!("{file}: counts"),
            &import_counts(&s, file.rsplit('/').next().unwrap()),
            &[counts_row(9, 8, 0, 0, 1)],
        );
        assert_eq!(
            s.scalar("SELECT unknown_names AS n FROM imports"),
            json!(1),
            "{file}"
        );
        assert_rows(
            &format!("{file}: session-quality"),
            &only(&V0_QUALITY, s.report_json("session-quality", &[])),
            &[expected_eventbridge_quality()],
        );
    }
}

#[test]
fn eventbridge_events_map_to_canonical_names_participants_and_their_own_tables() {
    let s = Stagelog::new();
    s.run(&["import", &pipeline("eventbridge/stage-events.ndjson")])
        .code(0);
    // user_id goes to the participant; "" means none (Eve's Unpublished says "" and must not
    // erase "eve"; Mute's only event says "").
    assert_rows(
        "participants",
        &s.sql(
            "SELECT participant_id, user_id FROM participant_list WHERE session_id = :s \
             ORDER BY participant_id",
            &[("s", E1)],
        ),
        &[
            json!({"participant_id": "Eve000000021", "user_id": "eve"}),
            json!({"participant_id": "Mute00000023", "user_id": null}),
            json!({"participant_id": "Rtmp00000022", "user_id": "rtmp-cam"}),
        ],
    );
    // `IVS Participant Recording State Change`: stage from resources[0], session from
    // detail.session_id, time from the envelope (no detail.event_time).
    assert_rows(
        "recording_events",
        &s.sql(
            "SELECT r.eventbridge_id, st.stage_arn, s.session_id, r.participant_id, r.event_name, \
                    strftime('%Y-%m-%dT%H:%M:%SZ', r.event_time_us / 1000000, 'unixepoch') AS t, \
                    r.recording_s3_bucket_name AS bucket, r.recording_s3_key_prefix AS prefix \
             FROM recording_events r JOIN sessions s USING (session_key) \
             JOIN stages st USING (stage_key)",
            &[],
        ),
        &[json!({
            "eventbridge_id": "eb-0007-recording",
            "stage_arn": STAGE_E,
            "session_id": E1,
            "participant_id": "Eve000000021",
            "event_name": "Recording Start",
            "t": "2026-03-06T10:00:03Z",
            "bucket": "stagelog-test-recordings",
            "prefix": "StgE0000eeee/st-E1bridge00001/Eve000000021/2026-03-06T10-00-02Z",
        })],
    );
    // `IVS Composition State Change`: resources[0] is the composition, the stage is
    // detail.stage_arn.
    assert_rows(
        "composition_events",
        &s.sql(
            "SELECT c.eventbridge_id, c.composition_arn, st.stage_arn, c.session_id, c.event_name, \
                    strftime('%Y-%m-%dT%H:%M:%SZ', c.event_time_us / 1000000, 'unixepoch') AS t \
             FROM composition_events c LEFT JOIN stages st USING (stage_key)",
            &[],
        ),
        &[json!({
            "eventbridge_id": "eb-0008-composition",
            "composition_arn": "arn:aws:ivs:us-west-2:111122223333:composition/Cmp0000eeee",
            "stage_arn": STAGE_E,
            "session_id": null,
            "event_name": "Session Start",
            "t": "2026-03-06T10:00:09Z",
        })],
    );
    // The channel event is nowhere: no stage or session of its own.
    assert_eq!(s.count("stages"), 1);
    assert_eq!(s.count("sessions"), 1);
    assert_eq!(s.count("events"), 6);
    // Reports from EventBridge data: Eve replicated 10:02:00 → 10:04:30 = 150 s.
    assert_rows(
        "replications",
        &s.report_json("replications", &[]),
        &[json!({
            "stage_arn": STAGE_E,
            "session_id": E1,
            "participant_id": "Eve000000021",
            "destination_stage_arn": STAGE_B,
            "destination_session_id": "st-E9replica0009",
            "started_at": "2026-03-06T10:02:00.000Z",
            "stopped_at": "2026-03-06T10:04:30.000Z",
            "duration_s": 150.0,
        })],
    );
    assert_rows(
        "error-breakdown",
        &s.report_json("error-breakdown", &[]),
        &[errors_row(
            "PUBLISH_ERROR",
            Some("INVALID_STREAM_KEY"),
            1,
            1,
            1,
            1.0,
            "2026-03-06T10:01:00.000Z",
            "2026-03-06T10:01:00.000Z",
        )],
    );
}

#[test]
fn eventbridge_redeliveries_are_duplicates_by_envelope_id_and_by_content() {
    let s = Stagelog::new();
    s.run(&["import", &pipeline("eventbridge/stage-events.ndjson")])
        .code(0);
    // Every report but data-quality, which counts the duplicates dropped (checked below).
    let reports = |s: &Stagelog| -> Vec<(String, String)> {
        s.all_report_outputs()
            .into_iter()
            .filter(|(name, _)| !name.starts_with("data-quality"))
            .collect()
    };
    let before = reports(&s);
    // redelivered.ndjson: (1) envelope id eb-0001-published again, but without
    // detail.event_time, so its content differs (time 10:00:02) and only the id makes it a
    // duplicate; (2) eb-0106-unpublished-again, a new id carrying eb-0006's content (detail keys
    // in another order, another envelope time); (3) the recording event again.
    s.run(&["import", &pipeline("eventbridge/redelivered.ndjson")])
        .code(0);
    assert_rows(
        "redelivered counts",
        &import_counts(&s, "redelivered.ndjson"),
        &[counts_row(3, 0, 3, 0, 0)],
    );
    assert_rows(
        "events",
        &session_events(&s, E1),
        &expected_eventbridge_events(),
    );
    assert_eq!(s.count("recording_events"), 1);
    assert_eq!(before, reports(&s));
    let quality = s.report_json("data-quality", &[]);
    assert_eq!(
        quality[10],
        json!({"check": "duplicate_records_dropped", "count": 3,
               "example": pipeline("eventbridge/redelivered.ndjson")})
    );
}

// ---------------------------------------------------------------------------------------------
// Coverage: ListParticipantEvents data and EventBridge events of one participant
// ---------------------------------------------------------------------------------------------

/// Lena has a ListParticipantEvents page and EventBridge events (covered); Otto is only in
/// EventBridge (reported from it).
fn coverage_quality() -> Value {
    quality_row(
        STAGE_V,
        V1,
        "2026-03-07T11:00:00.250Z", // Lena JOINED (page)
        "2026-03-07T11:10:01.000Z", // Lena LEFT (page)
        600.75,                     // 11:00:00.250 → 11:10:01
        // Lena and Otto; only Lena has a JOINED; no JOIN_ERROR.
        (2, 1, 0),
        json!(1.0), // 1 joined / 1 with JOINED or JOIN_ERROR
        // reconnects 1 − 1 = 0; publishers Lena (page) and Otto (EventBridge); publish_errors:
        // Otto's RESOLUTION_EXCEEDED only. Lena's EventBridge BITRATE_EXCEEDED is covered.
        (0, 2, 1, 0),
        (
            // Lena 11:00:00.250 → 11:10:01 = 600.75
            600.75,
            // Lena (page) 11:00:01.500 → 11:10:00.750 = 599.25, not her EventBridge 11:00:01 →
            // 11:10:00; Otto 11:00:03 → 11:08:03 = 480 and 11:09:30 → 11:09:45 = 15.
            // 599.25 + 480 + 15 = 1094.25
            1094.25, // Lena → Otto 11:00:05 → 11:10:00.750 = 595.75
            595.75,
        ),
        // Lena 11:00:01.500 − 11:00:00.250 = 1.25; Otto has no JOINED, so is left out.
        json!(1.25),
        // 1 error / (JOINED 1 + PUBLISH_STARTED 3 [Lena 1, Otto 2] + PUBLISH_ERROR 1
        // + SUBSCRIBE_STARTED 1 = 6) = 0.16666…
        json!(0.1667),
    )
}

#[test]
fn api_data_covers_a_participants_eventbridge_events_and_the_rest_report_from_eventbridge() {
    let page = ["pipelines/coverage/lena.cli-v2.json"];
    let eventbridge = ["pipelines/coverage/eventbridge.ndjson"];
    let context = ["--stage-arn", STAGE_V, "--session-id", V1];
    // Either order: the page first, or EventBridge first and the page a later night.
    let page_first = Stagelog::new();
    page_first.import(&context, &page).code(0);
    page_first.import(&[], &eventbridge).code(0);
    let eventbridge_first = Stagelog::new();
    eventbridge_first.import(&[], &eventbridge).code(0);
    eventbridge_first.import(&context, &page).code(0);
    // Or one file that holds both: the page's events as NDJSON lines with their context.
    let one_file = Stagelog::new();
    let page_json: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture(page[0])).unwrap()).unwrap();
    let mut lines = std::fs::read_to_string(fixture(eventbridge[0])).unwrap();
    for event in page_json["events"].as_array().unwrap() {
        let mut event = event.clone();
        event["stageArn"] = json!(STAGE_V);
        event["sessionId"] = json!(V1);
        lines.push_str(&format!("{event}\n"));
    }
    let both = one_file.dir.path().join("both.ndjson");
    std::fs::write(&both, lines).unwrap();
    one_file.run(&["import", both.to_str().unwrap()]).code(0);

    for s in [&page_first, &eventbridge_first, &one_file] {
        assert_rows(
            "session-quality",
            &only(&V0_QUALITY, s.report_json("session-quality", &[])),
            &[coverage_quality()],
        );
        // Lena's EventBridge BITRATE_EXCEEDED is covered: only Otto's error is reported.
        assert_rows(
            "error-breakdown",
            &s.report_json("error-breakdown", &[]),
            &[errors_row(
                "PUBLISH_ERROR",
                Some("RESOLUTION_EXCEEDED"),
                1,
                1,
                1,
                1.0,
                "2026-03-07T11:09:00.000Z",
                "2026-03-07T11:09:00.000Z",
            )],
        );
        // Every EventBridge event stays stored; Lena's 3 are covered, Otto's 5 are not.
        assert_rows(
            "eventbridge events",
            &s.sql(
                "SELECT participant_id, name, event_time, covered, seq, effect FROM event_list \
                 WHERE source = 'eventbridge' ORDER BY event_time_us",
                &[],
            ),
            &[
                // Covered events are left out of the rules: no place in their order, no effect.
                json!({"participant_id": "Lena00000031", "name": "PUBLISH_STARTED", "event_time": "2026-03-07T11:00:01.000000Z", "covered": 1, "seq": 0, "effect": ""}),
                json!({"participant_id": "Otto00000032", "name": "PUBLISH_STARTED", "event_time": "2026-03-07T11:00:03.000000Z", "covered": 0, "seq": 1, "effect": "opens publishing"}),
                json!({"participant_id": "Lena00000031", "name": "PUBLISH_ERROR", "event_time": "2026-03-07T11:05:00.000000Z", "covered": 1, "seq": 0, "effect": ""}),
                json!({"participant_id": "Otto00000032", "name": "PUBLISH_STOPPED", "event_time": "2026-03-07T11:08:03.000000Z", "covered": 0, "seq": 2, "effect": "closes publishing"}),
                json!({"participant_id": "Otto00000032", "name": "PUBLISH_ERROR", "event_time": "2026-03-07T11:09:00.000000Z", "covered": 0, "seq": 3, "effect": "error"}),
                json!({"participant_id": "Otto00000032", "name": "PUBLISH_STARTED", "event_time": "2026-03-07T11:09:30.000000Z", "covered": 0, "seq": 4, "effect": "opens publishing"}),
                json!({"participant_id": "Otto00000032", "name": "PUBLISH_STOPPED", "event_time": "2026-03-07T11:09:45.000000Z", "covered": 0, "seq": 5, "effect": "closes publishing"}),
                json!({"participant_id": "Lena00000031", "name": "PUBLISH_STOPPED", "event_time": "2026-03-07T11:10:00.000000Z", "covered": 1, "seq": 0, "effect": ""}),
            ],
        );
        assert_eq!(s.count("events WHERE source = 'api'"), 6);
        // user ids from EventBridge reach both participants.
        assert_rows(
            "user ids",
            &s.sql(
                "SELECT participant_id, user_id FROM participant_list ORDER BY participant_id",
                &[],
            ),
            &[
                json!({"participant_id": "Lena00000031", "user_id": "lena"}),
                json!({"participant_id": "Otto00000032", "user_id": "otto"}),
            ],
        );
    }
    assert_eq!(
        page_first.all_report_outputs(),
        eventbridge_first.all_report_outputs()
    );
}

#[test]
fn covered_eventbridge_events_do_not_move_the_session_end() {
    // Session V2: Lena's page ends with PUBLISH_STOPPED and LEFT at 12:05:00; her covered
    // EventBridge Unpublished has no detail.event_time, so it carries its envelope time 12:05:04.
    // Otto (EventBridge only) publishes from 12:01:00 and never stops: his interval closes at
    // the session end, the last event the reports use, 12:05:00 (ended_at agrees). Taking the
    // covered 12:05:04 would be using Lena's EventBridge data, which the issue forbids ("the
    // reports use that data only").
    let s = Stagelog::new();
    s.import(
        &[],
        &["pipelines/coverage/late-delivery.eventbridge.ndjson"],
    )
    .code(0);
    s.import(
        &["--stage-arn", STAGE_V, "--session-id", V2],
        &["pipelines/coverage/lena.late-end.cli-v2.json"],
    )
    .code(0);
    assert_rows(
        "session-quality",
        &only(
            &V0_QUALITY,
            s.report_json("session-quality", &["--session", V2]),
        ),
        &[quality_row(
            STAGE_V,
            V2,
            "2026-03-07T12:00:00.000Z",
            "2026-03-07T12:05:00.000Z",
            300.0,
            (2, 1, 0),
            json!(1.0),
            (0, 2, 0, 0),
            (
                300.0, // Lena 12:00:00 → 12:05:00
                // Lena 12:00:01 → 12:05:00 = 299; Otto 12:01:00 → 12:05:00 = 240. 539
                539.0, 0.0,
            ),
            json!(1.0), // Lena 12:00:01 − 12:00:00
            json!(0.0), // 0 / (JOINED 1 + PUBLISH_STARTED 2)
        )],
    );
}

// ---------------------------------------------------------------------------------------------
// Directories and content already imported
// ---------------------------------------------------------------------------------------------

#[test]
fn a_directory_is_walked_in_sorted_order_and_imported_content_is_skipped_unless_forced() {
    let s = Stagelog::new();
    let tree = pipeline("tree");
    let names = [
        "2026-03-07/a-joins.ndjson",
        "2026-03-07/b-leaves.ndjson.gz",
        "2026-03-07/late/c-copy-of-a.ndjson",
        "2026-03-08/d-broken-line.ndjson",
    ];
    // d-broken-line.ndjson has a broken line 2: exit 3.
    let first = s.run(&["import", &tree]).code(3);
    let stderr = stderr_of(&first);
    let at = |name: &str, text: &str| {
        text.find(name)
            .unwrap_or_else(|| panic!("{name} in\n{text}"))
    };
    let positions: Vec<usize> = names.iter().map(|n| at(n, &stderr)).collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "files in sorted order:\n{stderr}"
    );
    // The copy of a-joins (same bytes, another name) is skipped in the same run.
    let copy_line = stderr
        .lines()
        .find(|l| l.contains("c-copy-of-a.ndjson"))
        .unwrap();
    assert!(
        copy_line.contains("unchanged") && copy_line.contains("a-joins.ndjson"),
        "{copy_line}"
    );
    // Hidden files are not read.
    assert!(!stderr.contains(".hidden-not-read"), "{stderr}");
    assert_eq!(
        s.count("event_list WHERE session_id = 'st-T9hidden00009'"),
        0
    );
    // imports: a, b, d in that order; Tess 4 events + Ugo's JOIN_ERROR = 5.
    let paths = s.sql("SELECT path FROM imports ORDER BY import_key", &[]);
    let expected = [names[0], names[1], names[3]];
    assert_eq!(paths.len(), 3, "{paths:?}");
    for (row, name) in paths.iter().zip(expected) {
        assert!(row["path"].as_str().unwrap().ends_with(name), "{row}");
    }
    assert_eq!(s.count("events"), 5);
    assert_eq!(s.count("rejects"), 1);

    // Again: every file's content is known, so none is read. Had d been parsed, its broken line
    // would be a reject again (exit 3, a second rejects row).
    let second = s.run(&["import", &tree]).code(0);
    let stderr = stderr_of(&second);
    let unchanged = stderr
        .lines()
        .filter(|l| l.contains(": unchanged, this content was imported before"))
        .count();
    assert_eq!(unchanged, 4, "{stderr}");
    assert_eq!(s.count("imports"), 3);
    assert_eq!(s.count("rejects"), 1);

    // --force reads them again: all duplicates, nothing new (a 2 + b 2 + c 2 + d 1 = 7).
    let forced = s.run(&["import", "--force", &tree]).code(3);
    assert!(!stderr_of(&forced).contains("unchanged"));
    assert_eq!(s.count("imports"), 7);
    assert_eq!(s.count("events"), 5);
    assert_rows(
        "forced run",
        &s.sql(
            "SELECT sum(records_read) AS r, sum(records_inserted) AS i, \
                    sum(records_duplicate) AS d FROM imports WHERE import_key > 3",
            &[],
        ),
        &[json!({"r": 8, "i": 0, "d": 7})],
    );
}

/// `in/a.ndjson` in the test's folder, a copy of the tree's a-joins; and the tree's folder
/// that holds a-joins and b-leaves.
fn folder_with_a_copy_of_a_joins(s: &Stagelog) -> (PathBuf, PathBuf) {
    let folder = s.dir.path().join("in");
    std::fs::create_dir(&folder).unwrap();
    let tree = Path::new(&pipeline("tree")).join("2026-03-07");
    std::fs::copy(tree.join("a-joins.ndjson"), folder.join("a.ndjson")).unwrap();
    (folder, tree)
}

#[test]
fn links_to_files_are_read_a_link_to_a_folder_is_not_and_new_files_follow_skipped_ones() {
    // in/a.ndjson (a copy of tree's a-joins), in/back -> in itself, in/z-link.ndjson.gz -> tree's
    // b-leaves. Followed, `back` would walk the folder again: in/back/a.ndjson, in/back/back/….
    let s = Stagelog::new();
    let (folder, tree) = folder_with_a_copy_of_a_joins(&s);
    std::os::unix::fs::symlink(&folder, folder.join("back")).unwrap();
    std::os::unix::fs::symlink(
        tree.join("b-leaves.ndjson.gz"),
        folder.join("z-link.ndjson.gz"),
    )
    .unwrap();
    s.run(&["import", "in/a.ndjson"]).code(0);

    // a is looked up and skipped, then z-link is imported after it in the same run.
    let second = s.run(&["import", "in"]).code(0);
    let stderr = stderr_of(&second);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 3, "a, z-link and the total:\n{stderr}");
    assert!(lines[0].starts_with("in/a.ndjson: unchanged"), "{stderr}");
    // b-leaves: Tess leaves and stops publishing, 2 events.
    assert!(
        lines[1].starts_with("in/z-link.ndjson.gz: 2 read, 2 new"),
        "{stderr}"
    );
    assert!(
        lines[2].starts_with("total, 2 files, 1 unchanged"),
        "{stderr}"
    );
    assert_eq!(s.count("imports"), 2);
    assert_eq!(s.count("events"), 4);
}

/// Each of `names` has its own failure line on stderr, giving `reason`.
fn assert_each_failed(stderr: &str, names: &[&str], reason: &str) {
    for name in names {
        assert!(
            stderr.contains(&format!("stagelog: {name}: {reason}")),
            "{name}: {reason} in\n{stderr}"
        );
    }
}

#[test]
fn a_fifo_under_a_folder_fails_on_its_own_instead_of_waiting_for_a_writer() {
    // in/a.ndjson, in/b-fifo (nobody writes to it), in/c-link -> in/b-fifo, in/d.ndjson.gz.
    let s = Stagelog::new();
    let (folder, tree) = folder_with_a_copy_of_a_joins(&s);
    std::fs::copy(tree.join("b-leaves.ndjson.gz"), folder.join("d.ndjson.gz")).unwrap();
    let made = std::process::Command::new("mkfifo")
        .arg(folder.join("b-fifo"))
        .status()
        .unwrap();
    assert!(made.success());
    std::os::unix::fs::symlink(folder.join("b-fifo"), folder.join("c-link")).unwrap();

    let run = s
        .cmd(&["import", "in"])
        .timeout(std::time::Duration::from_secs(60))
        .assert()
        .code(1);
    let stderr = stderr_of(&run);
    assert_each_failed(&stderr, &["in/b-fifo", "in/c-link"], "not a regular file");
    assert!(stderr.contains("total, 4 files, 2 failed"), "{stderr}");
    // a-joins 2 events + b-leaves 2.
    assert_eq!(s.count("imports"), 2);
    assert_eq!(s.count("events"), 4);
}

#[test]
fn the_database_in_the_imported_folder_is_never_read() {
    // The test's folder: test.db (and its -wal and -shm while it is open), in/a.ndjson,
    // in/b.ndjson.gz, z-link -> test.db. Reading the database would close a descriptor of it,
    // and that drops SQLite's locks.
    let s = Stagelog::new();
    let (folder, tree) = folder_with_a_copy_of_a_joins(&s);
    std::fs::copy(tree.join("b-leaves.ndjson.gz"), folder.join("b.ndjson.gz")).unwrap();
    s.run(&["migrate"]).success();
    std::os::unix::fs::symlink(&s.db, s.dir.path().join("z-link")).unwrap();
    let run = s.run(&["import", "."]).code(0);
    let stderr = stderr_of(&run);
    assert!(stderr.contains("total, 2 files: 4 read, 4 new"), "{stderr}");
    assert!(!stderr.contains("test.db"), "{stderr}");

    // Named, it is an error of its own.
    let named = s
        .run(&["import", "in/a.ndjson", "test.db", "z-link"])
        .code(1);
    let stderr = stderr_of(&named);
    assert_each_failed(
        &stderr,
        &["test.db", "z-link"],
        "the database this import writes, or one of its files",
    );
    assert!(
        stderr.contains("total, 3 files, 1 unchanged, 2 failed"),
        "{stderr}"
    );
}

// ---------------------------------------------------------------------------------------------
// Context from paths
// ---------------------------------------------------------------------------------------------

#[test]
fn context_from_path_places_a_folder_of_saved_pages() {
    // by-path/STAGE-ID/SESSION-ID/PARTICIPANT-ID.….json, as `import --help` documents; page 2 of
    // Pam and Rex's page have no participantId in their events; list-stage-sessions.json sits
    // in the stage folder; records/list-participants.json in a folder below the session's.
    let s = Stagelog::new();
    s.run(&[
        "import",
        "--context-from-path",
        "--stage-arn-prefix",
        ARN_PREFIX,
        &pipeline("by-path"),
    ])
    .code(0);
    let stage_p = format!("{ARN_PREFIX}StgP0000pppp");
    let stage_q = format!("{ARN_PREFIX}StgQ0000qqqq");
    assert_rows(
        "events by place",
        &s.sql(
            "SELECT stage_arn, session_id, participant_id, count(*) AS n FROM event_list \
             GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
            &[],
        ),
        &[
            json!({"stage_arn": stage_p, "session_id": "st-P1path000001", "participant_id": "Pam000000041", "n": 4}),
            json!({"stage_arn": stage_p, "session_id": "st-P2path000002", "participant_id": "Quin00000042", "n": 2}),
            json!({"stage_arn": stage_q, "session_id": "st-Q1path000003", "participant_id": "Rex000000043", "n": 2}),
        ],
    );
    assert_rows(
        "sessions",
        &s.sql(
            "SELECT stage_arn, session_id, start_time, end_time FROM session_list \
             ORDER BY session_id",
            &[],
        ),
        &[
            json!({"stage_arn": stage_p, "session_id": "st-P1path000001", "start_time": "2026-03-09T12:59:59.000000Z", "end_time": "2026-03-09T13:05:00.000000Z"}),
            json!({"stage_arn": stage_p, "session_id": "st-P2path000002", "start_time": "2026-03-09T13:59:58.000000Z", "end_time": "2026-03-09T14:02:00.000000Z"}),
            json!({"stage_arn": stage_q, "session_id": "st-Q1path000003", "start_time": null, "end_time": null}),
        ],
    );
    assert_eq!(
        s.scalar("SELECT user_id FROM participant_list WHERE participant_id = 'Pam000000041'"),
        json!("pam")
    );
    // Pam: JOINED 13:00:00, PUBLISH_STARTED 13:00:03 (page 1), PUBLISH_STOPPED 13:01:03 and
    // LEFT 13:01:10 (page 2, Pam's by its file name). No interval is open at the end, so the
    // session record's endTime 13:05:00 changes nothing.
    assert_rows(
        "session-quality of st-P1",
        &only(
            &V0_QUALITY,
            s.report_json("session-quality", &["--session", "st-P1path000001"]),
        ),
        &[quality_row(
            &stage_p,
            "st-P1path000001",
            "2026-03-09T13:00:00.000Z",
            "2026-03-09T13:01:10.000Z",
            70.0,
            (1, 1, 0),
            json!(1.0),
            (0, 1, 0, 0),
            (70.0, 60.0, 0.0), // 13:00:00 → 13:01:10; 13:00:03 → 13:01:03
            json!(3.0),        // 13:00:03 − 13:00:00
            json!(0.0),        // 0 / (JOINED 1 + PUBLISH_STARTED 1)
        )],
    );
}

#[test]
fn context_from_path_needs_the_arn_prefix() {
    let s = Stagelog::new();
    s.run(&["import", "--context-from-path", &pipeline("by-path")])
        .code(2);
    assert!(!s.db.exists());
}

// ---------------------------------------------------------------------------------------------
// Compression
// ---------------------------------------------------------------------------------------------

#[test]
fn compression_is_found_by_magic_bytes_and_every_gzip_member_is_read() {
    // compressed/: gzipped-but-named.json (gzip), plain-but-named.ndjson.gz (plain text),
    // two-members.ndjson.gz (two gzip members: Hal's JOINED/LEFT, then his PUBLISH_*),
    // for-stdin.ndjson.gz (gzip), zstd-events.ndjson.zst (zstd).
    let s = Stagelog::new();
    s.run(&["import", &pipeline("compressed")]).code(0);
    for (file, events) in [
        ("gzipped-but-named.json", 2),
        ("plain-but-named.ndjson.gz", 2),
        ("two-members.ndjson.gz", 4),
        ("for-stdin.ndjson.gz", 2),
        ("zstd-events.ndjson.zst", 2),
    ] {
        assert_rows(
            file,
            &import_counts(&s, file),
            &[counts_row(events, events, 0, 0, 0)],
        );
    }
    assert_rows(
        "session-quality",
        &only(&V0_QUALITY, s.report_json("session-quality", &[])),
        &[quality_row(
            "arn:aws:ivs:us-west-2:111122223333:stage/StgG0000gggg",
            "st-G1gzip0000001",
            "2026-03-10T16:00:00.000Z", // Gus and Hal JOINED
            "2026-03-10T16:02:40.000Z", // Jon LEFT
            160.0,
            (4, 4, 0), // Gus, Hal, Ida, Jon
            json!(1.0),
            (0, 2, 0, 0), // Gus and Hal publish
            (
                // Gus 16:00:00 → :10 = 10; Hal 16:00:00 → :20 = 20 (LEFT from the first member);
                // Ida 16:01:00 → 16:01:30 = 30; Jon 16:02:00 → 16:02:40 = 40. 100
                100.0,
                // Gus 16:00:01 → :09 = 8 (plain file); Hal 16:00:05 → :15 = 10 (second
                // member). 18
                18.0, 0.0,
            ),
            json!(3.0), // Gus 1, Hal 5: (1 + 5) / 2
            json!(0.0), // 0 / (JOINED 4 + PUBLISH_STARTED 2)
        )],
    );
}

#[test]
fn stdin_may_be_compressed() {
    let bytes = std::fs::read(pipeline("compressed/for-stdin.ndjson.gz")).unwrap();
    assert_eq!(&bytes[..2], &[0x1f, 0x8b], "the fixture is gzipped");
    let s = Stagelog::new();
    s.cmd(&["import", "-"]).write_stdin(bytes).assert().code(0);
    assert_rows(
        "Ida's events",
        &s.sql(
            "SELECT participant_id, name, event_time FROM event_list ORDER BY event_time_us",
            &[],
        ),
        &[
            json!({"participant_id": "Ida000000083", "name": "JOINED", "event_time": "2026-03-10T16:01:00.000000Z"}),
            json!({"participant_id": "Ida000000083", "name": "LEFT", "event_time": "2026-03-10T16:01:30.000000Z"}),
        ],
    );
}

// ---------------------------------------------------------------------------------------------
// Messy input
// ---------------------------------------------------------------------------------------------

/// (participant, name, time) of every event, in time order.
fn event_triples(s: &Stagelog) -> Vec<Value> {
    s.sql(
        "SELECT participant_id AS p, name AS n, event_time AS t FROM event_list \
         ORDER BY event_time_us, participant_id, name",
        &[],
    )
}

fn triple(p: &str, n: &str, t: &str) -> Value {
    json!({"p": p, "n": n, "t": t})
}

/// The rejects of a test database: (position, reason).
fn rejects(s: &Stagelog) -> Vec<(String, String)> {
    s.sql(
        "SELECT position, reason FROM rejects ORDER BY reject_key",
        &[],
    )
    .iter()
    .map(|r| {
        (
            r["position"].as_str().unwrap().to_string(),
            r["reason"].as_str().unwrap().to_string(),
        )
    })
    .collect()
}

#[test]
fn bom_crlf_blank_lines_pretty_printed_objects_and_several_objects_on_a_line() {
    // A UTF-8 BOM, CRLF everywhere, an empty line 2, a whitespace-only line 3, a pretty-printed
    // object on lines 4–8, three objects on line 9 (one space between the first two, none
    // between the last two), blank lines 10–11, an indented object on line 12, a record
    // without eventTime on line 13, and the last record on line 14.
    let s = Stagelog::new();
    s.import(&m_flags(M1), &["pipelines/messy/bom-crlf-mixed.ndjson"])
        .code(3);
    assert_rows(
        "events",
        &event_triples(&s),
        &[
            triple("Kai000000051", "JOINED", "2026-03-08T08:00:00.000000Z"),
            triple("Lia000000052", "JOINED", "2026-03-08T08:00:01.000000Z"),
            triple(
                "Kai000000051",
                "PUBLISH_STARTED",
                "2026-03-08T08:00:02.000000Z",
            ),
            triple(
                "Lia000000052",
                "PUBLISH_STARTED",
                "2026-03-08T08:00:03.000000Z",
            ),
            triple(
                "Kai000000051",
                "SUBSCRIBE_STARTED",
                "2026-03-08T08:00:04.000000Z",
            ),
            triple("Lia000000052", "LEFT", "2026-03-08T08:01:00.000000Z"),
            triple("Kai000000051", "LEFT", "2026-03-08T08:01:30.000000Z"),
        ],
    );
    // 8 records: lines 1, 4–8, 9 (×3), 12, 13, 14.
    assert_rows(
        "counts",
        &import_counts(&s, "bom-crlf-mixed.ndjson"),
        &[counts_row(8, 7, 0, 1, 0)],
    );
    let rejects = rejects(&s);
    assert_eq!(rejects.len(), 1, "{rejects:?}");
    assert_eq!(rejects[0].0, "line 13");
    assert!(rejects[0].1.contains("eventTime"), "{rejects:?}");
    // The first participant id is not spoiled by the BOM.
    assert_eq!(
        s.count("participants WHERE participant_id LIKE '%Kai000000051%'"),
        1
    );
}

#[test]
fn utf16_le_with_a_bom_is_decoded() {
    // As Windows PowerShell's `>` writes: UTF-16 LE, BOM, CRLF; a userId "Zoë-ü" in a token.
    let s = Stagelog::new();
    s.import(&m_flags(M1), &["pipelines/messy/utf16le-bom.ndjson"])
        .code(0);
    assert_rows(
        "events",
        &event_triples(&s),
        &[
            triple("Mo0000000053", "JOINED", "2026-03-08T08:10:00.000000Z"),
            triple(
                "Mo0000000053",
                "TOKEN_EXCHANGED",
                "2026-03-08T08:10:05.000000Z",
            ),
            triple("Mo0000000053", "LEFT", "2026-03-08T08:10:30.000000Z"),
        ],
    );
    assert_rows(
        "token user ids",
        &s.sql(
            "SELECT p.user_id AS previous, n.user_id AS new FROM events e \
             JOIN tokens p ON p.token_key = e.previous_token_key \
             JOIN tokens n ON n.token_key = e.new_token_key",
            &[],
        ),
        &[json!({"previous": "zoe", "new": "Zoë-ü"})],
    );
}

#[test]
fn a_truncated_last_line_is_rejected_with_its_number_and_the_rest_imports() {
    let s = Stagelog::new();
    let assert = s
        .import(
            &m_flags(M1),
            &["pipelines/messy/truncated-last-line.ndjson"],
        )
        .code(3);
    assert!(
        stderr_of(&assert).contains("line 3"),
        "{}",
        stderr_of(&assert)
    );
    assert_rows(
        "events",
        &event_triples(&s),
        &[
            triple("Ned000000054", "JOINED", "2026-03-08T08:20:00.000000Z"),
            triple(
                "Ned000000054",
                "PUBLISH_STARTED",
                "2026-03-08T08:20:01.000000Z",
            ),
        ],
    );
    let rejects = rejects(&s);
    assert_eq!(rejects.len(), 1, "{rejects:?}");
    assert_eq!(rejects[0].0, "line 3");
}

#[test]
fn a_broken_record_in_the_middle_loses_only_itself_and_is_named_by_its_first_line() {
    let s = Stagelog::new();
    // Line 2 never closes its array, line 4 is cut short before the next record begins; the
    // lines after each are records of their own.
    s.import(&m_flags(M1), &["pipelines/messy/broken-middle.ndjson"])
        .code(3);
    assert_rows(
        "events",
        &event_triples(&s),
        &[
            triple("Pia000000061", "JOINED", "2026-03-08T09:00:00.000000Z"),
            triple("Quy000000062", "JOINED", "2026-03-08T09:00:02.000000Z"),
            triple("Pia000000061", "LEFT", "2026-03-08T09:00:05.000000Z"),
        ],
    );
    let rejects = rejects(&s);
    assert_eq!(rejects_positions(&s), ["line 2", "line 4"], "{rejects:?}");
    assert!(rejects[0].1.contains("truncated"), "{rejects:?}");
    assert!(
        rejects[1].1.contains("unexpected '{' at line 5 column 1"),
        "{rejects:?}"
    );
}

#[test]
fn a_record_cut_short_between_back_to_back_records_loses_only_itself() {
    let s = Stagelog::new();
    s.import(&m_flags(M1), &["pipelines/messy/broken-back-to-back.json"])
        .code(3);
    assert_rows(
        "events",
        &event_triples(&s),
        &[
            triple("Ros000000063", "JOINED", "2026-03-08T09:10:00.000000Z"),
            triple("Ros000000063", "LEFT", "2026-03-08T09:10:09.000000Z"),
        ],
    );
    assert_eq!(rejects_positions(&s), ["line 1"]);
}

#[test]
fn a_lone_surrogate_escape_is_replaced_with_a_warning_and_the_event_kept() {
    // Line 2's newToken.userId is "oli\ud83d" (a lone high surrogate); both tokens carry the
    // proper pair "\ud83d\ude00" (😀) in an attribute, which must survive.
    let s = Stagelog::new();
    let assert = s
        .import(&m_flags(M1), &["pipelines/messy/lone-surrogate.ndjson"])
        .code(0);
    let stderr = stderr_of(&assert);
    assert!(
        stderr.contains("warning") && stderr.contains("surrogate"),
        "{stderr}"
    );
    assert_eq!(s.count("rejects"), 0);
    assert_rows(
        "token",
        &s.sql(
            "SELECT p.user_id AS previous, n.user_id AS new, \
                    json_extract(n.attributes, '$.mood') AS mood FROM events e \
             JOIN tokens p ON p.token_key = e.previous_token_key \
             JOIN tokens n ON n.token_key = e.new_token_key",
            &[],
        ),
        &[json!({"previous": "oli", "new": "oli\u{FFFD}", "mood": "\u{1F600}"})],
    );
    assert_eq!(s.count("events"), 2);
}

#[test]
fn invalid_utf8_in_one_line_rejects_that_line_only() {
    // Line 2 has Latin-1 0xED and a stray 0xFF inside the participantId.
    let s = Stagelog::new();
    let assert = s
        .import(&m_flags(M1), &["pipelines/messy/invalid-utf8.ndjson"])
        .code(3);
    assert!(stderr_of(&assert).contains("line 2"));
    assert_rows(
        "events",
        &event_triples(&s),
        &[
            triple("Pia000000056", "JOINED", "2026-03-08T08:40:00.000000Z"),
            triple("Pia000000056", "LEFT", "2026-03-08T08:40:10.000000Z"),
        ],
    );
    let rejects = rejects(&s);
    assert_eq!(rejects.len(), 1, "{rejects:?}");
    assert_eq!(rejects[0].0, "line 2");
    assert_eq!(s.count("participants"), 1);
}

#[test]
fn ids_stay_text_a_number_id_is_rejected_and_an_empty_one_is_missing() {
    let s = Stagelog::new();
    s.import(&m_flags(M1), &["pipelines/messy/ids.ndjson"])
        .code(3);
    // "000123", "123" and "1.50" are three participants, spelled as written; the subscribe
    // names "000123" as its remote, not 123.
    assert_rows(
        "events",
        &s.sql(
            "SELECT participant_id AS p, name AS n, remote_participant_id AS r FROM event_list \
             ORDER BY event_time_us",
            &[],
        ),
        &[
            json!({"p": "000123", "n": "JOINED", "r": null}),
            json!({"p": "123", "n": "JOINED", "r": null}),
            json!({"p": "123", "n": "SUBSCRIBE_STARTED", "r": "000123"}),
            json!({"p": "1.50", "n": "JOINED", "r": null}),
        ],
    );
    assert_eq!(s.count("participants"), 3);
    assert_eq!(
        s.scalar(
            "SELECT typeof(participant_id) || ',' || typeof(remote_participant_id) AS t \
                  FROM event_list WHERE name = 'SUBSCRIBE_STARTED'"
        ),
        json!("text,text")
    );
    // Line 4: participantId 123 (a number); line 5: participantId "" (missing); line 6:
    // remoteParticipantId 123 (a number).
    let rejects = rejects(&s);
    let positions: Vec<&str> = rejects.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(positions, ["line 4", "line 5", "line 6"], "{rejects:?}");
    assert!(
        rejects[0].1.contains("participantId") && rejects[0].1.contains("number"),
        "{rejects:?}"
    );
    assert!(rejects[1].1.contains("participant"), "{rejects:?}");
    assert!(
        rejects[2].1.contains("remoteParticipantId") && rejects[2].1.contains("number"),
        "{rejects:?}"
    );

    // An empty id is missing, so --participant-id fills it; a number is still a reject.
    let with_flag = Stagelog::new();
    let mut flags = m_flags(M1).to_vec();
    flags.extend(["--participant-id", "Flag00000059"]);
    with_flag
        .import(&flags, &["pipelines/messy/ids.ndjson"])
        .code(3);
    assert_eq!(
        with_flag.scalar(
            "SELECT participant_id || ' ' || name || ' ' || event_time AS e FROM event_list \
             WHERE participant_id = 'Flag00000059'"
        ),
        json!("Flag00000059 LEFT 2026-03-08T08:50:04.000000Z")
    );
    let positions: Vec<String> = rejects_positions(&with_flag);
    assert_eq!(positions, ["line 4", "line 6"]);
}

fn rejects_positions(s: &Stagelog) -> Vec<String> {
    rejects(s).into_iter().map(|(p, _)| p).collect()
}

#[test]
fn epoch_numbers_compact_offsets_and_lowercase_are_times_and_a_missing_offset_is_not() {
    let s = Stagelog::new();
    s.import(&m_flags(M2), &["pipelines/messy/times.ndjson"])
        .code(3);
    let quy = "Quy000000057";
    assert_rows(
        "times",
        &event_triples(&s),
        &[
            triple(quy, "JOINED", "2026-03-08T08:30:00.000000Z"), // 1772958600
            triple(quy, "PUBLISH_STARTED", "2026-03-08T08:30:02.500000Z"), // 1.7729586025E9
            triple(quy, "SUBSCRIBE_STARTED", "2026-03-08T08:30:05.500000Z"), // .5+0000
            triple(quy, "PUBLISH_STOPPED", "2026-03-08T08:30:10.000000Z"), // t…z
            triple(quy, "SUBSCRIBE_STOPPED", "2026-03-08T08:30:15.000000Z"), // 10:30:15+0200
            triple(quy, "LEFT", "2026-03-08T08:30:20.000000Z"),   // 1.77295862e9
            triple(quy, "JOINED", "2026-03-08T08:31:01.250000Z"), // 1772958661.25
            triple(quy, "LEFT", "2026-03-08T08:31:30.000000Z"),
        ],
    );
    // Line 7, "2026-03-08T08:31:00" without an offset, is never read as local time.
    let rejects = rejects(&s);
    assert_eq!(rejects.len(), 1, "{rejects:?}");
    assert_eq!(rejects[0].0, "line 7");
    assert!(rejects[0].1.contains("offset"), "{rejects:?}");
    assert_rows(
        "session-quality",
        &only(&V0_QUALITY, s.report_json("session-quality", &[])),
        &[quality_row(
            STAGE_M,
            M2,
            "2026-03-08T08:30:00.000Z",
            "2026-03-08T08:31:30.000Z",
            90.0,
            (1, 1, 0),
            json!(1.0),
            (1, 1, 0, 0), // JOINED 2 − 1 participant = 1 reconnect
            (
                48.75, // 08:30:00 → 08:30:20 = 20; 08:31:01.25 → 08:31:30 = 28.75
                7.5,   // 08:30:02.5 → 08:30:10
                9.5,   // 08:30:05.5 → 08:30:15
            ),
            json!(2.5), // 08:30:02.5 − 08:30:00
            json!(0.0), // 0 / (JOINED 2 + PUBLISH_STARTED 1 + SUBSCRIBE_STARTED 1)
        )],
    );
}

// ---------------------------------------------------------------------------------------------
// Pages: overlap and nextTokens
// ---------------------------------------------------------------------------------------------

#[test]
fn overlapping_pages_drop_duplicates_and_a_repeated_next_token_warns() {
    // Uma's page 1 (A JOINED, B PUBLISH_STARTED, C PUBLISH_STOPPED 09:00:30; nextToken
    // uma-token-2), page 2 (C again as 09:00:30.000Z, D PUBLISH_STARTED 09:00:40, E
    // PUBLISH_STOPPED 09:01:00; nextToken uma-token-3) and page 2 saved again later with other
    // content (D, E, F LEFT 09:01:05; nextToken uma-token-3 again).
    let s = Stagelog::new();
    let assert = s
        .import(
            &m_flags(M3),
            &[
                "pipelines/pages/uma.page1.cli-v2.json",
                "pipelines/pages/uma.page2.cli-v1.json",
                "pipelines/pages/uma.page2.saved-again.json",
            ],
        )
        .code(0);
    let stderr = stderr_of(&assert);
    let warnings: Vec<&str> = stderr.lines().filter(|l| l.contains("warning")).collect();
    assert_eq!(warnings.len(), 1, "{stderr}");
    assert!(
        warnings[0].contains("uma.page2.saved-again.json")
            && warnings[0].contains("uma-token-3")
            && warnings[0].contains("uma.page2.cli-v1.json"),
        "{stderr}"
    );
    assert_rows(
        "page 1",
        &import_counts(&s, "uma.page1.cli-v2.json"),
        &[counts_row(3, 3, 0, 0, 0)],
    );
    assert_rows(
        "page 2",
        &import_counts(&s, "uma.page2.cli-v1.json"),
        &[counts_row(3, 2, 1, 0, 0)],
    );
    assert_rows(
        "page 2 again",
        &import_counts(&s, "uma.page2.saved-again.json"),
        &[counts_row(3, 1, 2, 0, 0)],
    );
    assert_rows(
        "session-quality",
        &only(&V0_QUALITY, s.report_json("session-quality", &[])),
        &[quality_row(
            STAGE_M,
            M3,
            "2026-03-11T09:00:00.000Z",
            "2026-03-11T09:01:05.000Z",
            65.0,
            (1, 1, 0),
            json!(1.0),
            (0, 1, 0, 0),
            (
                65.0, // 09:00:00 → 09:01:05
                49.0, // 09:00:01 → 09:00:30 = 29; 09:00:40 → 09:01:00 = 20
                0.0,
            ),
            json!(1.0),
            json!(0.0), // 0 / (JOINED 1 + PUBLISH_STARTED 2)
        )],
    );
    // Reading the same page again (--force) is not a repeated token: same content.
    let again = s
        .import(
            &["--force", "--stage-arn", STAGE_M, "--session-id", M3],
            &["pipelines/pages/uma.page1.cli-v2.json"],
        )
        .code(0);
    assert!(
        !stderr_of(&again).contains("warning"),
        "{}",
        stderr_of(&again)
    );
}

#[test]
fn the_same_page_saved_again_in_other_bytes_is_no_warning() {
    // Page 2 as saved, and the same page gzipped: other bytes, the same events.
    let s = Stagelog::new();
    let plain = std::fs::read(pipeline("pages/uma.page2.cli-v1.json")).unwrap();
    let gzipped = s.dir.path().join("uma.page2.json.gz");
    let mut encoder = flate2::write::GzEncoder::new(
        std::fs::File::create(&gzipped).unwrap(),
        flate2::Compression::default(),
    );
    std::io::Write::write_all(&mut encoder, &plain).unwrap();
    encoder.finish().unwrap();
    let assert = s
        .run(&[
            "import",
            "--stage-arn",
            STAGE_M,
            "--session-id",
            M3,
            &pipeline("pages/uma.page2.cli-v1.json"),
            gzipped.to_str().unwrap(),
        ])
        .code(0);
    let stderr = stderr_of(&assert);
    assert!(!stderr.contains("warning"), "{stderr}");
    assert_eq!(s.scalar("SELECT sum(warnings) FROM imports"), json!(0));
}

#[test]
fn a_next_token_repeated_inside_one_file_warns_too() {
    // `cat page2 page2-saved-again > one.json`: two response documents back to back, both
    // ending with nextToken uma-token-3. The issue: "repeated or cyclic nextTokens: duplicates
    // dropped, a warning for the odd tokens" — a file is not needed to differ.
    let s = Stagelog::new();
    let assert = s
        .import(
            &m_flags(M3),
            &["pipelines/pages-concatenated/uma.page2.twice.json"],
        )
        .code(0);
    // C, D, E from the first document, then D, E again and F.
    assert_rows(
        "counts",
        &import_counts(&s, "uma.page2.twice.json"),
        &[counts_row(6, 4, 2, 0, 0)],
    );
    let stderr = stderr_of(&assert);
    assert!(
        stderr.contains("warning") && stderr.contains("uma-token-3"),
        "no warning for the repeated nextToken:\n{stderr}"
    );
}

// ---------------------------------------------------------------------------------------------
// --strict
// ---------------------------------------------------------------------------------------------

#[test]
fn strict_mode_aborts_a_file_with_a_reject_and_writes_nothing_of_it() {
    let s = Stagelog::new();
    let mut flags = vec!["--strict"];
    flags.extend(m_flags(M3));
    let assert = s
        .import(
            &flags,
            &[
                "pipelines/messy/truncated-last-line.ndjson",
                "pipelines/pages/uma.page1.cli-v2.json",
            ],
        )
        .code(1);
    let stderr = stderr_of(&assert);
    assert!(
        stderr.contains("--strict") && stderr.contains("truncated-last-line.ndjson"),
        "{stderr}"
    );
    // Nothing of the truncated file: not its two complete events, not its reject, not its
    // participant or its imports row. The next file imported.
    assert_eq!(
        s.count("event_list WHERE participant_id = 'Ned000000054'"),
        0
    );
    assert_eq!(
        s.count("participants WHERE participant_id = 'Ned000000054'"),
        0
    );
    assert_eq!(s.count("rejects"), 0);
    assert_eq!(
        s.count("imports WHERE path LIKE '%truncated-last-line.ndjson'"),
        0
    );
    assert_eq!(
        s.count("event_list WHERE participant_id = 'Uma000000061'"),
        3
    );
    // Not marked as imported: without --strict it imports (2 events, 1 reject).
    s.import(
        &m_flags(M3),
        &["pipelines/messy/truncated-last-line.ndjson"],
    )
    .code(3);
    assert_eq!(
        s.count("event_list WHERE participant_id = 'Ned000000054'"),
        2
    );
}

// ---------------------------------------------------------------------------------------------
// Safety for nightly runs
// ---------------------------------------------------------------------------------------------

fn stagelog_process(s: &Stagelog, args: &[&str]) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_stagelog"));
    cmd.current_dir(s.dir.path())
        .env_remove("STAGELOG_DB")
        .arg("--db")
        .arg(&s.db)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    cmd
}

#[test]
fn two_imports_at_once_into_one_database_both_succeed() {
    for round in 0..3 {
        // A fresh database each round: both processes race to create and migrate it too.
        let s = Stagelog::new();
        let eventbridge = pipeline("eventbridge/stage-events.ndjson");
        let by_path = pipeline("by-path");
        let first = stagelog_process(&s, &["import", &eventbridge])
            .spawn()
            .unwrap();
        let second = stagelog_process(
            &s,
            &[
                "import",
                "--context-from-path",
                "--stage-arn-prefix",
                ARN_PREFIX,
                &by_path,
            ],
        )
        .spawn()
        .unwrap();
        for child in [first, second] {
            let out = child.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "round {round}: {:?}\n{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        // EventBridge 6 events + by-path 8.
        assert_eq!(s.count("events"), 14, "round {round}");
        assert_eq!(s.count("imports"), 7, "round {round}"); // 1 + 6 files
    }
}

#[test]
fn a_run_stops_at_the_first_file_the_lock_keeps_out() {
    // The tree: a-joins, b-leaves, late/c-copy-of-a, d-broken-line. Without stopping, each of
    // the four would wait --busy-timeout in turn.
    let s = Stagelog::new();
    s.run(&["migrate"]).success();
    let holder = sqlite(&s);
    holder
        .execute_batch("BEGIN IMMEDIATE; INSERT INTO stages (stage_arn) VALUES ('held');")
        .unwrap();
    let run = s
        .run(&["--busy-timeout", "0", "import", &pipeline("tree")])
        .code(1);
    let stderr = stderr_of(&run);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 3, "{stderr}");
    assert!(
        lines[0].starts_with("stagelog: ")
            && lines[0].contains("2026-03-07/a-joins.ndjson: database ")
            && lines[0].contains("locked"),
        "the file, then why: {stderr}"
    );
    assert!(lines[1].starts_with("stagelog: stopped: the files after it were not read"));
    assert!(
        lines[2].starts_with("total, 1 file, 1 failed: 0 read"),
        "{stderr}"
    );
    holder.execute_batch("ROLLBACK").unwrap();
    assert_eq!(s.count("imports"), 0);
}

#[test]
fn a_held_write_lock_fails_an_import_with_busy_timeout_0_and_a_longer_timeout_waits() {
    let s = Stagelog::new();
    s.run(&["migrate"]).success();
    let eventbridge = pipeline("eventbridge/stage-events.ndjson");
    let holder = sqlite(&s);
    holder
        .execute_batch(
            "BEGIN IMMEDIATE; INSERT INTO stages (stage_arn) VALUES ('held-by-the-test');",
        )
        .unwrap();

    let failed = s
        .run(&["--busy-timeout", "0", "import", &eventbridge])
        .code(1);
    let stderr = stderr_of(&failed);
    assert!(
        stderr.contains("locked") && stderr.contains("--busy-timeout"),
        "{stderr}"
    );

    // With time to wait, the import waits for the lock and then runs.
    let mut waiting = stagelog_process(&s, &["--busy-timeout", "60", "import", &eventbridge])
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert!(
        waiting.try_wait().unwrap().is_none(),
        "the import did not wait for the lock"
    );
    holder.execute_batch("ROLLBACK").unwrap();
    let out = waiting.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{:?}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(s.count("events"), 6);
    assert_eq!(s.count("stages WHERE stage_arn = 'held-by-the-test'"), 0);
}

/// SQLite lets the last connection to close a database in WAL mode checkpoint and delete the
/// WAL, and it knows it is the last when no other process holds a lock on the database file
/// (sqlite3 3.40, and Python's sqlite3 that Datasette uses, do just that). An import without
/// its lock would go on writing into a deleted WAL: its work unseen, and a second import
/// corrupting the database, both thinking they held the only write lock.
#[cfg(target_os = "linux")]
#[test]
fn an_import_holds_its_lock_on_the_database_file_while_it_runs() {
    use std::os::unix::fs::MetadataExt;
    let s = Stagelog::new();
    s.run(&["migrate"]).success();
    let wal = format!("{}-wal", s.db.display());
    assert!(!Path::new(&wal).exists(), "migrate's close removed its WAL");
    // Reading stdin to its end first, the import waits with the database open.
    let mut import = stagelog_process(&s, &["import", "-"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !Path::new(&wal).exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // Well past opening and migrating, which once dropped the lock at its end.
    std::thread::sleep(std::time::Duration::from_millis(500));
    let pid = import.id().to_string();
    let file = format!(":{}", std::fs::metadata(&s.db).unwrap().ino());
    // /proc/locks: `1: POSIX  ADVISORY  READ 22826 fe:00:10510543 128 128`.
    let locks = std::fs::read_to_string("/proc/locks").unwrap();
    let held = locks.lines().any(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        fields.get(4) == Some(&pid.as_str()) && fields.get(5).is_some_and(|f| f.ends_with(&file))
    });
    assert!(held, "no lock of process {pid} on {file} in\n{locks}");

    let events = std::fs::read(pipeline("eventbridge/stage-events.ndjson")).unwrap();
    let mut stdin = import.stdin.take().unwrap();
    std::io::Write::write_all(&mut stdin, &events).unwrap();
    drop(stdin);
    let out = import.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(s.count("events"), 6);
}

#[test]
fn readers_are_not_blocked_by_an_open_write_transaction() {
    let s = Stagelog::new();
    s.import(&[], &["pipelines/eventbridge/stage-events.ndjson"])
        .code(0);
    let holder = sqlite(&s);
    holder
        .execute_batch(
            "BEGIN IMMEDIATE; INSERT INTO stages (stage_arn) VALUES ('uncommitted'); \
             DELETE FROM recording_events;",
        )
        .unwrap();
    // --busy-timeout 0: a reader that had to wait would fail at once. It sees the last
    // committed state: one stage, the recording event.
    let rows = parse_json_rows(&s.stdout(&[
        "--busy-timeout",
        "0",
        "sql",
        "SELECT (SELECT count(*) FROM stages) AS stages, \
                (SELECT count(*) FROM recording_events) AS recordings",
        "--format",
        "json",
    ]));
    assert_rows("reader", &rows, &[json!({"stages": 1, "recordings": 1})]);
    let report = s.stdout(&[
        "--busy-timeout",
        "0",
        "report",
        "session-quality",
        "--format",
        "json",
    ]);
    assert_rows(
        "report",
        &only(&V0_QUALITY, parse_json_rows(&report)),
        &[expected_eventbridge_quality()],
    );
    holder.execute_batch("ROLLBACK").unwrap();
}

#[test]
fn a_database_with_a_newer_schema_is_refused_and_left_unchanged() {
    let s = Stagelog::new();
    s.run(&["migrate"]).success();
    let supported = migration_files().last().unwrap().0;
    {
        let conn = sqlite(&s);
        conn.execute(
            "INSERT INTO refinery_schema_history (version, name, applied_on, checksum) \
             VALUES (99, 'from_the_future', '2030-01-01T00:00:00Z', '0')",
            [],
        )
        .unwrap();
    } // the last connection closes: WAL checkpointed and removed
    assert_eq!(side_files(&s.db), Vec::<String>::new());
    let before = std::fs::read(&s.db).unwrap();
    let eventbridge = pipeline("eventbridge/stage-events.ndjson");
    for args in [vec!["import", eventbridge.as_str()], vec!["migrate"]] {
        let assert = s.run(&args).code(4);
        let stderr = stderr_of(&assert);
        let numbers: Vec<&str> = stderr
            .split(|c: char| !c.is_ascii_digit())
            .filter(|w| !w.is_empty())
            .collect();
        assert!(
            numbers.contains(&"99") && numbers.contains(&supported.to_string().as_str()),
            "{args:?}: both versions named:\n{stderr}"
        );
        assert_eq!(side_files(&s.db), Vec::<String>::new(), "{args:?}");
        assert!(
            std::fs::read(&s.db).unwrap() == before,
            "{args:?} changed the file"
        );
    }
    for args in [vec!["report", "session-quality"], vec!["sql", "SELECT 1"]] {
        s.run(&args).code(4);
        assert!(
            std::fs::read(&s.db).unwrap() == before,
            "{args:?} changed the file"
        );
    }
    // Read directly (stagelog refuses to): the import wrote no event.
    let events: i64 = sqlite(&s)
        .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
        .unwrap();
    assert_eq!(events, 0);
}

#[test]
fn an_sqlite_file_that_is_not_stagelogs_is_refused_and_left_unchanged() {
    let s = Stagelog::new();
    {
        let conn = sqlite(&s);
        conn.execute_batch(
            "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); \
             INSERT INTO notes (body) VALUES ('keep me');",
        )
        .unwrap();
    }
    let before = std::fs::read(&s.db).unwrap();
    let eventbridge = pipeline("eventbridge/stage-events.ndjson");
    for args in [
        vec!["import", eventbridge.as_str()],
        vec!["migrate"],
        vec!["report", "session-quality"],
        vec!["sql", "SELECT 1"],
    ] {
        let assert = s.run(&args).code(4);
        assert!(
            stderr_of(&assert).contains("not a stagelog"),
            "{args:?}: {}",
            stderr_of(&assert)
        );
        assert_eq!(side_files(&s.db), Vec::<String>::new(), "{args:?}");
        assert!(
            std::fs::read(&s.db).unwrap() == before,
            "{args:?} changed the file"
        );
    }
    // Nor is another program's database that keeps its migrations with refinery too (here with
    // an `applied_on` refinery itself could not parse), nor one that holds only a view.
    for schema in [
        "CREATE TABLE refinery_schema_history (version int4 PRIMARY KEY, name VARCHAR(255), \
         applied_on VARCHAR(255), checksum VARCHAR(255)); \
         INSERT INTO refinery_schema_history VALUES (1, 'create_users', '2020', '123'); \
         CREATE TABLE users (id);",
        "CREATE VIEW answer AS SELECT 42;",
    ] {
        let other = Stagelog::new();
        sqlite(&other).execute_batch(schema).unwrap();
        let before = std::fs::read(&other.db).unwrap();
        let assert = other.run(&["import", eventbridge.as_str()]).code(4);
        assert!(
            stderr_of(&assert).contains("not a stagelog"),
            "{schema}: {}",
            stderr_of(&assert)
        );
        assert!(std::fs::read(&other.db).unwrap() == before, "{schema}");
        assert_eq!(side_files(&other.db), Vec::<String>::new(), "{schema}");
    }
    // Nor is a file that is not SQLite at all.
    let text = Stagelog::new();
    std::fs::write(&text.db, "these are my notes\n").unwrap();
    text.run(&["import", &eventbridge]).code(4);
    text.run(&["migrate"]).code(4);
    assert_eq!(
        std::fs::read_to_string(&text.db).unwrap(),
        "these are my notes\n"
    );
    assert_eq!(side_files(&text.db), Vec::<String>::new());
}

#[test]
fn migrate_applies_and_status_shows_every_migration() {
    let migrations = migration_files();
    assert!(migrations.len() >= 2, "{migrations:?}");
    let s = Stagelog::new();
    // No database yet: all pending, and nothing is created.
    let status = s.stdout(&["migrate", "--status"]);
    let pending: Vec<String> = migrations
        .iter()
        .map(|(v, name)| format!("V{v} {name}: pending"))
        .collect();
    assert_eq!(status.lines().collect::<Vec<_>>(), pending, "{status}");
    assert!(!s.db.exists());

    let applied = s.run(&["migrate"]).success();
    let stderr = stderr_of(&applied);
    for (v, name) in &migrations {
        assert!(stderr.contains(&format!("V{v} {name}")), "{stderr}");
    }
    let status = s.stdout(&["migrate", "--status"]);
    let lines: Vec<&str> = status.lines().collect();
    assert_eq!(lines.len(), migrations.len(), "{status}");
    for (line, (v, name)) in lines.iter().zip(&migrations) {
        assert!(
            line.starts_with(&format!("V{v} {name}: applied ")),
            "{status}"
        );
    }
    // Once more: nothing to apply.
    let again = s.run(&["migrate"]).success();
    let stderr = stderr_of(&again);
    assert!(
        stderr.contains("nothing to apply") && !stderr.contains("applied V"),
        "{stderr}"
    );
}

#[test]
fn quiet_prints_no_per_file_lines_and_no_progress_bar_off_a_terminal() {
    let files = [
        "pipelines/pages/uma.page1.cli-v2.json",
        "pipelines/pages/uma.page2.cli-v1.json",
        "pipelines/pages/uma.page2.saved-again.json",
        "pipelines/messy/truncated-last-line.ndjson",
    ];
    let s = Stagelog::new();
    let mut flags = vec!["--quiet"];
    flags.extend(m_flags(M3));
    let quiet = s.import(&flags, &files).code(3);
    let stderr = stderr_of(&quiet);
    // Only the total, the warning and the reject remain.
    for line in stderr.lines() {
        assert!(
            line.starts_with("total")
                || line.contains("warning: nextToken")
                || line.contains("rejected line 3"),
            "a per-file line under --quiet: {line:?}\n{stderr}"
        );
    }
    assert!(stderr.lines().any(|l| l.starts_with("total")), "{stderr}");
    assert!(stderr.contains("warning: nextToken"), "{stderr}");
    // Without --quiet (stderr is a pipe here, not a terminal): per-file lines, no bar.
    let loud = Stagelog::new();
    let stderr = stderr_of(&loud.import(&m_flags(M3), &files).code(3));
    for file in files {
        let name = file.rsplit('/').next().unwrap();
        assert!(stderr.contains(name), "{name}:\n{stderr}");
    }
    assert!(
        !stderr.contains('\r') && !stderr.contains('\u{1b}'),
        "progress bar drawn off a terminal: {stderr:?}"
    );
}

#[test]
fn a_killed_import_leaves_a_consistent_database_and_the_file_reimportable() {
    // A big file, generated here (a fixture of this size would be noise): 20,000 participants,
    // each JOINED then LEFT.
    let s = Stagelog::new();
    let big = s.dir.path().join("big.ndjson");
    let mut text = String::new();
    for i in 0..20_000 {
        for (name, second) in [("JOINED", 0), ("LEFT", 30)] {
            text.push_str(&format!(
                "{{\"stageArn\":\"{STAGE_M}\",\"sessionId\":\"st-M9killed00009\",\
                 \"name\":\"{name}\",\"participantId\":\"K{i:011}\",\
                 \"eventTime\":\"2026-03-12T10:00:{second:02}Z\"}}\n"
            ));
        }
    }
    std::fs::write(&big, text).unwrap();
    let big = big.display().to_string();
    s.run(&["migrate"]).success();

    let mut child = stagelog_process(&s, &["import", &big]).spawn().unwrap();
    // Kill it once the file's transaction has started writing (the WAL grows), or after 5 s.
    let wal = PathBuf::from(format!("{}-wal", s.db.display()));
    let started = std::time::Instant::now();
    while started.elapsed() < std::time::Duration::from_secs(5)
        && child.try_wait().unwrap().is_none()
        && std::fs::metadata(&wal).map_or(0, |m| m.len()) == 0
    {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();

    let conn = sqlite(&s);
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let (events, imports): (i64, i64) = conn
        .query_row(
            "SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM imports)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    drop(conn);
    // All of the file or none of it.
    assert!(
        (events, imports) == (0, 0) || (events, imports) == (40_000, 1),
        "events {events}, imports {imports}"
    );
    // Importing again completes it (or finds it complete).
    s.run(&["import", &big]).code(0);
    assert_eq!(s.count("events"), 40_000);
    assert_eq!(s.count("imports"), 1);
    assert_eq!(s.count("intervals"), 20_000);
}

#[test]
fn context_from_path_works_with_a_relative_path_from_inside_the_layout() {
    // A cron job or a user in the stage folder: `cd …/StgP0000pppp && stagelog import
    // --context-from-path … st-P1path000001`. The file's path is still
    // …/StgP0000pppp/st-P1path000001/Pam000000041.page1.cli-v2.json; only its spelling on the
    // command line is shorter.
    let s = Stagelog::new();
    let stage_folder = pipeline("by-path/StgP0000pppp");
    let assert = s
        .cmd(&[
            "import",
            "--context-from-path",
            "--stage-arn-prefix",
            ARN_PREFIX,
            "st-P1path000001",
        ])
        .current_dir(&stage_folder)
        .assert();
    let stderr = stderr_of(&assert);
    assert.code(0);
    assert_rows(
        "events by place",
        &s.sql(
            "SELECT stage_arn, session_id, participant_id, count(*) AS n FROM event_list \
             GROUP BY 1, 2, 3",
            &[],
        ),
        &[json!({"stage_arn": format!("{ARN_PREFIX}StgP0000pppp"),
                 "session_id": "st-P1path000001", "participant_id": "Pam000000041", "n": 4})],
    );
    // Rejects would be listed as "<file>:   rejected <position>: <reason>".
    assert!(!stderr.contains(":   rejected "), "{stderr}");
}

#[test]
fn utf16_without_a_bom_is_decoded_or_rejected_saying_so() {
    // utf16le-no-bom.ndjson is utf16le-bom.ndjson without its first two bytes. The issue:
    // "UTF-16 files: decode them, or reject with an error that says so".
    let s = Stagelog::new();
    let assert = s.import(&m_flags(M1), &["pipelines/messy/utf16le-no-bom.ndjson"]);
    let stderr = stderr_of(&assert);
    let decoded = s.db.exists() && s.count("events") == 3;
    assert!(
        decoded || stderr.contains("UTF-16"),
        "neither decoded nor named as UTF-16:\n{stderr}"
    );
}

#[test]
fn import_applies_pending_migrations_to_an_older_database_and_says_so() {
    let migrations = migration_files();
    // A database at V1, as the first stagelog left it: V1's SQL and refinery's history row (its
    // checksum copied from a database the binary migrated itself).
    let reference = Stagelog::new();
    reference.run(&["migrate"]).success();
    let (name, applied_on, checksum): (String, String, String) = sqlite(&reference)
        .query_row(
            "SELECT name, applied_on, checksum FROM refinery_schema_history WHERE version = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    let s = Stagelog::new();
    {
        let conn = sqlite(&s);
        let v1 = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("migrations")
            .join(format!("V1__{}.sql", migrations[0].1));
        conn.execute_batch(&std::fs::read_to_string(v1).unwrap())
            .unwrap();
        conn.execute_batch(
            "CREATE TABLE refinery_schema_history (version int4 PRIMARY KEY, \
             name VARCHAR(255), applied_on VARCHAR(255), checksum VARCHAR(255))",
        )
        .unwrap();
        conn.execute(
            "INSERT INTO refinery_schema_history VALUES (1, ?1, ?2, ?3)",
            [&name, &applied_on, &checksum],
        )
        .unwrap();
    }
    // report refuses to run on it and says to migrate; import upgrades it.
    s.run(&["report", "session-quality"])
        .failure()
        .stderr(predicate::str::contains("migrate"));
    let assert = s
        .run(&["import", &pipeline("eventbridge/stage-events.ndjson")])
        .code(0);
    let stderr = stderr_of(&assert);
    for (v, name) in &migrations[1..] {
        assert!(stderr.contains(&format!("V{v} {name}")), "{stderr}");
    }
    assert_eq!(s.count("events"), 6);
    let status = s.stdout(&["migrate", "--status"]);
    assert_eq!(
        status.matches(": applied ").count(),
        migrations.len(),
        "{status}"
    );
}

#[test]
fn replication_wordings_are_matched_on_start_and_stop_and_others_kept_as_written() {
    // The issue: "match any event_name naming replication and start/stop, case-insensitively
    // …; keep any other event_name as written". `Participant Replication Pending` names
    // neither a start nor a stop (it only contains the letters "end").
    let s = Stagelog::new();
    s.import(&[], &["pipelines/eventbridge/replication-wordings.ndjson"])
        .code(0);
    assert_rows(
        "names",
        &s.sql("SELECT name FROM events ORDER BY event_time_us", &[]),
        &[
            json!({"name": "REPLICATION_STARTED"}), // Participant Replication Started
            json!({"name": "Participant Replication Pending"}), // as written
            json!({"name": "REPLICATION_STOPPED"}), // participant replication stop
            json!({"name": "REPLICATION_STARTED"}), // PARTICIPANT REPLICATION STARTED
            json!({"name": "REPLICATION_STOPPED"}), // Participant Replication Ended
        ],
    );
    let replication = |dest: &str, started: &str, stopped: &str, seconds: f64| {
        json!({
            "stage_arn": STAGE_E,
            "session_id": "st-E2wording0002",
            "participant_id": "Rep000000024",
            "destination_stage_arn": "arn:aws:ivs:us-west-2:111122223333:stage/StgD0000dddd",
            "destination_session_id": dest,
            "started_at": started,
            "stopped_at": stopped,
            "duration_s": seconds,
        })
    };
    assert_rows(
        "replications",
        &s.report_json("replications", &[]),
        &[
            // 10:00:00 → 10:02:00; the Pending at 10:01:00 closes nothing.
            replication(
                "st-D1replica0001",
                "2026-03-06T10:00:00.000Z",
                "2026-03-06T10:02:00.000Z",
                120.0,
            ),
            // 10:03:00 → 10:04:30
            replication(
                "st-D2replica0002",
                "2026-03-06T10:03:00.000Z",
                "2026-03-06T10:04:30.000Z",
                90.0,
            ),
        ],
    );
}
