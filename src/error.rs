//! The library's error type, and the exit code each kind of failure maps to.

use std::path::PathBuf;

/// Everything that can stop a stagelog command. `main` prints the cause chain and exits with
/// [`Error::exit_code`].
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Usage(String),

    #[error("cannot read {path}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },

    #[error("{path}: {reason}")]
    BadFile { path: String, reason: String },

    #[error("database {path}")]
    Database {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },

    #[error("cannot migrate database {path}")]
    Migration {
        path: PathBuf,
        #[source]
        source: Box<refinery::Error>,
    },

    #[error(
        "database {path} has schema version {found}, newer than this stagelog ({supported}); \
         upgrade stagelog to use it"
    )]
    SchemaNewer {
        path: PathBuf,
        found: i64,
        supported: i64,
    },

    #[error(
        "{path} is an SQLite database but not a stagelog one (it has tables and no stagelog \
         schema history); refusing to write into it"
    )]
    NotStagelog { path: PathBuf },

    #[error(
        "database {path} is at schema version {found} and this stagelog needs {needed}: run \
         `stagelog migrate` (or `stagelog import`) first"
    )]
    NeedsMigration {
        path: PathBuf,
        found: i64,
        needed: i64,
    },

    #[error("no database at {0}: create one with `stagelog import` or `stagelog migrate`")]
    NoDatabase(PathBuf),

    #[error("{name}")]
    Query {
        name: String,
        #[source]
        source: rusqlite::Error,
    },

    #[error("cannot write output")]
    Output(#[from] std::io::Error),
}

impl Error {
    /// The documented exit code: 1 for failures, 2 for usage, 4 for a database stagelog refuses.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) => 2,
            Error::SchemaNewer { .. } | Error::NotStagelog { .. } => 4,
            _ => 1,
        }
    }

    /// A reader that went away (`stagelog report … | head`) is not a failure.
    pub fn is_broken_pipe(&self) -> bool {
        let io = match self {
            Error::Output(e) => Some(e),
            _ => None,
        };
        io.is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
