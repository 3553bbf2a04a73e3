//! Reading input: files, directories and stdin, gzip (every member) and zstd found by their magic
//! bytes, UTF-16 decoded by its byte-order mark; then the JSON shapes AWS tools write, recognized from content, never
//! from the file name.
//!
//! A file is a stream of top-level JSON values: one response document, NDJSON, a JSON array, or
//! values written back to back. Records are handed on one at a time, each parsed from its own
//! bytes, so memory stays flat whatever the file's size. Every record has a position a user can
//! find again: `line 3`, or `line 7: $.events[2]` inside a response document.

mod members;
mod scanner;

use std::cell::Cell;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
pub use members::{Member, Members};
use scanner::{ScanError, Scanner};

/// One path found by [`expand_paths`]: a file to read, or why an entry under a directory cannot
/// be one (boxed: a folder can hold a hundred thousand saved pages, each path kept until read).
pub type Found = std::result::Result<PathBuf, Box<Error>>;

/// Expands the command-line paths: `-` is stdin, a directory is walked recursively in sorted
/// order so that runs are deterministic. What cannot be walked or read under a directory (a
/// folder without permission, a FIFO, a socket) is an error in its place, so that it fails on
/// its own while the rest is imported; a pipe is read only when named on the command line.
///
/// The database the run writes, and its `-wal`, `-shm` and `-journal`, are never read: skipped
/// in a folder (where a nightly job's data and database may well sit together), an error when
/// named. Opening and closing a descriptor of the database would drop the locks SQLite holds on
/// it, and let another process delete the WAL that the import is writing.
pub fn expand_paths(paths: &[String], database: &Path) -> Vec<Found> {
    let database = DatabaseFiles::of(database);
    let mut files = Vec::new();
    for path in paths {
        if path == "-" {
            files.push(Ok(PathBuf::from("-")));
            continue;
        }
        let path = Path::new(path);
        if path.is_dir() {
            walk(path, path.canonicalize().ok(), &database, &mut files);
        } else if database.includes(path) {
            files.push(Err(Box::new(Error::BadFile {
                path: path.display().to_string(),
                reason: "the database this import writes, or one of its files; not read"
                    .to_string(),
            })));
        } else {
            // Missing files are reported when read, with the reason the OS gives.
            files.push(Ok(path.to_path_buf()));
        }
    }
    files
}

/// The database's folder and the names of its files, to recognize them without a `stat`.
struct DatabaseFiles {
    /// `None` when the folder cannot be resolved; then nothing there can be read either.
    folder: Option<PathBuf>,
    names: [std::ffi::OsString; 4],
}

impl DatabaseFiles {
    fn of(database: &Path) -> DatabaseFiles {
        let name = database.file_name().unwrap_or_default();
        let with = |suffix: &str| {
            let mut named = name.to_os_string();
            named.push(suffix);
            named
        };
        let folder = match database.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        DatabaseFiles {
            folder: folder.canonicalize().ok(),
            names: [with(""), with("-wal"), with("-shm"), with("-journal")],
        }
    }

    /// Whether the entry `name` of the folder at the resolved path `folder` is one of them.
    fn holds(&self, folder: &Path, name: &std::ffi::OsStr) -> bool {
        self.folder.as_deref() == Some(folder) && self.names.iter().any(|n| n == name)
    }

    /// Whether the file at `path`, links followed, is one of them.
    fn includes(&self, path: &Path) -> bool {
        let Ok(resolved) = path.canonicalize() else {
            return false;
        };
        resolved
            .parent()
            .zip(resolved.file_name())
            .is_some_and(|(folder, name)| self.holds(folder, name))
    }
}

/// Walks a directory whose resolved path is `resolved` (built down from the top, so that no
/// entry needs resolving). An entry's type comes with the directory listing, so a folder of
/// many small files costs no `stat` per file (a tenth of re-importing one).
fn walk(path: &Path, resolved: Option<PathBuf>, database: &DatabaseFiles, files: &mut Vec<Found>) {
    let listing = std::fs::read_dir(path).and_then(|entries| {
        entries
            .map(|entry| entry.and_then(|e| Ok((e.path(), e.file_name(), e.file_type()?))))
            .collect::<std::io::Result<Vec<_>>>()
    });
    let mut entries = match listing {
        Ok(entries) => entries,
        Err(source) => {
            files.push(Err(Box::new(Error::Read {
                path: path.display().to_string(),
                source,
            })));
            return;
        }
    };
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    for (entry, name, file_type) in entries {
        let hidden = name.to_string_lossy().starts_with('.');
        let ours = resolved
            .as_deref()
            .is_some_and(|folder| database.holds(folder, &name));
        if hidden || ours {
            continue;
        }
        if file_type.is_dir() {
            let resolved = resolved.as_ref().map(|folder| folder.join(&name));
            walk(&entry, resolved, database, files);
            continue;
        }
        // A link counts as what it names; a dangling one fails when read, with the OS's reason.
        let named = if file_type.is_symlink() {
            if database.includes(&entry) {
                continue;
            }
            std::fs::metadata(&entry).map(|m| m.file_type()).ok()
        } else {
            Some(file_type)
        };
        match named {
            // A link to a directory can loop back on the tree.
            Some(t) if t.is_dir() => {}
            Some(t) if !t.is_file() => files.push(Err(Box::new(Error::BadFile {
                path: entry.display().to_string(),
                reason: "not a regular file (a FIFO, socket or device is read only when named \
                         on the command line)"
                    .to_string(),
            }))),
            _ => files.push(Ok(entry)),
        }
    }
}

/// One input: its name in messages, the SHA-256 of its bytes as stored, and a way to read it
/// (again, when a page's context turns up after its records).
pub struct Source {
    pub name: String,
    pub content_sha256: String,
    /// Bytes as stored (compressed, when it is).
    pub size: u64,
    origin: Origin,
}

