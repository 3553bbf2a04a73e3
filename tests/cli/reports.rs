//! Issue 4: the reports people act on (session quality's appended columns, participants,
//! breakdowns, daily trends, timeline, data quality, the replication graph, token chains'
//! appended columns), time windows, your own reports, and the nightly mode.
//!
//! The week data set, `tests/fixtures/reports/week/` (imported as one folder), stage R
//! (`us-west-2`) and stage T (`eu-central-1`):
//! - R1, Wednesday 2026-04-01 20:00–20:10, clean: Ann publishes (a duplicate start at 20:00:30,
//!   a replication to T closed at 20:04, a REPLICATION_STOPPED to another destination at 20:09
//!   that finds nothing open), Ben subscribes to Ann, leaves at 20:05, rejoins at 20:06 and, after
//!   a token upgrade at 20:07, publishes from 20:07:30 until the session end (open intervals);
//!   Ann's JOINED again in `+02:00` is a duplicate.
//! - R2, Tuesday 2026-04-07 09:00–09:01: Dee publishes; a session record starts it at 09:00:01,
//!   after Dee's JOINED.
//! - R3, Wednesday 2026-04-08 20:00–20:06: Eve (INSUFFICIENT_CAPABILITIES before and after her
//!   token upgrade, PUBLISH_STARTED at the upgrade's instant, an open replication to T1, a
//!   downgrade with PUBLISH_STOPPED at one instant), Fay (one JOIN_ERROR with an unknown code),
//!   Gus (two JOIN_ERRORs, subscribes to Eve after a SUBSCRIBE_ERROR and a token upgrade, a
//!   PUBLISHER_NOT_FOUND for a missing publisher, an unknown event name, a PUBLISH_STOPPED that
//!   finds nothing open); a record without eventTime (rejected), a lone surrogate (a warning),
//!   and an EventBridge event of Eve's, covered by her ListParticipantEvents data.
//! - T1, 2026-04-08 20:00:20–20:04: Eve's replica (`replica: true`), open to the session end,
//!   and Hal, who subscribes to it.
//! - T2, 2026-04-08 21:00–21:01: Ivo, from EventBridge only (published, an error, unpublished).
//!
//! Participant records give Ann (macOS, Chrome, SDK 1.24.0, Example Fiber, WHIP), Eve in R3
//! (iOS, Safari, 1.24.0, Example Mobile, WHIP) and Gus (Android, Chrome, 1.23.0, Example Mobile,
//! UNKNOWN); everyone else has no client details (their own NULL group).
//!
//! Every expected value was worked out by hand; the comments show the arithmetic.

use super::*;

const STAGE_R: &str = "arn:aws:ivs:us-west-2:111122223333:stage/StgR0000rrrr";
const STAGE_T: &str = "arn:aws:ivs:eu-central-1:111122223333:stage/StgT0000tttt";
const R1: &str = "st-R1wednesday01";
const R2: &str = "st-R2tuesday0002";
const R3: &str = "st-R3wednesday03";
const T1: &str = "st-T1replica0001";
const T2: &str = "st-T2bridge00002";

/// A database with the week imported (exit 3: one record is rejected).
fn week() -> Stagelog {
    let s = Stagelog::new();
    s.run(&["import", &fixture("reports/week")]).code(3);
    s
}

// ---------------------------------------------------------------------------------------------
// session-quality
// ---------------------------------------------------------------------------------------------

fn quality_r1() -> Value {
    json!({
        "stage_arn": STAGE_R, "session_id": R1,
        "started_at": "2026-04-01T20:00:00.000Z", "ended_at": "2026-04-01T20:10:00.000Z",
        "duration_s": 600.0,
        "participants": 2, "joined_participants": 2, "join_errors": 0,
        "join_success_rate": 1.0,
        "reconnects": 1, // JOINED: Ann 1 + Ben 2 = 3; 3 − 2
        "publishers": 2, "publish_errors": 0, "subscribe_errors": 0,
        // Ann 20:00→20:10 = 600; Ben 20:01→20:05 = 240, 20:06→20:10 (open) = 240.
        "connected_seconds": 1080.0,
        // Ann 20:00:00→20:10:00 = 600 (the 20:00:30 start is ignored); Ben 20:07:30→20:10 = 150.
        "publish_seconds": 750.0,
        // Ben→Ann 20:01:04→20:05:00 = 236, 20:06:02→20:10:00 (open) = 238.
        "subscribe_seconds": 474.0,
        // Ann 0, Ben 20:07:30 − 20:01:00 = 390: (0 + 390) / 2
        "median_time_to_publish_s": 195.0,
        // 0 / (JOINED 3 + PUBLISH_STARTED 3 + SUBSCRIBE_STARTED 2)
        "error_rate": 0.0,
        "publish_success_rate": 1.0,   // Ann, Ben / Ann, Ben
        "subscribe_success_rate": 1.0, // the pair Ben→Ann, started
        "peak_participants": 2,
        "peak_publishers": 2, // Ann [20:00, 20:10) and Ben [20:07:30, 20:10)
        "p90_time_to_publish_s": 390.0, // ⌈0.9·2⌉ = 2nd of 0, 390
        "median_time_to_subscribe_s": 4.0, // Ben 20:01:04 − 20:01:00
        "clean": 1,
    })
}

fn quality_r2() -> Value {
    json!({
        "stage_arn": STAGE_R, "session_id": R2,
        "started_at": "2026-04-07T09:00:00.000Z", "ended_at": "2026-04-07T09:01:00.000Z",
        "duration_s": 60.0,
        "participants": 1, "joined_participants": 1, "join_errors": 0,
        "join_success_rate": 1.0, "reconnects": 0, "publishers": 1,
        "publish_errors": 0, "subscribe_errors": 0,
        "connected_seconds": 60.0, "publish_seconds": 55.0, "subscribe_seconds": 0.0,
        "median_time_to_publish_s": 5.0, "error_rate": 0.0,
        "publish_success_rate": 1.0,
        "subscribe_success_rate": null, // no subscribe events: 0 / 0
        "peak_participants": 1, "peak_publishers": 1,
        "p90_time_to_publish_s": 5.0, "median_time_to_subscribe_s": null,
        "clean": 1,
    })
}

fn quality_r3() -> Value {
    json!({
        "stage_arn": STAGE_R, "session_id": R3,
        "started_at": "2026-04-08T20:00:00.000Z", "ended_at": "2026-04-08T20:06:00.000Z",
        "duration_s": 360.0,
        "participants": 3, // Eve, Fay, Gus
        "joined_participants": 2,
        "join_errors": 3,           // Fay 1, Gus 2
        "join_success_rate": 0.6667, // 2 / 3 (Fay tried)
        "reconnects": 0,
        "publishers": 1, "publish_errors": 2, "subscribe_errors": 2,
        "connected_seconds": 510.0, // Eve 20:00→20:05 = 300, Gus 20:02:30→20:06 = 210
        // Eve 20:00:10→20:03:00 = 170 (her covered EventBridge event changes nothing).
        "publish_seconds": 170.0,
        "subscribe_seconds": 195.0, // Gus→Eve 20:02:45→20:06:00
        "median_time_to_publish_s": 10.0,
        // 7 errors / (JOINED 2 + JOIN_ERROR 3 + PUBLISH_STARTED 1 + PUBLISH_ERROR 2
        // + SUBSCRIBE_STARTED 1 + SUBSCRIBE_ERROR 2 = 11) = 0.63636…
        "error_rate": 0.6364,
        "publish_success_rate": 1.0,
        // Pairs started: Gus→Eve; with an error too: Gus→Zed. 1 / 2
        "subscribe_success_rate": 0.5,
        "peak_participants": 2, "peak_publishers": 1,
        "p90_time_to_publish_s": 10.0,
        "median_time_to_subscribe_s": 15.0, // Gus 20:02:45 − 20:02:30
        "clean": 0,
    })
}

fn quality_t1() -> Value {
    json!({
        "stage_arn": STAGE_T, "session_id": T1,
        "started_at": "2026-04-08T20:00:20.000Z", "ended_at": "2026-04-08T20:04:00.000Z",
        "duration_s": 220.0,
        "participants": 2, "joined_participants": 2, "join_errors": 0,
        "join_success_rate": 1.0, "reconnects": 0,
        "publishers": 1, // the replica counts like anyone else
        "publish_errors": 0, "subscribe_errors": 0,
        // Eve 20:00:20→20:04:00 (open) = 220, Hal 20:01→20:04 = 180.
        "connected_seconds": 400.0,
        "publish_seconds": 219.0,   // Eve 20:00:21→20:04:00 (open)
        "subscribe_seconds": 178.0, // Hal 20:01:02→20:04:00
        "median_time_to_publish_s": 1.0,
        "error_rate": 0.0,
        "publish_success_rate": 1.0, "subscribe_success_rate": 1.0,
        "peak_participants": 2, "peak_publishers": 1,
        "p90_time_to_publish_s": 1.0, "median_time_to_subscribe_s": 2.0,
        "clean": 1,
    })
}

