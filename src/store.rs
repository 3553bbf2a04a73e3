//! Storing: the SQLite file, its pragmas and migrations, and the per-file write transaction that
//! inserts normalized records idempotently and re-derives intervals for the sessions it touched.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use rusqlite::config::DbConfig;
use rusqlite::functions::FunctionFlags;
use rusqlite::types::{ToSql, Value};
use rusqlite::{named_params, params, CachedStatement, Connection, OpenFlags, OptionalExtension};

use crate::error::{Error, Result};
use crate::intervals::{self, Derived, EventRow, Interval};
use crate::normalize::{
    Composition, Event, EventSource, Participant, Recording, Reject, Session, Token, Unknowns,
    KNOWN_ERROR_CODES, KNOWN_EVENT_NAMES,
};

mod embedded {
    refinery::embed_migrations!("migrations");
}

/// How long a connection waits for another writer before giving up.
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Prepared statements kept per connection: more than an import uses.
const STATEMENT_CACHE: usize = 64;

/// How long look-ups between imports may hold one snapshot of the database: a longer one would
/// keep other processes' writes in the WAL from being checkpointed back to its start.
const READ_TRANSACTION: Duration = Duration::from_secs(1);

/// An open stagelog database.
pub struct Store {
    conn: Connection,
    path: PathBuf,
    /// When the read transaction that the look-ups of [`Store::imported_as`] share began, while
    /// one is open.
    reading_since: Option<Instant>,
    /// The database file as the migration lock opened it, kept open until the connection has
    /// closed (fields drop in order): closing any descriptor of a file drops every POSIX lock
    /// the process holds on it, SQLite's included. Without its lock an import is invisible to
    /// other processes, and the last of them to close deletes the WAL it is writing.
    _database_file: Option<std::fs::File>,
    /// What the interval rules derived for the participant being written back.
    write_back: Arc<WriteBack>,
    /// Sessions the batch's files touched, whose span, open intervals' end and peaks are taken
    /// once, before the batch commits: taken for each file, a session imported one page at a
    /// time cost its size at every page.
    sessions_to_finish: RefCell<BTreeSet<i64>>,
}

/// A schema migration, and when it was applied to a database (`None`: pending).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationInfo {
    pub version: i64,
    pub name: String,
    pub applied_on: Option<String>,
}

impl MigrationInfo {
    /// The migration's version and name, without when it was applied (the database knows).
    fn of(migration: &refinery::Migration) -> MigrationInfo {
        MigrationInfo {
            version: i64::from(migration.version()),
            name: migration.name().to_string(),
            applied_on: None,
        }
    }
}

