//! Deterministic synthetic IVS stage events for benchmarks and scale tests.
//!
//! ```sh
//! cargo run --release --example generate -- --events 1000000 --shape ndjson   > events.ndjson
//! cargo run --release --example generate -- --events 1000000 --shape pages --out pages/
//! cargo run --release --example generate -- --events 2000000 --shape document > page.json
//! cargo run --release --example generate -- --events 1000000 --first-session 1000000 > next.ndjson
//! ```
//!
//! Shapes: `ndjson` (one event per line, each with its `stageArn` and `sessionId`), `pages`
//! (AWS CLI v2 ListParticipantEvents pages of up to 100 events, newest first, one folder per
//! stage and session so that `import --context-from-path` places them), and `document` (every
//! event in one `{"events": [...]}` document of a single session, for `--stage-arn
//! arn:aws:ivs:us-west-2:111122223333:stage/bench --session-id st-bench000000001`). The same
//! arguments always give the same bytes. `--first-session K` numbers the sessions from K (and
//! seeds the generator with K), so that files made with far-apart K hold different sessions:
//! the benchmark's incremental imports add a new million to a database that holds others.
//!
//! Proportions: sessions of about 100 events and 8 participants; half the participants
//! publish; each subscribes to the publishers; 10% reconnect once; 5% hit an error; 10% exchange
//! tokens; 5% of publishers are replicated; 1% of events are written twice.

use std::io::{BufWriter, Write};
use std::path::PathBuf;

const ACCOUNT_STAGE: &str = "arn:aws:ivs:us-west-2:111122223333:stage/";
const START_US: i64 = 1_764_547_200_000_000; // 2025-12-01T00:00:00Z

/// splitmix64: small, fast and the same everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

struct Event {
    stage: String,
    session: String,
    participant: String,
    name: &'static str,
    time_us: i64,
    extra: String,
}

fn rfc3339(us: i64) -> String {
    let t = chrono::DateTime::from_timestamp_micros(us).expect("a valid time");
    t.format("%Y-%m-%dT%H:%M:%S%.6f+00:00").to_string()
}

impl Event {
    fn json(&self, with_context: bool) -> String {
        let context = if with_context {
            format!(
                "\"stageArn\":\"{}\",\"sessionId\":\"{}\",",
                self.stage, self.session
            )
        } else {
            String::new()
        };
        format!(
            "{{{context}\"name\":\"{}\",\"participantId\":\"{}\",\"eventTime\":\"{}\"{}}}",
            self.name,
            self.participant,
            rfc3339(self.time_us),
            self.extra
        )
    }
}

/// One session's events, in time order.
fn session(rng: &mut Rng, index: u64, single_session: bool) -> Vec<Event> {
    let (stage, session) = if single_session {
        (
            format!("{ACCOUNT_STAGE}bench"),
            "st-bench000000001".to_string(),
        )
    } else {
        (
            format!("{ACCOUNT_STAGE}Stage{:07}", index % 997),
            format!("st-{index:013}"),
        )
    };
    let start = START_US + index as i64 * 60_000_000;
    let people = 4 + rng.below(9);
    let ids: Vec<String> = (0..people).map(|p| format!("P{index:09}x{p:02}")).collect();
    let publishers: Vec<usize> = (0..ids.len()).filter(|_| rng.chance(50)).collect();
    let mut events = Vec::new();
    let mut push = |participant: &str, name: &'static str, t: i64, extra: String| {
        events.push(Event {
            stage: stage.clone(),
            session: session.clone(),
            participant: participant.to_string(),
            name,
            time_us: t,
            extra,
        });
    };
    for (p, id) in ids.iter().enumerate() {
        let joined = start + rng.below(30_000_000) as i64;
        let left = joined + 60_000_000 + rng.below(1_800_000_000) as i64;
        if rng.chance(5) {
            push(
                id,
                "JOIN_ERROR",
                joined - 1_000_000,
                ",\"errorCode\":\"QUOTA_EXCEEDED\"".into(),
            );
        }
        push(id, "JOINED", joined, String::new());
        let publishing = publishers.contains(&p);
        if rng.chance(10) {
            let caps = |c: &str| {
                format!("{{\"capabilities\":[{c}],\"userId\":\"u-{id}\",\"attributes\":{{\"role\":\"guest\"}},\"expirationTime\":\"{}\"}}", rfc3339(start + 7_200_000_000))
            };
            push(
                id,
                "TOKEN_EXCHANGED",
                joined + 500_000,
                format!(
                    ",\"previousToken\":{},\"newToken\":{}",
                    caps("\"SUBSCRIBE\""),
                    caps("\"PUBLISH\",\"SUBSCRIBE\"")
                ),
            );
        }
        if publishing {
            push(id, "PUBLISH_STARTED", joined + 1_000_000, String::new());
            if rng.chance(5) {
                let dest = format!(
                    ",\"destinationStageArn\":\"{ACCOUNT_STAGE}Replica{:04}\",\"destinationSessionId\":\"st-r{:012}\"",
                    index % 89,
                    index
                );
                push(id, "REPLICATION_STARTED", joined + 2_000_000, dest.clone());
                push(id, "REPLICATION_STOPPED", left - 2_000_000, dest);
            }
        }
        for &q in &publishers {
            if q != p {
                let remote = format!(",\"remoteParticipantId\":\"{}\"", ids[q]);
                push(id, "SUBSCRIBE_STARTED", joined + 1_500_000, remote.clone());
                push(id, "SUBSCRIBE_STOPPED", left - 500_000, remote);
            }
        }
        if rng.chance(5) {
            push(
                id,
                "PUBLISH_ERROR",
                joined + 3_000_000,
                ",\"errorCode\":\"BITRATE_EXCEEDED\"".into(),
            );
        }
        if rng.chance(10) {
            let gap = joined + (left - joined) / 2;
            push(id, "LEFT", gap, String::new());
            push(id, "JOINED", gap, String::new());
        }
        if publishing {
            push(id, "PUBLISH_STOPPED", left, String::new());
        }
        push(id, "LEFT", left, String::new());
    }
    events.sort_by_key(|e| e.time_us);
    events
}

