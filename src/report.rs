//! Reporting: the canned `.sql` reports embedded from `queries/`, and running any read-only
//! query with named parameters into an output sink.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use rusqlite::types::Value;
use rusqlite::Connection;

use crate::error::{Error, Result};
use crate::output::{self, Format};

/// One report: a canned one from `queries/`, or a user's from `--queries DIR`.
#[derive(Debug, Clone)]
pub struct Report {
    /// The file name without `.sql`.
    pub name: String,
    pub sql: Cow<'static, str>,
    pub builtin: bool,
}

const QUERIES: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/queries.rs"));

/// Every canned report, and the user's `.sql` files in `extra` (if given), sorted by name. A
/// user's report may not take a built-in name: that would change what a nightly job means.
pub fn catalog(extra: Option<&Path>) -> Result<Vec<Report>> {
    let mut reports: Vec<Report> = QUERIES
        .iter()
        .map(|&(name, sql)| Report {
            name: name.to_string(),
            sql: Cow::Borrowed(sql),
            builtin: true,
        })
        .collect();
    if let Some(dir) = extra {
        let read_error = |source| Error::Read {
            path: dir.display().to_string(),
            source,
        };
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .map_err(read_error)?
            .map(|e| e.map(|e| e.path()))
            .collect::<std::io::Result<_>>()
            .map_err(read_error)?;
        files.sort();
        for path in files
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        {
            let name = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            if reports.iter().any(|r| r.name == name) {
                return Err(Error::Usage(format!(
                    "{}: a built-in report is named {name:?}; rename the file",
                    path.display()
                )));
            }
            let sql = std::fs::read_to_string(path).map_err(|source| Error::Read {
                path: path.display().to_string(),
                source,
            })?;
            reports.push(Report {
                name,
                sql: Cow::Owned(sql),
                builtin: false,
            });
        }
    }
    reports.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(reports)
}

impl Report {
    /// The `-- description:` line of the file's header.
    pub fn description(&self) -> &str {
        header(&self.sql, "description").unwrap_or("")
    }

    /// Parameters the report cannot run without (`-- requires: session`).
    pub fn requires(&self) -> Vec<&str> {
        words(header(&self.sql, "requires"))
    }

    /// The `--by` values the report accepts (`-- by: sdk os …`); empty when it takes none.
    pub fn by_values(&self) -> Vec<&str> {
        words(header(&self.sql, "by"))
    }

    /// The `--by` value used when none is given (`-- default-by: day`).
    pub fn default_by(&self) -> Option<&str> {
        header(&self.sql, "default-by")
    }
}

fn words(line: Option<&str>) -> Vec<&str> {
    line.map(|l| l.split_whitespace().collect())
        .unwrap_or_default()
}

fn header<'s>(sql: &'s str, key: &str) -> Option<&'s str> {
    sql.lines()
        .map_while(|l| l.strip_prefix("--"))
        .find_map(|l| l.trim().strip_prefix(key)?.strip_prefix(':'))
        .map(str::trim)
}

/// A query's result, kept whole (for thresholds).
pub struct Rows {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
}

/// Runs a report's query and keeps its rows, leaving out its first `skip` columns.
pub fn collect(
    conn: &Connection,
    label: &str,
    sql: &str,
    params: &BTreeMap<String, Value>,
    skip: usize,
) -> Result<Rows> {
    let mut stmt = prepare(conn, label, sql, params)?;
    let columns = shown_columns(&stmt, skip);
    let width = columns.len() + skip;
    let mut rows = Vec::new();
    let mut cursor = stmt.raw_query();
    while let Some(row) = cursor.next().map_err(|e| query_error(label, e))? {
        let values = (skip..width)
            .map(|i| row.get::<_, Value>(i))
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| query_error(label, e))?;
        rows.push(values);
    }
    Ok(Rows { columns, rows })
}

/// The statement's column names but its first `skip`.
fn shown_columns(stmt: &rusqlite::Statement<'_>, skip: usize) -> Vec<String> {
    stmt.column_names().skip(skip).map(str::to_string).collect()
}