/// Every migration this binary knows, with when `path` had it applied; a missing database has
/// them all pending. Nothing is written.
pub fn migration_status(path: &Path, busy_timeout: Duration) -> Result<Vec<MigrationInfo>> {
    let mut known: Vec<MigrationInfo> = embedded::migrations::runner()
        .get_migrations()
        .iter()
        .map(MigrationInfo::of)
        .collect();
    known.sort_by_key(|m| m.version);
    if !path.exists() {
        return Ok(known);
    }
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| db_error(path, e))?;
    let store = Store::new(conn, path);
    store.set_pragmas(busy_timeout, &[("query_only", "ON")])?;
    if store.schema_version()? == 0 {
        return Ok(known);
    }
    let mut applied = store
        .conn
        .prepare(include_str!("store/applied_migrations.sql"))
        .and_then(|mut s| {
            s.query_map([], |r| {
                Ok(MigrationInfo {
                    version: r.get(0)?,
                    name: r.get(1)?,
                    applied_on: r.get(2)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()
        })
        .map_err(|e| db_error(path, e))?;
    for m in &mut known {
        if let Some(i) = applied.iter().position(|a| a.version == m.version) {
            m.applied_on = applied.swap_remove(i).applied_on;
        }
    }
    // Applied by a newer stagelog: shown too, so the user sees why the database is refused.
    known.extend(applied);
    Ok(known)
}

/// The schema version this binary's migrations reach.
pub fn supported_version() -> i64 {
    embedded::migrations::runner()
        .get_migrations()
        .iter()
        .map(|m| i64::from(m.version()))
        .max()
        .unwrap_or(0)
}

impl Store {
    fn new(conn: Connection, path: &Path) -> Store {
        Store {
            conn,
            path: path.to_path_buf(),
            reading_since: None,
            _database_file: None,
            write_back: Arc::default(),
            sessions_to_finish: RefCell::default(),
        }
    }

    /// Opens (creating if needed) and migrates a database for writing. A database from a newer
    /// stagelog, or a file that is not stagelog's, is refused before anything is written (WAL
    /// mode and refinery's history table are both writes).
    pub fn open_for_writing(path: &Path, busy_timeout: Duration) -> Result<Store> {
        Self::open_and_migrate(path, busy_timeout).map(|(store, _)| store)
    }

    /// [`Store::open_for_writing`], also telling which migrations it applied.
    pub fn open_and_migrate(
        path: &Path,
        busy_timeout: Duration,
    ) -> Result<(Store, Vec<MigrationInfo>)> {
        let conn = Connection::open(path).map_err(|e| db_error(path, e))?;
        // An import cycles through about twenty statements; rusqlite's default cache of 16
        // would evict and re-prepare some of them for every participant.
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        // Without the query planner stability guarantee SQLite re-prepares a statement whose
        // plan it thinks may depend on a bound value each time that value changes: the profile
        // showed the per-participant statements re-prepared at every participant, a fifth of
        // an import's time.
        conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)
            .map_err(|e| db_error(path, e))?;
        let mut store = Store::new(conn, path);
        store.set_pragmas(busy_timeout, &[("foreign_keys", "ON")])?;
        store
            .write_back
            .register(&store.conn)
            .map_err(|e| db_error(path, e))?;
        // Two processes opening a new database at once would both see it unmigrated, and
        // SQLite answers the loser of the race "busy" without waiting. An advisory lock on the
        // file (separate from SQLite's own locks, which `sqlite3` users keep seeing as usual)
        // makes the check-and-migrate step one process at a time.
        let file = std::fs::File::open(path).map_err(|source| Error::Read {
            path: path.display().to_string(),
            source,
        })?;
        let deadline = Instant::now() + busy_timeout;
        while let Err(std::fs::TryLockError::WouldBlock) = file.try_lock() {
            if Instant::now() >= deadline {
                return Err(Error::Busy { path: store.path });
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let applied = store.prepare_for_writing(busy_timeout)?;
        file.unlock().map_err(|source| Error::Read {
            path: path.display().to_string(),
            source,
        })?;
        store._database_file = Some(file);
        Ok((store, applied))
    }

    fn prepare_for_writing(&mut self, busy_timeout: Duration) -> Result<Vec<MigrationInfo>> {
        let found = self.checked_version()?;
        // WAL lets reports and `sqlite3` read while a nightly import writes. An import's batch
        // of files is one transaction: a 16 MiB page cache (SQLite's default is 2 MiB) keeps
        // its hot pages from spilling to the WAL and being read back; more bought nothing in
        // the benchmark, and cost memory.
        self.set_pragmas(
            busy_timeout,
            &[
                ("journal_mode", "WAL"),
                ("synchronous", "NORMAL"),
                ("cache_size", "-16384"),
            ],
        )?;
        let applied = if found == supported_version() {
            Vec::new()
        } else {
            embedded::migrations::runner()
                .run(&mut self.conn)
                .map_err(|e| Error::Migration {
                    path: self.path.clone(),
                    source: Box::new(e),
                })?
                .applied_migrations()
                .iter()
                .map(MigrationInfo::of)
                .collect()
        };
        // Each file after the first in a batch writes in a savepoint, whose journal of the
        // pages it changes SQLite spills to a temporary file past 64 KiB: in memory it is one
        // small file's pages. And a batch commits every second or so, each commit past 1,000
        // pages of WAL checkpointing the same hot pages again; at 8,000 (a 32 MiB WAL) a
        // folder of a million events' saved pages imported in 11.7 s instead of 14.9, with a
        // third of the system time. Both are set after migrating, whose sorts of a whole table
        // may be large.
        self.set_pragmas(
            busy_timeout,
            &[("temp_store", "MEMORY"), ("wal_autocheckpoint", "8000")],
        )?;
        Ok(applied)
    }

    /// Opens an existing, current database read-only: `report` and `sql` never write.
    pub fn open_read_only(path: &Path, busy_timeout: Duration) -> Result<Store> {
        if !path.exists() {
            return Err(Error::NoDatabase(path.to_path_buf()));
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(|e| db_error(path, e))?;
        let store = Store::new(conn, path);
        store.set_pragmas(
            busy_timeout,
            &[("foreign_keys", "ON"), ("query_only", "ON")],
        )?;
        let found = store.checked_version()?;
        let needed = supported_version();
        if found < needed {
            return Err(Error::NeedsMigration {
                path: store.path,
                found,
                needed,
            });
        }
        Ok(store)
    }

    fn set_pragmas(&self, busy_timeout: Duration, pragmas: &[(&str, &str)]) -> Result<()> {
        let set = || -> rusqlite::Result<()> {
            self.conn.busy_timeout(busy_timeout)?;
            for (name, value) in pragmas {
                self.conn.pragma_update(None, name, value)?;
            }
            Ok(())
        };
        set().map_err(|e| db_error(&self.path, e))
    }

    /// The applied schema version, refusing a database newer than this binary.
    fn checked_version(&self) -> Result<i64> {
        let found = self.schema_version()?;
        let supported = supported_version();
        if found > supported {
            return Err(Error::SchemaNewer {
                path: self.path.clone(),
                found,
                supported,
            });
        }
        Ok(found)
    }

    /// The applied schema version: 0 for an empty file. Errors for a foreign SQLite file.
    fn schema_version(&self) -> Result<i64> {
        let (tables, history): (i64, i64) = self
            .conn
            .query_row(include_str!("store/table_count.sql"), [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .map_err(|e| match e.sqlite_error_code() {
                Some(rusqlite::ErrorCode::NotADatabase) => Error::NotSqlite {
                    path: self.path.clone(),
                },
                _ => db_error(&self.path, e),
            })?;
        if history == 0 {
            return if tables == 0 {
                Ok(0)
            } else {
                Err(Error::NotStagelog {
                    path: self.path.clone(),
                })
            };
        }
        // Another program that uses refinery keeps a history table of the same name: its
        // migrations are not ours, and its file is not written (refinery would first try to
        // reconcile the two histories).
        let applied: Vec<(i64, Option<String>)> = self
            .conn
            .prepare(include_str!("store/schema_version.sql"))
            .and_then(|mut s| {
                s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<rusqlite::Result<_>>()
            })
            .map_err(|e| db_error(&self.path, e))?;
        let runner = embedded::migrations::runner();
        let ours = runner.get_migrations();
        let foreign = applied.iter().any(|(version, name)| {
            ours.iter()
                .find(|m| i64::from(m.version()) == *version)
                .is_some_and(|m| name.as_deref() != Some(m.name()))
        });
        // An empty history is ours only in a file that holds nothing else (a first migration
        // that was interrupted).
        let first_is_ours = match applied.first() {
            Some((version, _)) => *version == 1,
            None => tables == 1,
        };
        if foreign || !first_is_ours {
            return Err(Error::NotStagelog {
                path: self.path.clone(),
            });
        }
        Ok(applied.last().map_or(0, |(version, _)| *version))
    }

    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The path under which this content was first imported with this context, if it was.
    ///
    /// Between imports, the look-ups share a read transaction of up to a second: taking and
    /// dropping SQLite's locks for each one was a fifth of re-importing a folder of saved pages.
    pub fn imported_as(&mut self, content_sha256: &str, context: &str) -> Result<Option<String>> {
        let stale = self
            .reading_since
            .is_some_and(|since| since.elapsed() >= READ_TRANSACTION);
        if stale {
            self.end_reading()?;
        }
        if self.conn.is_autocommit() {
            self.conn
                .execute_batch("BEGIN")
                .map_err(|e| db_error(&self.path, e))?;
            self.reading_since = Some(Instant::now());
        }
        self.conn
            .prepare_cached(include_str!("store/imported_as.sql"))
            .and_then(|mut s| s.query_row([content_sha256, context], |r| r.get(0)))
            .optional()
            .map_err(|e| db_error(&self.path, e))
    }

    /// Commits the files imported since the last commit. Files share a write transaction, each
    /// in a savepoint of its own, because a commit (writing the pages to the WAL, and now and
    /// then a checkpoint) costs more than importing a saved page of a hundred events: readers
    /// see a batch of files all or none, an interrupted run loses only the batch it was in
    /// (its files are not in `imports`, so the next run reads them), and a failed file still
    /// leaves nothing behind. The sessions the batch touched are finished first
    /// ([`Store::finish_session`]); when that or the commit fails, the batch is rolled back.
    pub fn commit_batch(&mut self) -> Result<()> {
        self.reading_since = None;
        let sessions = self.sessions_to_finish.take();
        if self.conn.is_autocommit() {
            return Ok(());
        }
        let committed = sessions
            .iter()
            .try_for_each(|&session_key| self.finish_session(session_key))
            .and_then(|()| self.conn.execute_batch("COMMIT"));
        committed.map_err(|e| {
            // Nothing of the batch is kept, as its message says, rather than left open for the
            // next batch to commit.
            if !self.conn.is_autocommit() {
                let _ = self.conn.execute_batch("ROLLBACK");
            }
            db_error(&self.path, e)
        })
    }

    /// Takes a session's span of reported events again, moves its still-open intervals to its
    /// (possibly later, or, once events are covered, earlier) end, and takes its peaks again:
    /// a file that adds events to one participant, or a later end time, can change the others'.
    fn finish_session(&self, session_key: i64) -> rusqlite::Result<()> {
        let end: i64 = self
            .conn
            .prepare_cached(include_str!("store/session_span.sql"))?
            .query_row([session_key], |r| r.get(0))?;
        self.conn
            .prepare_cached(include_str!("store/move_session_end.sql"))?
            .execute([session_key, end])?;
        let mut statement = self
            .conn
            .prepare_cached(include_str!("store/session_intervals.sql"))?;
        // One kind at a time, handed on as read: a session's intervals are not held twice.
        let mut peak = |kind: &str| -> rusqlite::Result<i64> {
            let mut failed = Ok(());
            let spans = statement
                .query_map(params![session_key, kind], |r| Ok((r.get(0)?, r.get(1)?)))?
                .map_while(|span| span.map_err(|e| failed = Err(e)).ok());
            let peak = intervals::peak(spans);
            failed.map(|()| peak)
        };
        let (connected, publishing) = (peak("connected")?, peak("publishing")?);
        self.conn
            .prepare_cached(include_str!("store/set_session_peaks.sql"))?
            .execute([session_key, connected, publishing])?;
        Ok(())
    }

    /// Starts one file's import. The first file of a batch opens the write transaction, and
    /// failing rolls it back; a later one gets a savepoint of its own. Either way everything
    /// the file writes is kept together or not at all. The first file needs no savepoint, and
    /// that matters for a large one: a savepoint copies every page it changes to a journal
    /// first, which the profile put at a tenth of a fresh import.
    pub fn begin_file(
        &mut self,
        file: &str,
        content_sha256: &str,
        context: &str,
        unless_imported: bool,
    ) -> Result<Begun<'_>> {
        // A write must not follow the look-ups' read: should another process have written
        // since that began, SQLite would refuse the upgrade at once instead of waiting.
        self.end_reading()?;
        let undo = if self.conn.is_autocommit() {
            Undo::Transaction
        } else {
            Undo::Savepoint
        };
        self.conn
            .execute_batch(undo.begin())
            .map_err(|e| db_error(&self.path, e))?;
        // A batch's first file was looked up before its write lock was taken, and another
        // import of the same content may have come in between; later files were looked up
        // under the lock.
        if unless_imported && matches!(undo, Undo::Transaction) {
            if let Some(imported_as) = self.imported_as(content_sha256, context)? {
                self.conn
                    .execute_batch(undo.roll_back())
                    .map_err(|e| db_error(&self.path, e))?;
                return Ok(Begun::ImportedAs(imported_as));
            }
        }
        let path = self.path.clone();
        let statement = |sql| {
            self.conn
                .prepare_cached(sql)
                .map_err(|e| db_error(&path, e))
        };
        let insert_event = statement(include_str!("store/insert_event.sql"))?;
        let find_event = statement(include_str!("store/find_event.sql"))?;
        let mut writer = FileWriter {
            conn: &self.conn,
            write_back: &self.write_back,
            sessions_to_finish: &self.sessions_to_finish,
            undo: Some(undo),
            path,
            import_key: 0,
            content_sha256: content_sha256.to_string(),
            stages: KeyCache::default(),
            sessions: KeyCache::default(),
            participants: KeyCache::default(),
            touched: BTreeMap::new(),
            touched_participants: 0,
            touched_kept: FileWriter::TOUCHED_KEPT,
            derived_sessions: BTreeSet::new(),
            insert_event,
            find_event,
            last_was_duplicate: false,
        };
        writer
            .conn
            .prepare_cached(include_str!("store/insert_import.sql"))
            .and_then(|mut s| {
                s.execute(named_params! {
                    ":path": file,
                    ":content_sha256": content_sha256,
                    ":context": context,
                    ":imported_at_us": chrono::Utc::now().timestamp_micros(),
                    ":stagelog_version": env!("CARGO_PKG_VERSION"),
                })
            })
            .map_err(|e| writer.err(e))?;
        writer.import_key = writer.conn.last_insert_rowid();
        Ok(Begun::Writing(Box::new(writer)))
    }

    /// True while files imported since the last [`Store::commit_batch`] wait to be committed.
    pub fn in_batch(&self) -> bool {
        !self.conn.is_autocommit() && self.reading_since.is_none()
    }

    fn end_reading(&mut self) -> Result<()> {
        if self.reading_since.take().is_some() {
            self.conn
                .execute_batch("COMMIT")
                .map_err(|e| db_error(&self.path, e))?;
        }
        Ok(())
    }
}

fn db_error(path: &Path, source: rusqlite::Error) -> Error {
    if crate::error::is_busy(&source) {
        return Error::Busy {
            path: path.to_path_buf(),
        };
    }
    Error::Database {
        path: path.to_path_buf(),
        source,
    }
}

/// Per-file figures, printed in the summary and kept in `imports`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub read: usize,
    pub inserted: usize,
    pub duplicate: usize,
    pub merged: usize,
    pub rejected: usize,
    /// EventBridge events that are not stage data.
    pub skipped: usize,
    pub unknowns: Unknowns,
}

impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, o: Self) {
        self.read += o.read;
        self.inserted += o.inserted;
        self.duplicate += o.duplicate;
        self.merged += o.merged;
        self.rejected += o.rejected;
        self.skipped += o.skipped;
        self.unknowns += o.unknowns;
    }
}

/// What [`Store::begin_file`] found once it held the write lock.
pub enum Begun<'c> {
    Writing(Box<FileWriter<'c>>),
    /// Another process imported the same content meanwhile, under this path.
    ImportedAs(String),
}

/// How a file's writes are undone when it fails.
#[derive(Debug, Clone, Copy)]
enum Undo {
    /// The file opened the batch's transaction: rolling that back leaves nothing else out.
    Transaction,
    /// The file joined an open batch.
    Savepoint,
}

impl Undo {
    fn begin(self) -> &'static str {
        match self {
            Undo::Transaction => "BEGIN IMMEDIATE",
            Undo::Savepoint => "SAVEPOINT file",
        }
    }

    /// Keeps the file's writes in the batch.
    fn keep(self) -> &'static str {
        match self {
            Undo::Transaction => "",
            Undo::Savepoint => "RELEASE file",
        }
    }

    fn roll_back(self) -> &'static str {
        match self {
            Undo::Transaction => "ROLLBACK",
            Undo::Savepoint => "ROLLBACK TO file; RELEASE file",
        }
    }
}