fn quality_t2() -> Value {
    json!({
        "stage_arn": STAGE_T, "session_id": T2,
        "started_at": "2026-04-08T21:00:00.000Z", "ended_at": "2026-04-08T21:01:00.000Z",
        "duration_s": 60.0,
        "participants": 1, "joined_participants": 0, "join_errors": 0,
        "join_success_rate": null, "reconnects": 0,
        "publishers": 1, "publish_errors": 1, "subscribe_errors": 0,
        "connected_seconds": 0.0, // EventBridge has no joins
        "publish_seconds": 60.0,
        "subscribe_seconds": 0.0,
        "median_time_to_publish_s": null, // no JOINED to measure from
        "error_rate": 0.5,                // 1 / (PUBLISH_STARTED 1 + PUBLISH_ERROR 1)
        "publish_success_rate": 1.0,
        "subscribe_success_rate": null,
        "peak_participants": 0,
        "peak_publishers": 1,
        "p90_time_to_publish_s": null, "median_time_to_subscribe_s": null,
        "clean": 0, // no JOINED
    })
}

#[test]
fn session_quality_of_the_week_by_hand() {
    let s = week();
    assert_rows(
        "session-quality",
        &s.report_json("session-quality", &[]),
        &[
            quality_r1(),
            quality_r2(),
            quality_r3(),
            quality_t1(),
            quality_t2(),
        ],
    );
}

// ---------------------------------------------------------------------------------------------
// participants
// ---------------------------------------------------------------------------------------------

/// A participants row: who, client (os, browser, sdk, isp, protocol), first join and last
/// event, seconds (connected, publishing, subscribed), then reconnects and error counts.
#[allow(clippy::too_many_arguments)]
fn participant(
    (stage, session, id): (&str, &str, &str),
    user_id: Option<&str>,
    replica: i64,
    client: [Option<&str>; 5],
    (first_joined_at, last_event_at): (Option<&str>, &str),
    [connected, publish, subscribe]: [f64; 3],
    [reconnects, join_errors, publish_errors, subscribe_errors]: [i64; 4],
) -> Value {
    let [os, browser, sdk, isp, protocol] = client;
    json!({
        "stage_arn": stage, "session_id": session, "participant_id": id,
        "user_id": user_id, "replica": replica,
        "os_name": os, "browser_name": browser, "sdk_version": sdk, "isp_name": isp,
        "protocol": protocol,
        "first_joined_at": first_joined_at, "last_event_at": last_event_at,
        "connected_seconds": connected, "publish_seconds": publish,
        "subscribe_seconds": subscribe,
        "reconnects": reconnects, "join_errors": join_errors,
        "publish_errors": publish_errors, "subscribe_errors": subscribe_errors,
    })
}

const NO_CLIENT: [Option<&str>; 5] = [None; 5];

#[test]
fn participants_by_hand() {
    let s = week();
    assert_rows(
        "participants",
        &s.report_json("participants", &[]),
        // Ordered by stage ARN (eu-central-1 sorts before us-west-2), session, participant.
        &[
            // Eve's replica in T1: its JOINED and PUBLISH_STARTED say replica.
            participant(
                (STAGE_T, T1, "Eve000000005"),
                None,
                1,
                NO_CLIENT,
                (Some("2026-04-08T20:00:20.000Z"), "2026-04-08T20:00:21.000Z"),
                [220.0, 219.0, 0.0],
                [0, 0, 0, 0],
            ),
            // Hal's SUBSCRIBE_STARTED says replica, of the publisher: Hal is no replica.
            participant(
                (STAGE_T, T1, "Hal000000008"),
                None,
                0,
                NO_CLIENT,
                (Some("2026-04-08T20:01:00.000Z"), "2026-04-08T20:04:00.000Z"),
                [180.0, 0.0, 178.0],
                [0, 0, 0, 0],
            ),
            // EventBridge's user_id ivo-1; no JOINED.
            participant(
                (STAGE_T, T2, "Ivo000000009"),
                Some("ivo-1"),
                0,
                NO_CLIENT,
                (None, "2026-04-08T21:01:00.000Z"),
                [0.0, 60.0, 0.0],
                [0, 0, 1, 0],
            ),
            participant(
                (STAGE_R, R1, "Ann000000001"),
                Some("ann"),
                0,
                [
                    Some("macOS"),
                    Some("Chrome"),
                    Some("1.24.0"),
                    Some("Example Fiber"),
                    Some("WHIP"),
                ],
                (Some("2026-04-01T20:00:00.000Z"), "2026-04-01T20:10:00.000Z"),
                [600.0, 600.0, 0.0],
                [0, 0, 0, 0],
            ),
            // Ben rejoined once: 2 JOINED − 1.
            participant(
                (STAGE_R, R1, "Ben000000002"),
                None,
                0,
                NO_CLIENT,
                (Some("2026-04-01T20:01:00.000Z"), "2026-04-01T20:07:30.000Z"),
                [480.0, 150.0, 474.0],
                [1, 0, 0, 0],
            ),
            participant(
                (STAGE_R, R2, "Dee000000004"),
                None,
                0,
                NO_CLIENT,
                (Some("2026-04-07T09:00:00.000Z"), "2026-04-07T09:01:00.000Z"),
                [60.0, 55.0, 0.0],
                [0, 0, 0, 0],
            ),
            participant(
                (STAGE_R, R3, "Eve000000005"),
                Some("eve"),
                0,
                [
                    Some("iOS"),
                    Some("Safari"),
                    Some("1.24.0"),
                    Some("Example Mobile"),
                    Some("WHIP"),
                ],
                (Some("2026-04-08T20:00:00.000Z"), "2026-04-08T20:05:00.000Z"),
                [300.0, 170.0, 0.0],
                [0, 0, 2, 0],
            ),
            participant(
                (STAGE_R, R3, "Fay000000006"),
                None,
                0,
                NO_CLIENT,
                (None, "2026-04-08T20:01:00.000Z"),
                [0.0, 0.0, 0.0],
                [0, 1, 0, 0],
            ),
            participant(
                (STAGE_R, R3, "Gus000000007"),
                Some("gus"),
                0,
                [
                    Some("Android"),
                    Some("Chrome"),
                    Some("1.23.0"),
                    Some("Example Mobile"),
                    Some("UNKNOWN"),
                ],
                (Some("2026-04-08T20:02:30.000Z"), "2026-04-08T20:06:00.000Z"),
                [210.0, 0.0, 195.0],
                [0, 2, 0, 2],
            ),
        ],
    );
    // Filters choose sessions, as in session-quality.
    let hal_only: Vec<Value> = s
        .report_json(
            "participants",
            &["--session", T1, "--since", "2026-04-08T20:00:20Z"],
        )
        .into_iter()
        .map(|r| r["participant_id"].clone())
        .collect();
    assert_eq!(hal_only, [json!("Eve000000005"), json!("Hal000000008")]);
}

// ---------------------------------------------------------------------------------------------
// breakdown
// ---------------------------------------------------------------------------------------------

fn group(
    dimension: &str,
    value: Option<&str>,
    participants: i64,
    [join_success_rate, publish_success_rate]: [Option<f64>; 2],
    [join_errors, publish_errors, subscribe_errors]: [i64; 3],
    connected_minutes: f64,
) -> Value {
    json!({
        "dimension": dimension, "value": value, "participants": participants,
        "join_success_rate": join_success_rate, "publish_success_rate": publish_success_rate,
        "join_errors": join_errors, "publish_errors": publish_errors,
        "subscribe_errors": subscribe_errors, "connected_minutes": connected_minutes,
    })
}

/// The participants without client details: Ben (R1), Dee, Fay, Eve's replica, Hal, Ivo.
/// JOINED: Ben, Dee, Eve (T1), Hal; with JOIN_ERROR too: + Fay: 4 / 5. PUBLISH_STARTED: Ben,
/// Dee, Eve (T1), Ivo, none with only errors: 4 / 4. Errors: Fay's JOIN_ERROR, Ivo's
/// PUBLISH_ERROR. Connected: Ben 480 + Dee 60 + Eve 220 + Hal 180 = 940 s = 15.6667 min.
fn no_client_group(dimension: &str) -> Value {
    group(
        dimension,
        None,
        6,
        [Some(0.8), Some(1.0)],
        [1, 1, 0],
        15.667,
    )
}

