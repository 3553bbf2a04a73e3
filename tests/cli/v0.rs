//! The v0 capabilities (issue 2), on the standard data set: every report column by hand, import
//! normalization and idempotence, filters, output formats, exit codes.

use super::*;

// ---------------------------------------------------------------------------------------------
// The reports, column by column, on the standard data set.
// ---------------------------------------------------------------------------------------------

#[test]
fn report_columns_are_the_contract() {
    let s = Stagelog::standard();
    // v0's columns first; issue 4 appended to session-quality and token-chains, and put
    // `dimension, value` before error-breakdown's columns only when --by is given.
    let expected: [(&str, &[&str], &str); 11] = [
        (
            "session-quality",
            &[],
            "stage_arn,session_id,started_at,ended_at,duration_s,participants,\
             joined_participants,join_errors,join_success_rate,reconnects,publishers,\
             publish_errors,subscribe_errors,connected_seconds,publish_seconds,\
             subscribe_seconds,median_time_to_publish_s,error_rate,\
             publish_success_rate,subscribe_success_rate,peak_participants,peak_publishers,\
             p90_time_to_publish_s,median_time_to_subscribe_s,clean",
        ),
        (
            "error-breakdown",
            &[],
            "event_name,error_code,errors,participants,sessions,share,first_seen,last_seen",
        ),
        (
            "error-breakdown",
            &["--by", "sdk"],
            "dimension,value,event_name,error_code,errors,participants,sessions,share,\
             first_seen,last_seen",
        ),
        (
            "token-chains",
            &[],
            "stage_arn,session_id,participant_id,exchanges,first_exchange_at,last_exchange_at,\
             initial_user_id,final_user_id,capability_path,upgrades,downgrades,broken_links,\
             expiry_extension_s,time_to_publish_after_upgrade_s,\
             insufficient_capability_errors_before,insufficient_capability_errors_after",
        ),
        (
            "replications",
            &[],
            "stage_arn,session_id,participant_id,destination_stage_arn,destination_session_id,\
             started_at,stopped_at,duration_s",
        ),
        (
            "participants",
            &[],
            "stage_arn,session_id,participant_id,user_id,replica,os_name,browser_name,\
             sdk_version,isp_name,protocol,first_joined_at,last_event_at,connected_seconds,\
             publish_seconds,subscribe_seconds,reconnects,join_errors,publish_errors,\
             subscribe_errors",
        ),
        (
            "breakdown",
            &["--by", "isp"],
            "dimension,value,participants,join_success_rate,publish_success_rate,join_errors,\
             publish_errors,subscribe_errors,connected_minutes",
        ),
        (
            "daily",
            &[],
            "day,sessions,participants,participant_minutes,publish_minutes,subscribe_minutes,\
             join_success_rate,error_rate,clean_session_rate,d1_sessions,w1_sessions,\
             d1_participants,w1_participants,d1_participant_minutes,w1_participant_minutes,\
             d1_join_success_rate,w1_join_success_rate,d1_error_rate,w1_error_rate,\
             d1_clean_session_rate,w1_clean_session_rate",
        ),
        (
            "timeline",
            &["--session", S1],
            "participant_id,event_time,name,remote_participant_id,error_code,effect,\
             connected_now,publishing_now",
        ),
        ("data-quality", &[], "check,count,example"),
        (
            "replication-graph",
            &[],
            "source_stage_arn,destination_stage_arn,participants,replications,replica_minutes,\
             open_replications,orphan_stops",
        ),
    ];
    for (name, args, header) in expected {
        let csv = s.report(name, "csv", args);
        assert_eq!(csv.lines().next(), Some(header), "{name} {args:?}");
    }
}

fn session_quality_s1() -> Value {
    json!({
        "stage_arn": STAGE_A,
        "session_id": S1,
        // First event: Alice JOINED 10:00:00; last: Bob LEFT 10:06:00 (the 10:10:00 endTime of
        // the session record closes open intervals but is not an event).
        "started_at": "2026-03-01T10:00:00.000Z",
        "ended_at": "2026-03-01T10:06:00.000Z",
        "duration_s": 360.0, // 10:00:00 → 10:06:00
        "participants": 3,   // Alice, Bob, Carol (Dave is only in ListParticipants)
        "joined_participants": 3,
        "join_errors": 1,             // Carol's QUOTA_EXCEEDED
        "join_success_rate": 1.0,     // 3 joined / 3 with JOINED or JOIN_ERROR
        "reconnects": 1,              // JOINED: Alice 2 + Bob 1 + Carol 1 = 4; 4 − 3
        "publishers": 3,
        "publish_errors": 1,          // Alice BITRATE_EXCEEDED
        "subscribe_errors": 1,        // Carol NEW_FANCY_CODE (unknown code, still counted)
        // Session end for open intervals: max(last event 10:06:00, endTime 10:10:00) = 10:10:00.
        // Alice 10:00:00→10:05:00 (LEFT) = 300, rejoin at that instant 10:05:00→10:10:00 = 300;
        // Bob 10:00:30.250→10:06:00 = 329.75; Carol 10:01:20.5→10:10:00 = 519.5.
        // 300 + 300 + 329.75 + 519.5 = 1449.25
        "connected_seconds": 1449.25,
        // Alice 10:00:00→10:02:00 = 120, republish 10:02:00→10:05:00 = 180, and at 10:05:00
        // (PUBLISH_STOPPED, LEFT, JOINED, PUBLISH_STARTED) the stops close the old intervals
        // before the starts open new ones: 10:05:00→10:10:00 = 300;
        // Bob 10:00:40.250→10:03:30 = 169.75, zero-length at 10:04:00 = 0;
        // Carol 10:01:25.5→10:10:00 (open) = 514.5.
        // 120 + 180 + 300 + 169.75 + 0 + 514.5 = 1284.25
        "publish_seconds": 1284.25,
        // Alice→Bob 10:01:00→10:04:00 = 180; Bob→Alice 10:00:45→10:06:00 (LEFT) = 315;
        // Carol→Bob 10:01:30→10:10:00 (open) = 510. 180 + 315 + 510 = 1005
        "subscribe_seconds": 1005.0,
        // Alice 10:00:00−10:00:00 = 0; Bob 10:00:40.250−10:00:30.250 = 10;
        // Carol 10:01:25.5−10:01:20.5 = 5 (from events; her participant record's firstJoinTime
        // 10:01:10.750 must not override them). Sorted 0, 5, 10: median 5.
        "median_time_to_publish_s": 5.0,
        // (1 + 1 + 1) errors / (JOINED 4 + JOIN_ERROR 1 + PUBLISH_STARTED 6 [Alice 3, Bob 2,
        // Carol 1] + PUBLISH_ERROR 1 + SUBSCRIBE_STARTED 3 + SUBSCRIBE_ERROR 1 = 16) = 0.1875
        "error_rate": 0.1875,
        // Issue 4's columns. Alice, Bob and Carol all have PUBLISH_STARTED: 3 / 3.
        "publish_success_rate": 1.0,
        // (subscriber, publisher) pairs with SUBSCRIBE_STARTED: Alice→Bob, Bob→Alice, Carol→Bob;
        // with either: those and Carol→Alice (her SUBSCRIBE_ERROR). 3 / 4
        "subscribe_success_rate": 0.75,
        // Connected [start, end): Alice [10:00:00, 10:05:00) and [10:05:00, 10:10:00), Bob
        // [10:00:30.25, 10:06:00), Carol [10:01:20.5, 10:10:00): 3 from 10:01:20.5. At 10:05:00
        // Alice's first ends where her second starts: still 3, not 4.
        "peak_participants": 3,
        // Publishing: Alice's three back to back, Bob [10:00:40.25, 10:03:30) (his zero-length
        // one never counts), Carol [10:01:25.5, 10:10:00): 3 from 10:01:25.5.
        "peak_publishers": 3,
        // Times to publish 0, 5, 10: the ⌈0.9·3⌉ = 3rd smallest.
        "p90_time_to_publish_s": 10.0,
        // First SUBSCRIBE_STARTED − first JOINED: Alice 10:01:00 − 10:00:00 = 60, Bob
        // 10:00:45 − 10:00:30.25 = 14.75, Carol 10:01:30 − 10:01:20.5 = 9.5. Median 14.75
        "median_time_to_subscribe_s": 14.75,
        "clean": 0, // it has errors
    })
}

