//! `stagelog report`: run a canned report from `queries/` with filters bound as parameters.

use std::collections::BTreeMap;

use rusqlite::types::Value;

use crate::cli::{Global, ReportArgs};
use crate::error::{Error, Result};
use crate::report;
use crate::store::Store;
use crate::timestamp;

pub fn run(global: &Global, args: &ReportArgs) -> Result<u8> {
    let db = global.db_path();
    if args.list {
        super::with_output(args.output.output.as_deref(), &db, |out| {
            for r in report::all() {
                writeln!(out, "{:<18} {}", r.name, r.description())?;
            }
            Ok(())
        })?;
        return Ok(0);
    }
    let name = args.name.as_deref().unwrap_or_default();
    let report = report::find(name).ok_or_else(|| {
        let known: Vec<_> = report::all().map(|r| r.name).collect();
        Error::Usage(format!(
            "no report named {name:?}; the reports are: {}",
            known.join(", ")
        ))
    })?;
    let params = filters(args)?;
    let store = Store::open_read_only(&db, global.busy_timeout())?;
    super::with_output(args.output.output.as_deref(), &db, |out| {
        report::run(
            store.connection(),
            &format!("report {}", report.name),
            report.sql,
            &params,
            args.output.format,
            out,
        )
        .map(drop)
    })?;
    Ok(0)
}

/// The filters as the parameters every canned report takes; absent ones are NULL.
pub fn filters(args: &ReportArgs) -> Result<BTreeMap<String, Value>> {
    let time = |flag: &str, value: &Option<String>| -> Result<Value> {
        match value {
            None => Ok(Value::Null),
            Some(text) => timestamp::parse_rfc3339(text)
                .map(Value::Integer)
                .map_err(|e| Error::Usage(format!("--{flag} {text:?}: {e}"))),
        }
    };
    let text = |value: &Option<String>| value.clone().map_or(Value::Null, Value::Text);
    Ok(BTreeMap::from([
        ("stage".to_string(), text(&args.stage)),
        ("session".to_string(), text(&args.session)),
        ("since".to_string(), time("since", &args.since)?),
        ("until".to_string(), time("until", &args.until)?),
    ]))
}
