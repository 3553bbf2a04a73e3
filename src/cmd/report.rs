//! `stagelog report`: run a report from `queries/` (or the user's `--queries DIR`) with filters
//! bound as parameters; `--all --out DIR` writes every report for a nightly job, and `--fail-on`
//! turns rows that cross a threshold into exit code 5.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use rusqlite::types::Value;
use rusqlite::Connection;

use crate::cli::{Global, ReportArgs};
use crate::error::{Error, Result};
use crate::output::Format;
use crate::report::{self, Report};
use crate::store::Store;
use crate::timestamp;

/// The exit code when a `--fail-on` threshold was crossed.
pub const THRESHOLD_CROSSED: u8 = 5;

pub fn run(global: &Global, args: &ReportArgs) -> Result<u8> {
    let db = global.db_path();
    let catalog = report::catalog(args.queries.as_deref())?;
    if args.list {
        super::with_output(args.output.as_deref(), &db, |out| {
            for r in &catalog {
                let origin = if r.builtin { "" } else { " (yours)" };
                writeln!(out, "{:<20} {}{origin}", r.name, r.description())?;
            }
            Ok(())
        })?;
        return Ok(0);
    }
    let window = Window::from_args(args)?;
    let filters = Filters::from_args(args);
    let rules = args
        .fail_on
        .iter()
        .map(|r| Rule::parse(r, &catalog))
        .collect::<Result<Vec<_>>>()?;
    let store = Store::open_read_only(&db, global.busy_timeout())?;
    let conn = store.connection();
    crate::note!("window: {}", window.describe());

    match (&args.name, &args.out) {
        (Some(name), _) => {
            let report = find(&catalog, name)?;
            let [format] = args.format[..] else {
                return Err(Error::Usage(
                    "one --format for one report (several go with --all --out DIR)".into(),
                ));
            };
            let call = Call::new(report, &filters, &window)?;
            super::with_output(args.output.as_deref(), &db, |out| {
                call.write(conn, format, out).map(drop)
            })?;
        }
        (None, Some(dir)) => write_all(conn, &catalog, &filters, &args.format, &window, dir, &db)?,
        (None, None) => unreachable!("clap requires a name, --list or --all with --out"),
    }

    let mut crossed = false;
    for rule in &rules {
        let report = find(&catalog, &rule.report)?;
        let call = Call::new(report, &filters.for_report(report), &window)?;
        crossed |= rule.check(&call.rows(conn)?)?;
    }
    Ok(if crossed { THRESHOLD_CROSSED } else { 0 })
}

fn find<'c>(catalog: &'c [Report], name: &str) -> Result<&'c Report> {
    catalog.iter().find(|r| r.name == name).ok_or_else(|| {
        let known: Vec<_> = catalog.iter().map(|r| r.name.as_str()).collect();
        Error::Usage(format!(
            "no report named {name:?}; the reports are: {}",
            known.join(", ")
        ))
    })
}

/// The `[since, until)` window, as microseconds (either end open).
#[derive(Debug, Default, Clone, Copy)]
pub struct Window {
    pub since: Option<i64>,
    pub until: Option<i64>,
}

/// The filters a report call binds besides the window.
#[derive(Debug, Default, Clone)]
pub struct Filters {
    pub stage: Option<String>,
    pub session: Option<String>,
    pub participant: Option<String>,
    pub by: Option<String>,
}

impl Filters {
    /// The filters for one report of several (`--all`, `--fail-on`): `--by` goes only to the
    /// reports that take it, so `--all --by stage` still writes the others.
    fn for_report(&self, report: &Report) -> Filters {
        let mut filters = self.clone();
        if let Some(by) = &filters.by {
            if !report.by_values().contains(&by.as_str()) {
                filters.by = None;
            }
        }
        filters
    }

    fn from_args(args: &ReportArgs) -> Filters {
        Filters {
            stage: args.stage.clone(),
            session: args.session.clone(),
            participant: args.participant.clone(),
            by: args.by.clone(),
        }
    }
}

impl Window {
    fn from_args(args: &ReportArgs) -> Result<Window> {
        let now = now_us()?;
        let bound = |flag: &str, value: &Option<String>| -> Result<Option<(i64, Option<i64>)>> {
            value
                .as_deref()
                .map(|text| {
                    timestamp::parse_bound(text, now)
                        .map_err(|e| Error::Usage(format!("--{flag} {text:?}: {e}")))
                })
                .transpose()
        };
        let since = bound("since", &args.since)?;
        let until = bound("until", &args.until)?;
        Ok(Window {
            since: since.map(|(t, _)| t),
            until: until
                .map(|(t, _)| t)
                .or(since.and_then(|(_, implied)| implied)),
        })
    }

