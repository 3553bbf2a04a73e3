//! `stagelog demo`: the bundled sample (`data/sample/`, written by `data/make_sample.py`)
//! imported into a fresh database, then every canned report printed.

use std::io::Write;
use std::path::PathBuf;

use crate::cli::{DemoArgs, Global};
use crate::cmd::report::{Call, Filters, Window};
use crate::error::{Error, Result};
use crate::formats::Source;
use crate::normalize::Flags;
use crate::report;
use crate::store::Store;

const STAGE_A: &str = "arn:aws:ivs:us-west-2:111122223333:stage/Src0Stage1aB";
const SESSION_1: &str = "st-4HgT6yU8iO0pL";
const SESSION_2: &str = "st-7JkL9zX1cV3bN";

/// A sample file and the context a user would pass on the command line for it.
struct SampleFile {
    name: &'static str,
    bytes: &'static [u8],
    stage_arn: Option<&'static str>,
    session_id: Option<&'static str>,
}

macro_rules! sample {
    ($name:literal, $stage:expr, $session:expr) => {
        SampleFile {
            name: $name,
            bytes: include_bytes!(concat!("../../data/sample/", $name)),
            stage_arn: $stage,
            session_id: $session,
        }
    };
}

/// In the order a user would import them; the result does not depend on it.
const SAMPLE: [SampleFile; 11] = [
    sample!("host.page1.cli-v2.json", Some(STAGE_A), Some(SESSION_1)),
    sample!("host.page2.cli-v1.json", Some(STAGE_A), Some(SESSION_1)),
    sample!("host.page3.cli-v2.json", Some(STAGE_A), Some(SESSION_1)),
    sample!("guest.boto3-str.json", Some(STAGE_A), Some(SESSION_1)),
    sample!("session1.events.ndjson", None, None),
    sample!("replica-stage.events.ndjson", None, None),
    sample!("session2.host.page-with-request.json", None, None),
    sample!(
        "session2.viewer.events.json",
        Some(STAGE_A),
        Some(SESSION_2)
    ),
    sample!("get-participant.json", Some(STAGE_A), Some(SESSION_1)),
    sample!("list-participants.json", Some(STAGE_A), Some(SESSION_1)),
    sample!("list-stage-sessions.json", Some(STAGE_A), None),
];

const DEFAULT_DB: &str = "stagelog-demo.db";

pub fn run(global: &Global, args: &DemoArgs) -> Result<u8> {
    let path = match &global.db {
        Some(path) if path.exists() => {
            return Err(Error::Usage(format!(
                "{} (from --db or STAGELOG_DB) exists; the demo writes a fresh database: name \
                 a new file, or unset both to use {DEFAULT_DB}",
                path.display()
            )))
        }
        Some(path) => path.clone(),
        None => {
            remove_demo_db()?;
            PathBuf::from(DEFAULT_DB)
        }
    };
    let mut store = Store::open_for_writing(&path, global.busy_timeout())?;
    let files = SAMPLE.iter().map(|f| {
        let source = Source::embedded(format!("data/sample/{}", f.name), f.bytes);
        let flags = Flags {
            stage_arn: f.stage_arn.map(str::to_string),
            session_id: f.session_id.map(str::to_string),
            participant_id: None,
        };
        Ok((source, flags))
    });
    let total_bytes = SAMPLE.iter().map(|f| f.bytes.len() as u64).sum();
    let code = super::import::import_all(&mut store, files, total_bytes, Default::default());

    let catalog = report::catalog(None)?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for (i, r) in catalog.iter().enumerate() {
        // The timeline is of one session: the sample's first.
        let filters = Filters {
            session: r
                .requires()
                .contains(&"session")
                .then(|| SESSION_1.to_string()),
            ..Filters::default()
        };
        let call = Call::new(r, &filters, &Window::default())?;
        let gap = if i == 0 { "" } else { "\n" };
        let of = filters
            .session
            .as_deref()
            .map_or(String::new(), |s| format!(" (--session {s})"));
        writeln!(out, "{gap}## {}{of}: {}\n", r.name, r.description())?;
        call.write(store.connection(), args.format, &mut out)?;
    }
    out.flush()?;
    crate::note!(
        "\nThe database is {}: explore it with `stagelog --db {0} sql \"SELECT * FROM event_list\"` \
         or `sqlite3 {0}`.",
        path.display()
    );
    Ok(code)
}

fn remove_demo_db() -> Result<()> {
    for suffix in ["", "-wal", "-shm"] {
        let file = format!("{DEFAULT_DB}{suffix}");
        match std::fs::remove_file(&file) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(Error::Read {
                    path: file,
                    source: e,
                })
            }
            _ => {}
        }
    }
    Ok(())
}
