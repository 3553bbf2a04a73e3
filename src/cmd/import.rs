//! `stagelog import`: files → formats → normalize → store, one transaction per file, with a
//! summary per file and in total on stderr.

use std::collections::HashMap;

use crate::cli::{Global, ImportArgs};
use crate::error::{Error, Result};
use crate::formats::{self, PageContext, Piece, Source, Stop};
use crate::normalize::{self, Flags, Normalized, Record, Reject};
use crate::store::{Counts, FileWriter, Store};

/// How many reject reasons a file's summary shows; all are kept in the `rejects` table.
const REJECTS_SHOWN: usize = 5;

pub fn run(global: &Global, args: &ImportArgs) -> Result<u8> {
    let flags = Flags {
        stage_arn: args.stage_arn.clone(),
        session_id: args.session_id.clone(),
        participant_id: args.participant_id.clone(),
    };
    let files = formats::expand_paths(&args.paths)?;
    if files.is_empty() {
        crate::note!(
            "nothing to import: no files under {}",
            args.paths.join(", ")
        );
    }
    let mut store = Store::open_for_writing(&global.db_path(), global.busy_timeout())?;
    let inputs = files
        .iter()
        .map(|path| Source::open(path).map(|source| (source, flags.clone())));
    Ok(import_all(&mut store, inputs))
}

/// Imports each input in turn, printing summaries; returns the exit code (1 when a file failed
/// as a whole, else 3 when records were rejected, else 0).
pub fn import_all(store: &mut Store, inputs: impl Iterator<Item = Result<(Source, Flags)>>) -> u8 {
    let mut total = Counts::default();
    let (mut files, mut failed) = (0, 0);
    for input in inputs {
        files += 1;
        let outcome = input.and_then(|(source, flags)| {
            let counts = import_file(store, &source, &flags)?;
            Ok((source.name, counts))
        });
        match outcome {
            Ok((name, counts)) => {
                crate::note!("{name}: {}", summary(&counts));
                total += counts;
            }
            Err(e) => {
                failed += 1;
                crate::note!("stagelog: {:#}", anyhow::Error::from(e));
            }
        }
    }
    if files > 1 {
        let failures = if failed > 0 {
            format!(", {failed} failed")
        } else {
            String::new()
        };
        crate::note!("total, {files} files{failures}: {}", summary(&total));
    }
    if failed > 0 {
        1
    } else if total.rejected > 0 {
        3
    } else {
        0
    }
}

fn summary(c: &Counts) -> String {
    format!(
        "{} read, {} new, {} duplicate, {} merged, {} rejected; unknown names {}, error codes {}, fields {}",
        c.read,
        c.inserted,
        c.duplicate,
        c.merged,
        c.rejected,
        c.unknowns.names,
        c.unknowns.error_codes,
        c.unknowns.fields
    )
}

/// Imports one file in one transaction. A file that is not JSON, or whose every record lacks
/// its stage or session, fails as a whole and writes nothing.
fn import_file(store: &mut Store, source: &Source, flags: &Flags) -> Result<Counts> {
    let mut presets = HashMap::new();
    loop {
        match import_pass(store, source, flags, &presets)? {
            Pass::Done(counts) => return Ok(counts),
            // The transaction was rolled back; read again knowing the page's context.
            Pass::Again { page, context } => {
                presets.insert(page, context);
            }
        }
    }
}

enum Pass {
    Done(Counts),
    Again { page: usize, context: PageContext },
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
        }
        Ok(())
    }
}

fn import_pass(
    store: &mut Store,
    source: &Source,
    flags: &Flags,
    presets: &HashMap<usize, PageContext>,
) -> Result<Pass> {
    let bad_file = |reason: String| Error::BadFile {
        path: source.name.clone(),
        reason,
    };
    let mut writer = store.begin_file(&source.name, &source.content_sha256)?;
    let mut tally = Tally::default();
    let read = formats::read(source.reader()?, presets, |piece| {
        tally.counts.read += 1;
        match piece {
            Piece::Broken {
                position,
                reason,
                raw,
            } => {
                let reject = Reject {
                    position,
                    reason,
                    raw: String::from_utf8_lossy(raw).into_owned(),
                    missing_context: false,
                };
                tally.reject(&writer, &reject)
            }
            Piece::Record(item) => match normalize::normalize(&item, flags) {
                Ok(n) => tally.record(&mut writer, n),
                Err(reject) => tally.reject(&writer, &reject),
            },
        }
    });
    let outline = match read {
        Ok(outline) => outline,
        Err(Stop::Invalid(reason)) => return Err(bad_file(reason)),
        Err(Stop::LateContext { page, context }) => return Ok(Pass::Again { page, context }),
        Err(Stop::Sink(e)) => return Err(e),
    };
    let Tally {
        mut counts,
        shown,
        missing_context,
    } = tally;
    if counts.read > 0 && missing_context.0 == counts.read {
        return Err(bad_file(format!(
            "nothing imported: no {} record says where it belongs ({})",
            outline.format, missing_context.1
        )));
    }
    counts.unknowns.fields += outline.unknown_page_keys;
    writer.commit(&counts, &outline.format)?;
    for line in shown {
        crate::note!("{}:   {line}", source.name);
    }
    if counts.rejected > REJECTS_SHOWN {
        crate::note!(
            "{}:   … and {} more; see the rejects table",
            source.name,
            counts.rejected - REJECTS_SHOWN
        );
    }
    if outline.lone_surrogates > 0 {
        crate::note!(
            "{}:   warning: {} records held a lone UTF-16 surrogate escape, replaced by U+FFFD",
            source.name,
            outline.lone_surrogates
        );
    }
    Ok(Pass::Done(counts))
}
