//! Integration tests: run the built `stagelog` binary on the fixture files in `tests/fixtures/`
//! and compare every report column with values computed by hand from the definitions in issue 2
//! (§3 import, §4 filters and formats, §5 interval rules and reports).
//!
//! The standard data set (see `import_standard`):
//! - stage A, session S1 (2026-03-01 10:00–10:06): Alice (two CLI pages, newest first, one event
//!   on both pages), Bob (CLI v1, duplicates in the NDJSON file), Carol (boto3 `str(datetime)`),
//!   a GetStageSession record ending the session at 10:10:00, a GetParticipant record for Bob
//!   and a ListParticipants record that also names Dave, who has no events;
//! - stage A, session S2 (2026-03-02 09:00–09:01): Dan, Erin, Frank, Gina, from NDJSON that
//!   carries its own `stageArn`/`sessionId`;
//! - stage B, session S3 (2026-03-03 12:00–12:20): token exchanges of Hank (CLI v1 page) and Ivy
//!   (a JSON array of events).
//!
//! Every expected value below was worked out by hand; the comments show the arithmetic.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use assert_cmd::assert::Assert;
use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::{json, Value};
use tempfile::TempDir;

mod pipelines;
mod reports;
mod v0;

const STAGE_A: &str = "arn:aws:ivs:us-west-2:111122223333:stage/StgA0000aaaa";
const STAGE_B: &str = "arn:aws:ivs:us-west-2:111122223333:stage/StgB0000bbbb";
const STAGE_C: &str = "arn:aws:ivs:eu-west-1:444455556666:stage/StgC0000cccc";
const S1: &str = "st-S1morning0001";
const S2: &str = "st-S2nextday0002";
const S3: &str = "st-S3tokens00003";

/// Every report that runs without a parameter (the timeline needs --session).
const REPORTS: [&str; 9] = [
    "breakdown",
    "daily",
    "data-quality",
    "error-breakdown",
    "participants",
    "replication-graph",
    "replications",
    "session-quality",
    "token-chains",
];

/// The standard data set, as two runs of `stagelog import`: (context flags, fixture files).
///
/// The second run's flags name stage B / session S3, which only Hank's page lacks: every other
/// file of that run names its own context (on the page or on each record), and must win.
const STANDARD_RUNS: [(&[&str], &[&str]); 2] = [
    (
        &["--stage-arn", STAGE_A, "--session-id", S1],
        &[
            "s1/alice.page1.cli-v2.json",
            "s1/bob.cli-v1.json",
            "s1/carol.boto3-str.json",
            "s1/get-stage-session.json",
            "s1/list-participants.json",
            "s1/get-participant.json",
        ],
    ),
    (
        &["--stage-arn", STAGE_B, "--session-id", S3],
        &[
            "s1/alice.page2.cli-v1.json",
            "events-with-context.ndjson",
            "s3/hank.cli-v1.json",
            "s3/ivy.events-array.json",
        ],
    ),
];

// ---------------------------------------------------------------------------------------------
// Harness: one temporary folder and database per test.
// ---------------------------------------------------------------------------------------------

struct Stagelog {
    dir: TempDir,
    db: PathBuf,
}

impl Stagelog {
    fn new() -> Self {
        let dir = TempDir::new().expect("a temporary folder");
        let db = dir.path().join("test.db");
        Stagelog { dir, db }
    }

    /// A database with the standard data set imported.
    fn standard() -> Self {
        let s = Stagelog::new();
        s.import_standard();
        s
    }