#[test]
fn breakdown_by_every_dimension_by_hand() {
    let s = week();
    let by = |dimension: &str| s.report_json("breakdown", &["--by", dimension]);
    // Day of each session's first event. 2026-04-08: R3 (Eve, Fay, Gus), T1 (Eve, Hal), T2
    // (Ivo) = 6; JOINED 4 of 5 who tried (Fay); PUBLISH_STARTED Eve, Eve, Ivo of the same 3;
    // errors R3 3/2/2 + Ivo's PUBLISH_ERROR; connected R3 510 + T1 400 = 910 s = 15.1667 min.
    let days = [
        group(
            "day",
            Some("2026-04-01"),
            2,
            [Some(1.0), Some(1.0)],
            [0, 0, 0],
            18.0,
        ),
        group(
            "day",
            Some("2026-04-07"),
            1,
            [Some(1.0), Some(1.0)],
            [0, 0, 0],
            1.0,
        ),
        group(
            "day",
            Some("2026-04-08"),
            6,
            [Some(0.8), Some(1.0)],
            [3, 3, 2],
            15.167,
        ),
    ];
    assert_rows("default (day)", &s.report_json("breakdown", &[]), &days);
    assert_rows("day", &by("day"), &days);
    assert_rows(
        "hour",
        &by("hour"),
        &[
            group(
                "hour",
                Some("2026-04-01T20:00Z"),
                2,
                [Some(1.0), Some(1.0)],
                [0, 0, 0],
                18.0,
            ),
            group(
                "hour",
                Some("2026-04-07T09:00Z"),
                1,
                [Some(1.0), Some(1.0)],
                [0, 0, 0],
                1.0,
            ),
            // R3 and T1: 5 participants, 4 / 5 joined, Eve and her replica published.
            group(
                "hour",
                Some("2026-04-08T20:00Z"),
                5,
                [Some(0.8), Some(1.0)],
                [3, 2, 2],
                15.167,
            ),
            // T2: Ivo, no join data; published, one error.
            group(
                "hour",
                Some("2026-04-08T21:00Z"),
                1,
                [None, Some(1.0)],
                [0, 1, 0],
                0.0,
            ),
        ],
    );
    assert_rows(
        "os",
        &by("os"),
        &[
            no_client_group("os"),
            // Gus: joined after 2 JOIN_ERRORs; never published (NULL rate); 210 s = 3.5 min.
            group("os", Some("Android"), 1, [Some(1.0), None], [2, 0, 2], 3.5),
            group("os", Some("iOS"), 1, [Some(1.0), Some(1.0)], [0, 2, 0], 5.0), // Eve, 300 s
            group(
                "os",
                Some("macOS"),
                1,
                [Some(1.0), Some(1.0)],
                [0, 0, 0],
                10.0,
            ), // Ann
        ],
    );
    assert_rows(
        "browser",
        &by("browser"),
        &[
            no_client_group("browser"),
            // Ann + Gus: both joined; Ann published; 600 + 210 = 810 s.
            group(
                "browser",
                Some("Chrome"),
                2,
                [Some(1.0), Some(1.0)],
                [2, 0, 2],
                13.5,
            ),
            group(
                "browser",
                Some("Safari"),
                1,
                [Some(1.0), Some(1.0)],
                [0, 2, 0],
                5.0,
            ),
        ],
    );
    assert_rows(
        "sdk",
        &by("sdk"),
        &[
            no_client_group("sdk"),
            group("sdk", Some("1.23.0"), 1, [Some(1.0), None], [2, 0, 2], 3.5),
            // Ann + Eve: 600 + 300 = 900 s.
            group(
                "sdk",
                Some("1.24.0"),
                2,
                [Some(1.0), Some(1.0)],
                [0, 2, 0],
                15.0,
            ),
        ],
    );
    assert_rows(
        "isp",
        &by("isp"),
        &[
            no_client_group("isp"),
            group(
                "isp",
                Some("Example Fiber"),
                1,
                [Some(1.0), Some(1.0)],
                [0, 0, 0],
                10.0,
            ),
            // Eve + Gus: 300 + 210 = 510 s; Eve published, Gus did not try.
            group(
                "isp",
                Some("Example Mobile"),
                2,
                [Some(1.0), Some(1.0)],
                [2, 2, 2],
                8.5,
            ),
        ],
    );
    assert_rows(
        "protocol",
        &by("protocol"),
        &[
            no_client_group("protocol"),
            group(
                "protocol",
                Some("UNKNOWN"),
                1,
                [Some(1.0), None],
                [2, 0, 2],
                3.5,
            ),
            group(
                "protocol",
                Some("WHIP"),
                2,
                [Some(1.0), Some(1.0)],
                [0, 2, 0],
                15.0,
            ),
        ],
    );
    assert_rows(
        "stage",
        &by("stage"),
        &[
            // T: Eve's replica, Hal, Ivo; Eve and Ivo published; 220 + 180 = 400 s.
            group(
                "stage",
                Some(STAGE_T),
                3,
                [Some(1.0), Some(1.0)],
                [0, 1, 0],
                6.667,
            ),
            // R: Ann, Ben, Dee, Eve, Fay, Gus; 5 of 6 joined; Ann, Ben, Dee, Eve published;
            // 1080 + 60 + 510 = 1650 s.
            group(
                "stage",
                Some(STAGE_R),
                6,
                [Some(0.8333), Some(1.0)],
                [3, 2, 2],
                27.5,
            ),
        ],
    );
    s.run(&["report", "breakdown", "--by", "country"])
        .code(2)
        .stderr(predicate::str::contains(
            "sdk|os|browser|isp|protocol|stage|day|hour",
        ));
    s.run(&["report", "participants", "--by", "os"])
        .code(2)
        .stderr(predicate::str::contains("takes no --by"));
}

// ---------------------------------------------------------------------------------------------
// error-breakdown --by
// ---------------------------------------------------------------------------------------------