enum Origin {
    File(PathBuf),
    /// stdin or a pipe, copied to an unnamed temporary file so that it can be read twice.
    Spooled(std::fs::File),
    Embedded(&'static [u8]),
}

impl Source {
    /// Opens a path, or stdin for `-`, and hashes its content.
    pub fn open(path: &Path) -> Result<Source> {
        let stdin = path.as_os_str() == "-";
        let name = if stdin {
            "<stdin>".to_string()
        } else {
            path.display().to_string()
        };
        let read_error = |source| Error::Read {
            path: name.clone(),
            source,
        };
        let mut hasher = Hashing(Sha256::new(), 0);
        // What can be read only once (stdin, a pipe such as `<(aws …)`, a FIFO) is copied to an
        // unnamed temporary file while it is hashed, to be read again from there.
        let mut spool = |input: &mut dyn Read| -> Result<Origin> {
            let mut spool = tempfile::tempfile().map_err(read_error)?;
            let mut tee = Tee {
                file: &mut spool,
                hasher: &mut hasher,
            };
            std::io::copy(input, &mut tee).map_err(read_error)?;
            Ok(Origin::Spooled(spool))
        };
        let origin = if stdin {
            spool(&mut std::io::stdin().lock())?
        } else {
            let mut file = std::fs::File::open(path).map_err(read_error)?;
            if file.metadata().map_err(read_error)?.is_file() {
                std::io::copy(&mut file, &mut hasher).map_err(read_error)?;
                Origin::File(path.to_path_buf())
            } else {
                spool(&mut file)?
            }
        };
        Ok(Source {
            name,
            size: hasher.1,
            content_sha256: crate::hex(&hasher.0.finalize()),
            origin,
        })
    }

    /// A source compiled into the binary (the demo's sample).
    pub fn embedded(name: String, bytes: &'static [u8]) -> Source {
        Source {
            name,
            content_sha256: crate::hex(&Sha256::digest(bytes)),
            size: bytes.len() as u64,
            origin: Origin::Embedded(bytes),
        }
    }

    /// The content from its start: decompressed, and decoded to UTF-8 when it is UTF-16.
    /// `consumed` counts the stored bytes read so far, for showing progress.
    pub fn reader<'a>(&'a self, consumed: &'a Cell<u64>) -> Result<Box<dyn Read + 'a>> {
        let read_error = |source| Error::Read {
            path: self.name.clone(),
            source,
        };
        consumed.set(0);
        let raw: Box<dyn Read> = match &self.origin {
            Origin::File(path) => Box::new(std::fs::File::open(path).map_err(read_error)?),
            Origin::Spooled(file) => {
                let mut file = file.try_clone().map_err(read_error)?;
                file.rewind().map_err(read_error)?;
                Box::new(file)
            }
            Origin::Embedded(bytes) => Box::new(*bytes),
        };
        let mut buffered = BufReader::new(Counting {
            inner: raw,
            consumed,
        });
        let magic = buffered.fill_buf().map_err(read_error)?;
        let plain: Box<dyn Read> = if magic.starts_with(&[0x1f, 0x8b]) {
            Box::new(flate2::bufread::MultiGzDecoder::new(buffered))
        } else if magic.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            let zstd = ruzstd::decoding::StreamingDecoder::new(buffered)
                .map_err(|e| read_error(std::io::Error::new(std::io::ErrorKind::InvalidData, e)))?;
            Box::new(zstd)
        } else {
            Box::new(buffered)
        };
        // UTF-16 (Windows PowerShell's `>`) is transcoded, found by its byte-order mark or, without
        // one, by the zero bytes JSON's ASCII gets in it; UTF-8 passes through unchanged, so that
        // invalid bytes are caught in the record that holds them.
        let mut plain = BufReader::new(plain);
        let head = plain.fill_buf().map_err(read_error)?;
        let bomless_utf16 = match head {
            [a, 0, b, 0, ..] if *a != 0 && *b != 0 => Some(encoding_rs::UTF_16LE),
            [0, a, 0, b, ..] if *a != 0 && *b != 0 => Some(encoding_rs::UTF_16BE),
            _ => None,
        };
        Ok(Box::new(
            encoding_rs_io::DecodeReaderBytesBuilder::new()
                .encoding(bomless_utf16)
                .utf8_passthru(true)
                .strip_bom(true)
                .build(plain),
        ))
    }
}

/// SHA-256 and length of what is written to it.
struct Hashing(Sha256, u64);

impl Write for Hashing {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.update(bytes);
        self.1 += bytes.len() as u64;
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Counts the bytes read through it.
struct Counting<'a, R> {
    inner: R,
    consumed: &'a Cell<u64>,
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.consumed.set(self.consumed.get() + n as u64);
        Ok(n)
    }
}

struct Tee<'a> {
    file: &'a mut std::fs::File,
    hasher: &'a mut Hashing,
}

impl Write for Tee<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let n = self.file.write(bytes)?;
        self.hasher.write_all(&bytes[..n])?;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

/// What a JSON value was recognized as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemKind {
    /// An IVS `Event` object (from a ListParticipantEvents page, NDJSON or an array).
    Event,
    /// A `Participant` or `ParticipantSummary` object.
    Participant,
    /// A `StageSession` or `StageSessionSummary` object.
    Session,
    /// An EventBridge event (`"source": "aws.ivs"` envelope).
    EventBridge,
}

/// Context written on a response page by scripts that save the request beside it.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct PageContext {
    pub stage_arn: Option<Value>,
    pub session_id: Option<Value>,
    pub participant_id: Option<Value>,
}

impl PageContext {
    fn set(&mut self, key: &str, value: Value) -> bool {
        let slot = match key {
            "stageArn" => &mut self.stage_arn,
            "sessionId" => &mut self.session_id,
            "participantId" => &mut self.participant_id,
            _ => return false,
        };
        *slot = Some(value);
        true
    }
}

/// Where a record is in its file: its line, and in a JSON document its JSON path. Spelled out
/// only when something is said about the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    /// `line 7`: a line of NDJSON, or what a broken stream left.
    Line(usize),
    /// `line 7: $[3]`: an element of a top-level array.
    Element { line: usize, index: usize },
    /// `line 7: $.participantEvents[3]`, or `$.participant` for a document's one object.
    Member {
        line: usize,
        key: &'static str,
        index: Option<usize>,
    },
}

