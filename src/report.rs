//! Reporting: the canned `.sql` reports embedded from `queries/`, and running any read-only
//! query with named parameters into an output sink.

use std::collections::BTreeMap;
use std::io::Write;

use rusqlite::types::Value;
use rusqlite::Connection;

use crate::error::{Error, Result};
use crate::output::{self, Format};

/// One canned report: its file name without `.sql`, and its text.
pub struct Report {
    pub name: &'static str,
    pub sql: &'static str,
}

const QUERIES: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/queries.rs"));

/// Every canned report, sorted by name.
pub fn all() -> impl Iterator<Item = Report> {
    QUERIES.iter().map(|&(name, sql)| Report { name, sql })
}

pub fn find(name: &str) -> Option<Report> {
    all().find(|r| r.name == name)
}

impl Report {
    /// The `-- description:` line of the file's header.
    pub fn description(&self) -> &'static str {
        header(self.sql, "description").unwrap_or("")
    }
}

fn header<'s>(sql: &'s str, key: &str) -> Option<&'s str> {
    sql.lines()
        .map_while(|l| l.strip_prefix("--"))
        .find_map(|l| l.trim().strip_prefix(key)?.strip_prefix(':'))
        .map(str::trim)
}

/// Runs one read-only statement, binding each `:name` it uses from `params`, and writes the
/// rows. Returns the number of rows written.
pub fn run(
    conn: &Connection,
    label: &str,
    sql: &str,
    params: &BTreeMap<String, Value>,
    format: Format,
    out: &mut dyn Write,
) -> Result<usize> {
    let query_error = |source| Error::Query {
        name: label.to_string(),
        source,
    };
    if sql.trim().is_empty() {
        return Err(Error::Usage(format!("{label}: no statement given")));
    }
    let mut stmt = conn.prepare(sql).map_err(|e| match e {
        rusqlite::Error::MultipleStatement => {
            Error::Usage(format!("{label}: give one statement at a time"))
        }
        e => query_error(e),
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
        stmt.raw_bind_parameter(index, value).map_err(query_error)?;
    }
    let columns: Vec<String> = stmt.column_names().map(str::to_string).collect();
    let width = columns.len();
    let mut rows = stmt.raw_query();
    // The first row is fetched before anything is written: a query that fails at once leaves
    // no stray header behind.
    let mut next = rows.next().map_err(query_error)?;
    let mut sink = output::sink(format, columns, out)?;
    let mut count = 0;
    while let Some(row) = next {
        let values = (0..width)
            .map(|i| row.get_ref(i))
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(query_error)?;
        sink.row(&values)?;
        count += 1;
        next = rows.next().map_err(query_error)?;
    }
    sink.finish()?;
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_report_has_a_description() {
        let names: Vec<_> = all().map(|r| r.name).collect();
        assert!(names.contains(&"session-quality"), "{names:?}");
        for r in all() {
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
            Format::Csv,
            &mut out,
        );
        assert!(matches!(err, Err(Error::Usage(_))));
        let err = run(&conn, "t", "SELECT :nope", &params, Format::Csv, &mut out);
        assert!(matches!(err, Err(Error::Usage(m)) if m.contains("-p nope")));
    }
}
