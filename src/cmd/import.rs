//! `stagelog import`: files → formats → normalize → store, each file whole or not at all (a
//! savepoint of its own in a batch committed together), with a summary per file and in total
//! on stderr.

use std::cell::Cell;
use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::Path;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::{Global, ImportArgs};
use crate::error::{Error, Result};
use crate::formats::{self, PageContext, Piece, Source, Stop};
use crate::normalize::{self, Flags, Normalized, Record, Reject};
use crate::store::{Begun, Counts, FileWriter, Store};

/// How many reject reasons a file's summary shows; all are kept in the `rejects` table.
const REJECTS_SHOWN: usize = 5;

/// How a run treats its files.
#[derive(Debug, Default, Clone, Copy)]
pub struct Options {
    pub force: bool,
    pub strict: bool,
    pub quiet: bool,
}

pub fn run(global: &Global, args: &ImportArgs) -> Result<u8> {
    let flags = Flags {
        stage_arn: args.stage_arn.clone(),
        session_id: args.session_id.clone(),
        participant_id: args.participant_id.clone(),
    };
    let options = Options {
        force: args.force,
        strict: args.strict,
        quiet: args.quiet,
    };
    let files = formats::expand_paths(&args.paths, &global.db_path());
    if files.is_empty() {
        crate::note!(
            "nothing to import: no files under {}",
            args.paths.join(", ")
        );
    }
    let (mut store, applied) = Store::open_and_migrate(&global.db_path(), global.busy_timeout())?;
    // Creating a database is no news; upgrading one is.
    let upgraded = applied.first().is_some_and(|m| m.version > 1);
    for m in applied.iter().filter(|_| upgraded) {
        crate::note!("applied schema migration V{} {}", m.version, m.name);
    }
    // Sizes are looked up only for a progress bar: a `stat` per file is a tenth of re-importing
    // a folder of saved pages.
    let total_bytes = if Progress::shown(options.quiet) {
        files
            .iter()
            .flatten()
            .filter_map(|p| std::fs::metadata(p).ok())
            .map(|m| m.len())
            .sum()
    } else {
        0
    };
    let prefix = args.stage_arn_prefix.as_deref().unwrap_or_default();
    let jobs = files.into_iter().map(|found| {
        let path = found.map_err(|e| *e)?;
        let flags = if args.context_from_path {
            context_from_path(&path, prefix).or(&flags)
        } else {
            flags.clone()
        };
        Source::open(&path).map(|source| (source, flags))
    });
    Ok(import_all(&mut store, jobs, total_bytes, options))
}

/// The context a file's path gives, by the layout `--context-from-path` documents. The path is
/// made absolute first, so that a run from inside the layout still sees the stage folder.
fn context_from_path(path: &Path, stage_arn_prefix: &str) -> Flags {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let path = absolute.as_path();
    let folders: Vec<String> = path
        .parent()
        .into_iter()
        .flat_map(|p| p.components())
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let session_at = folders.iter().rposition(|f| f.starts_with("st-"));
    let stage = match session_at {
        Some(i) => i.checked_sub(1).map(|s| &folders[s]),
        None => folders.last(),
    };
    let participant = match session_at {
        Some(i) if i + 1 == folders.len() => path
            .file_name()
            .and_then(|n| n.to_string_lossy().split('.').next().map(str::to_string))
            .filter(|p| !p.is_empty()),
        _ => None,
    };
    Flags {
        stage_arn: stage
            .filter(|s| !s.is_empty() && *s != "." && *s != "/")
            .map(|s| format!("{stage_arn_prefix}{s}")),
        session_id: session_at.map(|i| folders[i].clone()),
        participant_id: participant,
    }
}

/// Shows the run's progress on a terminal: bytes of files done, events, events per second.
struct Progress {
    bar: Option<ProgressBar>,
    started: Instant,
    records: u64,
    /// Bytes of the files already done.
    done: u64,
}