impl std::fmt::Display for Position {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Position::Line(line) => write!(f, "line {line}"),
            Position::Element { line, index } => write!(f, "line {line}: $[{index}]"),
            Position::Member {
                line,
                key,
                index: None,
            } => write!(f, "line {line}: $.{key}"),
            Position::Member {
                line,
                key,
                index: Some(index),
            } => write!(f, "line {line}: $.{key}[{index}]"),
        }
    }
}

/// One record of a file, ready for normalizing.
#[derive(Debug)]
pub struct Item<'a> {
    pub position: Position,
    /// `None` when the value is not any shape stagelog reads; it is then rejected.
    pub kind: Option<ItemKind>,
    pub value: Parsed<'a>,
    /// The record's bytes as written.
    pub raw: &'a [u8],
    pub page: Rc<PageContext>,
}

/// A record as parsed: its members when it was read in one pass (the common case: a record of
/// its own, under [`ONE_PASS_LIMIT`]), else a serde_json value of any type.
#[derive(Debug)]
pub enum Parsed<'a> {
    Members(Members<'a>),
    Value(Value),
}

/// What the reader hands on: a record, or a part of the file that is not one.
pub enum Piece<'a> {
    Record(Item<'a>),
    Broken {
        position: Position,
        reason: String,
        raw: &'a [u8],
    },
}

/// Why reading a file stopped before its end.
#[derive(Debug)]
pub enum Stop<E> {
    /// The file is not JSON as a whole (a broken response document, a top-level array).
    Invalid(String),
    /// The `page`-th response document named its context after its records: read the file
    /// again with that context known from the start.
    LateContext { page: usize, context: PageContext },
    /// The receiver of the records failed.
    Sink(E),
}

impl<E> From<std::io::Error> for Stop<E> {
    fn from(e: std::io::Error) -> Self {
        Stop::Invalid(format!("cannot read: {e}"))
    }
}

/// What was learned about a file while reading it.
#[derive(Debug, Default)]
pub struct Outline {
    /// The formats found, e.g. `list-participant-events` or `events-ndjson`.
    pub format: String,
    /// Records in which a lone UTF-16 surrogate escape was replaced by U+FFFD.
    pub lone_surrogates: usize,
    /// Keys of response documents that stagelog does not know.
    pub unknown_page_keys: usize,
    /// The records key (`events`, …) and `nextToken` of each response document that has one.
    pub next_tokens: Vec<(&'static str, String)>,
}

/// The most bytes a top-level object is parsed from in a single pass: a larger one takes the
/// member-by-member path, whose memory does not grow with the object.
const ONE_PASS_LIMIT: usize = 1 << 20;

/// Response documents are recognized by their one list (or object) key.
const RESPONSE_KEYS: [(&str, ItemKind, &str); 5] = [
    ("events", ItemKind::Event, "list-participant-events"),
    ("participants", ItemKind::Participant, "list-participants"),
    ("participant", ItemKind::Participant, "get-participant"),
    ("stageSessions", ItemKind::Session, "list-stage-sessions"),
    ("stageSession", ItemKind::Session, "get-stage-session"),
];

/// The response document whose records a key names, if it names any.
fn response_document(key: &str) -> Option<&'static (&'static str, ItemKind, &'static str)> {
    RESPONSE_KEYS.iter().find(|(records, ..)| *records == key)
}

/// Keys a response document may carry besides its records.
const PAGE_KEYS: [&str; 5] = [
    "nextToken",
    "ResponseMetadata",
    "stageArn",
    "sessionId",
    "participantId",
];

/// Reads a whole file, handing each record (or broken line) to `sink` in file order.
///
/// `presets` gives the context of response documents (by their order in the file) that named
/// it only after their records. A file of records (NDJSON, EventBridge) tolerates broken lines:
/// each is handed on as [`Piece::Broken`] and reading goes on at the next line. A response
/// document or top-level array must be valid JSON as a whole, and so must anything after one;
/// otherwise the file stops, as does a file in which no record could be read at all.
pub fn read<E>(
    input: impl Read,
    presets: &HashMap<usize, PageContext>,
    sink: impl FnMut(Piece<'_>) -> Result<(), E>,
) -> Result<Outline, Stop<E>> {
    let mut reader = Reader {
        scanner: Scanner::new(input),
        presets,
        sink,
        outline: Outline::default(),
        formats: Vec::new(),
        pages: 0,
        top_level_records: 0,
        documents: 0,
        good_records: 0,
        first_broken: None,
    };
    reader.run()?;
    if let (0, Some(first)) = (reader.good_records, reader.first_broken.take()) {
        return Err(Stop::Invalid(format!(
            "not a single record could be read; the first problem: {first}"
        )));
    }
    let mut outline = reader.outline;
    outline.format = match reader.formats.as_slice() {
        [] => {
            return Err(Stop::Invalid(
                "no JSON value in the file (it is empty)".into(),
            ))
        }
        [only] if *only == "event" && reader.top_level_records > 1 => "events-ndjson".into(),
        formats => formats.join("+"),
    };
    Ok(outline)
}

/// Hands a record to the sink. A macro, not a method: the record borrows the scanner's buffer
/// while the sink, another field, is called.
macro_rules! hand_on_record {
    ($reader:ident, $item:expr) => {{
        $reader.good_records += 1;
        ($reader.sink)(Piece::Record($item)).map_err(Stop::Sink)
    }};
}

/// Hands on a top-level object that is a record of its own, written as `raw` on `line` (a
/// macro, as `raw` borrows the scanner).
macro_rules! hand_on_top_level_record {
    ($reader:ident, $line:expr, $value:expr, $raw:expr) => {{
        $reader.top_level_records += 1;
        let value: Parsed = $value;
        let kind = record_kind(&value);
        note_format(
            &mut $reader.formats,
            match kind {
                Some(ItemKind::EventBridge) => "eventbridge",
                _ => "event",
            },
        );
        let item = Item {
            position: Position::Line($line),
            kind,
            value,
            raw: $raw,
            page: Rc::default(),
        };
        hand_on_record!($reader, item)
    }};
}

/// Hands on a broken record of a record stream, or stops a file that holds a document.
macro_rules! hand_on_broken {
    ($reader:ident, $line:expr, $column:expr, $reason:expr, $raw:expr) => {{
        let (line, column, reason): (usize, u64, String) = ($line, $column, $reason);
        let place = format!("line {line} column {column}: {reason}");
        if $reader.documents > 0 {
            Err(Stop::Invalid(format!(
                "after the JSON document, at {place}"
            )))
        } else {
            $reader.first_broken.get_or_insert(place);
            ($reader.sink)(Piece::Broken {
                position: Position::Line(line),
                reason: format!("{reason} (column {column})"),
                raw: $raw,
            })
            .map_err(Stop::Sink)
        }
    }};
}

struct Reader<'p, R, F> {
    scanner: Scanner<R>,
    presets: &'p HashMap<usize, PageContext>,
    sink: F,
    outline: Outline,
    formats: Vec<&'static str>,
    pages: usize,
    top_level_records: usize,
    /// Response documents and top-level arrays read: after one, nothing may be broken.
    documents: usize,
    good_records: usize,
    /// Where the first broken line was, and why.
    first_broken: Option<String>,
}