fn query_error(label: &str, source: rusqlite::Error) -> Error {
    Error::Query {
        name: label.to_string(),
        source,
    }
}

/// Prepares one read-only query and binds each `:name` it uses from `params`.
fn prepare<'c>(
    conn: &'c Connection,
    label: &str,
    sql: &str,
    params: &BTreeMap<String, Value>,
) -> Result<rusqlite::Statement<'c>> {
    if sql.trim().is_empty() {
        return Err(Error::Usage(format!("{label}: no statement given")));
    }
    let mut stmt = conn.prepare(sql).map_err(|e| match e {
        rusqlite::Error::MultipleStatement => {
            Error::Usage(format!("{label}: give one statement at a time"))
        }
        e => query_error(label, e),
    })?;
    // BEGIN, ATTACH and the like are "read-only" to SQLite but return no rows: not queries.
    if !stmt.readonly() || stmt.column_count() == 0 {
        return Err(Error::Usage(format!(
            "{label}: only read-only queries that return rows run here (SELECT, WITH, \
             read-only PRAGMA)"
        )));
    }
    for index in 1..=stmt.parameter_count() {
        let name = match stmt.parameter_name(index) {
            Some(n) if !n.starts_with('?') => n.trim_start_matches([':', '@', '$']).to_string(),
            _ => {
                return Err(Error::Usage(format!(
                    "{label}: positional parameters (?) are not supported; name them (:name)"
                )))
            }
        };
        let value = params.get(&name).ok_or_else(|| {
            Error::Usage(format!(
                "{label}: no value for parameter :{name} (give -p {name} VALUE)"
            ))
        })?;
        stmt.raw_bind_parameter(index, value)
            .map_err(|e| query_error(label, e))?;
    }
    Ok(stmt)
}

/// Runs one read-only query and writes its rows, leaving out its first `skip` columns.
/// Returns the number of rows written.
pub fn run(
    conn: &Connection,
    label: &str,
    sql: &str,
    params: &BTreeMap<String, Value>,
    skip: usize,
    format: Format,
    out: &mut dyn Write,
) -> Result<usize> {
    let mut stmt = prepare(conn, label, sql, params)?;
    let columns = shown_columns(&stmt, skip);
    let width = columns.len() + skip;
    let mut rows = stmt.raw_query();
    // The first row is fetched before anything is written: a query that fails at once leaves
    // no stray header behind.
    let mut next = rows.next().map_err(|e| query_error(label, e))?;
    let mut sink = output::sink(format, columns, out)?;
    let mut count = 0;
    while let Some(row) = next {
        let values = (skip..width)
            .map(|i| row.get_ref(i))
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| query_error(label, e))?;
        sink.row(&values)?;
        count += 1;
        next = rows.next().map_err(|e| query_error(label, e))?;
    }
    sink.finish()?;
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_report_has_a_description() {
        let reports = catalog(None).unwrap();
        assert!(reports.iter().any(|r| r.name == "session-quality"));
        for r in &reports {
            assert!(!r.description().is_empty(), "{} has no description", r.name);
        }
    }

    #[test]
    fn binds_named_parameters_and_refuses_writes() {
        let conn = Connection::open_in_memory().unwrap();
        let params = BTreeMap::from([("x".to_string(), Value::Integer(41))]);
        let mut out = Vec::new();
        run(
            &conn,
            "t",
            "SELECT :x + 1 AS y",
            &params,
            0,
            Format::Csv,
            &mut out,
        )
        .unwrap();
        assert_eq!(out, b"y\n42\n");
        let err = run(
            &conn,
            "t",
            "CREATE TABLE t (a)",
            &params,
            0,
            Format::Csv,
            &mut out,
        );
        assert!(matches!(err, Err(Error::Usage(_))));
        let err = run(
            &conn,
            "t",
            "SELECT :nope",
            &params,
            0,
            Format::Csv,
            &mut out,
        );
        assert!(matches!(err, Err(Error::Usage(m)) if m.contains("-p nope")));
    }
}