fn session_quality_s2() -> Value {
    json!({
        "stage_arn": STAGE_A,
        "session_id": S2,
        "started_at": "2026-03-02T09:00:00.000Z", // Dan JOINED
        "ended_at": "2026-03-02T09:01:00.000Z",   // Dan LEFT
        "duration_s": 60.0,
        "participants": 4,        // Dan, Erin, Frank, Gina
        "joined_participants": 3, // Dan, Erin, Gina (Frank only has JOIN_ERRORs)
        "join_errors": 2,         // Frank ×2
        "join_success_rate": 0.75, // 3 / 4 (Frank tried too)
        // Erin's second JOINED at 09:00:12 comes while she is connected: ignored as an interval
        // start, but counted as an event. JOINED: Dan 1 + Erin 2 + Gina 1 = 4; 4 − 3
        "reconnects": 1,
        "publishers": 3,           // Dan, Erin, Gina
        "publish_errors": 2,       // Erin BITRATE_EXCEEDED, Dan without a code
        "subscribe_errors": 0,
        // Dan 09:00:00→09:01:00 = 60; Erin 10:00:10+01:00 = 09:00:10→09:00:40 = 30;
        // Gina 09:00:50→09:00:55 = 5. 60 + 30 + 5 = 95
        "connected_seconds": 95.0,
        // Dan 09:00:02→09:01:00 (LEFT closes it; PUBLISH_ERROR does not) = 58;
        // Erin 09:00:16→09:00:40 = 24 (the 9-digit spelling is the same event);
        // Gina 09:00:45→09:00:55 = 10. 58 + 24 + 10 = 92
        "publish_seconds": 92.0,
        // Gina: SUBSCRIBE_STARTED without remoteParticipantId 09:00:51; the SUBSCRIBE_STOPPED
        // naming Dan at 09:00:52 does not pair with it (ignored); the one without at 09:00:53
        // does: 2
        "subscribe_seconds": 2.0,
        // Dan 2, Erin 6; Gina's JOINED (09:00:50) is later than her PUBLISH_STARTED (09:00:45),
        // so she is left out. Even count: (2 + 6) / 2 = 4
        "median_time_to_publish_s": 4.0,
        // (2 + 2 + 0) / (JOINED 4 + JOIN_ERROR 2 + PUBLISH_STARTED 3 + PUBLISH_ERROR 2
        // + SUBSCRIBE_STARTED 1) = 4/12 = 0.33333…
        "error_rate": 0.3333,
        // PUBLISH_STARTED: Dan, Erin, Gina; with it or PUBLISH_ERROR: the same three. 3 / 3
        "publish_success_rate": 1.0,
        // Gina's SUBSCRIBE_STARTED without a remote participant: one pair, no error. 1 / 1
        "subscribe_success_rate": 1.0,
        // Connected: Dan [09:00:00, 09:01:00), Erin [09:00:10, 09:00:40), Gina
        // [09:00:50, 09:00:55): never more than 2.
        "peak_participants": 2,
        // Publishing: Dan [09:00:02, 09:01:00), Erin [09:00:16, 09:00:40), Gina
        // [09:00:45, 09:00:55): 2.
        "peak_publishers": 2,
        "p90_time_to_publish_s": 6.0, // 2, 6: the ⌈0.9·2⌉ = 2nd smallest
        // Gina 09:00:51 − 09:00:50 = 1 (the only subscriber).
        "median_time_to_subscribe_s": 1.0,
        "clean": 0,
    })
}

fn session_quality_s3() -> Value {
    json!({
        "stage_arn": STAGE_B,
        "session_id": S3,
        "started_at": "2026-03-03T12:00:00.000Z", // Hank's first exchange
        "ended_at": "2026-03-03T12:20:00.000Z",   // Hank's last exchange
        "duration_s": 1200.0,
        "participants": 2, // Hank, Ivy: token exchanges only
        "joined_participants": 0,
        "join_errors": 0,
        "join_success_rate": null, // 0 / 0
        "reconnects": 0,
        "publishers": 0,
        "publish_errors": 0,
        "subscribe_errors": 0,
        "connected_seconds": 0.0,
        "publish_seconds": 0.0,
        "subscribe_seconds": 0.0,
        "median_time_to_publish_s": null, // no publishers
        "error_rate": null,               // 0 / 0
        "publish_success_rate": null,     // 0 / 0
        "subscribe_success_rate": null,   // 0 / 0
        "peak_participants": 0,           // no intervals
        "peak_publishers": 0,
        "p90_time_to_publish_s": null,
        "median_time_to_subscribe_s": null,
        "clean": 0, // no JOINED
    })
}

#[test]
fn session_quality_by_hand() {
    let s = Stagelog::standard();
    assert_rows(
        "session-quality",
        &s.report_json("session-quality", &[]),
        // Ordered by started_at.
        &[
            session_quality_s1(),
            session_quality_s2(),
            session_quality_s3(),
        ],
    );
}