/// One file's writes, in the open batch. Dropping it without [`FileWriter::commit`] rolls back
/// everything the file wrote.
pub struct FileWriter<'c> {
    conn: &'c Connection,
    write_back: &'c WriteBack,
    sessions_to_finish: &'c RefCell<BTreeSet<i64>>,
    /// `None` once the file's writes are kept.
    undo: Option<Undo>,
    path: PathBuf,
    import_key: i64,
    content_sha256: String,
    // Key look-ups stay in memory: one SELECT per event would dominate the import.
    stages: KeyCache,
    sessions: KeyCache,
    participants: KeyCache,
    /// Sessions this file changed, with the participants that got new events: only those are
    /// re-derived, so importing a session's pages one file at a time stays linear. Derived and
    /// emptied every [`FileWriter::TOUCHED_KEPT`] participants, so that a file of millions of
    /// participants holds only so many.
    touched: BTreeMap<i64, BTreeMap<i64, Touched>>,
    touched_participants: usize,
    touched_kept: usize,
    /// Sessions whose participants were derived so far, to be finished with the batch.
    derived_sessions: BTreeSet<i64>,
    // Held rather than looked up in the statement cache at every event: the cache hashes the
    // statement's text each time.
    insert_event: CachedStatement<'c>,
    find_event: CachedStatement<'c>,
    /// After a duplicate, the next event is looked up before it is inserted: in a file imported
    /// again nearly every event is one, and the look-up binds 4 values where the insert binds 16.
    last_was_duplicate: bool,
}