/// Writes deterministic synthetic IVS stage events (the comment atop examples/generate.rs says
/// what they hold).
#[derive(clap::Parser)]
struct Args {
    /// How many events to write.
    #[arg(long = "events", value_name = "N", default_value_t = 1_000_000)]
    events_wanted: u64,
    /// One event per line with its context, saved CLI pages in a folder tree, or one document.
    #[arg(long, value_enum, default_value_t = Shape::Ndjson)]
    shape: Shape,
    /// The folder that `--shape pages` writes into.
    #[arg(long, value_name = "DIR", required_if_eq("shape", "pages"))]
    out: Option<PathBuf>,
    /// Numbers the sessions from K, and seeds the generator with K.
    #[arg(long, value_name = "K", default_value_t = 0)]
    first_session: u64,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Shape {
    Ndjson,
    Pages,
    Document,
}

fn main() -> std::io::Result<()> {
    let Args {
        events_wanted,
        shape,
        out,
        first_session,
    } = clap::Parser::parse();
    let mut rng = Rng(42 ^ first_session);
    let stdout = std::io::stdout();
    let mut written = 0u64;
    let mut index = first_session;
    let single = shape == Shape::Document;
    let mut sink = BufWriter::with_capacity(1 << 20, stdout.lock());
    if single {
        sink.write_all(b"{\"events\": [\n")?;
    }
    while written < events_wanted {
        let batch = session(&mut rng, index, single);
        index += 1;
        match shape {
            Shape::Ndjson | Shape::Document => {
                for e in &batch {
                    if written == events_wanted {
                        break;
                    }
                    let twice = if rng.chance(1) { 2 } else { 1 };
                    for _ in 0..twice {
                        if single {
                            if written > 0 {
                                sink.write_all(b",\n")?;
                            }
                            sink.write_all(e.json(false).as_bytes())?;
                        } else {
                            writeln!(sink, "{}", e.json(true))?;
                        }
                        written += 1;
                    }
                }
            }
            Shape::Pages => {
                let root = out.clone().expect("clap asks for --out with pages");
                let stage_id = batch[0].stage.trim_start_matches(ACCOUNT_STAGE).to_string();
                let dir = root.join(stage_id).join(&batch[0].session);
                std::fs::create_dir_all(&dir)?;
                let mut by_participant: std::collections::BTreeMap<&str, Vec<&Event>> =
                    Default::default();
                for e in &batch {
                    by_participant.entry(&e.participant).or_default().push(e);
                }
                for (participant, mut list) in by_participant {
                    list.reverse(); // newest first, as the CLI shows
                    for (page, chunk) in list.chunks(100).enumerate() {
                        let body: Vec<String> = chunk.iter().map(|e| e.json(false)).collect();
                        let file = dir.join(format!("{participant}.page{}.json", page + 1));
                        std::fs::write(
                            file,
                            format!("{{\"events\": [\n{}\n]}}\n", body.join(",\n")),
                        )?;
                        written += chunk.len() as u64;
                    }
                }
            }
        }
    }
    if single {
        sink.write_all(b"\n]}\n")?;
    }
    sink.flush()
}