#[test]
fn error_breakdown_by_hand() {
    let s = Stagelog::standard();
    // 7 error events in all: S1 Carol JOIN_ERROR, Alice PUBLISH_ERROR, Carol SUBSCRIBE_ERROR;
    // S2 Frank JOIN_ERROR ×2, Erin PUBLISH_ERROR, Dan PUBLISH_ERROR without a code.
    assert_rows(
        "error-breakdown",
        &s.report_json("error-breakdown", &[]),
        &[
            // Carol (S1) + Frank ×2 (S2) = 3; 3/7 = 0.428571…
            errors_row(
                "JOIN_ERROR",
                Some("QUOTA_EXCEEDED"),
                3,
                2,
                2,
                0.4286,
                "2026-03-01T10:01:10.750Z", // boto3 `10:01:10.750000+00:00`
                "2026-03-02T09:00:06.000Z",
            ),
            // Alice (S1) + Erin (S2) = 2; 2/7 = 0.285714…
            errors_row(
                "PUBLISH_ERROR",
                Some("BITRATE_EXCEEDED"),
                2,
                2,
                2,
                0.2857,
                "2026-03-01T10:03:00.000Z",
                "2026-03-02T09:00:20.000Z",
            ),
            // Ties at 1 error go by event name. 1/7 = 0.142857…
            errors_row(
                "PUBLISH_ERROR",
                None,
                1,
                1,
                1,
                0.1429,
                "2026-03-02T09:00:30.000Z",
                "2026-03-02T09:00:30.000Z",
            ),
            errors_row(
                "SUBSCRIBE_ERROR",
                Some("NEW_FANCY_CODE"),
                1,
                1,
                1,
                0.1429,
                "2026-03-01T10:02:00.000Z",
                "2026-03-01T10:02:00.000Z",
            ),
        ],
    );
}

fn hank_chain() -> Value {
    json!({
        "stage_arn": STAGE_B,
        "session_id": S3,
        "participant_id": "Hank00000009",
        "exchanges": 3,
        "first_exchange_at": "2026-03-03T12:00:00.000Z",
        "last_exchange_at": "2026-03-03T12:20:00.000Z",
        "initial_user_id": "viewer-1", // previousToken of 12:00
        "final_user_id": "host-1",     // newToken of 12:20
        // prev(12:00) SUBSCRIBE, then the newTokens: 12:00 [SUBSCRIBE, PUBLISH] sorted,
        // 12:10 SUBSCRIBE, 12:20 PUBLISH.
        "capability_path": "SUBSCRIBE > PUBLISH+SUBSCRIBE > SUBSCRIBE > PUBLISH",
        // 12:00 gains PUBLISH; 12:20 SUBSCRIBE → PUBLISH gains PUBLISH.
        "upgrades": 2,
        // 12:10 loses PUBLISH; 12:20 loses SUBSCRIBE (counts as both).
        "downgrades": 2,
        // 12:10's previousToken is 12:00's newToken spelled differently (capability order, key
        // order, `13:30:00.000Z` vs `13:30:00Z`): linked. 12:20's previousToken has userId
        // viewer-1b, 12:10's newToken viewer-1: broken.
        "broken_links": 1,
        "expiry_extension_s": 7200.0, // last new 15:00:00 − first previous 13:00:00
        // No PUBLISH_STARTED in S3 at all; Hank has no INSUFFICIENT_CAPABILITIES errors.
        "time_to_publish_after_upgrade_s": null,
        "insufficient_capability_errors_before": 0,
        "insufficient_capability_errors_after": 0,
    })
}

fn ivy_chain() -> Value {
    json!({
        "stage_arn": STAGE_B,
        "session_id": S3,
        "participant_id": "Ivy000000010",
        "exchanges": 3,
        "first_exchange_at": "2026-03-03T12:05:00.000Z",
        "last_exchange_at": "2026-03-03T12:06:00.000Z",
        "initial_user_id": "ivy",
        // The two 12:06 exchanges are in the file in the wrong order; the one whose previous
        // token is the 12:05 newToken (SUBSCRIBE → PUBLISH+SUBSCRIBE) goes first, so the last is
        // PUBLISH+SUBSCRIBE → SUBSCRIBE with userId ivy-host.
        "final_user_id": "ivy-host",
        "capability_path": "- > SUBSCRIBE > PUBLISH+SUBSCRIBE > SUBSCRIBE",
        "upgrades": 2,     // [] → SUBSCRIBE, SUBSCRIBE → PUBLISH+SUBSCRIBE
        "downgrades": 1,   // PUBLISH+SUBSCRIBE → SUBSCRIBE
        "broken_links": 0, // each previousToken is the prior newToken
        "expiry_extension_s": 5400.0, // 14:00:00 − 12:30:00
        "time_to_publish_after_upgrade_s": null,
        "insufficient_capability_errors_before": 0,
        "insufficient_capability_errors_after": 0,
    })
}

#[test]
fn token_chains_by_hand() {
    let s = Stagelog::standard();
    assert_rows(
        "token-chains",
        &s.report_json("token-chains", &[]),
        &[hank_chain(), ivy_chain()],
    );
}

fn replication_alice() -> Value {
    json!({
        "stage_arn": STAGE_A,
        "session_id": S1,
        "participant_id": "Alice0000001",
        "destination_stage_arn": STAGE_B,
        "destination_session_id": "st-D1replica0001",
        // The LEFT at 10:05:00 does not end a replication.
        "started_at": "2026-03-01T10:00:10.000Z",
        "stopped_at": "2026-03-01T10:05:30.000Z",
        "duration_s": 320.0, // 10:00:10 → 10:05:30
    })
}

fn replication_bob() -> Value {
    json!({
        "stage_arn": STAGE_A,
        "session_id": S1,
        "participant_id": "Bob000000002",
        "destination_stage_arn": STAGE_B,
        "destination_session_id": "st-D2replica0002",
        // Bob's only REPLICATION_STOPPED names another destination (st-D9orphan00009): an
        // orphan, so this interval stays open.
        "started_at": "2026-03-01T10:02:00.125Z",
        "stopped_at": null,
        "duration_s": null,
    })
}

#[test]
fn replications_by_hand() {
    let s = Stagelog::standard();
    assert_rows(
        "replications",
        &s.report_json("replications", &[]),
        &[replication_alice(), replication_bob()],
    );
}

/// One participant's events as NDJSON lines in stage K, session st-K, written into the test's
/// folder; returns the file's path.
fn write_k_events(s: &Stagelog, file: &str, lines: &[&str]) -> String {
    let context = r#"{"stageArn": "arn:aws:ivs:us-west-2:111122223333:stage/K", "sessionId": "st-K", "participantId": "k1", "#;
    let text: String = lines.iter().map(|l| format!("{context}{l}\n")).collect();
    let path = s.dir.path().join(file);
    std::fs::write(&path, text).expect("a written fixture");
    path.display().to_string()
}