#[test]
fn error_breakdown_of_the_week_and_by_os() {
    let s = week();
    // 8 error events: R3 Eve PUBLISH_ERROR INSUFFICIENT_CAPABILITIES ×2, Fay JOIN_ERROR
    // SEAT_LIMIT_REACHED, Gus JOIN_ERROR QUOTA_EXCEEDED ×2, SUBSCRIBE_ERROR
    // INSUFFICIENT_CAPABILITIES and PUBLISHER_NOT_FOUND; T2 Ivo PUBLISH_ERROR BITRATE_EXCEEDED.
    let quota = errors_row(
        "JOIN_ERROR",
        Some("QUOTA_EXCEEDED"),
        2,
        1,
        1,
        0.25,
        "2026-04-08T20:02:00.000Z",
        "2026-04-08T20:02:01.000Z",
    );
    let eve_insufficient = errors_row(
        "PUBLISH_ERROR",
        Some("INSUFFICIENT_CAPABILITIES"),
        2,
        1,
        1,
        0.25,
        "2026-04-08T20:00:05.000Z",
        "2026-04-08T20:04:00.000Z",
    );
    let one =
        |name: &str, code: &str, at: &str| errors_row(name, Some(code), 1, 1, 1, 0.125, at, at);
    let seat = one(
        "JOIN_ERROR",
        "SEAT_LIMIT_REACHED",
        "2026-04-08T20:01:00.000Z",
    );
    let bitrate = one(
        "PUBLISH_ERROR",
        "BITRATE_EXCEEDED",
        "2026-04-08T21:00:30.000Z",
    );
    let gus_insufficient = one(
        "SUBSCRIBE_ERROR",
        "INSUFFICIENT_CAPABILITIES",
        "2026-04-08T20:02:40.000Z",
    );
    let not_found = one(
        "SUBSCRIBE_ERROR",
        "PUBLISHER_NOT_FOUND",
        "2026-04-08T20:03:00.000Z",
    );
    assert_rows(
        "error-breakdown",
        &s.report_json("error-breakdown", &[]),
        &[
            quota.clone(),
            eve_insufficient.clone(),
            seat.clone(),
            bitrate.clone(),
            gus_insufficient.clone(),
            not_found.clone(),
        ],
    );
    // By os: no record (Fay, Ivo) first, then Android (Gus), iOS (Eve); shares stay of all 8.
    let with = |os: Option<&str>, row: &Value| {
        let mut row = row.as_object().unwrap().clone();
        row.insert("dimension".into(), json!("os"));
        row.insert("value".into(), json!(os));
        Value::Object(row)
    };
    assert_rows(
        "error-breakdown --by os",
        &s.report_json("error-breakdown", &["--by", "os"]),
        &[
            with(None, &seat),
            with(None, &bitrate),
            with(Some("Android"), &quota),
            with(Some("Android"), &gus_insufficient),
            with(Some("Android"), &not_found),
            with(Some("iOS"), &eve_insufficient),
        ],
    );
    // By hour: 20:00 has all but Ivo's error.
    let hours: Vec<(Value, Value)> = s
        .report_json("error-breakdown", &["--by", "hour"])
        .into_iter()
        .map(|r| (r["value"].clone(), r["errors"].clone()))
        .collect();
    let at = |h: &str, n: i64| (json!(h), json!(n));
    assert_eq!(
        hours,
        [
            at("2026-04-08T20:00Z", 2),
            at("2026-04-08T20:00Z", 2),
            at("2026-04-08T20:00Z", 1),
            at("2026-04-08T20:00Z", 1),
            at("2026-04-08T20:00Z", 1),
            at("2026-04-08T21:00Z", 1),
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// daily
// ---------------------------------------------------------------------------------------------

/// A daily row's differences from an earlier day: sessions, participants, participant
/// minutes, join success rate, error rate, clean session rate.
type Change = (i64, i64, f64, Option<f64>, Option<f64>, f64);

/// A daily row: the day's values, then the d1_ and w1_ differences (None: no such day).
fn day(
    day: &str,
    [sessions, participants]: [i64; 2],
    [participant_minutes, publish_minutes, subscribe_minutes]: [f64; 3],
    [join_success_rate, error_rate, clean_session_rate]: [Option<f64>; 3],
    d1: Option<Change>,
    w1: Option<Change>,
) -> Value {
    let mut row = json!({
        "day": day, "sessions": sessions, "participants": participants,
        "participant_minutes": participant_minutes, "publish_minutes": publish_minutes,
        "subscribe_minutes": subscribe_minutes, "join_success_rate": join_success_rate,
        "error_rate": error_rate, "clean_session_rate": clean_session_rate,
    });
    for (prefix, change) in [("d1", d1), ("w1", w1)] {
        let (sessions, participants, minutes, join, error, clean) = match change {
            Some((s, p, m, j, e, c)) => {
                (json!(s), json!(p), json!(m), json!(j), json!(e), json!(c))
            }
            None => (
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null,
            ),
        };
        let row = row.as_object_mut().unwrap();
        row.insert(format!("{prefix}_sessions"), sessions);
        row.insert(format!("{prefix}_participants"), participants);
        row.insert(format!("{prefix}_participant_minutes"), minutes);
        row.insert(format!("{prefix}_join_success_rate"), join);
        row.insert(format!("{prefix}_error_rate"), error);
        row.insert(format!("{prefix}_clean_session_rate"), clean);
    }
    row
}

fn with_stage(stage: &str, mut row: Value) -> Value {
    let object = row.as_object_mut().unwrap();
    object.insert("dimension".into(), json!("stage"));
    object.insert("value".into(), json!(stage));
    row
}

/// 2026-04-01: R1. Minutes: connected 1080 s = 18, publishing 750 s = 12.5, subscribed 474 s =
/// 7.9; clean.
fn day_04_01() -> Value {
    day(
        "2026-04-01",
        [1, 2],
        [18.0, 12.5, 7.9],
        [Some(1.0), Some(0.0), Some(1.0)],
        None, // 03-31 has no session
        None, // nor 03-25
    )
}

/// 2026-04-07: R2. 60 s, 55 s = 0.91667 min, 0.
fn day_04_07() -> Value {
    day(
        "2026-04-07",
        [1, 1],
        [1.0, 0.917, 0.0],
        [Some(1.0), Some(0.0), Some(1.0)],
        None, // 04-06
        None, // 03-31
    )
}

/// 2026-04-08: R3, T1, T2; 3 + 2 + 1 participants. Connected 510 + 400 + 0 = 910 s = 15.1667;
/// publishing 170 + 219 + 60 = 449 s = 7.4833; subscribed 195 + 178 = 373 s = 6.2167. Joined
/// 2 + 2 + 0 of 3 + 2 + 0 who tried: 0.8. Errors 7 + 0 + 1 = 8 of attempts 11 + 4 + 2 = 17:
/// 0.470588. Clean: T1 only, 1 / 3. Against 04-07: sessions 3 − 1, participants 6 − 1,
/// minutes 15.167 − 1.0, joins 0.8 − 1.0, errors 0.4706 − 0, clean 0.3333 − 1.0; against 04-01
/// (the same weekday a week earlier): 3 − 1, 6 − 2, 15.167 − 18.0, and the same rates.
fn day_04_08() -> Value {
    day(
        "2026-04-08",
        [3, 6],
        [15.167, 7.483, 6.217],
        [Some(0.8), Some(0.4706), Some(0.3333)],
        Some((2, 5, 14.167, Some(-0.2), Some(0.4706), -0.6667)),
        Some((2, 4, -2.833, Some(-0.2), Some(0.4706), -0.6667)),
    )
}

#[test]
fn daily_by_hand_with_changes_from_the_day_and_the_week_before() {
    let s = week();
    assert_rows(
        "daily",
        &s.report_json("daily", &[]),
        &[day_04_01(), day_04_07(), day_04_08()],
    );
    // From 04-08 on, the comparisons still reach the days before the window.
    assert_rows(
        "daily --since 2026-04-08",
        &s.report_json("daily", &["--since", "2026-04-08"]),
        &[day_04_08()],
    );
    // Per stage: on 04-08, T (T1, T2) sorts before R (R3). R on 04-08: 3 participants,
    // 510 s = 8.5, 170 s = 2.8333, 195 s = 3.25; 2 / 3 joined; 7 / 11 errors; not clean.
    // T on 04-08: 3 participants, 400 s = 6.6667, 219 + 60 = 279 s = 4.65, 178 s = 2.9667;
    // 2 / 2 joined; 1 / (4 + 2) = 0.16667 errors; clean 1 / 2. T has no earlier day.
    assert_rows(
        "daily --by stage",
        &s.report_json("daily", &["--by", "stage"]),
        &[
            with_stage(STAGE_R, day_04_01()),
            with_stage(STAGE_R, day_04_07()),
            with_stage(
                STAGE_T,
                day(
                    "2026-04-08",
                    [2, 3],
                    [6.667, 4.65, 2.967],
                    [Some(1.0), Some(0.1667), Some(0.5)],
                    None,
                    None,
                ),
            ),
            with_stage(
                STAGE_R,
                day(
                    "2026-04-08",
                    [1, 3],
                    [8.5, 2.833, 3.25],
                    [Some(0.6667), Some(0.6364), Some(0.0)],
                    // R on 04-07: 1 session, 1 participant, 1.0 min, rates 1.0, 0.0, 1.0.
                    Some((0, 2, 7.5, Some(-0.3333), Some(0.6364), -1.0)),
                    // R on 04-01: 1 session, 2 participants, 18.0 min, rates 1.0, 0.0, 1.0.
                    Some((0, 1, -9.5, Some(-0.3333), Some(0.6364), -1.0)),
                ),
            ),
        ],
    );
}

#[test]
fn relative_windows_are_taken_from_now_in_utc() {
    let s = week();
    let at_now = |now: &str, args: &[&str]| -> (Vec<Value>, String) {
        let mut cmd_args = vec!["report", "daily", "--format", "json"];
        cmd_args.extend_from_slice(args);
        let assert = s.cmd(&cmd_args).env("STAGELOG_NOW", now).assert().success();
        let out = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
        (parse_json_rows(&out), stderr_of(&assert))
    };
    let days = |rows: &[Value]| -> Vec<Value> { rows.iter().map(|r| r["day"].clone()).collect() };

    // yesterday = [04-08 00:00, 04-09 00:00) when it is 04-09 05:00 UTC.
    let (rows, stderr) = at_now("2026-04-09T05:00:00Z", &["--since", "yesterday"]);
    assert_rows("yesterday", &rows, &[day_04_08()]);
    assert!(
        stderr.contains("window: [2026-04-08T00:00:00.000000Z, 2026-04-09T00:00:00.000000Z)"),
        "{stderr}"
    );
    // The day after, yesterday is 04-09: no session.
    assert_eq!(
        at_now("2026-04-10T05:00:00Z", &["--since", "yesterday"]).0,
        [] as [Value; 0]
    );
    // 7d back from 04-08 20:00:00 is 04-01 20:00:00: R1 (20:00:00) is in, inclusive; a second
    // later it is out. Without --until the window has no end.
    let (rows, stderr) = at_now("2026-04-08T20:00:00Z", &["--since", "7d"]);
    assert_eq!(
        days(&rows),
        [
            json!("2026-04-01"),
            json!("2026-04-07"),
            json!("2026-04-08")
        ]
    );
    assert!(
        stderr.contains("window: [2026-04-01T20:00:00.000000Z, no end)"),
        "{stderr}"
    );
    let (rows, _) = at_now("2026-04-08T20:00:01Z", &["--since", "7d"]);
    assert_eq!(days(&rows), [json!("2026-04-07"), json!("2026-04-08")]);
    // 24h back from 04-08 20:00:30 is 04-07 20:00:30: R2 (09:00) is out; R3 (20:00:00),
    // T1 (20:00:20) and T2 (21:00) are in.
    let (rows, _) = at_now("2026-04-08T20:00:30Z", &["--since", "24h"]);
    assert_eq!(days(&rows), [json!("2026-04-08")]);
    assert_eq!(rows[0]["sessions"], json!(3));
    // 90m back from 04-08 21:30 is 20:00: R3 (inclusive), T1, T2. --until a date: up to that
    // UTC midnight.
    let (rows, _) = at_now("2026-04-08T21:30:00Z", &["--since", "90m"]);
    assert_eq!(rows[0]["sessions"], json!(3));
    let (rows, stderr) = at_now("2026-04-08T21:30:00Z", &["--until", "2026-04-08"]);
    assert_eq!(days(&rows), [json!("2026-04-01"), json!("2026-04-07")]);
    assert!(
        stderr.contains("window: [no start, 2026-04-08T00:00:00.000000Z)"),
        "{stderr}"
    );
    s.run(&["report", "daily", "--since", "7 days"]).code(2);
}

// ---------------------------------------------------------------------------------------------
// timeline
// ---------------------------------------------------------------------------------------------

/// A timeline row: participant, time (of 2026-04-08 or -01), name, remote participant, error
/// code, effect, then the connected and publishing counts after it.
fn step(
    participant: &str,
    time: &str,
    name: &str,
    (remote, code): (Option<&str>, Option<&str>),
    effect: &str,
    (connected_now, publishing_now): (i64, i64),
) -> Value {
    json!({
        "participant_id": participant, "event_time": time, "name": name,
        "remote_participant_id": remote, "error_code": code, "effect": effect,
        "connected_now": connected_now, "publishing_now": publishing_now,
    })
}

const NONE: (Option<&str>, Option<&str>) = (None, None);

#[test]
fn timeline_lists_events_in_the_order_the_rules_apply_them() {
    let s = week();
    let (eve, fay, gus) = ("Eve000000005", "Fay000000006", "Gus000000007");
    let t = |hms: &str| format!("2026-04-08T{hms}.000Z");
    let insufficient = Some("INSUFFICIENT_CAPABILITIES");
    let rows = [
        step(
            eve,
            &t("20:00:00"),
            "JOINED",
            NONE,
            "opens connected",
            (1, 0),
        ),
        step(
            eve,
            &t("20:00:05"),
            "PUBLISH_ERROR",
            (None, insufficient),
            "error",
            (1, 0),
        ),
        // At one instant: TOKEN_EXCHANGED ranks before PUBLISH_STARTED (file order is the
        // other way round).
        step(
            eve,
            &t("20:00:10"),
            "TOKEN_EXCHANGED",
            NONE,
            "token exchanged",
            (1, 0),
        ),
        step(
            eve,
            &t("20:00:10"),
            "PUBLISH_STARTED",
            NONE,
            "opens publishing",
            (1, 1),
        ),
        step(
            eve,
            &t("20:00:20"),
            "REPLICATION_STARTED",
            NONE,
            "opens replicating",
            (1, 1),
        ),
        step(
            fay,
            &t("20:01:00"),
            "JOIN_ERROR",
            (None, Some("SEAT_LIMIT_REACHED")),
            "error",
            (1, 1),
        ),
        step(
            gus,
            &t("20:02:00"),
            "JOIN_ERROR",
            (None, Some("QUOTA_EXCEEDED")),
            "error",
            (1, 1),
        ),
        step(
            gus,
            &t("20:02:01"),
            "JOIN_ERROR",
            (None, Some("QUOTA_EXCEEDED")),
            "error",
            (1, 1),
        ),
        step(
            gus,
            &t("20:02:30"),
            "JOINED",
            NONE,
            "opens connected",
            (2, 1),
        ),
        step(
            gus,
            &t("20:02:40"),
            "SUBSCRIBE_ERROR",
            (Some(eve), insufficient),
            "error",
            (2, 1),
        ),
        step(
            gus,
            &t("20:02:42"),
            "TOKEN_EXCHANGED",
            NONE,
            "token exchanged",
            (2, 1),
        ),
        step(
            gus,
            &t("20:02:45"),
            "SUBSCRIBE_STARTED",
            (Some(eve), None),
            "opens subscribed",
            (2, 1),
        ),
        // 20:03:00, across participants: Eve's stop (step 1) before her exchange and Gus's
        // error (step 2, by rank).
        step(
            eve,
            &t("20:03:00"),
            "PUBLISH_STOPPED",
            NONE,
            "closes publishing",
            (2, 0),
        ),
        step(
            eve,
            &t("20:03:00"),
            "TOKEN_EXCHANGED",
            NONE,
            "token exchanged",
            (2, 0),
        ),
        step(
            gus,
            &t("20:03:00"),
            "SUBSCRIBE_ERROR",
            (Some("Zed000000099"), Some("PUBLISHER_NOT_FOUND")),
            "error",
            (2, 0),
        ),
        step(
            eve,
            &t("20:04:00"),
            "PUBLISH_ERROR",
            (None, insufficient),
            "error",
            (2, 0),
        ),
        step(
            gus,
            &t("20:04:30"),
            "PARTICIPANT_PINNED",
            NONE,
            "unknown event",
            (2, 0),
        ),
        step(
            eve,
            &t("20:05:00"),
            "LEFT",
            NONE,
            "closes connected",
            (1, 0),
        ),
        // 20:06:00: SUBSCRIBE_STOPPED, then LEFT (step 1), then the PUBLISH_STOPPED that finds
        // nothing open (step 3), though the file has them in another order.
        step(
            gus,
            &t("20:06:00"),
            "SUBSCRIBE_STOPPED",
            (Some(eve), None),
            "closes subscribed",
            (1, 0),
        ),
        step(
            gus,
            &t("20:06:00"),
            "LEFT",
            NONE,
            "closes connected",
            (0, 0),
        ),
        step(
            gus,
            &t("20:06:00"),
            "PUBLISH_STOPPED",
            NONE,
            "orphan stop",
            (0, 0),
        ),
    ];
    assert_rows(
        "timeline of R3",
        &s.report_json("timeline", &["--session", R3]),
        &rows,
    );

    // One participant: only Ben's rows, with the counts of the whole session (Ann is connected
    // and publishing from 20:00).
    let ben = "Ben000000002";
    let t = |hms: &str| format!("2026-04-01T{hms}.000Z");
    let ann = Some("Ann000000001");
    assert_rows(
        "timeline of Ben in R1",
        &s.report_json("timeline", &["--session", R1, "--participant", ben]),
        &[
            step(
                ben,
                &t("20:01:00"),
                "JOINED",
                NONE,
                "opens connected",
                (2, 1),
            ),
            step(
                ben,
                &t("20:01:04"),
                "SUBSCRIBE_STARTED",
                (ann, None),
                "opens subscribed",
                (2, 1),
            ),
            step(
                ben,
                &t("20:05:00"),
                "SUBSCRIBE_STOPPED",
                (ann, None),
                "closes subscribed",
                (2, 1),
            ),
            step(
                ben,
                &t("20:05:00"),
                "LEFT",
                NONE,
                "closes connected",
                (1, 1),
            ),
            step(
                ben,
                &t("20:06:00"),
                "JOINED",
                NONE,
                "opens connected",
                (2, 1),
            ),
            step(
                ben,
                &t("20:06:02"),
                "SUBSCRIBE_STARTED",
                (ann, None),
                "opens subscribed",
                (2, 1),
            ),
            step(
                ben,
                &t("20:07:00"),
                "TOKEN_EXCHANGED",
                NONE,
                "token exchanged",
                (2, 1),
            ),
            step(
                ben,
                &t("20:07:30"),
                "PUBLISH_STARTED",
                NONE,
                "opens publishing",
                (2, 2),
            ),
        ],
    );
    // Ann's rows of R1 show the ignored start, a same-instant tie with Ben's JOINED (JOINED
    // ranks first) and the orphan replication stop.
    let effects: Vec<(Value, Value, Value)> = s
        .report_json("timeline", &["--session", R1])
        .into_iter()
        .map(|r| {
            (
                r["participant_id"].clone(),
                r["name"].clone(),
                r["effect"].clone(),
            )
        })
        .collect();
    let row = |p: &str, n: &str, e: &str| (json!(p), json!(n), json!(e));
    let ann = "Ann000000001";
    assert_eq!(
        effects,
        [
            row(ann, "JOINED", "opens connected"),
            row(ann, "PUBLISH_STARTED", "opens publishing"),
            row(ann, "PUBLISH_STARTED", "ignored start"),
            row(ben, "JOINED", "opens connected"),
            row(ann, "REPLICATION_STARTED", "opens replicating"),
            row(ben, "SUBSCRIBE_STARTED", "opens subscribed"),
            row(ann, "REPLICATION_STOPPED", "closes replicating"),
            row(ben, "SUBSCRIBE_STOPPED", "closes subscribed"),
            row(ben, "LEFT", "closes connected"),
            row(ben, "JOINED", "opens connected"),
            row(ben, "SUBSCRIBE_STARTED", "opens subscribed"),
            row(ben, "TOKEN_EXCHANGED", "token exchanged"),
            row(ben, "PUBLISH_STARTED", "opens publishing"),
            row(ann, "REPLICATION_STOPPED", "orphan stop"),
            row(ann, "PUBLISH_STOPPED", "closes publishing"),
            row(ann, "LEFT", "closes connected"),
        ]
    );
    s.run(&["report", "timeline"])
        .code(2)
        .stderr(predicate::str::contains("needs --session"));
}

// ---------------------------------------------------------------------------------------------
// data-quality
// ---------------------------------------------------------------------------------------------

fn check(name: &str, count: i64, example: Option<&str>) -> Value {
    json!({"check": name, "count": count, "example": example})
}

#[test]
fn data_quality_by_hand() {
    let s = week();
    let week_file = fixture("reports/week/week.ndjson");
    let reject = format!("{week_file} line 43");
    assert_rows(
        "data-quality",
        &s.report_json("data-quality", &[]),
        &[
            // Ann's REPLICATION_STOPPED to st-T9nowhere0009 (R1), Gus's PUBLISH_STOPPED (R3).
            check("orphan_stops", 2, Some("st-R1wednesday01/Ann000000001")),
            check(
                "ignored_duplicate_starts",
                1,
                Some("st-R1wednesday01/Ann000000001"),
            ),
            // R1: Ben's connected, subscribed and publishing; T1: the replica's connected and
            // publishing.
            check(
                "intervals_closed_at_session_end",
                5,
                Some("st-R1wednesday01/Ben000000002"),
            ),
            // Dee's JOINED at 09:00:00, before R2's recorded start 09:00:01.
            check(
                "events_outside_session_record",
                1,
                Some("st-R2tuesday0002/Dee000000004"),
            ),
            check(
                "unknown_event_names",
                1,
                Some("st-R3wednesday03/Gus000000007"),
            ),
            check(
                "unknown_error_codes",
                1,
                Some("st-R3wednesday03/Fay000000006"),
            ),
            check("rejected_records", 1, Some(&reject)),
            check("eventbridge_only_sessions", 1, Some(T2)),
            check(
                "eventbridge_only_participants",
                1,
                Some("st-T2bridge00002/Ivo000000009"),
            ),
            check(
                "covered_eventbridge_events",
                1,
                Some("st-R3wednesday03/Eve000000005"),
            ),
            check("duplicate_records_dropped", 1, Some(&week_file)),
            check("imports_with_warnings", 1, Some(&week_file)),
        ],
    );
    // One session: R2 has only its outside event; the file checks take the imports that stored
    // its events (week.ndjson).
    let counts: Vec<Value> = s
        .report_json("data-quality", &["--session", R2])
        .into_iter()
        .map(|r| r["count"].clone())
        .collect();
    assert_eq!(
        counts,
        [0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 1, 1].map(|n| json!(n))
    );
}

// ---------------------------------------------------------------------------------------------
// replication-graph
// ---------------------------------------------------------------------------------------------

#[test]
fn replication_graph_by_hand() {
    let s = week();
    assert_rows(
        "replication-graph",
        &s.report_json("replication-graph", &[]),
        &[json!({
            "source_stage_arn": STAGE_R,
            "destination_stage_arn": STAGE_T,
            "participants": 2, // Ann (R1), Eve (R3)
            "replications": 2,
            // Ann 20:01→20:04 = 180 s; Eve's open one 20:00:20 → R3's end 20:06:00 = 340 s.
            // 520 s = 8.6667 min
            "replica_minutes": 8.667,
            "open_replications": 1,
            "orphan_stops": 1, // Ann's stop for st-T9nowhere0009
        })],
    );
    assert_rows(
        "replication-graph of R1",
        &s.report_json("replication-graph", &["--session", R1]),
        &[json!({
            "source_stage_arn": STAGE_R, "destination_stage_arn": STAGE_T,
            "participants": 1, "replications": 1, "replica_minutes": 3.0,
            "open_replications": 0, "orphan_stops": 1,
        })],
    );
}

// ---------------------------------------------------------------------------------------------
// token-chains' appended columns
// ---------------------------------------------------------------------------------------------

#[test]
fn token_chains_time_to_publish_and_capability_errors_by_hand() {
    let s = week();
    let chain = |session: &str, id: &str| json!({"stage_arn": STAGE_R, "session_id": session, "participant_id": id});
    let mut rows = [
        chain(R1, "Ben000000002"),
        chain(R3, "Eve000000005"),
        chain(R3, "Gus000000007"),
    ];
    let values = [
        json!({
            "exchanges": 1,
            "first_exchange_at": "2026-04-01T20:07:00.000Z",
            "last_exchange_at": "2026-04-01T20:07:00.000Z",
            "initial_user_id": "ben", "final_user_id": "ben",
            "capability_path": "SUBSCRIBE > PUBLISH+SUBSCRIBE",
            "upgrades": 1, "downgrades": 0, "broken_links": 0,
            "expiry_extension_s": null, // the new token has no expiration
            "time_to_publish_after_upgrade_s": 30.0, // 20:07:00 → PUBLISH_STARTED 20:07:30
            "insufficient_capability_errors_before": 0,
            "insufficient_capability_errors_after": 0,
        }),
        json!({
            "exchanges": 2,
            "first_exchange_at": "2026-04-08T20:00:10.000Z",
            "last_exchange_at": "2026-04-08T20:03:00.000Z",
            "initial_user_id": "eve", "final_user_id": "eve",
            "capability_path": "SUBSCRIBE > PUBLISH+SUBSCRIBE > SUBSCRIBE",
            "upgrades": 1, "downgrades": 1,
            // 20:03's previous token is 20:00:10's new one with the capabilities in another
            // order and the expiration spelled 22:00:00.000Z.
            "broken_links": 0,
            "expiry_extension_s": 5400.0, // 22:30 − 21:00
            // PUBLISH_STARTED at the exchange's own instant applies after it: 0, not null.
            "time_to_publish_after_upgrade_s": 0.0,
            "insufficient_capability_errors_before": 1, // 20:00:05
            "insufficient_capability_errors_after": 1,  // 20:04:00
        }),
        json!({
            "exchanges": 1,
            "first_exchange_at": "2026-04-08T20:02:42.000Z",
            "last_exchange_at": "2026-04-08T20:02:42.000Z",
            "initial_user_id": "gus", "final_user_id": "gus",
            "capability_path": "- > SUBSCRIBE",
            "upgrades": 1, "downgrades": 0, "broken_links": 0,
            "expiry_extension_s": 1800.0, // 21:30 − 21:00
            "time_to_publish_after_upgrade_s": null, // the upgrade gains SUBSCRIBE, not PUBLISH
            "insufficient_capability_errors_before": 1, // his SUBSCRIBE_ERROR at 20:02:40
            "insufficient_capability_errors_after": 0,
        }),
    ];
    for (row, more) in rows.iter_mut().zip(values) {
        row.as_object_mut()
            .unwrap()
            .extend(more.as_object().unwrap().clone());
    }
    assert_rows("token-chains", &s.report_json("token-chains", &[]), &rows);
}

// ---------------------------------------------------------------------------------------------
// Your own reports, and sql's parameters and NDJSON
// ---------------------------------------------------------------------------------------------

#[test]
fn your_own_reports_are_listed_and_run_like_the_built_in_ones() {
    let s = week();
    let mine = s.dir.path().join("mine");
    std::fs::create_dir(&mine).unwrap();
    std::fs::write(
        mine.join("publishers.sql"),
        "-- name: publishers\n\
         -- description: Who published, per session\n\
         SELECT session_id, participant_id, count(*) AS starts\n\
         FROM event_list\n\
         WHERE name = 'PUBLISH_STARTED' AND (:session IS NULL OR session_id = :session)\n\
           AND (:since IS NULL OR event_time_us >= :since)\n\
         GROUP BY session_id, participant_id ORDER BY session_id, participant_id;\n",
    )
    .unwrap();
    std::fs::write(mine.join("notes.txt"), "not a report").unwrap();
    let dir = mine.display().to_string();

    let listing = s.stdout(&["report", "--list", "--queries", &dir]);
    assert!(
        listing
            .lines()
            .any(|l| l.starts_with("publishers")
                && l.ends_with("Who published, per session (yours)")),
        "{listing}"
    );
    assert!(!listing.contains("notes"), "{listing}");
    // The window binds :since; event_list holds every stored event, so Eve's covered
    // EventBridge "Participant Published" in R3 counts here beside her own PUBLISH_STARTED.
    assert_eq!(
        s.stdout(&[
            "report",
            "publishers",
            "--queries",
            &dir,
            "-f",
            "csv",
            "--since",
            "2026-04-02"
        ]),
        "session_id,participant_id,starts\n\
         st-R2tuesday0002,Dee000000004,1\n\
         st-R3wednesday03,Eve000000005,2\n\
         st-T1replica0001,Eve000000005,1\n\
         st-T2bridge00002,Ivo000000009,1\n"
    );
    // STAGELOG_QUERIES does the same as --queries. Ann's ignored second start is an event too.
    let out = s
        .cmd(&["report", "publishers", "--session", R1, "-f", "csv"])
        .env("STAGELOG_QUERIES", &dir)
        .assert()
        .success();
    assert_eq!(
        String::from_utf8(out.get_output().stdout.clone()).unwrap(),
        "session_id,participant_id,starts\n\
         st-R1wednesday01,Ann000000001,2\n\
         st-R1wednesday01,Ben000000002,1\n"
    );
    // A file named like a built-in report is refused, not silently preferred.
    std::fs::write(mine.join("daily.sql"), "SELECT 1;").unwrap();
    s.run(&["report", "--list", "--queries", &dir])
        .code(2)
        .stderr(predicate::str::contains("built-in"));
}

#[test]
fn sql_takes_named_parameters_and_prints_ndjson() {
    let s = week();
    assert_eq!(
        s.stdout(&[
            "sql",
            "SELECT participant_id, count(*) AS n FROM event_list \
             WHERE session_id = :session AND name = :name GROUP BY participant_id \
             ORDER BY participant_id",
            "-p",
            "session",
            R3,
            "-p",
            "name",
            "JOIN_ERROR",
            "--format",
            "ndjson",
        ]),
        "{\"participant_id\":\"Fay000000006\",\"n\":1}\n\
         {\"participant_id\":\"Gus000000007\",\"n\":2}\n"
    );
    assert_eq!(
        s.stdout(&["sql", "SELECT 1 AS x WHERE 0", "--format", "ndjson"]),
        ""
    );
}

// ---------------------------------------------------------------------------------------------
// Nightly mode: --all --out, --fail-on
// ---------------------------------------------------------------------------------------------

#[test]
fn all_writes_every_report_in_every_format_with_an_index() {
    let s = week();
    let out = s.dir.path().join("night");
    let night = out.display().to_string();
    let run = || {
        s.cmd(&[
            "report",
            "--all",
            "--since",
            "yesterday",
            "--out",
            &night,
            "--format",
            "md,csv,json",
        ])
        .env("STAGELOG_NOW", "2026-04-09T02:45:00Z")
        .assert()
        .code(0)
    };
    let stderr = stderr_of(&run());
    assert!(stderr.contains("skipped timeline"), "{stderr}");

    let mut files: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let mut expected: Vec<String> = REPORTS
        .iter()
        .flat_map(|r| ["csv", "json", "md"].map(|ext| format!("{r}.{ext}")))
        .chain(["index.json".to_string(), "index.md".to_string()])
        .collect();
    expected.sort();
    assert_eq!(files, expected);

    // The files hold what `report NAME` prints for the same window.
    let same_window = |name: &str, format: &str| {
        let assert = s
            .cmd(&["report", name, "--format", format, "--since", "yesterday"])
            .env("STAGELOG_NOW", "2026-04-09T02:45:00Z")
            .assert()
            .success();
        String::from_utf8(assert.get_output().stdout.clone()).unwrap()
    };
    for name in ["daily", "session-quality", "data-quality"] {
        let written = std::fs::read_to_string(out.join(format!("{name}.csv"))).unwrap();
        assert_eq!(written, same_window(name, "csv"), "{name}");
    }
    assert_rows(
        "daily.json",
        &parse_json_rows(&std::fs::read_to_string(out.join("daily.json")).unwrap()),
        &[day_04_08()],
    );

    // The index: the window, the database, and each report's rows. Yesterday (04-08) holds
    // R3, T1 and T2: 3 sessions, 6 participants, 6 error groups, 3 chains … of which only
    // Eve's and Gus's began that day; the data-quality report always has its 12 checks.
    let index: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("index.json")).unwrap()).unwrap();
    assert_eq!(
        index["window"],
        json!({"since": "2026-04-08T00:00:00.000000Z", "until": "2026-04-09T00:00:00.000000Z"})
    );
    assert_eq!(index["database"], json!(s.db.display().to_string()));
    let rows: Vec<(Value, Value)> = index["reports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["name"].clone(), r["rows"].clone()))
        .collect();
    let row = |name: &str, n: i64| (json!(name), json!(n));
    assert_eq!(
        rows,
        [
            row("breakdown", 1),         // one day
            row("daily", 1),             // 04-08
            row("data-quality", 12),     // one row per check
            row("error-breakdown", 6),   // every error of the week is on 04-08
            row("participants", 6),      // R3 3, T1 2, T2 1
            row("replication-graph", 1), // Eve's open replication R → T
            row("replications", 1),
            row("session-quality", 3),
            row("token-chains", 2), // Eve, Gus (Ben's is of 04-01)
        ]
    );
    let index_md = std::fs::read_to_string(out.join("index.md")).unwrap();
    assert!(
        index_md.contains("| session-quality | 3 | [session-quality.md](session-quality.md)"),
        "{index_md}"
    );

    // A second night over the same data writes the same bytes: stable names, stable content.
    let before: Vec<(String, Vec<u8>)> = expected
        .iter()
        .map(|f| (f.clone(), std::fs::read(out.join(f)).unwrap()))
        .collect();
    run();
    for (file, bytes) in before {
        assert_eq!(std::fs::read(out.join(&file)).unwrap(), bytes, "{file}");
    }
}

#[test]
fn fail_on_exits_5_after_writing_and_names_the_rows_that_crossed() {
    let s = week();
    let out = s.dir.path().join("alerts");
    let night = out.display().to_string();
    // error_rate of daily: 04-08 is 0.4706; session-quality's join_success_rate: R3 0.6667 (T2's
    // NULL never crosses).
    let assert = s
        .run(&[
            "report",
            "--all",
            "--out",
            &night,
            "--format",
            "csv",
            "--fail-on",
            "error_rate>0.4",
            "--fail-on",
            "session-quality.join_success_rate<0.95",
            "--fail-on",
            "clean_session_rate<0",
        ])
        .code(5);
    let stderr = stderr_of(&assert);
    let crossed: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("threshold crossed"))
        .collect();
    assert_eq!(crossed.len(), 2, "{stderr}");
    assert!(crossed[0].contains("error_rate>0.4") && crossed[0].contains("day=2026-04-08"));
    assert!(
        crossed[1].contains("session-quality.join_success_rate<0.95")
            && crossed[1].contains(&format!("session_id={R3}")),
        "{stderr}"
    );
    assert!(
        out.join("session-quality.csv").exists(),
        "written before the alert"
    );

    // With one report, and nothing crossing: 0.
    s.run(&["report", "daily", "--fail-on", "error_rate>=0.5"])
        .code(0);
    s.run(&["report", "daily", "--fail-on", "error_rate>=0.4706"])
        .code(5);
    // A rule that names no column of its report, or no report, or no comparison: usage.
    for rule in [
        "daily.no_such_column>1",
        "no-such-report.x>1",
        "error_rate=0.5",
        "error_rate>high",
    ] {
        s.run(&["report", "daily", "--fail-on", rule]).code(2);
    }
}

/// Every canned report chooses its sessions through an index: one session by its id with
/// `--session`, else by the first event's time; none reads every session (which at ten million
/// events was most of a `--session` report's time).
#[test]
fn every_report_finds_its_sessions_by_an_index() {
    let s = week();
    let db = rusqlite::Connection::open(&s.db).unwrap();
    let queries = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("queries");
    let mut checked = 0;
    for entry in std::fs::read_dir(queries).unwrap() {
        let path = entry.unwrap().path();
        let sql = std::fs::read_to_string(&path).unwrap();
        if !sql.contains(":session") {
            continue;
        }
        let session_required = sql.contains(":session (required)");
        let cases = [
            (Some("st-R1"), "sessions_by_id"),
            (None, "sessions_by_first_event"),
        ];
        for (session, index) in &cases[..if session_required { 1 } else { 2 }] {
            let mut plan = db.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
            for i in 1..=plan.parameter_count() {
                let value = match plan.parameter_name(i) {
                    Some(":session") => *session,
                    Some(":since") => Some("1775000000000000"),
                    _ => None,
                };
                plan.raw_bind_parameter(i, value).unwrap();
            }
            let mut rows = plan.raw_query();
            let mut lines = Vec::new();
            while let Some(row) = rows.next().unwrap() {
                lines.push(row.get::<_, String>(3).unwrap());
            }
            let shown = format!("{}: {lines:#?}", path.display());
            assert!(lines.iter().any(|l| l.contains(index)), "{shown}");
            assert!(
                !lines
                    .iter()
                    .any(|l| l.starts_with("SCAN s") && !l.starts_with("SCAN st")),
                "{shown}"
            );
        }
        checked += 1;
    }
    assert_eq!(checked, 10);
}

// ---------------------------------------------------------------------------------------------
// Migrations V5 and V6, checked against what the import writes
// ---------------------------------------------------------------------------------------------

/// Gives a database the shape V6 found: events with 16-byte identities (V6 keeps the first 8)
/// and every effect spelled out, intervals with row ids (in another order, so that the ordinals
/// cannot come from it), and V6 and later missing from the history (V8's index dropped with
/// them). The views V6 replaces are stand-ins.
fn back_to_v5(db: &rusqlite::Connection) {
    db.execute_batch(
        "CREATE TABLE events_v5 AS
             SELECT session_key, participant_key, name, event_time_us, remote_participant_id,
                    error_code, destination_stage_arn, destination_session_id, replica,
                    previous_token_key, new_token_key, raw_json, import_key, seq, step,
                    CAST(identity || x'00ff00ff00ff00ff' AS BLOB) AS identity, source, covered,
                    eventbridge_id, effect, connected_delta, publishing_delta
             FROM spelled_events;
         CREATE TABLE intervals_v5 AS
             SELECT session_key, participant_key, kind, remote_participant_id, started_at_us,
                    stopped_at_us, closed_by
             FROM intervals
             ORDER BY participant_key DESC, started_at_us DESC;
         DROP VIEW event_list;
         DROP VIEW reported_events;
         DROP VIEW session_list;
         DROP VIEW interval_list;
         DROP VIEW spelled_events;
         DROP TABLE usual_effects;
         DROP TABLE events;
         DROP TABLE intervals;
         ALTER TABLE events_v5 RENAME TO events;
         ALTER TABLE intervals_v5 RENAME TO intervals;
         CREATE VIEW event_list AS SELECT 1;
         CREATE VIEW reported_events AS SELECT 1;
         CREATE VIEW session_list AS SELECT 1;
         CREATE VIEW interval_list AS SELECT 1;
         DROP INDEX sessions_by_id;
         DELETE FROM refinery_schema_history WHERE version >= 6;",
    )
    .unwrap();
}

/// Every row of the events and intervals tables, as text, in key order.
fn event_and_interval_rows(db: &rusqlite::Connection) -> Vec<String> {
    let mut rows = Vec::new();
    for query in [
        "SELECT quote(session_key), quote(participant_key), quote(event_time_us), \
                quote(identity), quote(name), quote(seq), quote(step), quote(effect), \
                quote(connected_delta), quote(publishing_delta), quote(covered) \
         FROM events ORDER BY session_key, participant_key, event_time_us, identity",
        "SELECT quote(session_key), quote(participant_key), quote(ordinal), quote(kind), \
                quote(remote_participant_id), quote(started_at_us), quote(stopped_at_us), \
                quote(closed_by) \
         FROM intervals ORDER BY session_key, participant_key, ordinal",
    ] {
        let mut statement = db.prepare(query).unwrap();
        let width = statement.column_count();
        let found = statement
            .query_map([], |r| {
                (0..width)
                    .map(|i| r.get::<_, String>(i))
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .unwrap();
        for row in found {
            rows.push(row.unwrap().join("|"));
        }
    }
    rows
}

#[test]
fn the_usual_effects_table_agrees_with_the_interval_rules() {
    let s = week();
    let db = rusqlite::Connection::open(&s.db).unwrap();
    let table: Vec<(String, String)> = db
        .prepare("SELECT name, effect FROM usual_effects ORDER BY name")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    let mut rules: Vec<(String, String)> = stagelog::normalize::KNOWN_EVENT_NAMES
        .iter()
        .map(|n| {
            (
                n.to_string(),
                stagelog::intervals::usual_effect(n).to_string(),
            )
        })
        .collect();
    rules.sort();
    assert_eq!(table, rules);
    // The views' fallback for a name the table does not hold.
    assert_eq!(
        stagelog::intervals::usual_effect("PARTICIPANT_MUTED"),
        "unknown event"
    );
}

#[test]
fn migrating_a_v5_database_shrinks_its_rows_as_the_import_writes_them() {
    let s = week();
    let reports = s.all_report_outputs();
    let db = rusqlite::Connection::open(&s.db).unwrap();
    let imported = event_and_interval_rows(&db);
    // Stored effects: only those that differ from what the name says (a LEFT that also closes a
    // subscription, Ann's second JOINED, the two orphan stops), and the empty one of Eve's
    // covered EventBridge event, which the rules leave out (imported before her API data, it was
    // derived once); the rest are left unstored.
    let stored_effects: Vec<String> = db
        .prepare("SELECT DISTINCT effect FROM events WHERE effect IS NOT NULL ORDER BY 1")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(
        stored_effects,
        [
            "",
            "closes connected, subscribed",
            "ignored start",
            "orphan stop"
        ]
    );
    let unstored: i64 = db
        .query_row(
            "SELECT count(*) FROM events WHERE effect IS NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(unstored > 20, "{unstored}");

    back_to_v5(&db);
    drop(db);
    s.run(&["migrate"]).success();
    let db = rusqlite::Connection::open(&s.db).unwrap();
    assert_eq!(event_and_interval_rows(&db), imported);
    assert_eq!(s.all_report_outputs(), reports);
}

/// Eve's EventBridge event was derived before her API data covered it; a database from before
/// V7 kept what that derivation wrote, and V7 resets it to what the rules leave out.
#[test]
fn migrating_to_v7_resets_what_covered_events_kept_from_before_they_were_covered() {
    let s = week();
    let db = rusqlite::Connection::open(&s.db).unwrap();
    let covered = "SELECT quote(seq), quote(step), quote(effect), quote(connected_delta), \
                          quote(publishing_delta) \
                   FROM events WHERE covered = 1";
    let rows = |db: &rusqlite::Connection| -> Vec<String> {
        db.prepare(covered)
            .unwrap()
            .query_map([], |r| {
                (0..5)
                    .map(|i| r.get::<_, String>(i))
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .unwrap()
            .map(|row| row.unwrap().join("|"))
            .collect()
    };
    assert_eq!(rows(&db), ["0|2|''|0|0"]);
    let reports = s.all_report_outputs();
    db.execute_batch(
        "UPDATE events SET seq = 3, step = 2, effect = NULL, publishing_delta = 1
         WHERE covered = 1;
         DROP INDEX sessions_by_id;
         DELETE FROM refinery_schema_history WHERE version >= 7;",
    )
    .unwrap();
    drop(db);
    s.run(&["migrate"]).success();
    let db = rusqlite::Connection::open(&s.db).unwrap();
    assert_eq!(rows(&db), ["0|2|''|0|0"]);
    assert_eq!(s.all_report_outputs(), reports);
}

// ---------------------------------------------------------------------------------------------
// V5's figures kept by the import
// ---------------------------------------------------------------------------------------------

/// Every row of a query whose columns are all integers.
fn integer_rows(db: &rusqlite::Connection, query: &str) -> Vec<Vec<i64>> {
    let mut statement = db.prepare(query).unwrap();
    let width = statement.column_count();
    statement
        .query_map([], |r| (0..width).map(|i| r.get(i)).collect())
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

/// The figures V5 added, as the import keeps them: per participant, then per session.
fn kept_figures(db: &rusqlite::Connection) -> (Vec<Vec<i64>>, Vec<Vec<i64>>) {
    (
        integer_rows(
            db,
            "SELECT participant_key, covered_events, api_events, orphan_stops, ignored_starts, \
                    unknown_names, unknown_error_codes, closed_at_session_end \
             FROM participant_counts ORDER BY participant_key",
        ),
        integer_rows(
            db,
            "SELECT session_key, peak_participants, peak_publishers FROM sessions \
             ORDER BY session_key",
        ),
    )
}

#[test]
fn migrating_a_v4_database_fills_the_kept_figures_as_the_import_does() {
    let s = week();
    let reports = s.all_report_outputs();
    let db = rusqlite::Connection::open(&s.db).unwrap();
    let imported = kept_figures(&db);
    let (participants, sessions) = &imported;
    // The week has some of every figure, so that a column the migration left at 0 shows.
    let column_sums: Vec<i64> = (1..8)
        .map(|c| participants.iter().map(|r| r[c]).sum())
        .collect();
    // covered 1 (Eve's EventBridge event), ignored starts 1 (Ann's duplicate), orphan stops 2
    // (the REPLICATION_STOPPED to another destination, Gus's PUBLISH_STOPPED), unknown names 1,
    // unknown codes 1 (Fay's).
    assert_eq!(column_sums[0], 1, "{participants:?}");
    assert_eq!(column_sums[2], 2, "{participants:?}");
    assert_eq!(column_sums[3], 1, "{participants:?}");
    assert_eq!(column_sums[4], 1, "{participants:?}");
    assert_eq!(column_sums[5], 1, "{participants:?}");
    assert!(column_sums[1] > 0 && column_sums[6] > 0, "{column_sums:?}");
    assert!(
        sessions.iter().any(|r| r[1] >= 2 && r[2] >= 1),
        "{sessions:?}"
    );

    // Back to V4: V6 undone, then V5's columns and history row gone.
    back_to_v5(&db);
    db.execute_batch(
        "ALTER TABLE participant_counts DROP COLUMN covered_events;
         ALTER TABLE participant_counts DROP COLUMN api_events;
         ALTER TABLE participant_counts DROP COLUMN orphan_stops;
         ALTER TABLE participant_counts DROP COLUMN ignored_starts;
         ALTER TABLE participant_counts DROP COLUMN unknown_names;
         ALTER TABLE participant_counts DROP COLUMN unknown_error_codes;
         ALTER TABLE participant_counts DROP COLUMN closed_at_session_end;
         ALTER TABLE sessions DROP COLUMN peak_participants;
         ALTER TABLE sessions DROP COLUMN peak_publishers;
         DELETE FROM refinery_schema_history WHERE version = 5;",
    )
    .unwrap();
    drop(db);
    s.run(&["migrate"]).success();
    let db = rusqlite::Connection::open(&s.db).unwrap();
    assert_eq!(kept_figures(&db), imported);
    assert_eq!(s.all_report_outputs(), reports);
}