    /// `stagelog --db <temp>/test.db ARGS…`, run in the temporary folder.
    fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::cargo_bin("stagelog").expect("the stagelog binary is built");
        cmd.current_dir(self.dir.path())
            .env_remove("STAGELOG_DB")
            .arg("--db")
            .arg(&self.db)
            .args(args);
        cmd
    }

    fn run(&self, args: &[&str]) -> Assert {
        self.cmd(args).assert()
    }

    /// Standard output of a command that must succeed.
    fn stdout(&self, args: &[&str]) -> String {
        let out = self.run(args).success().get_output().stdout.clone();
        String::from_utf8(out).expect("output is UTF-8")
    }

    /// `stagelog import FLAGS… FILES…` with fixture file names.
    fn import(&self, flags: &[&str], files: &[&str]) -> Assert {
        let paths: Vec<String> = files.iter().map(|f| fixture(f)).collect();
        let mut args = vec!["import"];
        args.extend_from_slice(flags);
        args.extend(paths.iter().map(String::as_str));
        self.run(&args)
    }

    fn import_standard(&self) {
        for (flags, files) in STANDARD_RUNS {
            self.import(flags, files).code(0);
        }
    }

    /// A report's output in one format, with extra arguments (filters).
    fn report(&self, name: &str, format: &str, extra: &[&str]) -> String {
        let mut args = vec!["report", name, "--format", format];
        args.extend_from_slice(extra);
        self.stdout(&args)
    }

    fn report_json(&self, name: &str, extra: &[&str]) -> Vec<Value> {
        parse_json_rows(&self.report(name, "json", extra))
    }

    /// `stagelog sql QUERY -p …` as parsed JSON rows.
    fn sql(&self, query: &str, params: &[(&str, &str)]) -> Vec<Value> {
        let mut args = vec!["sql", query, "--format", "json"];
        for (name, value) in params {
            args.extend_from_slice(&["-p", name, value]);
        }
        parse_json_rows(&self.stdout(&args))
    }

    /// The single value of a one-row, one-column query.
    fn scalar(&self, query: &str) -> Value {
        let rows = self.sql(query, &[]);
        assert_eq!(rows.len(), 1, "{query}: {rows:?}");
        let row = rows[0].as_object().expect("a row object");
        assert_eq!(row.len(), 1, "{query}: {row:?}");
        row.values().next().cloned().unwrap()
    }

    fn count(&self, from: &str) -> i64 {
        let query = format!("SELECT count(*) AS n FROM {from}");
        self.scalar(&query)
            .as_i64()
            .unwrap_or_else(|| panic!("{query}"))
    }

    /// Every canned report in every machine-readable format, for byte-for-byte comparisons.
    fn all_report_outputs(&self) -> Vec<(String, String)> {
        let mut outputs = Vec::new();
        for name in REPORTS {
            for format in ["csv", "json", "markdown", "table"] {
                outputs.push((format!("{name} {format}"), self.report(name, format, &[])));
            }
        }
        outputs
    }
}

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
        .display()
        .to_string()
}

fn parse_json_rows(text: &str) -> Vec<Value> {
    match serde_json::from_str(text) {
        Ok(Value::Array(rows)) => rows,
        other => panic!("expected a JSON array, got {other:?} from:\n{text}"),
    }
}

fn stderr_of(assert: &Assert) -> String {
    String::from_utf8_lossy(&assert.get_output().stderr).into_owned()
}

// ---------------------------------------------------------------------------------------------
// Comparing rows: every column, numbers as numbers.
// ---------------------------------------------------------------------------------------------

/// Two JSON values are the same cell: numbers compare by value (300 and 300.0 are equal; the
/// reports round, so 1e-9 is only float noise), everything else exactly.
fn same_cell(actual: &Value, expected: &Value) -> bool {
    match (actual, expected) {
        (Value::Number(a), Value::Number(e)) => {
            (a.as_f64().unwrap() - e.as_f64().unwrap()).abs() < 1e-9
        }
        _ => actual == expected,
    }
}

