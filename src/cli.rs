//! The command line: every flag and its help text, which is the user's reference.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::output::Format;

#[derive(Debug, Parser)]
#[command(
    name = "stagelog",
    version,
    about = "Import Amazon IVS Real-Time stage events into SQLite and report on them",
    long_about = "Import Amazon IVS Real-Time stage events (ListParticipantEvents pages, event \
                  NDJSON, participant and session records) into a plain SQLite file, then run \
                  canned reports or your own SQL on it.",
    after_help = "Exit codes: 0 success; 1 failure (a file failed as a whole, or a database \
                  error); 2 usage error; 3 import done but some records were rejected; 4 the \
                  database is refused (newer schema, or not a stagelog database)."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
pub struct Global {
    /// The SQLite database file [default: stagelog.db; demo: stagelog-demo.db]
    #[arg(long, global = true, env = "STAGELOG_DB", value_name = "PATH")]
    pub db: Option<PathBuf>,

    /// Seconds to wait for another process that is writing the database
    #[arg(long, global = true, value_name = "SECONDS", default_value = "5", value_parser = parse_seconds)]
    pub busy_timeout: Duration,
}

fn parse_seconds(text: &str) -> Result<Duration, String> {
    let seconds: f64 = text
        .parse()
        .map_err(|_| format!("{text:?} is not a number of seconds"))?;
    if !(0.0..=86_400.0).contains(&seconds) {
        return Err("give a number of seconds from 0 to 86400".into());
    }
    Ok(Duration::from_secs_f64(seconds))
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Import(ImportArgs),
    Report(ReportArgs),
    Sql(SqlArgs),
    /// Create the database, or bring its schema up to this version (import does so too)
    Migrate(MigrateArgs),
    Demo(DemoArgs),
}