impl Progress {
    /// Whether a run shows a bar: not when quiet, nor when stderr is not a terminal.
    fn shown(quiet: bool) -> bool {
        !quiet && std::io::stderr().is_terminal()
    }

    fn new(total_bytes: u64, quiet: bool) -> Self {
        let bar = Self::shown(quiet).then(|| {
            let bar = ProgressBar::new(total_bytes);
            bar.set_style(
                ProgressStyle::with_template("{bar:30} {bytes}/{total_bytes} {msg}")
                    .expect("a valid template"),
            );
            bar
        });
        Progress {
            bar,
            started: Instant::now(),
            records: 0,
            done: 0,
        }
    }

    /// One more record, `consumed` bytes into the current file.
    fn record(&mut self, consumed: u64) {
        self.records += 1;
        if let Some(bar) = &self.bar {
            if self.records.is_multiple_of(4096) {
                let rate = self.records as f64 / self.started.elapsed().as_secs_f64().max(1e-3);
                bar.set_message(format!("{} records, {rate:.0}/s", self.records));
                bar.set_position(self.done + consumed);
            }
        }
    }

    fn file_done(&mut self, bytes: u64) {
        self.done += bytes;
        if let Some(bar) = &self.bar {
            bar.set_position(self.done);
        }
    }

    /// A line on stderr that does not tear the bar.
    fn line(&self, text: &str) {
        match &self.bar {
            Some(bar) => bar.suspend(|| crate::note!("{text}")),
            None => crate::note!("{text}"),
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Imports each file in turn, printing summaries; returns the exit code (1 when a file failed
/// as a whole, else 3 when records were rejected, else 0).
pub fn import_all(
    store: &mut Store,
    jobs: impl Iterator<Item = Result<(Source, Flags)>>,
    total_bytes: u64,
    options: Options,
) -> u8 {
    let mut progress = Progress::new(total_bytes, options.quiet);
    let mut total = Counts::default();
    let (mut files, mut failed, mut unchanged) = (0, 0, 0);
    let mut uncommitted = Uncommitted::default();
    for job in jobs {
        files += 1;
        let (source, flags) = match job {
            Ok(job) => job,
            Err(e) => {
                failed += 1;
                progress.line(&format!("stagelog: {:#}", anyhow::Error::from(e)));
                continue;
            }
        };
        // A large file starts a batch of its own, so that it needs no savepoint.
        if source.size >= SMALL_FILE && store.in_batch() {
            failed += uncommitted.commit(store, &progress);
        }
        let outcome = import_file(store, &source, &flags, options, &mut progress);
        progress.file_done(source.size);
        let name = source.name;
        match outcome {
            Ok(Outcome::Imported(counts)) => {
                if !options.quiet {
                    progress.line(&format!("{name}: {}", summary(&counts)));
                }
                total += counts;
                if uncommitted.add(source.size) {
                    failed += uncommitted.commit(store, &progress);
                }
            }
            Ok(Outcome::Unchanged { imported_as }) => {
                unchanged += 1;
                if !options.quiet {
                    let from = if imported_as == name {
                        String::new()
                    } else {
                        format!(" as {imported_as}")
                    };
                    progress.line(&format!(
                        "{name}: unchanged, this content was imported before{from} (--force \
                         reads it again)"
                    ));
                }
            }
            Err(e) => {
                failed += 1;
                let locked_out = matches!(e, Error::Busy { .. });
                progress.line(&failure(&name, e));
                if locked_out {
                    // Each file after it would wait as long for the lock, and fail the same way.
                    progress.line(
                        "stagelog: stopped: the files after it were not read (import them again \
                         once the other writer is done)",
                    );
                    break;
                }
            }
        }
    }
    failed += uncommitted.commit(store, &progress);
    progress.finish();
    let mut notes = String::new();
    if unchanged > 0 {
        notes += &format!(", {unchanged} unchanged");
    }
    if failed > 0 {
        notes += &format!(", {failed} failed");
    }
    let plural = if files == 1 { "" } else { "s" };
    crate::note!("total, {files} file{plural}{notes}: {}", summary(&total));
    if failed > 0 {
        1
    } else if total.rejected > 0 {
        3
    } else {
        0
    }
}

/// A failed file's line: the error's own when it names the file, else after the file's name.
fn failure(name: &str, e: Error) -> String {
    let named = matches!(e, Error::Read { .. } | Error::BadFile { .. });
    let cause = anyhow::Error::from(e);
    if named {
        format!("stagelog: {cause:#}")
    } else {
        format!("stagelog: {name}: {cause:#}")
    }
}

/// The files imported since the last commit: they are committed together once there are
/// many, or they are large, or the first was a second ago (see [`Store::commit_batch`]).
#[derive(Default)]
struct Uncommitted {
    files: usize,
    bytes: u64,
    started: Option<Instant>,
}

impl Uncommitted {
    const FILES: usize = 500;
    const BYTES: u64 = 16 << 20;
    const SECONDS: f64 = 1.0;

    /// One more imported file; true when the batch should be committed.
    fn add(&mut self, bytes: u64) -> bool {
        self.files += 1;
        self.bytes += bytes;
        let started = *self.started.get_or_insert_with(Instant::now);
        self.files >= Self::FILES
            || self.bytes >= Self::BYTES
            || started.elapsed().as_secs_f64() >= Self::SECONDS
    }

    /// Commits the batch; returns how many imported files were lost when that failed.
    fn commit(&mut self, store: &mut Store, progress: &Progress) -> usize {
        let files = std::mem::take(self).files;
        match store.commit_batch() {
            Ok(()) => 0,
            Err(e) => {
                progress.line(&format!(
                    "stagelog: the last {files} files imported were not committed: {:#}",
                    anyhow::Error::from(e)
                ));
                files
            }
        }
    }
}

fn summary(c: &Counts) -> String {
    format!(
        "{} read, {} new, {} duplicate, {} merged, {} skipped, {} rejected; unknown names {}, error codes {}, fields {}",
        c.read,
        c.inserted,
        c.duplicate,
        c.merged,
        c.skipped,
        c.rejected,
        c.unknowns.names,
        c.unknowns.error_codes,
        c.unknowns.fields
    )
}

enum Outcome {
    Imported(Counts),
    /// The same content is in `imports` already.
    Unchanged {
        imported_as: String,
    },
}

/// Imports one file in a savepoint of its own. A file that is not JSON, or whose every record lacks
/// its stage or session, fails as a whole and writes nothing.
fn import_file(
    store: &mut Store,
    source: &Source,
    flags: &Flags,
    options: Options,
    progress: &mut Progress,
) -> Result<Outcome> {
    if !options.force {
        if let Some(imported_as) = store.imported_as(&source.content_sha256, &flags.to_json())? {
            return Ok(Outcome::Unchanged { imported_as });
        }
    }
    let mut presets = HashMap::new();
    loop {
        match import_pass(store, source, flags, &presets, options, progress)? {
            Pass::Done(counts) => return Ok(Outcome::Imported(counts)),
            Pass::Unchanged { imported_as } => return Ok(Outcome::Unchanged { imported_as }),
            // The savepoint was rolled back; read again knowing the page's context.
            Pass::Again { page, context } => {
                presets.insert(page, context);
            }
        }
    }
}

enum Pass {
    Done(Counts),
    Again {
        page: usize,
        context: PageContext,
    },
    /// Another import of the same content got the write lock first.
    Unchanged {
        imported_as: String,
    },
}

/// What one reading of a file has seen so far.
#[derive(Default)]
struct Tally {
    counts: Counts,
    /// The first few rejects, for the summary; all are stored.
    shown: Vec<String>,
    /// Records rejected only for want of a stage or session, and the first one's reason.
    missing_context: (usize, String),
}

impl Tally {
    fn reject(&mut self, writer: &FileWriter<'_>, reject: &Reject) -> Result<()> {
        self.counts.rejected += 1;
        if reject.missing_context {
            if self.missing_context.0 == 0 {
                self.missing_context.1.clone_from(&reject.reason);
            }
            self.missing_context.0 += 1;
        }
        if self.shown.len() < REJECTS_SHOWN {
            self.shown
                .push(format!("rejected {}: {}", reject.position, reject.reason));
        }
        writer.reject(reject)
    }

    fn record(&mut self, writer: &mut FileWriter<'_>, n: Normalized) -> Result<()> {
        self.counts.unknowns += n.unknowns;
        match &n.record {
            Record::Event(e) => {
                if writer.insert_event(e)? {
                    self.counts.inserted += 1;
                } else {
                    self.counts.duplicate += 1;
                }
            }
            Record::Participant(p) => {
                writer.merge_participant(p)?;
                self.counts.merged += 1;
            }
            Record::Session(s) => {
                writer.merge_session(s)?;
                self.counts.merged += 1;
            }
            Record::Recording(r) => {
                if writer.insert_recording(r)? {
                    self.counts.inserted += 1;
                } else {
                    self.counts.duplicate += 1;
                }
            }
            Record::Composition(c) => {
                if writer.insert_composition(c)? {
                    self.counts.inserted += 1;
                } else {
                    self.counts.duplicate += 1;
                }
            }
            Record::Skipped => self.counts.skipped += 1,
        }
        Ok(())
    }
}

/// What the reading thread hands the writing one: a record or a reject, with how far into the
/// file (in stored bytes) reading had got.
type Batch = Vec<(u64, std::result::Result<Normalized, Reject>)>;

/// Records per message between the threads: large enough that the hand-over costs nothing
/// per record, small enough that memory stays flat.
const BATCH: usize = 512;

/// Batches in flight between the threads.
const BATCHES_IN_FLIGHT: usize = 16;

/// Files smaller than this (as stored) are read on the writing thread, whole, before writing:
/// for a saved page of a hundred events a thread would cost more than it saves. Even
/// decompressed, such a file's records take a few MiB at most.
const SMALL_FILE: u64 = 256 * 1024;

/// Reads the file on one thread (decompress, scan, parse, normalize) while this one writes:
/// on two cores each side runs while the other waits for SQLite or the disk.
fn import_pass(
    store: &mut Store,
    source: &Source,
    flags: &Flags,
    presets: &HashMap<usize, PageContext>,
    options: Options,
    progress: &mut Progress,
) -> Result<Pass> {
    let bad_file = |reason: String| Error::BadFile {
        path: source.name.clone(),
        reason,
    };
    let context = flags.to_json();
    let mut writer = match store.begin_file(
        &source.name,
        &source.content_sha256,
        &context,
        !options.force,
    )? {
        Begun::Writing(writer) => writer,
        Begun::ImportedAs(imported_as) => return Ok(Pass::Unchanged { imported_as }),
    };
    let mut tally = Tally::default();
    let mut write = |batches: &mut dyn Iterator<Item = Batch>| -> Result<()> {
        for (consumed, normalized) in batches.flatten() {
            tally.counts.read += 1;
            progress.record(consumed);
            match normalized {
                Ok(n) => tally.record(&mut writer, n)?,
                Err(reject) => tally.reject(&writer, &reject)?,
            }
        }
        Ok(())
    };
    let (read, written) = if source.size < SMALL_FILE {
        let mut batches = Vec::new();
        let read = read_and_normalize(source, flags, presets, |batch| {
            batches.push(batch);
            Ok(())
        });
        (read, write(&mut batches.into_iter()))
    } else {
        std::thread::scope(|scope| {
            let (sender, receiver) = std::sync::mpsc::sync_channel::<Batch>(BATCHES_IN_FLIGHT);
            let reading = scope.spawn(move || {
                read_and_normalize(source, flags, presets, |batch| {
                    sender.send(batch).map_err(|_| ())
                })
            });
            let written = write(&mut receiver.into_iter());
            // Leaving the loop early dropped the receiver: the reading thread stops at its
            // next send.
            let read = reading.join().expect("the reading thread does not panic");
            (read, written)
        })
    };
    written?;
    let outline = match read? {
        Ok(outline) => outline,
        Err(Stop::Invalid(reason)) => return Err(bad_file(reason)),
        Err(Stop::LateContext { page, context }) => return Ok(Pass::Again { page, context }),
        // The writing side stopped, and said why above.
        Err(Stop::Sink(())) => unreachable!("the writer failed without an error"),
    };
    let Tally {
        mut counts,
        shown,
        missing_context,
    } = tally;
    let stored = counts.inserted + counts.duplicate + counts.merged;
    if stored == 0 && missing_context.0 > 0 {
        return Err(bad_file(format!(
            "nothing imported: no {} record says where it belongs ({})",
            outline.format, missing_context.1
        )));
    }
    if options.strict && counts.rejected > 0 {
        return Err(bad_file(format!(
            "--strict: {} records rejected, so nothing of the file was imported; the first: {}",
            counts.rejected,
            shown.first().map_or("", String::as_str)
        )));
    }
    counts.unknowns.fields += outline.unknown_page_keys;
    let mut warnings = Vec::new();
    for (i, (list, token)) in outline.next_tokens.iter().enumerate() {
        if outline.next_tokens[..i].contains(&(list, token.clone())) {
            warnings.push(format!(
                "warning: nextToken {token:?} ends two pages of this file: a page saved twice, \
                 or pagination that went round in a loop"
            ));
            continue;
        }
        // A page of events that added none is the same content saved again (gzipped, say),
        // whatever its bytes: no news.
        let same_events_again = *list == "events" && counts.inserted == 0;
        if let Some(other) = writer
            .note_page_token(list, token)?
            .filter(|_| !same_events_again)
        {
            warnings.push(format!(
                "warning: nextToken {token:?} also ends a page in {other}: a page saved twice \
                 with other content, or pagination that went round in a loop"
            ));
        }
    }
    if outline.lone_surrogates > 0 {
        warnings.push(format!(
            "warning: {} held a lone UTF-16 surrogate escape, replaced by U+FFFD",
            match outline.lone_surrogates {
                1 => "1 record".to_string(),
                n => format!("{n} records"),
            }
        ));
    }
    writer.commit(&counts, &outline.format, warnings.len())?;
    let more = (counts.rejected > REJECTS_SHOWN).then(|| {
        format!(
            "… and {} more; see the rejects table",
            counts.rejected - REJECTS_SHOWN
        )
    });
    for line in shown.iter().chain(&more).chain(&warnings) {
        progress.line(&format!("{}:   {line}", source.name));
    }
    Ok(Pass::Done(counts))
}

/// The reading side: every piece of the file, normalized, in order, handed on in batches until
/// the file ends or `hand_on` fails (the writer hung up).
fn read_and_normalize(
    source: &Source,
    flags: &Flags,
    presets: &HashMap<usize, PageContext>,
    mut hand_on: impl FnMut(Batch) -> std::result::Result<(), ()>,
) -> Result<std::result::Result<formats::Outline, Stop<()>>> {
    let consumed = Cell::new(0);
    let mut batch = Vec::with_capacity(BATCH);
    let read = formats::read(source.reader(&consumed)?, presets, |piece| {
        let normalized = match piece {
            Piece::Broken {
                position,
                reason,
                raw,
            } => Err(Reject {
                position: position.to_string(),
                reason,
                raw: String::from_utf8_lossy(raw).into_owned(),
                missing_context: false,
            }),
            Piece::Record(item) => normalize::normalize(&item, flags),
        };
        batch.push((consumed.get(), normalized));
        if batch.len() == BATCH {
            hand_on(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)))?;
        }
        Ok(())
    });
    if !batch.is_empty() {
        // A writer that hung up has its own error to report.
        let _ = hand_on(batch);
    }
    Ok(read)
}