#[test]
fn same_instant_exchanges_chain_on_token_content_not_on_unknown_token_fields() {
    let s = Stagelog::new();
    // At 00:00:02 the exchange u1 -> a continues the prior new token {u1, PUBLISH} (its extra
    // `tokenTag` is no part of the comparison), so it goes first; b1 -> c1 then breaks the chain.
    let file = write_k_events(
        &s,
        "k1.ndjson",
        &[
            r#""name": "JOINED", "eventTime": "2026-05-01T00:00:00Z"}"#,
            r#""name": "TOKEN_EXCHANGED", "eventTime": "2026-05-01T00:00:01Z", "previousToken": {"userId": "u0", "capabilities": ["SUBSCRIBE"]}, "newToken": {"userId": "u1", "capabilities": ["PUBLISH"]}}"#,
            r#""name": "TOKEN_EXCHANGED", "eventTime": "2026-05-01T00:00:02Z", "previousToken": {"userId": "u1", "capabilities": ["PUBLISH"], "tokenTag": "x"}, "newToken": {"userId": "a"}}"#,
            r#""name": "TOKEN_EXCHANGED", "eventTime": "2026-05-01T00:00:02Z", "previousToken": {"userId": "b1"}, "newToken": {"userId": "c1"}}"#,
        ],
    );
    s.run(&["import", &file]).code(0);
    assert_rows(
        "token-chains",
        &only(
            &[
                "exchanges",
                "initial_user_id",
                "final_user_id",
                "capability_path",
                "broken_links",
            ],
            s.report_json("token-chains", &[]),
        ),
        &[json!({
            "exchanges": 3,
            "initial_user_id": "u0",
            "final_user_id": "c1",
            // u0 [SUBSCRIBE] > u1 [PUBLISH] > a [] > c1 []
            "capability_path": "SUBSCRIBE > PUBLISH > - > -",
            "broken_links": 1, // b1 is not a
        })],
    );
}

#[test]
fn replication_seconds_round_half_away_from_zero_like_every_other_duration() {
    let s = Stagelog::new();
    let destination = r#""destinationStageArn": "arn:d", "destinationSessionId": "st-d""#;
    let file = write_k_events(
        &s,
        "half.ndjson",
        &[
            &format!(
                r#""name": "REPLICATION_STARTED", "eventTime": "2026-04-01T00:00:00Z", {destination}}}"#
            ),
            &format!(
                r#""name": "REPLICATION_STOPPED", "eventTime": "2026-04-01T00:00:01.0005Z", {destination}}}"#
            ),
        ],
    );
    s.run(&["import", &file]).code(0);
    assert_rows(
        "replications",
        &only(&["duration_s"], s.report_json("replications", &[])),
        // 1,000,500 µs = 1000.5 ms, rounded half away from zero: 1001 ms.
        &[json!({"duration_s": 1.001})],
    );
}

// ---------------------------------------------------------------------------------------------
// Import: normalizing, deduplicating, idempotence, order independence.
// ---------------------------------------------------------------------------------------------

#[test]
fn import_normalizes_and_deduplicates() {
    let s = Stagelog::standard();
    // S1: Alice 13 (8 + 6 page events, one on both pages), Bob 9, Carol 6 = 28;
    // S2: Dan 4, Erin 5, Frank 2, Gina 6 = 17; S3: Hank 3, Ivy 3 = 6. 28 + 17 + 6 = 51
    assert_eq!(s.count("events"), 51);
    // Hank: 12:00 prev, 12:00 new = 12:10 prev, 12:10 new, 12:20 prev, 12:20 new = 5;
    // Ivy: 12:05 prev, 12:05 new = A, B, C = 4. Tokens are deduplicated by content.
    assert_eq!(s.count("tokens"), 9);

    // The file counts: Alice's page 2 repeats one event of page 1; the NDJSON file repeats Bob's
    // JOINED and LEFT (other spelling, other key order), Erin's JOINED (`10:00:10+01:00` and
    // `09:00:10Z`) and her PUBLISH_STARTED (a ninth fractional digit).
    let counts = |file: &str| {
        s.sql(
            "SELECT records_read AS r, records_inserted AS i, records_duplicate AS d, \
                    records_rejected AS x FROM imports WHERE path LIKE :p",
            &[("p", &format!("%{file}"))],
        )
    };
    let row = |r: i64, i: i64, d: i64| vec![json!({"r": r, "i": i, "d": d, "x": 0})];
    assert_rows(
        "alice page 2",
        &counts("alice.page2.cli-v1.json"),
        &row(6, 5, 1),
    );
    assert_rows(
        "ndjson",
        &counts("events-with-context.ndjson"),
        &row(21, 17, 4),
    );

    // Unknown names and codes are stored as written, and counted.
    assert_rows(
        "unknown values",
        &s.sql(
            "SELECT name, error_code FROM event_list \
             WHERE name = 'PARTICIPANT_MUTED' OR error_code = 'NEW_FANCY_CODE' ORDER BY name",
            &[],
        ),
        &[
            json!({"name": "PARTICIPANT_MUTED", "error_code": null}),
            json!({"name": "SUBSCRIBE_ERROR", "error_code": "NEW_FANCY_CODE"}),
        ],
    );
    assert_rows(
        "carol's import",
        &s.sql(
            "SELECT unknown_names AS names, unknown_error_codes AS codes, \
                    unknown_fields AS fields FROM imports WHERE path LIKE '%carol.boto3-str.json'",
            &[],
        ),
        &[json!({"names": 1, "codes": 1, "fields": 1})],
    );
    // The raw record is kept only for the one event with a field the columns do not hold
    // (Carol's `muteReason`).
    assert_rows(
        "raw JSON kept",
        &s.sql(
            "SELECT name, raw_json LIKE '%muteReason%' AS has_field FROM events \
             WHERE raw_json IS NOT NULL",
            &[],
        ),
        &[json!({"name": "PARTICIPANT_MUTED", "has_field": 1})],
    );

    // Times in UTC, to the microsecond: `+01:00` moves back an hour, a ninth digit is cut.
    let erin: Vec<Value> = s
        .sql(
            "SELECT event_time FROM event_list WHERE participant_id = :p ORDER BY event_time_us",
            &[("p", "Erin00000006")],
        )
        .into_iter()
        .map(|r| r["event_time"].clone())
        .collect();
    assert_eq!(
        erin,
        [
            "2026-03-02T09:00:10.000000Z",
            "2026-03-02T09:00:12.000000Z",
            "2026-03-02T09:00:16.000000Z",
            "2026-03-02T09:00:20.000000Z",
            "2026-03-02T09:00:40.000000Z"
        ]
    );

    // Participant records (ListParticipants, and GetParticipant for Bob) add details: an empty
    // userId stays empty, attributes and client info are kept. Dave has a record and no
    // events; that does not make him a participant of the reports (see session-quality).
    let participant = |id: &str, user: &str, role: Value, os: Value| json!({"participant_id": id, "user_id": user, "role": role, "os_name": os});
    assert_rows(
        "participants of S1",
        &s.sql(
            "SELECT participant_id, user_id, json_extract(attributes, '$.role') AS role, \
                    os_name FROM participant_list \
             WHERE session_id = :s ORDER BY participant_id",
            &[("s", S1)],
        ),
        &[
            participant("Alice0000001", "alice", Value::Null, Value::Null),
            participant("Bob000000002", "", json!("guest"), json!("Linux")),
            participant("Carol0000003", "carol", Value::Null, Value::Null),
            participant("Dave00000004", "dave", Value::Null, Value::Null),
        ],
    );
}