impl<R: Read, E, F: FnMut(Piece<'_>) -> Result<(), E>> Reader<'_, R, F> {
    fn run(&mut self) -> Result<(), Stop<E>> {
        while let Some(first) = self.scanner.peek()? {
            let start = self.scanner.pos;
            let line = self.scanner.line_at(start);
            match first {
                b'[' => self.top_level_array()?,
                b'{' => self.top_level_object(line)?,
                // A byte-order mark where files were concatenated.
                0xEF if self.scanner.skip_bom()? => {}
                _ => {
                    let column = self.scanner.column_at(start);
                    let reason = format!("invalid JSON: unexpected {}", shown(first));
                    self.broken_record(start, line, column, reason, None)?;
                }
            }
        }
        Ok(())
    }

    /// Hands on what begins at `start` (on `line`; the scanner may have read past it looking for
    /// a record's end) as broken, and resumes where the next record begins: at `next_record`
    /// when that is known, else at the first later line that begins with `{` or `[` (so the
    /// lines of a broken pretty-printed record make one reject, and the records after it are
    /// read). After a document, stops the file instead.
    fn broken_record(
        &mut self,
        start: usize,
        line: usize,
        column: u64,
        reason: String,
        next_record: Option<usize>,
    ) -> Result<(), Stop<E>> {
        self.scanner.mark(start);
        match next_record {
            Some(at) => self.scanner.pos = at,
            None => self.scanner.skip_line(start)?,
        }
        let start = self.scanner.unmark();
        let resume = self.scanner.pos;
        self.scanner.line_at(resume);
        let raw = trim_line_end(self.scanner.bytes(start, resume));
        hand_on_broken!(self, line, column, reason, raw)
    }

    fn fatal(&mut self, e: ScanError, what: &str) -> Stop<E> {
        match e {
            ScanError::Truncated => {
                let (line, column) = self.scanner.end_position();
                Stop::Invalid(format!(
                    "{what} ends before it closes: the file stops at line {line} column {column}"
                ))
            }
            ScanError::Unexpected { byte, at } => Stop::Invalid(format!(
                "invalid JSON at line {} column {}: unexpected {} in {what}",
                self.scanner.line_at(at),
                self.scanner.column_at(at),
                shown(byte)
            )),
            ScanError::Io(e) => Stop::Invalid(format!("cannot read: {e}")),
        }
    }

    fn top_level_array(&mut self) -> Result<(), Stop<E>> {
        note_format(&mut self.formats, "events-json-array");
        self.documents += 1;
        self.scanner.pos += 1;
        let mut index = 0;
        loop {
            let scanned = self.array_separator(index);
            if scanned.map_err(|e| self.fatal(e, "the top-level array"))? {
                return Ok(());
            }
            let (start, end) = self
                .scanner
                .value()
                .map_err(|e| self.fatal(e, "the top-level array"))?;
            let element_line = self.scanner.line_at(start);
            let position = Position::Element {
                line: element_line,
                index,
            };
            let element_column = self.scanner.column_at(start);
            let raw = self.scanner.bytes(start, end);
            let (value, replaced) =
                parse_value(raw).map_err(|e| invalid_json(element_line, element_column, &e))?;
            self.outline.lone_surrogates += usize::from(replaced);
            let value = Parsed::Value(value);
            let item = Item {
                position,
                kind: record_kind(&value),
                value,
                raw,
                page: Rc::default(),
            };
            hand_on_record!(self, item)?;
            index += 1;
        }
    }

    /// Before the `index`-th element of an array: consumes `,` (after the first) and says
    /// whether the array ended instead.
    fn array_separator(&mut self, index: usize) -> Result<bool, ScanError> {
        match self.scanner.peek()? {
            Some(b']') => {
                self.scanner.pos += 1;
                Ok(true)
            }
            Some(_) if index == 0 => Ok(false),
            Some(b',') => {
                self.scanner.pos += 1;
                Ok(false)
            }
            Some(byte) => Err(ScanError::Unexpected {
                byte,
                at: self.scanner.pos,
            }),
            None => Err(ScanError::Truncated),
        }
    }

    /// A top-level object: a response document (whose records are read one at a time), or a
    /// record of its own (an NDJSON line).
    fn top_level_object(&mut self, line: usize) -> Result<(), Stop<E>> {
        if self.one_pass_record(line)? {
            return Ok(());
        }
        let start = self.scanner.pos;
        let column = self.scanner.column_at(start);
        self.scanner.mark(start);
        // The mark keeps the object's bytes while it may still be a record; a response document
        // releases it when its records begin, so its size does not matter.
        match self.object_members() {
            Ok(Some(())) => Ok(()),
            Ok(None) => {
                // A record of its own: parsed whole from its bytes.
                let start = self.scanner.unmark();
                let end = self.scanner.pos;
                match parse_value(self.scanner.bytes(start, end)) {
                    Ok((value, replaced)) => {
                        self.outline.lone_surrogates += usize::from(replaced);
                        let raw = self.scanner.bytes(start, end);
                        hand_on_top_level_record!(self, line, Parsed::Value(value), raw)
                    }
                    Err(e) => {
                        self.top_level_records += 1;
                        let raw = self.scanner.bytes(start, end);
                        note_format(&mut self.formats, "event");
                        let (line, column) = within(line, column, &e);
                        let reason = format!("invalid JSON: {}", serde_reason(&e));
                        hand_on_broken!(self, line, column, reason, raw)
                    }
                }
            }
            Err(MemberError::InPage(stop)) => Err(stop),
            Err(MemberError::InRecord(e)) => {
                let start = self.scanner.unmark();
                self.top_level_records += 1;
                note_format(&mut self.formats, "event");
                let (reason, next_record) = match e {
                    ScanError::Truncated => (
                        "the record ends before it closes (truncated)".to_string(),
                        None,
                    ),
                    ScanError::Unexpected { byte, at } => {
                        let reason = format!(
                            "invalid JSON: unexpected {} at line {} column {}",
                            shown(byte),
                            self.scanner.line_at(at),
                            self.scanner.column_at(at)
                        );
                        // A `{` where a key or a value belongs is most likely the next
                        // record, written after this one was cut short (on the next line, or
                        // straight after it as Firehose writes them).
                        (reason, (byte == b'{').then_some(at))
                    }
                    ScanError::Io(e) => return Err(Stop::Invalid(format!("cannot read: {e}"))),
                };
                self.broken_record(start, line, column, reason, next_record)
            }
        }
    }

    /// A top-level object that is a record (an NDJSON line, records run together as Firehose
    /// writes them, a pretty-printed record), parsed in one pass that also finds its end, and
    /// handed on; false when it holds a response document's key, is not valid JSON or is larger
    /// than [`ONE_PASS_LIMIT`]: [`Reader::object_members`] reads those. Scanning each record
    /// member by member before parsing it took a fifth of a forced re-import (2.0 s, then
    /// 1.55 s); parsing into a `Value` instead of borrowed members, another fifth.
    fn one_pass_record(&mut self, line: usize) -> Result<bool, Stop<E>> {
        loop {
            let start = self.scanner.pos;
            let buffered = self.scanner.bytes(start, self.scanner.buffered_end());
            let mut records = serde_json::Deserializer::from_slice(buffered).into_iter();
            match records.next() {
                Some(Ok(OnePass(members))) => {
                    let raw = &buffered[..records.byte_offset()];
                    hand_on_top_level_record!(self, line, Parsed::Members(members), raw)?;
                    self.scanner.pos = start + raw.len();
                    return Ok(true);
                }
                // Cut short by the end of what is buffered.
                Some(Err(e)) if e.is_eof() && buffered.len() <= ONE_PASS_LIMIT => {
                    if !self.scanner.fill()? {
                        return Ok(false);
                    }
                }
                _ => return Ok(false),
            }
        }
    }

    /// Reads an object's members from its `{`, which the caller has marked. `Some(())` when it
    /// was a response document (already handed on record by record; the mark is released),
    /// `None` when it is a record, left for the caller (marked still). A failure in a record
    /// leaves the mark, one in a response document does not.
    fn object_members(&mut self) -> Result<Option<()>, MemberError<E>> {
        // The object's start is marked by the caller: offsets from it stay valid.
        self.scanner.pos += 1;
        let mut context = PageContext::default();
        let mut keys: Vec<String> = Vec::new();
        // Members met before any records, as offsets from the object's start with their line
        // and column: checked only if the object turns out to be a response document (a record
        // is parsed whole instead).
        let mut early: Vec<(usize, usize, usize, usize, u64)> = Vec::new();
        let mut response: Option<(&'static str, &'static str)> = None;
        let mut records = 0usize;
        let mut context_after_records = false;
        let mut next_token = None;
        loop {
            let index = keys.len();
            let record_error = MemberError::<E>::scan(response.is_some());
            match self
                .scanner
                .peek()
                .map_err(ScanError::Io)
                .map_err(&record_error)?
            {
                Some(b'}') => {
                    self.scanner.pos += 1;
                    break;
                }
                Some(b',') if index > 0 => self.scanner.pos += 1,
                Some(_) if index == 0 => {}
                Some(byte) => {
                    let at = self.scanner.pos;
                    return Err(record_error(ScanError::Unexpected { byte, at }));
                }
                None => return Err(record_error(ScanError::Truncated)),
            }
            let key = self.key().map_err(&record_error)?;
            self.scanner.expect(b':').map_err(&record_error)?;
            let next = self
                .scanner
                .peek()
                .map_err(ScanError::Io)
                .map_err(&record_error)?;
            let records_key = response_document(&key);
            if let (Some(&(k, kind, format)), Some(b'[' | b'{'), None) =
                (records_key, next, response)
            {
                self.pages += 1;
                self.documents += 1;
                response = Some((k, format));
                note_format(&mut self.formats, format);
                let base = self.scanner.marked();
                for &(key_index, start, end, line, column) in &early {
                    let bytes = self.scanner.bytes(base + start, base + end);
                    let value = member_value(bytes, line, column).map_err(MemberError::InPage)?;
                    if keys[key_index] == "nextToken" {
                        next_token = value.as_str().map(str::to_string);
                    }
                    context.set(&keys[key_index], value);
                }
                self.scanner.unmark();
                if let Some(preset) = self.presets.get(&self.pages) {
                    context = preset.clone();
                }
                let page = Rc::new(context.clone());
                records = self.records(k, kind, page).map_err(MemberError::InPage)?;
                keys.push(key);
                continue;
            }
            let (start, end) = self.scanner.value().map_err(&record_error)?;
            let (line, column) = (self.scanner.line_at(start), self.scanner.column_at(start));
            if response.is_none() {
                let base = self.scanner.marked();
                early.push((keys.len(), start - base, end - base, line, column));
            } else {
                let bytes = self.scanner.bytes(start, end);
                let value = member_value(bytes, line, column).map_err(MemberError::InPage)?;
                if key == "nextToken" {
                    next_token = value.as_str().map(str::to_string);
                }
                let preset = self.presets.contains_key(&self.pages);
                if context.set(&key, value) && records > 0 && !preset {
                    context_after_records = true;
                }
            }
            keys.push(key);
        }
        let Some((records_key, _)) = response else {
            return Ok(None);
        };
        if let Some(token) = next_token {
            self.outline.next_tokens.push((records_key, token));
        }
        self.outline.unknown_page_keys += keys
            .iter()
            .filter(|k| k.as_str() != records_key && !PAGE_KEYS.contains(&k.as_str()))
            .count();
        if context_after_records {
            return Err(MemberError::InPage(Stop::LateContext {
                page: self.pages,
                context,
            }));
        }
        Ok(Some(()))
    }

    fn key(&mut self) -> Result<String, ScanError> {
        let (start, end) = self.scanner.value()?;
        let bytes = self.scanner.bytes(start, end);
        // A lone surrogate is replaced here as in a value; a record is counted as holding one
        // when it is parsed whole.
        match parse_value(bytes) {
            Ok((Value::String(key), _)) => Ok(key),
            _ => Err(ScanError::Unexpected {
                byte: bytes.first().copied().unwrap_or(b'?'),
                at: start,
            }),
        }
    }

    /// The records of a response document: the elements of its array (or its one object).
    /// Returns how many there were.
    fn records(
        &mut self,
        key: &'static str,
        kind: ItemKind,
        page: Rc<PageContext>,
    ) -> Result<usize, Stop<E>> {
        let what = format!("the \"{key}\" list");
        let single = self.scanner.peek()? == Some(b'{');
        if !single {
            self.scanner.pos += 1;
        }
        let mut index = 0;
        loop {
            if !single {
                let ended = self.array_separator(index);
                if ended.map_err(|e| self.fatal(e, &what))? {
                    return Ok(index);
                }
            }
            let (start, end) = self.scanner.value().map_err(|e| self.fatal(e, &what))?;
            let line = self.scanner.line_at(start);
            let column = self.scanner.column_at(start);
            let position = Position::Member {
                line,
                key,
                index: (!single).then_some(index),
            };
            let raw = self.scanner.bytes(start, end);
            let (value, replaced) = parse_value(raw).map_err(|e| invalid_json(line, column, &e))?;
            self.outline.lone_surrogates += usize::from(replaced);
            let item = Item {
                position,
                kind: Some(kind).filter(|_| value.is_object()),
                value: Parsed::Value(value),
                raw,
                page: page.clone(),
            };
            hand_on_record!(self, item)?;
            index += 1;
            if single {
                return Ok(index);
            }
        }
    }
}

fn note_format(formats: &mut Vec<&'static str>, format: &'static str) {
    if !formats.contains(&format) {
        formats.push(format);
    }
}

/// What a record outside a response document is: an IVS `Event` or an EventBridge envelope.
fn record_kind(parsed: &Parsed) -> Option<ItemKind> {
    let envelope = match parsed {
        Parsed::Members(members) => members.contains_key("detail-type"),
        Parsed::Value(value) => value.as_object()?.contains_key("detail-type"),
    };
    Some(if envelope {
        ItemKind::EventBridge
    } else {
        ItemKind::Event
    })
}

/// A top-level object's members, parsed in one pass but given up at the first key that names a
/// response document's records: only the member-by-member reading knows which of its members
/// holds them, and a page is not parsed whole.
struct OnePass<'a>(Members<'a>);

