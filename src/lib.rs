//! stagelog: Amazon IVS Real-Time stage events into SQLite, and reports on them.
//!
//! The data's path, one module a stage: [`formats`] (read files and recognize AWS output) →
//! [`normalize`] (context, UTC times, identities) → [`store`] (SQLite, migrations, idempotent
//! writes) → [`intervals`] (the interval rules, derived at import) → [`report`] (canned and
//! ad-hoc SQL) → [`output`] (table, CSV, JSON, Markdown). [`cmd`] holds one module per
//! subcommand.

pub mod cli;
pub mod cmd;
pub mod error;
pub mod formats;
pub mod intervals;
pub mod normalize;
pub mod output;
pub mod report;
pub mod store;
pub mod timestamp;

pub use error::{Error, Result};

/// `eprintln!` that never panics: a closed stderr must not stop an import halfway.
#[macro_export]
macro_rules! note {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// Lowercase hexadecimal, as hashes and identities are stored and blobs are shown.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    bytes
        .iter()
        .flat_map(|b| [b >> 4, b & 15].map(|d| char::from(DIGITS[usize::from(d)])))
        .collect()
}

/// Runs a parsed command line; returns the exit code for a run that did not fail outright.
pub fn run(cli: &cli::Cli) -> Result<u8> {
    use cli::Command;
    match &cli.command {
        Command::Import(args) => cmd::import::run(&cli.global, args),
        Command::Report(args) => cmd::report::run(&cli.global, args),
        Command::Sql(args) => cmd::sql::run(&cli.global, args),
        Command::Migrate(args) => cmd::migrate::run(&cli.global, args),
        Command::Demo(args) => cmd::demo::run(&cli.global, args),
    }
}
