//! `stagelog sql`: ad-hoc read-only SQL with named parameters, in any output format.

use std::collections::BTreeMap;
use std::path::Path;

use rusqlite::types::Value;

use crate::cli::{Global, SqlArgs};
use crate::error::{Error, Result};
use crate::report;
use crate::store::Store;

pub fn run(global: &Global, args: &SqlArgs) -> Result<u8> {
    let (label, sql) = query_text(&args.query)?;
    let params: BTreeMap<String, Value> = args
        .params
        .chunks(2)
        .map(|pair| {
            let name = pair[0].trim_start_matches([':', '@', '$']).to_string();
            (name, Value::Text(pair[1].clone()))
        })
        .collect();
    let db = global.db_path();
    let store = Store::open_read_only(&db, global.busy_timeout())?;
    super::with_output(args.output.output.as_deref(), &db, |out| {
        report::run(
            store.connection(),
            &label,
            &sql,
            &params,
            0,
            args.output.format,
            out,
        )
        .map(drop)
    })?;
    Ok(0)
}

/// The statement itself, or the contents of the `.sql` file it names.
fn query_text(query: &str) -> Result<(String, String)> {
    let path = Path::new(query);
    let names_a_file =
        !query.contains(char::is_whitespace) && (query.ends_with(".sql") || path.is_file());
    if names_a_file {
        let sql = std::fs::read_to_string(path).map_err(|source| Error::Read {
            path: query.to_string(),
            source,
        })?;
        Ok((query.to_string(), sql))
    } else {
        Ok(("the statement".to_string(), query.to_string()))
    }
}