impl<'de> serde::Deserialize<'de> for OnePass<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Self, D::Error> {
        let until_records = members::MembersUntil(|key| response_document(key).is_some());
        serde::de::DeserializeSeed::deserialize(until_records, deserializer).map(OnePass)
    }
}

/// A failure inside a top-level object: recoverable in a record, fatal in a response document.
enum MemberError<E> {
    InRecord(ScanError),
    InPage(Stop<E>),
}

impl<E> MemberError<E> {
    fn scan(in_page: bool) -> impl Fn(ScanError) -> MemberError<E> {
        move |e| {
            if in_page {
                MemberError::InPage(Stop::Invalid(match e {
                    ScanError::Truncated => "the response document ends before it closes".into(),
                    ScanError::Unexpected { byte, .. } => {
                        format!(
                            "invalid JSON in the response document: unexpected {}",
                            shown(byte)
                        )
                    }
                    ScanError::Io(e) => format!("cannot read: {e}"),
                }))
            } else {
                MemberError::InRecord(e)
            }
        }
    }
}

fn shown(byte: u8) -> String {
    if byte.is_ascii_graphic() {
        format!("'{}'", byte as char)
    } else {
        format!("byte 0x{byte:02x}")
    }
}

fn trim_line_end(bytes: &[u8]) -> &[u8] {
    let bytes = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    bytes.strip_suffix(b"\r").unwrap_or(bytes)
}