#[test]
fn import_writes_its_summary_to_stderr_only() {
    let s = Stagelog::new();
    let assert = s
        .import(&[], &["edge/ok-1.ndjson", "edge/ok-2.ndjson"])
        .code(0)
        .stdout("");
    let stderr = stderr_of(&assert);
    for needle in ["ok-1.ndjson", "ok-2.ndjson", "total"] {
        assert!(stderr.contains(needle), "{needle} in\n{stderr}");
    }
}

#[test]
fn stdin_imports_like_a_file() {
    let text = std::fs::read_to_string(fixture("events-with-context.ndjson")).unwrap();
    let piped = Stagelog::new();
    piped
        .cmd(&["import", "-"])
        .write_stdin(text)
        .assert()
        .code(0);
    let from_file = Stagelog::new();
    from_file
        .import(&[], &["events-with-context.ndjson"])
        .code(0);
    // data-quality names the file a duplicate came from: `<stdin>` or the path.
    for name in REPORTS.into_iter().filter(|&r| r != "data-quality") {
        assert_eq!(
            piped.report(name, "csv", &[]),
            from_file.report(name, "csv", &[]),
            "{name}"
        );
    }
}

#[test]
fn a_pipe_that_can_be_read_once_imports_like_a_file() {
    // What `stagelog import <(aws ivs-realtime list-participant-events …)` hands over: a FIFO,
    // which stagelog must read only once (it hashes, then parses).
    let s = Stagelog::new();
    let fifo = s.dir.path().join("events.fifo");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    assert!(made.expect("mkfifo runs").success());
    let text = std::fs::read(fixture("events-with-context.ndjson")).unwrap();
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::write(fifo, text))
    };
    s.run(&["import", fifo.to_str().unwrap()]).code(0);
    writer
        .join()
        .unwrap()
        .expect("the whole file went through the FIFO");
    let from_file = Stagelog::new();
    from_file
        .import(&[], &["events-with-context.ndjson"])
        .code(0);
    assert_eq!(
        s.report("session-quality", "csv", &[]),
        from_file.report("session-quality", "csv", &[])
    );
}

#[test]
fn reimporting_the_same_files_changes_nothing() {
    let s = Stagelog::standard();
    let tables = [
        "events",
        "participants",
        "tokens",
        "intervals",
        "replications",
        "sessions",
        "stages",
    ];
    let counts =
        |s: &Stagelog| -> Vec<(&str, i64)> { tables.iter().map(|&t| (t, s.count(t))).collect() };
    let before = (counts(&s), s.all_report_outputs());

    s.import_standard();
    // The imports table may record the attempt, but the second round inserted nothing.
    assert_eq!(
        s.scalar("SELECT sum(records_inserted) AS n FROM imports"),
        json!(51)
    );
    let after = (counts(&s), s.all_report_outputs());
    assert_eq!(before.0, after.0, "row counts");
    for ((name, old), (_, new)) in before.1.iter().zip(&after.1) {
        assert_eq!(old, new, "{name} changed on re-import");
    }
}

#[test]
fn file_and_import_order_never_matter() {
    let s = Stagelog::standard();
    // The same files one per run, in reverse order: the session record and the overlapping
    // pages arrive after (or before) the events they relate to.
    let reversed = Stagelog::new();
    for (flags, files) in STANDARD_RUNS.iter().rev() {
        for file in files.iter().rev() {
            reversed.import(flags, &[file]).code(0);
        }
    }
    for ((name, expected), (_, actual)) in s
        .all_report_outputs()
        .iter()
        .zip(&reversed.all_report_outputs())
    {
        assert_eq!(expected, actual, "{name} depends on import order");
    }
    // Each event's place in the applied order, its step and effect, and each interval, by
    // natural keys: the reversed imports derived the participants again as their events came.
    let rows = |s: &Stagelog| {
        [
            "SELECT s.session_id, p.participant_id, e.event_time_us, hex(e.identity), e.name,
                    e.seq, e.step, e.effect, e.connected_delta, e.publishing_delta, e.covered
             FROM events e JOIN sessions s USING (session_key)
                  JOIN participants p USING (participant_key)
             ORDER BY 1, 2, 3, 4",
            "SELECT s.session_id, p.participant_id, i.ordinal, i.kind, i.remote_participant_id,
                    i.started_at_us, i.stopped_at_us, i.closed_by
             FROM intervals i JOIN sessions s USING (session_key)
                  JOIN participants p USING (participant_key)
             ORDER BY 1, 2, 3",
        ]
        .map(|query| s.sql(query, &[]))
    };
    let (expected, actual) = (rows(&s), rows(&reversed));
    assert!(
        expected[0].len() > 40 && expected[1].len() > 15,
        "{expected:?}"
    );
    assert_eq!(expected, actual);
}

#[test]
fn a_later_import_moves_the_session_end_for_open_intervals() {
    let s = Stagelog::new();
    let c = ["--stage-arn", STAGE_C];
    let figures = |s: &Stagelog| {
        let rows = s.report_json("session-quality", &["--session", "st-S5lateend0005"]);
        assert_eq!(rows.len(), 1, "{rows:?}");
        let r = &rows[0];
        json!({
            "ended_at": r["ended_at"],
            "reconnects": r["reconnects"],
            "connected_seconds": r["connected_seconds"],
            "publish_seconds": r["publish_seconds"],
        })
    };
    let expect = |ended: &str, reconnects: i64, connected: f64, publish: f64| {
        json!({
            "ended_at": ended,
            "reconnects": reconnects,
            "connected_seconds": connected,
            "publish_seconds": publish,
        })
    };

    // Kim joins and publishes at 08:00:00 and never stops; Lee 08:00:10 → 08:01:00.
    // End = 08:01:00: Kim 60 + Lee 50 = 110 connected; Kim 60 publishing.
    s.import(&[], &["edge/late-end.first.ndjson"]).code(0);
    assert_rows(
        "first file",
        &[figures(&s)],
        &[expect("2026-03-05T08:01:00.000Z", 0, 110.0, 60.0)],
    );

    // Lee comes back 08:05:00 → 08:09:00 (another participant's page, CLI v2): end = 08:09:00.
    // Kim 540 + Lee 50 + 240 = 830 connected; Kim 540 publishing.
    s.import(
        &["--stage-arn", STAGE_C, "--session-id", "st-S5lateend0005"],
        &["edge/late-end.second.cli-v2.json"],
    )
    .code(0);
    assert_rows(
        "second file",
        &[figures(&s)],
        &[expect("2026-03-05T08:09:00.000Z", 1, 830.0, 540.0)],
    );

    // The session record ends it at 08:20:00: Kim 1200 + Lee 290 = 1490; Kim 1200 publishing.
    // ended_at stays the last event.
    s.import(&c, &["edge/late-end.get-stage-session.json"])
        .code(0);
    assert_rows(
        "session record",
        &[figures(&s)],
        &[expect("2026-03-05T08:09:00.000Z", 1, 1490.0, 1200.0)],
    );

    // A later listing without endTime (as for active sessions) cannot shorten it.
    s.import(&c, &["edge/late-end.list-stage-sessions.json"])
        .code(0);
    assert_rows(
        "listing without endTime",
        &[figures(&s)],
        &[expect("2026-03-05T08:09:00.000Z", 1, 1490.0, 1200.0)],
    );
}

