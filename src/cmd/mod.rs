//! One module per subcommand, each with a `run` function.

pub mod demo;
pub mod import;
pub mod migrate;
pub mod report;
pub mod sql;

use std::io::Write;
use std::path::Path;

use crate::error::{Error, Result};

/// Opens the output: the file given with `-o`, or a buffered stdout.
fn open_output(path: Option<&Path>) -> Result<Box<dyn Write>> {
    Ok(match path {
        Some(p) => Box::new(std::io::BufWriter::new(std::fs::File::create(p).map_err(
            |source| Error::Read {
                path: p.display().to_string(),
                source,
            },
        )?)),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    })
}