/// Import files into the database (idempotently: re-importing adds nothing)
///
/// Formats are recognized from content: ListParticipantEvents output (AWS CLI v1/v2, SDK dumps),
/// events as NDJSON or a JSON array, EventBridge events (one per line, an array, or written back
/// to back as Firehose does), ListParticipants / GetParticipant, ListStageSessions /
/// GetStageSession. gzip and zstd are undone by their magic bytes, UTF-16 is decoded. A
/// directory is read recursively, in sorted order, skipping hidden files, links to directories
/// and the database's own files (a FIFO, socket or device in it fails; name one to read it); a
/// file whose content was imported before is skipped unread (see --force). A file that the
/// database's lock keeps out past --busy-timeout stops the run, the files after it unread. Each
/// file is imported whole or not at all, and readers see all of it or none (files are committed
/// together, up to a second's worth, each in a savepoint of its own). Context (stage, session,
/// participant) comes from the record itself, then from keys on the page object, then from the
/// file's path (--context-from-path), then from the flags.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Files or directories to read; `-` reads stdin
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<String>,

    /// Stage ARN for records that do not name one (ListParticipantEvents pages never do)
    #[arg(long, value_name = "ARN")]
    pub stage_arn: Option<String>,

    /// Session id for records that do not name one
    #[arg(long, value_name = "ID")]
    pub session_id: Option<String>,

    /// Participant id for events that lack their own
    #[arg(long, value_name = "ID")]
    pub participant_id: Option<String>,

    /// Take stage, session and participant from each file's path, laid out as
    /// …/STAGE-ID/SESSION-ID/PARTICIPANT-ID[.anything]: the session is the nearest folder whose
    /// name starts with `st-`, the stage the folder above it (or, with no session folder, the
    /// file's own folder), the participant the file name up to its first dot when the file sits
    /// in the session folder. The stage ARN is --stage-arn-prefix followed by the stage id.
    #[arg(long, requires = "stage_arn_prefix")]
    pub context_from_path: bool,

    /// What precedes the stage id in its ARN, e.g. arn:aws:ivs:us-west-2:111122223333:stage/
    #[arg(long, value_name = "PREFIX")]
    pub stage_arn_prefix: Option<String>,

    /// Read files again even when the same content was imported before
    #[arg(long)]
    pub force: bool,

    /// Abort a file on its first rejected record: nothing of it is written (exit 1)
    #[arg(long)]
    pub strict: bool,

    /// No progress bar and no per-file lines; errors, warnings and the total still print
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// Run a report (see --list), or all of them into a folder for a nightly job
///
/// Per-session reports select the sessions whose first event falls in [--since, --until);
/// error-breakdown selects error events whose time does. Times are RFC 3339, a date
/// (2026-11-30 = its UTC midnight), a span back from now (90m, 24h, 7d), or yesterday (the
/// previous UTC day; it also sets --until to today's midnight unless given). The window used is
/// printed on stderr. With --fail-on, rows that cross a threshold are printed after all output
/// is written, and the exit code is 5.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The report to run
    #[arg(required_unless_present_any = ["list", "all"], conflicts_with_all = ["list", "all"], value_name = "NAME")]
    pub name: Option<String>,

    /// List the reports with a one-line description
    #[arg(long)]
    pub list: bool,

    /// Run every report that needs no --session, writing each into --out
    #[arg(long, requires = "out", conflicts_with = "list")]
    pub all: bool,

    /// Folder for --all: REPORT.EXT per report and format, plus index.md and index.json
    #[arg(long, value_name = "DIR", requires = "all")]
    pub out: Option<PathBuf>,

    /// Only this stage ARN
    #[arg(long, value_name = "ARN")]
    pub stage: Option<String>,

    /// Only this session id (timeline requires it)
    #[arg(long, value_name = "ID")]
    pub session: Option<String>,

    /// Only this participant (timeline)
    #[arg(long, value_name = "ID")]
    pub participant: Option<String>,

    /// From this time on (inclusive)
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,

    /// Before this time (exclusive)
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,

    /// Group by this (breakdown, error-breakdown: sdk, os, browser, isp, protocol, stage, day,
    /// hour; daily: stage)
    #[arg(long, value_name = "DIMENSION")]
    pub by: Option<String>,

    /// Alert when a row crosses a threshold: REPORT.COLUMN or a column of daily, then <, <=, >
    /// or >=, then a number, e.g. 'error_rate>0.05' or 'session-quality.join_success_rate<0.95'
    /// (repeatable; exit 5)
    #[arg(long = "fail-on", value_name = "RULE")]
    pub fail_on: Vec<String>,

    /// A folder of your own .sql reports, listed and run like the built-in ones
    #[arg(long, env = "STAGELOG_QUERIES", value_name = "DIR")]
    pub queries: Option<PathBuf>,

    /// Output format; with --all, a comma-separated list (md,csv,json)
    #[arg(
        long,
        short = 'f',
        value_enum,
        value_delimiter = ',',
        default_value = "table"
    )]
    pub format: Vec<Format>,

    /// Write to this file instead of stdout
    #[arg(long, short = 'o', value_name = "FILE", conflicts_with = "all")]
    pub output: Option<PathBuf>,
}

/// Run your own read-only SQL (a statement, or a path to a .sql file)
///
/// The database is opened read-only; statements that would write are refused. Named
/// parameters (:name) take their values from -p.
#[derive(Debug, Args)]
pub struct SqlArgs {
    /// A SELECT statement, or the path of a file holding one
    #[arg(value_name = "QUERY")]
    pub query: String,

    /// A value for the parameter :NAME (repeatable); bound as text
    #[arg(short = 'p', long = "param", num_args = 2, value_names = ["NAME", "VALUE"])]
    pub params: Vec<String>,

    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Output format
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// Write to this file instead of stdout
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// Only show which migrations are applied and which are pending; change nothing
    #[arg(long)]
    pub status: bool,
}

/// Import the bundled sample into a fresh database and print every report
///
/// The database is written to stagelog-demo.db in the current folder (replaced if it exists), or
/// to --db, which must not exist yet.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Output format of the reports
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

impl Global {
    pub fn db_path(&self) -> PathBuf {
        self.db
            .clone()
            .unwrap_or_else(|| PathBuf::from("stagelog.db"))
    }

    pub fn busy_timeout(&self) -> Duration {
        self.busy_timeout
    }
}