/// What a file did to a participant whose events it inserted: what its derivation may skip.
#[derive(Default)]
struct Touched {
    /// The file created the participant: no earlier derivation left rows to replace.
    created: bool,
    /// How many events the file inserted for it since it was last derived (its next event's
    /// guessed `seq` follows them), and whether API events or EventBridge ones.
    inserted: u32,
    api: bool,
    eventbridge: bool,
}

/// The keys of one kind of row a file has used, by the parent's key and the row's id. Nested by
/// the parent, so that a look-up borrows the id instead of allocating a key. It starts over once
/// it holds [`KeyCache::KEPT`] keys: a file of millions of participants would otherwise grow by
/// about 4 MiB a million events, and a key no longer kept costs one SELECT to find again.
///
/// Hashed with foldhash: three look-ups an event made SipHash a tenth of a re-import's writing.
#[derive(Default)]
struct KeyCache {
    by_parent: foldhash::HashMap<i64, foldhash::HashMap<String, i64>>,
    kept: usize,
}

impl KeyCache {
    const KEPT: usize = 20_000;
    /// The parent of a row that has none (a stage).
    const NO_PARENT: i64 = 0;

    fn get(&self, parent: i64, id: &str) -> Option<i64> {
        self.by_parent.get(&parent)?.get(id).copied()
    }

    fn insert(&mut self, parent: i64, id: &str, key: i64) {
        if self.kept == Self::KEPT {
            self.by_parent = foldhash::HashMap::default();
            self.kept = 0;
        }
        self.by_parent
            .entry(parent)
            .or_default()
            .insert(id.to_string(), key);
        self.kept += 1;
    }
}

/// A statement's text and its parameters.
type Query<'p> = (&'static str, &'p [&'p dyn ToSql]);

impl Drop for FileWriter<'_> {
    fn drop(&mut self) {
        if let Some(undo) = self.undo {
            // Nothing better can be done with a failed rollback: SQLite then rolls the whole
            // transaction back, which is safe too, and the file is reported failed already.
            let _ = self.conn.execute_batch(undo.roll_back());
        }
    }
}

