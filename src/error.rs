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

    #[error("database {path}: {}", sqlite_message(source))]
    Database {
        path: PathBuf,
        source: rusqlite::Error,
    },

    #[error(
        "database {path} is locked by another writer, and stayed locked for --busy-timeout; \
         try again later or raise --busy-timeout"
    )]
    Busy { path: PathBuf },

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
        "{path} is an SQLite database but not a stagelog one (it holds other tables or views, or \
         another program's migration history); stagelog leaves it alone"
    )]
    NotStagelog { path: PathBuf },

    #[error("{path} is not an SQLite database; stagelog leaves it alone")]
    NotSqlite { path: PathBuf },

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

    #[error("{name}: {}", sqlite_message(source))]
    Query {
        name: String,
        source: rusqlite::Error,
    },

    #[error("cannot write {path}")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },

    #[error("cannot write output")]
    Output(#[from] std::io::Error),
}

impl Error {
    /// The documented exit code: 1 for failures, 2 for usage, 4 for a database stagelog refuses.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) => 2,
            Error::SchemaNewer { .. } | Error::NotStagelog { .. } | Error::NotSqlite { .. } => 4,
            _ => 1,
        }
    }

    /// Another process held the write lock (or won a race to create the database).
    pub fn is_busy(&self) -> bool {
        match self {
            Error::Busy { .. } => true,
            Error::Database { source, .. } => is_busy(source),
            Error::Migration { source, .. } => {
                let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(source.as_ref());
                while let Some(e) = cause {
                    if e.downcast_ref::<rusqlite::Error>().is_some_and(is_busy) {
                        return true;
                    }
                    cause = e.source();
                }
                false
            }
            _ => false,
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

pub(crate) fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

/// SQLite's own message once: rusqlite's error text and its source both carry it.
fn sqlite_message(e: &rusqlite::Error) -> String {
    match e {
        rusqlite::Error::SqliteFailure(_, Some(message)) => message.clone(),
        rusqlite::Error::SqliteFailure(code, None) => code.to_string(),
        other => other.to_string(),
    }
}