#[test]
fn session_records_of_sessions_without_events_import() {
    // ListStageSessions names sessions stagelog has no events for (yet): an active one without
    // endTime and an ended one. Both are stored; neither gets a session-quality row, which is
    // one row per session with at least one event.
    let s = Stagelog::new();
    s.import(
        &["--stage-arn", STAGE_C],
        &["edge/list-stage-sessions.no-events.json"],
    )
    .code(0);
    assert_rows(
        "sessions",
        &s.sql(
            "SELECT session_id, start_time, end_time FROM session_list ORDER BY session_id",
            &[],
        ),
        &[
            json!({"session_id": "st-S10ended00010",
                   "start_time": "2026-03-04T09:00:00.125000Z",
                   "end_time": "2026-03-04T09:30:00.000000Z"}),
            json!({"session_id": "st-S6active00006",
                   "start_time": "2026-03-05T09:00:00.000000Z",
                   "end_time": null}),
        ],
    );
    assert_rows(
        "session-quality",
        &s.report_json("session-quality", &[]),
        &[],
    );
}

#[test]
fn exchanges_at_one_instant_with_no_prior_exchange_follow_the_chain() {
    let s = Stagelog::new();
    s.import(&[], &["edge/token-first-instant.ndjson"]).code(0);
    // Both exchanges at 12:15:00 and no exchange before them; the later link comes first in the
    // file. A = {SUBSCRIBE, juno} → B = {PUBLISH+SUBSCRIBE, juno}, then B → C = {SUBSCRIBE,
    // juno-2}. Only this order is a chain (C ≠ A, so the other order would have a broken link):
    // §5 puts first the exchange whose previousToken continues the chain. No token has an
    // expiration time.
    assert_rows(
        "token-chains",
        &only(&V0_CHAINS, s.report_json("token-chains", &[])),
        &[json!({
            "stage_arn": STAGE_C,
            "session_id": "st-S4juno0000004",
            "participant_id": "Juno00000011",
            "exchanges": 2,
            "first_exchange_at": "2026-03-04T12:15:00.000Z",
            "last_exchange_at": "2026-03-04T12:15:00.000Z",
            "initial_user_id": "juno",   // A
            "final_user_id": "juno-2",   // C
            "capability_path": "SUBSCRIBE > PUBLISH+SUBSCRIBE > SUBSCRIBE",
            "upgrades": 1,   // A → B gains PUBLISH
            "downgrades": 1, // B → C loses PUBLISH
            "broken_links": 0,
            "expiry_extension_s": null,
        })],
    );
}

// ---------------------------------------------------------------------------------------------
// Filters (§4 window semantics).
// ---------------------------------------------------------------------------------------------

#[test]
fn per_session_reports_select_sessions_by_their_first_event() {
    let s = Stagelog::standard();
    let quality = |filters: &[&str]| s.report_json("session-quality", filters);
    let (s1, s2, s3) = (
        session_quality_s1(),
        session_quality_s2(),
        session_quality_s3(),
    );

    // [since, until): S1 starts at 10:00:00 exactly (in); S2 at until exactly (out).
    let window = [
        "--since",
        "2026-03-01T10:00:00Z",
        "--until",
        "2026-03-02T09:00:00Z",
    ];
    assert_rows("window", &quality(&window), std::slice::from_ref(&s1));
    // One millisecond later S1 is out, though most of its events are later still.
    assert_rows(
        "since",
        &quality(&["--since", "2026-03-01T10:00:00.001Z"]),
        &[s2.clone(), s3.clone()],
    );
    // 10:00:00+01:00 is 09:00:00Z, S2's first event: inclusive.
    assert_rows(
        "since with an offset",
        &quality(&["--since", "2026-03-02T10:00:00+01:00"]),
        &[s2.clone(), s3.clone()],
    );
    assert_rows("stage", &quality(&["--stage", STAGE_B]), &[s3]);
    assert_rows("session", &quality(&["--session", S2]), &[s2]);
    assert_rows(
        "stage and session",
        &quality(&["--stage", STAGE_B, "--session", S2]),
        &[],
    );

    // The same selection in the other per-session reports.
    assert_rows(
        "replications of S1",
        &s.report_json("replications", &["--session", S1]),
        &[replication_alice(), replication_bob()],
    );
    assert_rows(
        "replications after S1 began",
        &s.report_json("replications", &["--since", "2026-03-01T10:00:00.001Z"]),
        &[],
    );
    assert_rows(
        "token chains of stage A",
        &s.report_json("token-chains", &["--stage", STAGE_A]),
        &[],
    );
    assert_rows(
        "token chains until S3 began",
        &s.report_json("token-chains", &["--until", "2026-03-03T12:00:00Z"]),
        &[],
    );
    assert_rows(
        "token chains from S3 on",
        &s.report_json("token-chains", &["--since", "2026-03-03T12:00:00Z"]),
        &[hank_chain(), ivy_chain()],
    );
}

#[test]
fn error_breakdown_selects_error_events_by_their_time() {
    let s = Stagelog::standard();
    // [10:02:00 on day 1, 09:00:06 on day 2): Carol's SUBSCRIBE_ERROR at 10:02:00 (in: since is
    // inclusive), Alice's PUBLISH_ERROR 10:03:00, Frank's first JOIN_ERROR 09:00:05; his second
    // at 09:00:06 is out (until is exclusive), as are Carol's 10:01:10 and Erin's and Dan's.
    // 3 errors, 1/3 = 0.3333 each; ties by event name.
    let window = [
        "--since",
        "2026-03-01T10:02:00Z",
        "--until",
        "2026-03-02T09:00:06Z",
    ];
    assert_rows(
        "error-breakdown window",
        &s.report_json("error-breakdown", &window),
        &[
            errors_row(
                "JOIN_ERROR",
                Some("QUOTA_EXCEEDED"),
                1,
                1,
                1,
                0.3333,
                "2026-03-02T09:00:05.000Z",
                "2026-03-02T09:00:05.000Z",
            ),
            errors_row(
                "PUBLISH_ERROR",
                Some("BITRATE_EXCEEDED"),
                1,
                1,
                1,
                0.3333,
                "2026-03-01T10:03:00.000Z",
                "2026-03-01T10:03:00.000Z",
            ),
            errors_row(
                "SUBSCRIBE_ERROR",
                Some("NEW_FANCY_CODE"),
                1,
                1,
                1,
                0.3333,
                "2026-03-01T10:02:00.000Z",
                "2026-03-01T10:02:00.000Z",
            ),
        ],
    );
    // S1 only: Carol's JOIN_ERROR, Alice's PUBLISH_ERROR, Carol's SUBSCRIBE_ERROR.
    assert_rows(
        "error-breakdown of S1",
        &s.report_json("error-breakdown", &["--stage", STAGE_A, "--session", S1]),
        &[
            errors_row(
                "JOIN_ERROR",
                Some("QUOTA_EXCEEDED"),
                1,
                1,
                1,
                0.3333,
                "2026-03-01T10:01:10.750Z",
                "2026-03-01T10:01:10.750Z",
            ),
            errors_row(
                "PUBLISH_ERROR",
                Some("BITRATE_EXCEEDED"),
                1,
                1,
                1,
                0.3333,
                "2026-03-01T10:03:00.000Z",
                "2026-03-01T10:03:00.000Z",
            ),
            errors_row(
                "SUBSCRIBE_ERROR",
                Some("NEW_FANCY_CODE"),
                1,
                1,
                1,
                0.3333,
                "2026-03-01T10:02:00.000Z",
                "2026-03-01T10:02:00.000Z",
            ),
        ],
    );
    assert_rows(
        "error-breakdown of stage B",
        &s.report_json("error-breakdown", &["--stage", STAGE_B]),
        &[],
    );
}