/// Asserts that `actual` has exactly the expected rows, in order, each with exactly the
/// expected columns and values. Lists every differing cell before failing.
fn assert_rows(what: &str, actual: &[Value], expected: &[Value]) {
    assert_eq!(
        actual.len(),
        expected.len(),
        "{what}: number of rows\nactual: {actual:#?}\nexpected: {expected:#?}"
    );
    let mut differences = Vec::new();
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        let (a, e) = (a.as_object().unwrap(), e.as_object().unwrap());
        let a_columns: BTreeSet<&String> = a.keys().collect();
        let e_columns: BTreeSet<&String> = e.keys().collect();
        assert_eq!(a_columns, e_columns, "{what}: columns of row {i}");
        for (column, expected_value) in e {
            let actual_value = &a[column];
            if !same_cell(actual_value, expected_value) {
                differences.push(format!(
                    "  row {i} {column}: expected {expected_value}, got {actual_value}"
                ));
            }
        }
    }
    assert!(
        differences.is_empty(),
        "{what}: cells differ from the hand computation:\n{}",
        differences.join("\n")
    );
}

/// The session-quality columns of v0 (issue 2); the tests of import behaviour compare these,
/// and `session_quality_by_hand` the columns issue 4 appended.
const V0_QUALITY: [&str; 18] = [
    "stage_arn",
    "session_id",
    "started_at",
    "ended_at",
    "duration_s",
    "participants",
    "joined_participants",
    "join_errors",
    "join_success_rate",
    "reconnects",
    "publishers",
    "publish_errors",
    "subscribe_errors",
    "connected_seconds",
    "publish_seconds",
    "subscribe_seconds",
    "median_time_to_publish_s",
    "error_rate",
];

/// The token-chains columns of v0 (issue 2).
const V0_CHAINS: [&str; 13] = [
    "stage_arn",
    "session_id",
    "participant_id",
    "exchanges",
    "first_exchange_at",
    "last_exchange_at",
    "initial_user_id",
    "final_user_id",
    "capability_path",
    "upgrades",
    "downgrades",
    "broken_links",
    "expiry_extension_s",
];

/// Rows cut down to the given columns, each of which must be present.
fn only(columns: &[&str], rows: Vec<Value>) -> Vec<Value> {
    rows.into_iter()
        .map(|row| {
            let row = row.as_object().expect("a row object");
            let kept: serde_json::Map<String, Value> = columns
                .iter()
                .map(|c| {
                    let value = row
                        .get(*c)
                        .unwrap_or_else(|| panic!("no column {c} in {row:?}"));
                    (c.to_string(), value.clone())
                })
                .collect();
            Value::Object(kept)
        })
        .collect()
}

/// Rows of a text format (CSV or Markdown) as cells; the fixtures hold no quotes, commas or
/// pipes inside values, so splitting is enough.
fn text_rows(format: &str, text: &str) -> Vec<Vec<String>> {
    let lines: Vec<&str> = text.lines().collect();
    match format {
        "csv" => lines
            .iter()
            .map(|l| l.split(',').map(str::to_string).collect())
            .collect(),
        "markdown" => lines
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != 1) // the |---|---| separator
            .map(|(_, l)| {
                l.strip_prefix("| ")
                    .and_then(|l| l.strip_suffix(" |"))
                    .unwrap_or_else(|| panic!("not a Markdown row: {l:?}"))
                    .split(" | ")
                    .map(str::to_string)
                    .collect()
            })
            .collect(),
        other => panic!("no parser for {other}"),
    }
}

/// A text cell shows a JSON value: null as empty, strings as they are, numbers by value.
fn cell_shows(cell: &str, value: &Value) -> bool {
    match value {
        Value::Null => cell.is_empty(),
        Value::String(s) => cell == s,
        Value::Number(n) => cell
            .parse::<f64>()
            .is_ok_and(|c| (c - n.as_f64().unwrap()).abs() < 1e-9),
        other => panic!("reports hold no {other}"),
    }
}

/// One error-breakdown row.
#[allow(clippy::too_many_arguments)]
fn errors_row(
    event_name: &str,
    error_code: Option<&str>,
    errors: i64,
    participants: i64,
    sessions: i64,
    share: f64,
    first_seen: &str,
    last_seen: &str,
) -> Value {
    json!({
        "event_name": event_name,
        "error_code": error_code,
        "errors": errors,
        "participants": participants,
        "sessions": sessions,
        "share": share,
        "first_seen": first_seen,
        "last_seen": last_seen,
    })
}