impl FileWriter<'_> {
    fn err(&self, e: rusqlite::Error) -> Error {
        db_error(&self.path, e)
    }

    fn stage_key(&mut self, stage_arn: &str) -> Result<i64> {
        if let Some(k) = self.stages.get(KeyCache::NO_PARENT, stage_arn) {
            return Ok(k);
        }
        let arn = params![stage_arn];
        let (k, _) = self.key_of(
            (include_str!("store/find_stage.sql"), arn),
            (include_str!("store/insert_stage.sql"), arn),
        )?;
        self.stages.insert(KeyCache::NO_PARENT, stage_arn, k);
        Ok(k)
    }

    fn session_key(&mut self, stage_arn: &str, session_id: &str) -> Result<i64> {
        let stage_key = self.stage_key(stage_arn)?;
        if let Some(k) = self.sessions.get(stage_key, session_id) {
            return Ok(k);
        }
        let ids = params![stage_key, session_id];
        let (k, _) = self.key_of(
            (include_str!("store/find_session.sql"), ids),
            (include_str!("store/insert_session.sql"), ids),
        )?;
        self.sessions.insert(stage_key, session_id, k);
        Ok(k)
    }

    /// The participant's key, and whether this file created it.
    fn participant_key(&mut self, session_key: i64, participant_id: &str) -> Result<(i64, bool)> {
        if let Some(k) = self.participants.get(session_key, participant_id) {
            return Ok((k, false));
        }
        let ids = params![session_key, participant_id];
        let (k, created) = self.key_of(
            (include_str!("store/find_participant.sql"), ids),
            (include_str!("store/insert_participant.sql"), ids),
        )?;
        self.participants.insert(session_key, participant_id, k);
        Ok((k, created))
    }

    /// The key of the row `find` finds, or else of the row `insert` adds (then true). Found
    /// first, because an upsert would write a row that is there already once more.
    fn key_of(&self, find: Query<'_>, insert: Query<'_>) -> Result<(i64, bool)> {
        let found = self
            .conn
            .prepare_cached(find.0)
            .and_then(|mut s| s.query_row(find.1, |r| r.get(0)).optional())
            .map_err(|e| self.err(e))?;
        match found {
            Some(key) => Ok((key, false)),
            None => self
                .conn
                .prepare_cached(insert.0)
                .and_then(|mut s| s.query_row(insert.1, |r| r.get(0)))
                .map(|key| (key, true))
                .map_err(|e| self.err(e)),
        }
    }

    fn token_key(&self, token: &Option<Token>) -> Result<Option<i64>> {
        let Some(t) = token else { return Ok(None) };
        let identity = t.identity();
        self.key_of(
            (include_str!("store/find_token.sql"), params![identity]),
            (
                include_str!("store/insert_token.sql"),
                params![
                    identity,
                    t.capabilities,
                    t.user_id,
                    t.attributes,
                    t.expiration_time_us,
                    t.extra_json,
                ],
            ),
        )
        .map(|(key, _)| Some(key))
    }

    /// Inserts an event; false when an event with the same identity is already stored.
    pub fn insert_event(&mut self, e: &Event) -> Result<bool> {
        let session_key = self.session_key(&e.stage_arn, &e.session_id)?;
        let (participant_key, created) = self.participant_key(session_key, &e.participant_id)?;
        let previous = self.token_key(&e.previous_token)?;
        let new = self.token_key(&e.new_token)?;
        let arrived = self
            .touched
            .get(&session_key)
            .and_then(|participants| participants.get(&participant_key))
            .map_or(0, |touched| i64::from(touched.inserted));
        let (step, connected, publishing) = intervals::usual_application(&e.name);
        let found = self.last_was_duplicate
            && self
                .find_event
                .exists(params![
                    session_key,
                    participant_key,
                    e.event_time_us,
                    e.identity.as_slice()
                ])
                .map_err(|err| db_error(&self.path, err))?;
        let inserted = !found
            && self
                .insert_event
                .execute(params![
                    session_key,
                    participant_key,
                    e.name,
                    e.event_time_us,
                    e.remote_participant_id,
                    e.error_code,
                    e.destination_stage_arn,
                    e.destination_session_id,
                    e.replica,
                    previous,
                    new,
                    e.raw_json,
                    self.import_key,
                    e.identity.as_slice(),
                    e.source.as_str(),
                    e.eventbridge_id,
                    arrived + 1,
                    step,
                    connected,
                    publishing,
                ])
                .map_err(|err| db_error(&self.path, err))?
                == 1;
        self.last_was_duplicate = !inserted;
        if let Some(user_id) = &e.user_id {
            self.conn
                .prepare_cached(include_str!("store/fill_user_id.sql"))
                .and_then(|mut s| s.execute(params![participant_key, user_id]))
                .map_err(|err| self.err(err))?;
        }
        if inserted {
            let participants = self.touched.entry(session_key).or_default();
            let touched = participants.entry(participant_key).or_insert_with(|| {
                self.touched_participants += 1;
                Touched {
                    created,
                    ..Touched::default()
                }
            });
            touched.inserted = touched.inserted.saturating_add(1);
            match e.source {
                EventSource::Api => touched.api = true,
                EventSource::EventBridge => touched.eventbridge = true,
            }
            if self.touched_participants >= self.touched_kept {
                self.derive_touched()?;
            }
        }
        Ok(inserted)
    }

    /// Stores a recording state change; false when its envelope id is already stored.
    pub fn insert_recording(&mut self, r: &Recording) -> Result<bool> {
        let session_key = self.session_key(&r.stage_arn, &r.session_id)?;
        self.conn
            .prepare_cached(include_str!("store/insert_recording.sql"))
            .and_then(|mut s| {
                s.execute(params![
                    r.eventbridge_id,
                    session_key,
                    r.participant_id,
                    r.event_name,
                    r.event_time_us,
                    r.recording_s3_bucket_name,
                    r.recording_s3_key_prefix,
                    r.raw_json,
                    self.import_key,
                ])
            })
            .map(|n| n == 1)
            .map_err(|e| self.err(e))
    }

    /// Stores a composition state change; false when its envelope id is already stored.
    pub fn insert_composition(&mut self, c: &Composition) -> Result<bool> {
        let stage_key = match &c.stage_arn {
            Some(arn) => Some(self.stage_key(arn)?),
            None => None,
        };
        self.conn
            .prepare_cached(include_str!("store/insert_composition.sql"))
            .and_then(|mut s| {
                s.execute(params![
                    c.eventbridge_id,
                    c.composition_arn,
                    stage_key,
                    c.session_id,
                    c.event_name,
                    c.event_time_us,
                    c.raw_json,
                    self.import_key,
                ])
            })
            .map(|n| n == 1)
            .map_err(|e| self.err(e))
    }

    pub fn merge_session(&mut self, s: &Session) -> Result<()> {
        let session_key = self.session_key(&s.stage_arn, &s.session_id)?;
        let changed = self
            .conn
            .prepare_cached(include_str!("store/merge_session.sql"))
            .and_then(|mut st| st.execute(params![session_key, s.start_time_us, s.end_time_us]))
            .map_err(|e| self.err(e))?;
        if changed > 0 {
            // A later end time moves where open intervals close.
            self.touched.entry(session_key).or_default();
        }
        Ok(())
    }

    pub fn merge_participant(&mut self, p: &Participant) -> Result<()> {
        let session_key = self.session_key(&p.stage_arn, &p.session_id)?;
        let (participant_key, _) = self.participant_key(session_key, &p.participant_id)?;
        self.conn
            .prepare_cached(include_str!("store/merge_participant.sql"))
            .and_then(|mut st| {
                st.execute(named_params! {
                    ":participant_key": participant_key,
                    ":user_id": p.user_id,
                    ":state": p.state,
                    ":first_join_time_us": p.first_join_time_us,
                    ":attributes": p.attributes,
                    ":published": p.published,
                    ":isp_name": p.isp_name,
                    ":os_name": p.os_name,
                    ":os_version": p.os_version,
                    ":browser_name": p.browser_name,
                    ":browser_version": p.browser_version,
                    ":sdk_version": p.sdk_version,
                    ":protocol": p.protocol,
                    ":recording_s3_bucket_name": p.recording_s3_bucket_name,
                    ":recording_s3_prefix": p.recording_s3_prefix,
                    ":recording_state": p.recording_state,
                    ":replication_type": p.replication_type,
                    ":replication_state": p.replication_state,
                    ":source_stage_arn": p.source_stage_arn,
                    ":source_session_id": p.source_session_id,
                    ":redundant_ingest": p.redundant_ingest,
                    ":ingest_configuration_arn": p.ingest_configuration_arn,
                    ":extra_json": p.extra_json,
                })
            })
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Records the `nextToken` of a page of `list`; returns another file whose page of the same
    /// list had the same one.
    pub fn note_page_token(&self, list: &str, token: &str) -> Result<Option<String>> {
        let run = || -> rusqlite::Result<Option<String>> {
            let seen = self
                .conn
                .prepare_cached(include_str!("store/page_token_seen.sql"))?
                .query_row(
                    params![token, list, self.import_key, self.content_sha256],
                    |r| r.get(0),
                )
                .optional()?;
            self.conn
                .prepare_cached(include_str!("store/insert_page_token.sql"))?
                .execute(params![self.import_key, list, token])?;
            Ok(seen)
        };
        run().map_err(|e| self.err(e))
    }

    pub fn reject(&self, r: &Reject) -> Result<()> {
        self.conn
            .prepare_cached(include_str!("store/insert_reject.sql"))
            .and_then(|mut s| s.execute(params![self.import_key, r.position, r.reason, r.raw]))
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Records the figures, re-derives the touched sessions and keeps the file's writes in the
    /// batch ([`Store::commit_batch`] commits them).
    pub fn commit(mut self, counts: &Counts, format: &str, warnings: usize) -> Result<()> {
        self.conn
            .prepare_cached(include_str!("store/finish_import.sql"))
            .and_then(|mut s| {
                s.execute(named_params! {
                    ":import_key": self.import_key,
                    ":format": format,
                    ":warnings": warnings as i64,
                    ":read": counts.read as i64,
                    ":inserted": counts.inserted as i64,
                    ":duplicate": counts.duplicate as i64,
                    ":merged": counts.merged as i64,
                    ":rejected": counts.rejected as i64,
                    ":skipped": counts.skipped as i64,
                    ":unknown_names": counts.unknowns.names as i64,
                    ":unknown_error_codes": counts.unknowns.error_codes as i64,
                    ":unknown_fields": counts.unknowns.fields as i64,
                })
            })
            .map_err(|e| self.err(e))?;
        self.derive_touched()?;
        if let Some(undo) = self.undo.take() {
            self.conn
                .execute_batch(undo.keep())
                .map_err(|e| db_error(&self.path, e))?;
        }
        self.sessions_to_finish
            .borrow_mut()
            .append(&mut self.derived_sessions);
        Ok(())
    }

    /// Participants a file holds in `touched` before they are derived: about 30 bytes each. A
    /// participant with events on both sides of a derivation is derived twice.
    const TOUCHED_KEPT: usize = 50_000;

    /// Derives the participants touched so far, and lets go of them.
    fn derive_touched(&mut self) -> Result<()> {
        let touched = std::mem::take(&mut self.touched);
        self.touched_participants = 0;
        for (&session_key, participants) in &touched {
            self.derive(session_key, participants)?;
        }
        self.derived_sessions.extend(touched.into_keys());
        Ok(())
    }

    /// Recomputes the intervals of the given participants from all their stored events, one
    /// participant at a time (memory stays flat). Their open intervals close at the session's
    /// recorded end or their own last event, whichever is later; the batch's commit then moves
    /// every open interval of the session to its exact end ([`Store::commit_batch`]).
    fn derive(&self, session_key: i64, participants: &BTreeMap<i64, Touched>) -> Result<()> {
        let run = || -> rusqlite::Result<()> {
            // Coverage first: covered events neither move the session end nor make intervals.
            for (&participant_key, touched) in participants {
                // A participant this file created has only this file's events: they are all
                // uncovered (the default) unless the file holds both kinds.
                if touched.created && !(touched.api && touched.eventbridge) {
                    continue;
                }
                self.conn
                    .prepare_cached(include_str!("store/set_covered.sql"))?
                    .execute([session_key, participant_key])?;
            }
            let recorded_end: i64 = self
                .conn
                .prepare_cached(include_str!("store/session_end.sql"))?
                .query_row([session_key], |r| r.get(0))?;
            for (&participant_key, touched) in participants {
                self.derive_participant(
                    session_key,
                    participant_key,
                    touched.created,
                    recorded_end,
                )?;
            }
            Ok(())
        };
        run().map_err(|e| self.err(e))
    }

    fn derive_participant(
        &self,
        session_key: i64,
        participant_key: i64,
        created: bool,
        recorded_end_us: i64,
    ) -> rusqlite::Result<()> {
        let mut counts = ParticipantCounts::default();
        let mut events = Vec::new();
        let mut statement = self
            .conn
            .prepare_cached(include_str!("store/participant_events.sql"))?;
        let mut rows = statement.query([session_key, participant_key])?;
        while let Some(r) = rows.next()? {
            if r.get(10)? {
                counts.covered_events += 1;
                continue;
            }
            counts.api_events += i64::from(r.get::<_, bool>(11)?);
            let error_code = r.get_ref(12)?.as_str_or_null()?;
            counts.unknown_error_codes +=
                i64::from(error_code.is_some_and(|c| !KNOWN_ERROR_CODES.contains(&c)));
            events.push(EventRow {
                event_key: events.len() as i64,
                participant_key: r.get(0)?,
                name: r.get(1)?,
                time_us: r.get(2)?,
                remote_participant_id: r.get(3)?,
                destination_stage_arn: r.get(4)?,
                destination_session_id: r.get(5)?,
                previous_token: r.get(6)?,
                new_token: r.get(7)?,
                identity: r.get(8)?,
                replica: r.get(9)?,
            });
        }
        drop(rows);
        counts.count_events(&events);
        // The primary key of each event, to write back what the rules derived, and what its name
        // says it does: only an effect that differs is stored.
        let written: Vec<(i64, [u8; 8], &str)> = events
            .iter()
            .map(|e| (e.time_us, e.identity, intervals::usual_effect(&e.name)))
            .collect();
        let session_end_us = events
            .iter()
            .map(|e| e.time_us)
            .fold(recorded_end_us, i64::max);
        let derived = intervals::derive(events, session_end_us);
        counts.count_derived(&derived);
        self.store_counts(session_key, participant_key, &counts)?;

        // Only an earlier file's derivation left intervals and replications to replace.
        if !created {
            self.conn
                .prepare_cached(include_str!("store/clear_intervals.sql"))?
                .execute([session_key, participant_key])?;
            self.conn
                .prepare_cached(include_str!("store/clear_replications.sql"))?
                .execute([session_key, participant_key])?;
        }
        let mut intervals = derived.intervals;
        intervals.sort_by(|a, b| {
            (
                a.started_at_us,
                a.kind.as_str(),
                &a.remote_participant_id,
                a.stopped_at_us,
            )
                .cmp(&(
                    b.started_at_us,
                    b.kind.as_str(),
                    &b.remote_participant_id,
                    b.stopped_at_us,
                ))
        });
        let count = intervals.len() as i64;
        self.write_back.set_intervals(intervals);
        self.conn
            .prepare_cached(include_str!("store/insert_intervals.sql"))?
            .execute([session_key, participant_key, count])?;
        let mut insert = self
            .conn
            .prepare_cached(include_str!("store/insert_replication.sql"))?;
        for r in &derived.replications {
            insert.execute(params![
                session_key,
                r.participant_key,
                r.destination_stage_arn,
                r.destination_session_id,
                r.started_at_us,
                r.stopped_at_us,
            ])?;
        }
        self.write_back
            .set_applied(derived.applied.into_iter().map(|a| {
                let (time_us, identity, usual_effect) = written[a.event_key as usize];
                let effect = (a.effect.text != usual_effect).then_some(a.effect.text);
                let applied = AppliedRow {
                    seq: a.seq,
                    step: a.step,
                    effect,
                    connected: a.effect.connected,
                    publishing: a.effect.publishing,
                };
                ((time_us, identity), applied)
            }));
        self.conn
            .prepare_cached(include_str!("store/set_event_order.sql"))?
            .execute([session_key, participant_key])?;
        self.write_back.clear();
        Ok(())
    }
    /// Keeps the participant's row of `participant_counts` up to date with its events.
    fn store_counts(
        &self,
        session_key: i64,
        participant_key: i64,
        c: &ParticipantCounts,
    ) -> rusqlite::Result<()> {
        let Some((first, last)) = c.span else {
            self.conn
                .prepare_cached(include_str!("store/delete_participant_counts.sql"))?
                .execute([participant_key])?;
            return Ok(());
        };
        self.conn
            .prepare_cached(include_str!("store/upsert_participant_counts.sql"))?
            .execute(params![
                participant_key,
                session_key,
                first,
                last,
                c.joins,
                c.join_errors,
                c.publishes,
                c.publish_errors,
                c.subscribes,
                c.subscribe_errors,
                c.first_join_us,
                c.first_publish_us,
                c.first_subscribe_us,
                c.subscribed_pairs,
                c.subscribe_pairs,
                c.replica_events,
                c.covered_events,
                c.api_events,
                c.orphan_stops,
                c.ignored_starts,
                c.unknown_names,
                c.unknown_error_codes,
                c.closed_at_session_end,
            ])?;
        Ok(())
    }
}

/// One participant's row of `participant_counts`: figures over its reported events (its covered
/// ones are only counted), which the per-session reports and data-quality add up.
#[derive(Debug, Default)]
struct ParticipantCounts {
    /// First and last reported event; `None` when there is none (and so no row).
    span: Option<(i64, i64)>,
    joins: i64,
    join_errors: i64,
    publishes: i64,
    publish_errors: i64,
    subscribes: i64,
    subscribe_errors: i64,
    first_join_us: Option<i64>,
    first_publish_us: Option<i64>,
    first_subscribe_us: Option<i64>,
    subscribed_pairs: i64,
    subscribe_pairs: i64,
    replica_events: i64,
    covered_events: i64,
    api_events: i64,
    orphan_stops: i64,
    ignored_starts: i64,
    unknown_names: i64,
    unknown_error_codes: i64,
    closed_at_session_end: i64,
}

impl ParticipantCounts {
    /// The figures read off the reported events themselves.
    fn count_events(&mut self, events: &[EventRow]) {
        let times = events.iter().map(|e| e.time_us);
        self.span = times.clone().min().zip(times.max());
        let count = |name: &str| events.iter().filter(|e| e.name == name).count() as i64;
        let first_of = |name: &str| {
            events
                .iter()
                .filter(|e| e.name == name)
                .map(|e| e.time_us)
                .min()
        };
        let remotes = |names: &[&str]| {
            events
                .iter()
                .filter(|e| names.contains(&e.name.as_str()))
                .map(|e| e.remote_participant_id.as_deref())
                .collect::<BTreeSet<_>>()
                .len() as i64
        };
        self.joins = count("JOINED");
        self.join_errors = count("JOIN_ERROR");
        self.publishes = count("PUBLISH_STARTED");
        self.publish_errors = count("PUBLISH_ERROR");
        self.subscribes = count("SUBSCRIBE_STARTED");
        self.subscribe_errors = count("SUBSCRIBE_ERROR");
        self.first_join_us = first_of("JOINED");
        self.first_publish_us = first_of("PUBLISH_STARTED");
        self.first_subscribe_us = first_of("SUBSCRIBE_STARTED");
        self.subscribed_pairs = remotes(&["SUBSCRIBE_STARTED"]);
        self.subscribe_pairs = remotes(&["SUBSCRIBE_STARTED", "SUBSCRIBE_ERROR"]);
        self.replica_events = events
            .iter()
            .filter(|e| {
                e.replica
                    && !["SUBSCRIBE_STARTED", "SUBSCRIBE_STOPPED", "SUBSCRIBE_ERROR"]
                        .contains(&e.name.as_str())
            })
            .count() as i64;
        self.unknown_names = events
            .iter()
            .filter(|e| !KNOWN_EVENT_NAMES.contains(&e.name.as_str()))
            .count() as i64;
    }

    /// The figures the interval rules give.
    fn count_derived(&mut self, derived: &Derived) {
        let effects = |text: &str| {
            derived
                .applied
                .iter()
                .filter(|a| a.effect.text == text)
                .count() as i64
        };
        self.orphan_stops = effects("orphan stop");
        self.ignored_starts = effects("ignored start");
        self.closed_at_session_end = derived
            .intervals
            .iter()
            .filter(|i| !i.closed_by_stop)
            .count() as i64;
    }
}

/// How one event applied, as `events` stores it.
#[derive(PartialEq)]
struct AppliedRow {
    seq: i64,
    step: i64,
    /// `None` for the usual effect of its name.
    effect: Option<String>,
    connected: i64,
    publishing: i64,
}

/// What the interval rules derived for one participant, read by SQL functions of the writing
/// connection so that one statement a participant writes it back (`set_event_order.sql`,
/// `insert_intervals.sql`): a statement a row spent most of its time opening and closing
/// cursors, and the write-back was a third of a fresh import.
#[derive(Default)]
struct WriteBack(Mutex<Pending>);

#[derive(Default)]
struct Pending {
    /// By event time and identity.
    applied: foldhash::HashMap<(i64, [u8; 8]), AppliedRow>,
    /// In order: the interval of ordinal `n` is at `n - 1`.
    intervals: Vec<Interval>,
}

impl WriteBack {
    fn pending(&self) -> std::sync::MutexGuard<'_, Pending> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn set_applied(&self, rows: impl Iterator<Item = ((i64, [u8; 8]), AppliedRow)>) {
        let mut pending = self.pending();
        pending.applied.clear();
        pending.applied.extend(rows);
    }

    fn set_intervals(&self, intervals: Vec<Interval>) {
        self.pending().intervals = intervals;
    }

    /// Lets go of a participant's figures (a large one's would otherwise be held on).
    fn clear(&self) {
        *self.pending() = Pending::default();
    }

    /// Defines, on the writing connection only:
    /// - `applied_differs(time, identity, seq, step, effect, connected, publishing)`: whether
    ///   an event's stored values differ from the derived ones (false for one not derived,
    ///   such as a covered event);
    /// - `applied(time, identity, column)`: a derived value, by column 0–4 in that order;
    /// - `derived_interval(ordinal, column)`: kind, remote participant, start, stop, closed_by;
    /// - `generate_series`, to number the intervals.
    fn register(self: &Arc<Self>, conn: &Connection) -> rusqlite::Result<()> {
        use rusqlite::functions::Context;
        let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DIRECTONLY;
        let event = |ctx: &Context<'_>| -> rusqlite::Result<(i64, [u8; 8])> {
            Ok((ctx.get(0)?, ctx.get(1)?))
        };
        let missing = || rusqlite::Error::UserFunctionError("not derived".into());
        let write_back = Arc::clone(self);
        conn.create_scalar_function("applied_differs", 7, flags, move |ctx| {
            let pending = write_back.pending();
            let Some(derived) = pending.applied.get(&event(ctx)?) else {
                return Ok(false);
            };
            let stored = AppliedRow {
                seq: ctx.get(2)?,
                step: ctx.get(3)?,
                effect: ctx.get(4)?,
                connected: ctx.get(5)?,
                publishing: ctx.get(6)?,
            };
            Ok(stored != *derived)
        })?;
        let write_back = Arc::clone(self);
        conn.create_scalar_function("applied", 3, flags, move |ctx| {
            let pending = write_back.pending();
            let row = pending.applied.get(&event(ctx)?).ok_or_else(missing)?;
            Ok(match ctx.get::<i64>(2)? {
                0 => Value::Integer(row.seq),
                1 => Value::Integer(row.step),
                2 => row.effect.clone().map_or(Value::Null, Value::Text),
                3 => Value::Integer(row.connected),
                _ => Value::Integer(row.publishing),
            })
        })?;
        let write_back = Arc::clone(self);
        conn.create_scalar_function("derived_interval", 2, flags, move |ctx| {
            let pending = write_back.pending();
            let ordinal = ctx.get::<i64>(0)?;
            let interval = usize::try_from(ordinal - 1)
                .ok()
                .and_then(|i| pending.intervals.get(i))
                .ok_or_else(missing)?;
            Ok(match ctx.get::<i64>(1)? {
                0 => Value::Text(interval.kind.as_str().to_string()),
                1 => interval
                    .remote_participant_id
                    .clone()
                    .map_or(Value::Null, Value::Text),
                2 => Value::Integer(interval.started_at_us),
                3 => Value::Integer(interval.stopped_at_us),
                _ => Value::Text(
                    if interval.closed_by_stop {
                        "stop"
                    } else {
                        "session_end"
                    }
                    .to_string(),
                ),
            })
        })?;
        rusqlite::vtab::series::load_module(conn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn import(store: &mut Store, file: &str, content_sha256: &str) {
        begin_and_commit(store, file, content_sha256, true);
    }

    fn import_forced(store: &mut Store, file: &str, content_sha256: &str) {
        begin_and_commit(store, file, content_sha256, false);
    }

    fn begin_and_commit(
        store: &mut Store,
        file: &str,
        content_sha256: &str,
        unless_imported: bool,
    ) {
        store
            .begin_file(file, content_sha256, "{}", unless_imported)
            .and_then(|begun| match begun {
                Begun::Writing(writer) => writer.commit(&Counts::default(), "ndjson", 0),
                Begun::ImportedAs(path) => panic!("{file} imported before as {path}"),
            })
            .and_then(|()| store.commit_batch())
            .unwrap();
    }

    /// Two imports of one folder at once: each looks a file up, finds nothing, and waits for
    /// the write lock; the second to get it must not record the file again.
    #[test]
    fn content_imported_between_the_look_up_and_the_lock_is_not_imported_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let mut late = Store::open_for_writing(&path, DEFAULT_BUSY_TIMEOUT).unwrap();
        let mut early = Store::open_for_writing(&path, DEFAULT_BUSY_TIMEOUT).unwrap();
        assert_eq!(late.imported_as("aa", "{}").unwrap(), None);
        assert_eq!(early.imported_as("aa", "{}").unwrap(), None);
        import(&mut early, "early/a.ndjson", "aa");

        match late.begin_file("late/a.ndjson", "aa", "{}", true).unwrap() {
            Begun::ImportedAs(path) => assert_eq!(path, "early/a.ndjson"),
            Begun::Writing(_) => panic!("imported a second time"),
        }
        assert!(!late.in_batch(), "nothing left open");
        // --force reads it again all the same.
        import_forced(&mut late, "late/a.ndjson", "aa");
        let imports: i64 = late
            .connection()
            .query_row("SELECT count(*) FROM imports", [], |r| r.get(0))
            .unwrap();
        assert_eq!(imports, 2);
    }

    #[test]
    fn key_cache_starts_over_past_its_bound() {
        let mut cache = KeyCache::default();
        for k in 0..KeyCache::KEPT as i64 {
            cache.insert(k % 7, &format!("p{k}"), k);
        }
        assert_eq!(cache.get(0, "p0"), Some(0));
        assert_eq!(cache.get(6, "p6"), Some(6));
        assert_eq!(cache.get(1, "p0"), None, "by parent and id");
        cache.insert(KeyCache::NO_PARENT, "one more", -1);
        assert_eq!(cache.get(0, "p0"), None);
        assert_eq!(cache.get(KeyCache::NO_PARENT, "one more"), Some(-1));
        assert_eq!(cache.kept, 1);
    }

    /// A file's participants derived in slices (a file of millions of participants) come out as
    /// they do derived all at its end, whichever side of a slice their events fall on.
    #[test]
    fn participants_derived_in_slices_come_out_as_derived_at_the_end() {
        let names = [
            "JOINED",
            "PUBLISH_STARTED",
            "SUBSCRIBE_STARTED",
            "PUBLISH_STOPPED",
            "PUBLISH_STARTED",
            "LEFT",
            "JOINED",
            "PUBLISH_STOPPED",
        ];
        // Three participants' events interleaved, with same-instant ties and an open end.
        let events: Vec<Event> = (0..24_i64)
            .map(|i| Event {
                source: EventSource::Api,
                eventbridge_id: None,
                user_id: None,
                stage_arn: "arn:aws:ivs:us-west-2:111122223333:stage/s".into(),
                session_id: "st-1".into(),
                participant_id: format!("p{}", i % 3),
                name: names[(i / 3) as usize].into(),
                event_time_us: (i / 6) * 1_000_000,
                remote_participant_id: names[(i / 3) as usize]
                    .starts_with("SUBSCRIBE")
                    .then(|| format!("p{}", (i + 1) % 3)),
                error_code: None,
                destination_stage_arn: None,
                destination_session_id: None,
                replica: false,
                previous_token: None,
                new_token: None,
                raw_json: None,
                identity: i.to_be_bytes(),
            })
            .collect();
        let derived = |kept: usize| -> Vec<Vec<String>> {
            let dir = tempfile::tempdir().unwrap();
            let mut store =
                Store::open_for_writing(&dir.path().join("t.db"), DEFAULT_BUSY_TIMEOUT).unwrap();
            {
                let mut writer = match store.begin_file("f", "aa", "{}", true).unwrap() {
                    Begun::Writing(writer) => writer,
                    Begun::ImportedAs(_) => panic!("a new database has imported nothing"),
                };
                writer.touched_kept = kept;
                for e in &events {
                    assert!(writer.insert_event(e).unwrap());
                }
                writer.commit(&Counts::default(), "ndjson", 0).unwrap();
            }
            store.commit_batch().unwrap();
            [
                "SELECT participant_key, event_time_us, seq, step, effect, connected_delta, \
                        publishing_delta FROM events ORDER BY 1, 2, 3",
                "SELECT * FROM intervals ORDER BY 1, 2, 3",
                "SELECT * FROM participant_counts ORDER BY 1",
                "SELECT first_event_us, last_event_us, peak_participants, peak_publishers \
                 FROM sessions",
            ]
            .iter()
            .map(|query| {
                let mut statement = store.connection().prepare(query).unwrap();
                let width = statement.column_count();
                statement
                    .query_map([], |r| {
                        (0..width)
                            .map(|i| Ok(format!("{:?}", r.get::<_, rusqlite::types::Value>(i)?)))
                            .collect::<rusqlite::Result<Vec<_>>>()
                    })
                    .unwrap()
                    .map(|row| row.unwrap().join("|"))
                    .collect()
            })
            .collect()
        };
        let at_the_end = derived(usize::MAX);
        assert_eq!(at_the_end[1].len(), 15, "{:?}", at_the_end[1]);
        assert_eq!(derived(1), at_the_end);
        assert_eq!(derived(2), at_the_end);
    }

    /// Look-ups hold a snapshot; had the write that follows them started from it, SQLite would
    /// refuse it at once because another process wrote in between.
    #[test]
    fn an_import_after_look_ups_writes_even_when_another_process_wrote_in_between() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let mut looking = Store::open_for_writing(&path, DEFAULT_BUSY_TIMEOUT).unwrap();
        assert_eq!(looking.imported_as("aa", "{}").unwrap(), None);
        assert!(!looking.in_batch(), "look-ups are not a batch to commit");

        let mut other = Store::open_for_writing(&path, DEFAULT_BUSY_TIMEOUT).unwrap();
        import(&mut other, "other.ndjson", "bb");

        import(&mut looking, "mine.ndjson", "aa");
        assert_eq!(
            looking.imported_as("bb", "{}").unwrap().as_deref(),
            Some("other.ndjson")
        );
        assert_eq!(
            other.imported_as("aa", "{}").unwrap().as_deref(),
            Some("mine.ndjson")
        );
    }
}