    fn describe(&self) -> String {
        let end = |t: Option<i64>, open: &str| t.map_or(open.to_string(), timestamp::format_micros);
        format!(
            "[{}, {})",
            end(self.since, "no start"),
            end(self.until, "no end")
        )
    }
}

/// "Now" for relative windows; `STAGELOG_NOW` (RFC 3339) fixes it, for replaying a night or
/// for tests.
fn now_us() -> Result<i64> {
    match std::env::var("STAGELOG_NOW") {
        Ok(text) => timestamp::parse_rfc3339(&text)
            .map_err(|e| Error::Usage(format!("STAGELOG_NOW {text:?}: {e}"))),
        Err(_) => Ok(chrono::Utc::now().timestamp_micros()),
    }
}

/// One report with its parameters bound, ready to run.
pub struct Call<'r> {
    report: &'r Report,
    label: String,
    params: BTreeMap<String, Value>,
    /// Leading columns left out: `dimension, value` of a report run without `--by`.
    skip: usize,
}

impl<'r> Call<'r> {
    pub fn new(report: &'r Report, args: &Filters, window: &Window) -> Result<Call<'r>> {
        let text = |value: &Option<String>| value.clone().map_or(Value::Null, Value::Text);
        let time = |t: Option<i64>| t.map_or(Value::Null, Value::Integer);
        let accepted = report.by_values();
        let by = match &args.by {
            Some(by) if !accepted.contains(&by.as_str()) => {
                return Err(Error::Usage(if accepted.is_empty() {
                    format!("report {} takes no --by", report.name)
                } else {
                    format!(
                        "report {} takes --by {}, not {by:?}",
                        report.name,
                        accepted.join("|")
                    )
                }))
            }
            Some(by) => Some(by.clone()),
            None => report.default_by().map(str::to_string),
        };
        for required in report.requires() {
            let given = match required {
                "session" => args.session.is_some(),
                "participant" => args.participant.is_some(),
                "stage" => args.stage.is_some(),
                _ => true,
            };
            if !given {
                return Err(Error::Usage(format!(
                    "report {} needs --{required}",
                    report.name
                )));
            }
        }
        let skip = if !accepted.is_empty() && by.is_none() {
            2
        } else {
            0
        };
        Ok(Call {
            report,
            label: format!("report {}", report.name),
            params: BTreeMap::from([
                ("stage".to_string(), text(&args.stage)),
                ("session".to_string(), text(&args.session)),
                ("participant".to_string(), text(&args.participant)),
                ("since".to_string(), time(window.since)),
                ("until".to_string(), time(window.until)),
                ("by".to_string(), by.map_or(Value::Null, Value::Text)),
            ]),
            skip,
        })
    }

    pub fn write(&self, conn: &Connection, format: Format, out: &mut dyn Write) -> Result<usize> {
        report::run(
            conn,
            &self.label,
            &self.report.sql,
            &self.params,
            self.skip,
            format,
            out,
        )
    }

    fn rows(&self, conn: &Connection) -> Result<report::Rows> {
        report::collect(conn, &self.label, &self.report.sql, &self.params, self.skip)
    }
}

/// `--all --out DIR`: every report that can run with the given filters, in every format, and
/// an index. File names depend only on report and format, so two nights diff cleanly.
fn write_all(
    conn: &Connection,
    catalog: &[Report],
    filters: &Filters,
    formats: &[Format],
    window: &Window,
    dir: &Path,
    db: &Path,
) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|source| Error::Write {
        path: dir.display().to_string(),
        source,
    })?;
    let mut index = Vec::new();
    for report in catalog {
        let call = match Call::new(report, &filters.for_report(report), window) {
            Ok(call) => call,
            // Reports that need a parameter the nightly run does not give (timeline) wait.
            Err(Error::Usage(why)) => {
                crate::note!("skipped {}: {why}", report.name);
                continue;
            }
            Err(e) => return Err(e),
        };
        let mut rows = 0;
        let mut files = Vec::new();
        for &format in formats {
            let file = format!("{}.{}", report.name, format.extension());
            super::with_output(Some(&dir.join(&file)), db, |out| {
                rows = call.write(conn, format, out)?;
                Ok(())
            })?;
            files.push(file);
        }
        index.push((report.name.as_str(), report.description(), rows, files));
    }
    let json = serde_json::json!({
        "window": {
            "since": window.since.map(timestamp::format_micros),
            "until": window.until.map(timestamp::format_micros),
        },
        "database": db.display().to_string(),
        "reports": index.iter().map(|(name, description, rows, files)| serde_json::json!({
            "name": name, "description": description, "rows": rows, "files": files,
        })).collect::<Vec<_>>(),
    });
    super::with_output(Some(&dir.join("index.json")), db, |out| {
        writeln!(out, "{json:#}")?;
        Ok(())
    })?;
    super::with_output(Some(&dir.join("index.md")), db, |out| {
        writeln!(out, "# stagelog reports\n")?;
        writeln!(out, "- window: {}", window.describe())?;
        writeln!(out, "- database: {}\n", db.display())?;
        writeln!(
            out,
            "| report | rows | files | description |\n|---|---:|---|---|"
        )?;
        for (name, description, rows, files) in &index {
            let links: Vec<String> = files.iter().map(|f| format!("[{f}]({f})")).collect();
            writeln!(
                out,
                "| {name} | {rows} | {} | {description} |",
                links.join(" ")
            )?;
        }
        Ok(())
    })
}

