//! One module per subcommand, each with a `run` function.

pub mod demo;
pub mod import;
pub mod migrate;
pub mod report;
pub mod sql;

use std::io::{BufWriter, Write};
use std::path::Path;

use crate::error::{Error, Result};

/// Runs `body` on the output: stdout, or the `-o` file. A file is written beside its final place
/// and renamed into it only when `body` succeeds, so a failed query never truncates what was
/// there; the database itself is never a valid output.
fn with_output(
    path: Option<&Path>,
    db: &Path,
    body: impl FnOnce(&mut dyn Write) -> Result<()>,
) -> Result<()> {
    let Some(path) = path else {
        let mut out = BufWriter::new(std::io::stdout().lock());
        body(&mut out)?;
        return out.flush().map_err(Error::Output);
    };
    let write_error = |source| Error::Write {
        path: path.display().to_string(),
        source,
    };
    let same_file = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if same_file(path, db) {
        return Err(Error::Usage(format!(
            "-o {} is the database itself",
            path.display()
        )));
    }
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let temp = tempfile::NamedTempFile::new_in(dir).map_err(write_error)?;
    let mut out = BufWriter::new(temp);
    body(&mut out).map_err(|e| match e {
        Error::Output(source) => write_error(source),
        e => e,
    })?;
    let temp = out.into_inner().map_err(|e| write_error(e.into_error()))?;
    temp.persist(path).map_err(|e| write_error(e.error))?;
    Ok(())
}