// ---------------------------------------------------------------------------------------------
// Output formats.
// ---------------------------------------------------------------------------------------------

#[test]
fn every_format_shows_the_same_rows() {
    let s = Stagelog::standard();
    for name in REPORTS {
        let json_rows = s.report_json(name, &[]);
        let header: Vec<String> = s
            .report(name, "csv", &[])
            .lines()
            .next()
            .unwrap()
            .split(',')
            .map(str::to_string)
            .collect();
        for format in ["csv", "markdown"] {
            let rows = text_rows(format, &s.report(name, format, &[]));
            assert_eq!(rows[0], header, "{name} {format} header");
            assert_eq!(rows.len() - 1, json_rows.len(), "{name} {format} rows");
            for (cells, json_row) in rows[1..].iter().zip(&json_rows) {
                for (cell, column) in cells.iter().zip(&header) {
                    let value = &json_row[column.as_str()];
                    assert!(
                        cell_shows(cell, value),
                        "{name} {format} {column}: {cell:?} vs JSON {value}"
                    );
                }
            }
        }
        assert_eq!(
            s.report(name, "md", &[]),
            s.report(name, "markdown", &[]),
            "md is markdown"
        );
        let table = s.report(name, "table", &[]);
        for column in &header {
            assert!(table.contains(column.as_str()), "{name} table: {column}");
        }
        for row in &json_rows {
            for value in row.as_object().unwrap().values() {
                if let Value::String(text) = value {
                    assert!(table.contains(text.as_str()), "{name} table: {text}");
                }
            }
        }
    }
    // Seconds and rates are JSON numbers, not strings.
    let rows = s.report_json("session-quality", &[]);
    for column in ["duration_s", "connected_seconds", "error_rate"] {
        assert!(rows[0][column].is_number(), "{column}: {}", rows[0][column]);
    }
    // An empty result is still an array.
    assert_eq!(
        s.report("replications", "json", &["--session", "nope"])
            .trim(),
        "[]"
    );
}

#[test]
fn output_file_gets_the_report_and_stdout_stays_empty() {
    let s = Stagelog::standard();
    let path = s.dir.path().join("replications.csv");
    let path_text = path.display().to_string();
    s.run(&[
        "report",
        "replications",
        "--format",
        "csv",
        "-o",
        &path_text,
    ])
    .success()
    .stdout("");
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        s.report("replications", "csv", &[])
    );
}