/// A `--fail-on` threshold: `REPORT.COLUMN OP NUMBER`, a bare column meaning the daily report.
#[derive(Debug, Clone, PartialEq)]
struct Rule {
    text: String,
    report: String,
    column: String,
    op: &'static str,
    limit: f64,
}

impl Rule {
    fn parse(text: &str, catalog: &[Report]) -> Result<Rule> {
        let bad = |why: &str| Error::Usage(format!("--fail-on {text:?}: {why}"));
        let (at, op) = ["<=", ">=", "<", ">"]
            .iter()
            .find_map(|op| text.find(op).map(|at| (at, *op)))
            .ok_or_else(|| bad("expected <, <=, > or >= between a column and a number"))?;
        let (target, limit) = (text[..at].trim(), text[at + op.len()..].trim());
        let limit: f64 = limit
            .parse()
            .map_err(|_| bad("the threshold must be a number"))?;
        let (report, column) = match target.rsplit_once('.') {
            Some((report, column)) => (report, column),
            None => ("daily", target),
        };
        find(catalog, report)?;
        if column.is_empty() {
            return Err(bad("name a column"));
        }
        Ok(Rule {
            text: text.to_string(),
            report: report.to_string(),
            column: column.to_string(),
            op,
            limit,
        })
    }

    fn crosses(&self, value: f64) -> bool {
        match self.op {
            "<" => value < self.limit,
            "<=" => value <= self.limit,
            ">" => value > self.limit,
            _ => value >= self.limit,
        }
    }

    /// Prints each row that crosses the threshold; true when any does. NULL never crosses.
    fn check(&self, rows: &report::Rows) -> Result<bool> {
        let at = rows
            .columns
            .iter()
            .position(|c| *c == self.column)
            .ok_or_else(|| {
                Error::Usage(format!(
                    "--fail-on {:?}: report {} has no column {:?}",
                    self.text, self.report, self.column
                ))
            })?;
        let mut crossed = false;
        for row in &rows.rows {
            let value = match row[at] {
                Value::Integer(i) => i as f64,
                Value::Real(f) => f,
                _ => continue,
            };
            if self.crosses(value) {
                crossed = true;
                crate::note!(
                    "threshold crossed: {}: {}",
                    self.text,
                    describe_row(rows, row)
                );
            }
        }
        Ok(crossed)
    }
}

/// The row's text columns (its identity: stage, session, day, …) and the values.
fn describe_row(rows: &report::Rows, row: &[Value]) -> String {
    rows.columns
        .iter()
        .zip(row)
        .filter_map(|(c, v)| match v {
            Value::Text(t) => Some(format!("{c}={t}")),
            _ => None,
        })
        .take(4)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_name_a_report_column_or_a_daily_one() {
        let catalog = report::catalog(None).unwrap();
        let rule = Rule::parse("session-quality.join_success_rate<0.95", &catalog).unwrap();
        assert_eq!(
            (
                rule.report.as_str(),
                rule.column.as_str(),
                rule.op,
                rule.limit
            ),
            ("session-quality", "join_success_rate", "<", 0.95)
        );
        assert!(rule.crosses(0.9) && !rule.crosses(0.95));
        let rule = Rule::parse("error_rate >= 0.05", &catalog).unwrap();
        assert_eq!((rule.report.as_str(), rule.op), ("daily", ">="));
        assert!(rule.crosses(0.05));
        assert!(Rule::parse("error_rate=0.05", &catalog).is_err());
        assert!(Rule::parse("nosuch.x>1", &catalog).is_err());
        assert!(Rule::parse("error_rate>lots", &catalog).is_err());
    }
}