/// A member of a response document other than its records, which must be valid JSON too.
fn member_value<E>(bytes: &[u8], line: usize, column: u64) -> Result<Value, Stop<E>> {
    serde_json::from_slice(bytes).map_err(|e| invalid_json(line, column, &e))
}

/// Stops a file at a serde_json error in a value that starts at `line`, `column`.
fn invalid_json<E>(line: usize, column: u64, e: &serde_json::Error) -> Stop<E> {
    let (line, column) = within(line, column, e);
    Stop::Invalid(format!(
        "invalid JSON at line {line} column {column}: {}",
        serde_reason(e)
    ))
}

/// The file position of a serde_json error in a record that starts at `line`, `column`.
fn within(line: usize, column: u64, e: &serde_json::Error) -> (usize, u64) {
    if e.line() <= 1 {
        (line, column + e.column() as u64 - 1)
    } else {
        (line + e.line() - 1, e.column() as u64)
    }
}

/// serde_json's message without its own " at line L column C" (positions are given by file).
fn serde_reason(e: &serde_json::Error) -> String {
    let what = e.to_string();
    match what.rsplit_once(" at line ") {
        Some((reason, _)) => reason.to_string(),
        None => what,
    }
}

/// Parses one record. A lone UTF-16 surrogate escape (`"\ud83d"`), which serde_json refuses,
/// is replaced by U+FFFD rather than losing the record; the flag says it happened.
fn parse_value(raw: &[u8]) -> Result<(Value, bool), serde_json::Error> {
    match serde_json::from_slice(raw) {
        Ok(value) => Ok((value, false)),
        Err(e)
            if ["surrogate", "hex escape"]
                .iter()
                .any(|m| e.to_string().contains(m)) =>
        {
            let fixed = replace_lone_surrogates(raw);
            serde_json::from_slice(&fixed).map(|v| (v, true))
        }
        Err(e) => Err(e),
    }
}