#[test]
fn report_list_names_every_report() {
    let s = Stagelog::standard();
    let listing = s.stdout(&["report", "--list"]);
    for name in REPORTS {
        assert!(
            listing.lines().any(|l| l.starts_with(name)),
            "{name} in\n{listing}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Exit codes and failures.
// ---------------------------------------------------------------------------------------------

#[test]
fn a_broken_response_document_fails_alone_and_leaves_nothing_behind() {
    // First in a run the file opens the batch's transaction; later it has a savepoint in it.
    let broken = "edge/broken-page.cli-v2.json";
    for files in [
        ["edge/ok-1.ndjson", broken, "edge/ok-2.ndjson"],
        [broken, "edge/ok-1.ndjson", "edge/ok-2.ndjson"],
    ] {
        let s = Stagelog::new();
        let assert = s.import(&[], &files).code(1);
        let stderr = stderr_of(&assert);
        // The comma missing after the first event: line 10 of the page, column 9 (8 spaces
        // first).
        assert!(
            stderr.contains("broken-page.cli-v2.json")
                && stderr.contains("line 10")
                && stderr.contains("column 9"),
            "{stderr}"
        );
        // Its valid first event was not kept, nor a session, nor an import row; the files
        // around it imported (Noah 2 events, Olga 1).
        let in_session = |table: &str, session: &str| {
            s.count(&format!("{table} WHERE session_id = '{session}'"))
        };
        assert_eq!(in_session("event_list", "st-S7broken00007"), 0);
        assert_eq!(in_session("session_list", "st-S7broken00007"), 0);
        assert_eq!(
            s.count("imports WHERE path LIKE '%broken-page.cli-v2.json'"),
            0
        );
        assert_eq!(in_session("event_list", "st-S8okay0000008"), 3);
        assert_eq!(s.count("imports"), 2);
    }
}

#[test]
fn a_large_broken_document_after_small_files_fails_alone() {
    // Over 256 KiB, so read on a thread of its own and imported outside the small files' batch.
    let event = r#"{"name": "JOINED", "participantId": "Mia000000012", "eventTime": "2026-03-05T07:00:00+00:00"}"#;
    let events = vec![event; 4000].join(",\n");
    let text = format!(
        r#"{{"stageArn": "arn:aws:ivs:eu-west-1:444455556666:stage/StgC0000cccc",
            "sessionId": "st-S7broken00007", "events": [{events}"#
    );
    assert!(text.len() > 256 * 1024);
    let s = Stagelog::new();
    let big = s.dir.path().join("big-broken.cli-v2.json");
    std::fs::write(&big, text).unwrap();
    let (ok_1, ok_2) = (fixture("edge/ok-1.ndjson"), fixture("edge/ok-2.ndjson"));
    let assert = s
        .run(&["import", &ok_1, big.to_str().unwrap(), &ok_2])
        .code(1);
    let stderr = stderr_of(&assert);
    assert!(stderr.contains("big-broken.cli-v2.json"), "{stderr}");
    assert_eq!(
        s.count("event_list WHERE session_id = 'st-S7broken00007'"),
        0
    );
    assert_eq!(
        s.count("event_list WHERE session_id = 'st-S8okay0000008'"),
        3
    );
    assert_eq!(s.count("imports"), 2);
}

#[test]
fn a_broken_ndjson_line_is_rejected_and_the_rest_of_the_file_imports() {
    let s = Stagelog::new();
    let assert = s.import(&[], &["edge/broken.ndjson"]).code(3);
    let stderr = stderr_of(&assert);
    // Line 2 of broken.ndjson has `"name":LEFT`: the L is byte 106 of the line, column 107.
    assert!(
        stderr.contains("line 2") && stderr.contains("column 107"),
        "{stderr}"
    );
    let rejects = s.sql("SELECT position, raw FROM rejects", &[]);
    assert_eq!(rejects.len(), 1, "{rejects:?}");
    assert_eq!(rejects[0]["position"], json!("line 2"));
    assert!(rejects[0]["raw"]
        .as_str()
        .unwrap()
        .contains(r#""name":LEFT"#));
    // Mia's JOINED on line 1 was kept.
    assert_eq!(
        s.count("event_list WHERE session_id = 'st-S7broken00007'"),
        1
    );
}

#[test]
fn a_missing_file_fails_and_the_others_import() {
    let s = Stagelog::new();
    let missing = s.dir.path().join("no-such-file.json").display().to_string();
    let assert = s
        .run(&["import", &missing, &fixture("edge/ok-1.ndjson")])
        .code(1);
    assert!(stderr_of(&assert).contains("no-such-file.json"));
    assert_eq!(s.count("events"), 2);
}

#[test]
fn a_rejected_record_exits_3_and_the_rest_imports() {
    let s = Stagelog::new();
    let session = "st-S9rejects0009";
    let context = ["--stage-arn", STAGE_C, "--session-id", session];
    s.import(&context, &["edge/missing-participant.cli-v2.json"])
        .code(3);
    let rejects = s.sql("SELECT position, reason FROM rejects", &[]);
    assert_eq!(rejects.len(), 1, "{rejects:?}");
    let (position, reason) = (
        rejects[0]["position"].as_str().unwrap(),
        rejects[0]["reason"].as_str().unwrap(),
    );
    assert!(position.contains("events[1]"), "{position}");
    assert!(reason.contains("participant"), "{reason}");
    // Pia's JOINED 06:00:00 and LEFT 06:00:09 were kept; the rejected PUBLISH_STARTED counts
    // nowhere: 9 s connected, no publishers.
    let rows = s.report_json("session-quality", &["--session", session]);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["participants"], json!(1));
    assert_eq!(rows[0]["publishers"], json!(0));
    assert!(same_cell(&rows[0]["connected_seconds"], &json!(9.0)));

    // A failed file wins over rejects: 1, not 3.
    Stagelog::new()
        .import(
            &context,
            &[
                "edge/missing-participant.cli-v2.json",
                "edge/broken-page.cli-v2.json",
            ],
        )
        .code(1);
}

#[test]
fn participant_id_flag_fills_events_that_lack_one() {
    let s = Stagelog::new();
    let session = "st-S9rejects0009";
    s.import(
        &[
            "--stage-arn",
            STAGE_C,
            "--session-id",
            session,
            "--participant-id",
            "Pia000000017",
        ],
        &["edge/missing-participant.cli-v2.json"],
    )
    .code(0);
    assert_eq!(s.count("rejects"), 0);
    // Now the PUBLISH_STARTED at 06:00:01 is Pia's: publishing until her LEFT at 06:00:09 = 8;
    // time to publish 06:00:01 − 06:00:00 = 1.
    let rows = s.report_json("session-quality", &["--session", session]);
    assert_eq!(rows.len(), 1);
    for (column, expected) in [
        ("participants", json!(1)),
        ("publishers", json!(1)),
        ("connected_seconds", json!(9.0)),
        ("publish_seconds", json!(8.0)),
        ("median_time_to_publish_s", json!(1.0)),
    ] {
        assert!(
            same_cell(&rows[0][column], &expected),
            "{column}: expected {expected}, got {}",
            rows[0][column]
        );
    }
}

#[test]
fn a_page_without_stage_and_session_is_a_clear_error() {
    let s = Stagelog::new();
    s.import(&[], &["edge/no-context.cli-v2.json"])
        .failure()
        .stderr(predicate::str::contains("--stage-arn"));
    assert_eq!(s.count("events"), 0);
}

#[test]
fn usage_errors_exit_2() {
    let s = Stagelog::standard();
    let cases: [&[&str]; 6] = [
        &["import"],
        &["no-such-command"],
        &["report", "no-such-report"],
        &["report", "session-quality", "--since", "not-a-time"],
        &["report", "session-quality", "--format", "xml"],
        &["sql", "SELECT 1", "-p", "only-a-name"],
    ];
    for args in cases {
        s.run(args).code(2);
    }
}

#[test]
fn sql_is_read_only_and_takes_named_parameters() {
    let s = Stagelog::standard();
    let db_before = std::fs::read(&s.db).unwrap();
    for statement in [
        "DELETE FROM events",
        "INSERT INTO stages (stage_arn) VALUES ('x')",
        "DROP TABLE events",
    ] {
        s.run(&["sql", statement]).failure();
    }
    assert_eq!(s.count("events"), 51);
    assert_eq!(s.count("stages WHERE stage_arn = 'x'"), 0);
    s.all_report_outputs();
    assert!(
        std::fs::read(&s.db).unwrap() == db_before,
        "report or sql changed the database file"
    );

    // Bob's events after dedupe (the NDJSON copies of JOINED and LEFT add nothing).
    assert_rows(
        "bob's events",
        &s.sql(
            "SELECT name, count(*) AS n FROM event_list WHERE participant_id = :pid \
             GROUP BY name ORDER BY name",
            &[("pid", "Bob000000002")],
        ),
        &[
            json!({"name": "JOINED", "n": 1}),
            json!({"name": "LEFT", "n": 1}),
            json!({"name": "PUBLISH_STARTED", "n": 2}),
            json!({"name": "PUBLISH_STOPPED", "n": 2}),
            json!({"name": "REPLICATION_STARTED", "n": 1}),
            json!({"name": "REPLICATION_STOPPED", "n": 1}),
            json!({"name": "SUBSCRIBE_STARTED", "n": 1}),
        ],
    );

    // A .sql file works like a statement. JOINED: S1 Alice 2 + Bob 1 + Carol 1, S2 Dan 1 +
    // Erin 2 + Gina 1 = 8.
    let file = s.dir.path().join("joins.sql");
    std::fs::write(
        &file,
        "SELECT count(*) AS n FROM events WHERE name = :name\n",
    )
    .unwrap();
    let file = file.display().to_string();
    assert_eq!(
        s.stdout(&["sql", &file, "-p", "name", "JOINED", "--format", "csv"]),
        "n\n8\n"
    );
}

#[test]
fn report_and_sql_on_a_missing_database_create_nothing() {
    let s = Stagelog::new();
    s.run(&["report", "session-quality"])
        .failure()
        .stderr(predicate::str::contains("stagelog import"));
    s.run(&["sql", "SELECT 1"]).failure();
    assert!(!s.db.exists(), "the database file was created");
}

#[test]
fn report_on_an_unmigrated_database_says_to_migrate_and_writes_nothing() {
    let s = Stagelog::new();
    std::fs::write(&s.db, b"").unwrap();
    s.run(&["report", "session-quality"]).failure().stderr(
        predicate::str::contains("stagelog migrate")
            .or(predicate::str::contains("stagelog import")),
    );
    assert_eq!(std::fs::read(&s.db).unwrap(), b"");
}
