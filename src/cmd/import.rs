//! `stagelog import`: files → formats → normalize → store, one transaction per file, with a
//! summary per file and in total on stderr.

use sha2::{Digest, Sha256};

use crate::cli::{Global, ImportArgs};
use crate::error::{Error, Result};
use crate::formats::{self, Input};
use crate::normalize::{self, Flags, Record};
use crate::store::{Counts, FileInfo, Store};

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
        .map(|path| formats::read_input(path).map(|input| (input, flags.clone())));
    Ok(import_all(&mut store, inputs))
}

/// Imports each input in turn, printing summaries; returns the exit code (1 when a file failed
/// as a whole, else 3 when records were rejected, else 0).
pub fn import_all(store: &mut Store, inputs: impl Iterator<Item = Result<(Input, Flags)>>) -> u8 {
    let mut total = Counts::default();
    let (mut files, mut failed) = (0, 0);
    for input in inputs {
        files += 1;
        let outcome = input.and_then(|(input, flags)| {
            let counts = import_file(store, &input, &flags)?;
            Ok((input.name, counts))
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
fn import_file(store: &mut Store, input: &Input, flags: &Flags) -> Result<Counts> {
    let bad_file = |reason: String| Error::BadFile {
        path: input.name.clone(),
        reason,
    };
    let parsed = formats::parse(&input.bytes).map_err(bad_file)?;
    let info = FileInfo {
        path: input.name.clone(),
        content_sha256: Sha256::digest(&input.bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
        format: parsed.format.clone(),
    };
    let mut writer = store.begin_file(&info)?;
    let mut counts = Counts::default();
    let mut shown = Vec::new();
    // Records rejected only for want of a stage or session, and the first one's reason.
    let mut missing_context = (0, String::new());
    for item in &parsed.items {
        counts.read += 1;
        match normalize::normalize(item, flags) {
            Ok(n) => {
                counts.unknowns += n.unknowns;
                match &n.record {
                    Record::Event(e) => {
                        if writer.insert_event(e)? {
                            counts.inserted += 1;
                        } else {
                            counts.duplicate += 1;
                        }
                    }
                    Record::Participant(p) => {
                        writer.merge_participant(p)?;
                        counts.merged += 1;
                    }
                    Record::Session(s) => {
                        writer.merge_session(s)?;
                        counts.merged += 1;
                    }
                }
            }
            Err(reject) => {
                counts.rejected += 1;
                if reject.missing_context {
                    if missing_context.0 == 0 {
                        missing_context.1.clone_from(&reject.reason);
                    }
                    missing_context.0 += 1;
                }
                writer.reject(&reject)?;
                if shown.len() < REJECTS_SHOWN {
                    shown.push(format!("  rejected {}: {}", reject.position, reject.reason));
                }
            }
        }
    }
    if counts.read > 0 && missing_context.0 == counts.read {
        return Err(bad_file(format!(
            "nothing imported: no {} record says where it belongs ({})",
            parsed.format, missing_context.1
        )));
    }
    writer.commit(&counts)?;
    for line in shown {
        crate::note!("{}: {line}", input.name);
    }
    if counts.rejected > REJECTS_SHOWN {
        crate::note!(
            "{}:   … and {} more; see the rejects table",
            input.name,
            counts.rejected - REJECTS_SHOWN
        );
    }
    Ok(counts)
}