fn replace_lone_surrogates(raw: &[u8]) -> Vec<u8> {
    let hex4 = |at: usize| -> Option<u16> {
        let digits = raw.get(at..at + 4)?;
        u16::from_str_radix(std::str::from_utf8(digits).ok()?, 16).ok()
    };
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] != b'\\' {
            out.push(raw[i]);
            i += 1;
            continue;
        }
        let unit = if raw.get(i + 1) == Some(&b'u') {
            hex4(i + 2)
        } else {
            None
        };
        match unit {
            Some(high @ 0xD800..=0xDBFF)
                if raw.get(i + 6..i + 8) == Some(b"\\u")
                    && matches!(hex4(i + 8), Some(0xDC00..=0xDFFF)) =>
            {
                let _ = high;
                out.extend_from_slice(&raw[i..i + 12]);
                i += 12;
            }
            Some(0xD800..=0xDFFF) => {
                out.extend_from_slice(b"\\ufffd");
                i += 6;
            }
            _ => {
                // Any other escape: copy the backslash and the byte it escapes.
                out.extend_from_slice(&raw[i..(i + 2).min(raw.len())]);
                i += 2;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (position, kind or broken reason) of everything read from `input`.
    fn read_all(input: &[u8]) -> std::result::Result<(String, Vec<(String, String)>), String> {
        let mut seen = Vec::new();
        let outline = read(input, &HashMap::new(), |piece| {
            seen.push(match piece {
                Piece::Record(item) => (item.position.to_string(), format!("{:?}", item.kind)),
                Piece::Broken {
                    position, reason, ..
                } => (position.to_string(), format!("broken: {reason}")),
            });
            Ok::<(), ()>(())
        })
        .map_err(|e| format!("{e:?}"))?;
        Ok((outline.format, seen))
    }

    fn positions(input: &[u8]) -> Vec<String> {
        read_all(input)
            .unwrap()
            .1
            .into_iter()
            .map(|(p, _)| p)
            .collect()
    }

    #[test]
    fn recognizes_a_cli_page_and_numbers_its_events_by_line() {
        let page = b"{\n  \"events\": [\n    {\"name\": \"JOINED\"},\n    {\"name\": \"LEFT\"}\n  ],\n  \"nextToken\": \"x\"\n}\n";
        let (format, seen) = read_all(page).unwrap();
        assert_eq!(format, "list-participant-events");
        assert_eq!(
            seen.iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>(),
            ["line 3: $.events[0]", "line 4: $.events[1]"]
        );
    }

    #[test]
    fn ndjson_positions_are_lines() {
        let (format, _) = read_all(b"{\"name\":\"A\"}\n\n{\"name\":\"B\"}\r\n").unwrap();
        assert_eq!(format, "events-ndjson");
        assert_eq!(
            positions(b"{\"name\":\"A\"}\n\n{\"name\":\"B\"}\r\n"),
            ["line 1", "line 3"]
        );
    }

    #[test]
    fn page_context_is_carried_to_each_event() {
        let mut pages = Vec::new();
        read(
            &br#"{"stageArn":"arn:s","sessionId":"st-1","events":[{"name":"JOINED"}]}"#[..],
            &HashMap::new(),
            |piece| {
                if let Piece::Record(item) = piece {
                    pages.push((*item.page).clone());
                }
                Ok::<(), ()>(())
            },
        )
        .unwrap();
        assert_eq!(pages[0].stage_arn, Some(Value::from("arn:s")));
        assert_eq!(pages[0].session_id, Some(Value::from("st-1")));
    }

    #[test]
    fn context_after_the_records_asks_for_a_second_reading() {
        let page = br#"{"events":[{"name":"JOINED"}],"sessionId":"st-late"}"#;
        let stop = read(&page[..], &HashMap::new(), |_| Ok::<(), ()>(())).unwrap_err();
        let Stop::LateContext { page: 1, context } = stop else {
            panic!("{stop:?}")
        };
        assert_eq!(context.session_id, Some(Value::from("st-late")));
        let presets = HashMap::from([(1, context)]);
        let mut sessions = Vec::new();
        read(&page[..], &presets, |piece| {
            if let Piece::Record(item) = piece {
                sessions.push(item.page.session_id.clone());
            }
            Ok::<(), ()>(())
        })
        .unwrap();
        assert_eq!(sessions, [Some(Value::from("st-late"))]);
    }

    #[test]
    fn get_and_list_documents() {
        assert_eq!(
            read_all(br#"{"participant":{"participantId":"p"}}"#)
                .unwrap()
                .0,
            "get-participant"
        );
        assert_eq!(
            read_all(br#"{"stageSessions":[{"sessionId":"s"}]}"#)
                .unwrap()
                .0,
            "list-stage-sessions"
        );
    }

    #[test]
    fn a_broken_ndjson_line_is_handed_on_and_reading_goes_on() {
        let (_, seen) =
            read_all(b"{\"name\":\"A\"}\n{\"name\": }\n{\"name\":\"C\"}\n{\"name\":\"D").unwrap();
        assert_eq!(seen[0], ("line 1".into(), "Some(Event)".into()));
        assert_eq!(seen[1].0, "line 2");
        assert!(
            seen[1].1.starts_with("broken: invalid JSON"),
            "{:?}",
            seen[1]
        );
        assert_eq!(seen[2], ("line 3".into(), "Some(Event)".into()));
        assert_eq!(seen[3].0, "line 4");
        assert!(seen[3].1.contains("truncated"), "{:?}", seen[3]);
    }

    #[test]
    fn a_broken_response_document_stops_the_file_with_its_position() {
        let stop = read_all(b"{\"events\": [\n {\"name\":\"A\"}\n {\"name\":\"B\"}]}").unwrap_err();
        assert!(stop.contains("line 3 column 2"), "{stop}");
    }

    #[test]
    fn invalid_utf8_loses_only_its_record() {
        let (_, seen) = read_all(b"{\"name\":\"\xff\"}\n{\"name\":\"B\"}\n").unwrap();
        assert!(
            seen[0].1.starts_with("broken: invalid JSON"),
            "{:?}",
            seen[0]
        );
        assert_eq!(seen[1], ("line 2".into(), "Some(Event)".into()));
    }

    #[test]
    fn lone_surrogates_are_replaced() {
        let (value, replaced) = parse_value(br#"{"a":"x\ud83dy","b":"\ud83d\ude00"}"#).unwrap();
        assert!(replaced);
        assert_eq!(value["a"], "x\u{fffd}y");
        assert_eq!(value["b"], "\u{1f600}");
    }

    #[test]
    fn a_lone_surrogate_in_a_key_is_replaced_as_in_a_value() {
        let mut seen = Vec::new();
        let outline = read(
            &br#"{"\ud83d":1,"name":"LEFT"}"#[..],
            &HashMap::new(),
            |piece| {
                if let Piece::Record(item) = piece {
                    seen.push(format!("{:?}", item.value));
                }
                Ok::<(), ()>(())
            },
        )
        .unwrap();
        assert_eq!(outline.lone_surrogates, 1);
        assert_eq!(seen.len(), 1);
        assert!(seen[0].contains("\u{fffd}"), "{seen:?}");
    }

    #[test]
    fn every_member_of_a_response_document_must_be_json() {
        for bad in [
            &br#"{"events":[{"name":"A"}],"nextToken": tru}"#[..],
            br#"{"ResponseMetadata":{"a":,},"events":[{"name":"A"}]}"#,
            br#"{"events":[{"name":"A"},{"name":"B",,}]}"#,
            b"{\"events\":[{\"name\":\"A\"}]}\ntrailing",
        ] {
            let err = read_all(bad).unwrap_err();
            assert!(err.contains("Invalid"), "{err}");
        }
    }

    #[test]
    fn a_file_with_no_readable_record_is_not_json() {
        let err = read_all(b"hello world\n{not json\n").unwrap_err();
        assert!(err.contains("line 1 column 1"), "{err}");
    }

    #[test]
    fn a_broken_pretty_printed_record_is_one_reject() {
        let input = b"{\"name\":\"A\"}\n{\n  \"name\": ,\n  \"x\": 1\n}\n{\"name\":\"C\"}\n";
        let (_, seen) = read_all(input).unwrap();
        let broken = seen.iter().filter(|(_, k)| k.starts_with("broken")).count();
        assert_eq!((seen.len(), broken), (3, 1), "{seen:?}");
    }

    #[test]
    fn byte_order_marks_between_records_are_skipped() {
        let (_, seen) = read_all(b"{\"name\":\"A\"}\n\xEF\xBB\xBF{\"name\":\"B\"}\n").unwrap();
        assert_eq!(seen.len(), 2);
        assert!(seen.iter().all(|(_, k)| k == "Some(Event)"), "{seen:?}");
    }

    #[test]
    fn records_read_in_one_pass_come_out_as_the_member_by_member_reading_gives_them() {
        let long = format!("{{\"name\":\"{}\"}}", "x".repeat(ONE_PASS_LIMIT));
        // Run together on one line, as Firehose writes them: past the scanner's first buffer.
        let run_together: String = (0..30_000)
            .map(|i| format!("{{\"name\":\"R{i:05}\"}}"))
            .collect();
        let input = [
            &run_together,
            "\n{\"name\":\"A\"}{\"name\":\"B\"} \r\n",
            // A response document's key that holds no list: a record.
            "{\"name\":\"C\",\"events\":5}\n",
            "{\"name\":\"E\"} x\n",
            "{\"name\":\"\\ud83d\"}\n",
            "{\n \"name\": \"F\"\n}\n",
            // A one-line response document, and a pretty-printed one whose records come second.
            "{\"events\":[{\"name\":\"D\"}]}\n",
            "{\n \"nextToken\": \"t\",\n \"events\": [{\"name\": \"G\"}]\n}\n",
            &long,
        ]
        .concat();
        let mut seen = Vec::new();
        read(input.as_bytes(), &HashMap::new(), |piece| {
            seen.push(match piece {
                Piece::Record(item) => (
                    item.position.to_string(),
                    match item.raw.len() {
                        ..=40 => String::from_utf8_lossy(item.raw).into_owned(),
                        long => format!("{long} bytes"),
                    },
                ),
                Piece::Broken {
                    position, reason, ..
                } => (position.to_string(), reason),
            });
            Ok::<(), ()>(())
        })
        .unwrap();
        let run: Vec<_> = (0..30_000)
            .map(|i| ("line 1".to_string(), format!("{{\"name\":\"R{i:05}\"}}")))
            .collect();
        assert_eq!(seen[..run.len()], run);
        let expected = [
            ("line 2", "{\"name\":\"A\"}"),
            ("line 2", "{\"name\":\"B\"}"),
            ("line 3", "{\"name\":\"C\",\"events\":5}"),
            ("line 4", "{\"name\":\"E\"}"),
            ("line 4", "invalid JSON: unexpected 'x' (column 14)"),
            ("line 5", "{\"name\":\"\\ud83d\"}"),
            ("line 6", "{\n \"name\": \"F\"\n}"),
            ("line 9: $.events[0]", "{\"name\":\"D\"}"),
            ("line 12: $.events[0]", "{\"name\": \"G\"}"),
            ("line 14", &format!("{} bytes", long.len())),
        ];
        let rest: Vec<_> = seen[run.len()..]
            .iter()
            .map(|(p, r)| (p.as_str(), r.as_str()))
            .collect();
        assert_eq!(rest, expected);
    }

    #[test]
    fn empty_input_is_not_json() {
        assert!(read_all(b" \n").unwrap_err().contains("empty"));
    }
}
