//! Reading input: bytes from files, directories or stdin (gzip detected by its magic bytes), then
//! the JSON shapes AWS tools write, recognized from content and never from the file name.
//!
//! A file is a stream of top-level JSON values: one response document, NDJSON, a JSON array, or
//! values written back to back. Each value becomes one or more [`Item`]s with a position a user
//! can find again (`line 3`, `line 1: $.events[2]`).

use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// One input's bytes, already decompressed, with the name it is reported under.
pub struct Input {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// Expands the command-line paths: `-` is stdin, a directory is walked recursively in sorted
/// order so that runs are deterministic.
pub fn expand_paths(paths: &[String]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        if path == "-" {
            files.push(PathBuf::from("-"));
        } else {
            walk(Path::new(path), &mut files)?;
        }
    }
    Ok(files)
}

fn walk(path: &Path, files: &mut Vec<PathBuf>) -> Result<()> {
    let read_error = |source| Error::Read {
        path: path.display().to_string(),
        source,
    };
    if !path.is_dir() {
        // Missing files are reported when read, with the reason the OS gives.
        files.push(path.to_path_buf());
        return Ok(());
    }
    let mut entries = std::fs::read_dir(path)
        .map_err(read_error)?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(read_error)?;
    entries.sort();
    for entry in entries {
        let hidden = entry
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        // A link to a directory can loop back on the tree; links to files are read.
        let linked_dir = entry.is_symlink() && entry.is_dir();
        if !hidden && !linked_dir {
            walk(&entry, files)?;
        }
    }
    Ok(())
}

/// Reads one path (or stdin for `-`) and undoes gzip compression.
pub fn read_input(path: &Path) -> Result<Input> {
    let name = if path.as_os_str() == "-" {
        "<stdin>".to_string()
    } else {
        path.display().to_string()
    };
    let read_error = |source| Error::Read {
        path: name.clone(),
        source,
    };
    let mut raw = Vec::new();
    if path.as_os_str() == "-" {
        std::io::stdin().read_to_end(&mut raw).map_err(read_error)?;
    } else {
        raw = std::fs::read(path).map_err(read_error)?;
    }
    let bytes = decompress(raw).map_err(read_error)?;
    Ok(Input { name, bytes })
}

/// gzip by its magic bytes; every member of a multi-member file is read.
pub fn decompress(raw: Vec<u8>) -> std::io::Result<Vec<u8>> {
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(raw.as_slice()).read_to_end(&mut out)?;
        Ok(out)
    } else {
        Ok(raw)
    }
}

/// What a JSON value was recognized as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemKind {
    /// An IVS `Event` object (from a ListParticipantEvents page, NDJSON or an array).
    Event,
    /// A `Participant` or `ParticipantSummary` object.
    Participant,
    /// A `StageSession` or `StageSessionSummary` object.
    Session,
}

/// Context written on a response page by scripts that save the request beside it.
#[derive(Debug, Default, Clone)]
pub struct PageContext {
    pub stage_arn: Option<Value>,
    pub session_id: Option<Value>,
    pub participant_id: Option<Value>,
}

/// One record of a file, ready for normalizing.
#[derive(Debug)]
pub struct Item {
    pub position: String,
    /// `None` when the value is not any shape stagelog reads; it is then rejected.
    pub kind: Option<ItemKind>,
    pub value: Value,
    pub page: std::rc::Rc<PageContext>,
}

/// A whole file, parsed.
pub struct Parsed {
    /// The formats found, e.g. `list-participant-events` or `events-ndjson`.
    pub format: String,
    pub items: Vec<Item>,
}

/// Parses a file's bytes. Fails as a whole (with line and column) when the bytes are not JSON.
pub fn parse(bytes: &[u8]) -> Result<Parsed, String> {
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut values = Vec::new();
    let mut stream = serde_json::Deserializer::from_slice(text).into_iter::<Value>();
    let mut start = 0;
    while let Some(next) = stream.next() {
        let value = next.map_err(|e| describe_json_error(&e))?;
        let skipped = text[start..]
            .iter()
            .take_while(|b| b.is_ascii_whitespace())
            .count();
        values.push((start + skipped, value));
        start = stream.byte_offset();
    }
    if values.is_empty() {
        return Err("no JSON value in the file (it is empty)".into());
    }

    let mut formats: Vec<&'static str> = Vec::new();
    let mut items = Vec::new();
    let several = values.len() > 1;
    let mut lines = LineCounter::new(text);
    for (offset, value) in values {
        let line = lines.line_at(offset);
        let format = classify_top(value, &format!("line {line}"), several, &mut items);
        if !formats.contains(&format) {
            formats.push(format);
        }
    }
    Ok(Parsed {
        format: formats.join("+"),
        items,
    })
}

fn describe_json_error(e: &serde_json::Error) -> String {
    let what = e.to_string();
    // serde_json appends " at line L column C"; state the position first, as compilers do.
    let reason = what
        .rsplit_once(" at line ")
        .map_or(what.as_str(), |(r, _)| r);
    format!(
        "invalid JSON at line {} column {}: {reason}",
        e.line(),
        e.column()
    )
}

/// Turns byte offsets into 1-based line numbers; offsets are asked for in increasing order.
struct LineCounter<'a> {
    text: &'a [u8],
    counted_to: usize,
    line: usize,
}

impl<'a> LineCounter<'a> {
    fn new(text: &'a [u8]) -> Self {
        LineCounter {
            text,
            counted_to: 0,
            line: 1,
        }
    }

    fn line_at(&mut self, offset: usize) -> usize {
        let newlines = self.text[self.counted_to..offset]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        self.line += newlines;
        self.counted_to = offset;
        self.line
    }
}

/// Response documents are recognized by their one list (or object) key.
const RESPONSE_KEYS: [(&str, ItemKind, &str); 5] = [
    ("events", ItemKind::Event, "list-participant-events"),
    ("participants", ItemKind::Participant, "list-participants"),
    ("participant", ItemKind::Participant, "get-participant"),
    ("stageSessions", ItemKind::Session, "list-stage-sessions"),
    ("stageSession", ItemKind::Session, "get-stage-session"),
];

fn classify_top(value: Value, line: &str, several: bool, items: &mut Vec<Item>) -> &'static str {
    match value {
        Value::Array(elements) => {
            for (i, element) in elements.into_iter().enumerate() {
                let position = format!("{line}: $[{i}]");
                classify_object(element, position, items);
            }
            "events-json-array"
        }
        value => {
            let format = classify_object(value, line.to_string(), items);
            if format == "event" {
                if several {
                    "events-ndjson"
                } else {
                    "event"
                }
            } else {
                format
            }
        }
    }
}

/// Classifies one object, expanding response documents into their records.
fn classify_object(value: Value, position: String, items: &mut Vec<Item>) -> &'static str {
    let Value::Object(mut object) = value else {
        items.push(unrecognized(position, value));
        return "unrecognized";
    };
    for (key, kind, format) in RESPONSE_KEYS {
        let Some(body) = object.remove(key) else {
            continue;
        };
        let page = std::rc::Rc::new(page_context(&object));
        let base = if position.contains('$') {
            format!("{position}.{key}")
        } else {
            format!("{position}: $.{key}")
        };
        match body {
            Value::Array(records) => {
                for (i, record) in records.into_iter().enumerate() {
                    items.push(Item {
                        position: format!("{base}[{i}]"),
                        kind: Some(kind),
                        value: record,
                        page: page.clone(),
                    });
                }
            }
            record @ Value::Object(_) if !key.ends_with('s') => items.push(Item {
                position: base,
                kind: Some(kind),
                value: record,
                page,
            }),
            other => items.push(unrecognized(base, other)),
        }
        return format;
    }
    items.push(Item {
        position,
        kind: Some(ItemKind::Event),
        value: Value::Object(object),
        page: Default::default(),
    });
    "event"
}

fn unrecognized(position: String, value: Value) -> Item {
    Item {
        position,
        kind: None,
        value,
        page: Default::default(),
    }
}

fn page_context(page: &Map<String, Value>) -> PageContext {
    PageContext {
        stage_arn: page.get("stageArn").cloned(),
        session_id: page.get("sessionId").cloned(),
        participant_id: page.get("participantId").cloned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognizes_a_cli_page_and_numbers_its_events() {
        let parsed =
            parse(br#"{"events":[{"name":"JOINED"},{"name":"LEFT"}],"nextToken":"x"}"#).unwrap();
        assert_eq!(parsed.format, "list-participant-events");
        let positions: Vec<_> = parsed.items.iter().map(|i| i.position.as_str()).collect();
        assert_eq!(positions, ["line 1: $.events[0]", "line 1: $.events[1]"]);
    }

    #[test]
    fn ndjson_positions_are_lines() {
        let parsed = parse(b"\xEF\xBB\xBF{\"name\":\"A\"}\n\n{\"name\":\"B\"}\r\n").unwrap();
        assert_eq!(parsed.format, "events-ndjson");
        let positions: Vec<_> = parsed.items.iter().map(|i| i.position.as_str()).collect();
        assert_eq!(positions, ["line 1", "line 3"]);
    }

    #[test]
    fn page_context_is_carried_to_each_event() {
        let parsed =
            parse(br#"{"stageArn":"arn:s","sessionId":"st-1","events":[{"name":"JOINED"}]}"#)
                .unwrap();
        let page = &parsed.items[0].page;
        assert_eq!(page.stage_arn, Some(Value::from("arn:s")));
        assert_eq!(page.session_id, Some(Value::from("st-1")));
    }

    #[test]
    fn get_and_list_documents() {
        assert_eq!(
            parse(br#"{"participant":{"participantId":"p"}}"#)
                .unwrap()
                .format,
            "get-participant"
        );
        assert_eq!(
            parse(br#"{"stageSessions":[{"sessionId":"s"}]}"#)
                .unwrap()
                .format,
            "list-stage-sessions"
        );
    }

    #[test]
    fn invalid_json_names_line_and_column() {
        let err = parse(b"{\"name\":\"A\"}\n{\"name\": }\n").err().unwrap();
        assert!(err.starts_with("invalid JSON at line 2 column 10"), "{err}");
    }

    #[test]
    fn gzip_is_found_by_magic_bytes() {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"{\"name\":\"A\"}").unwrap();
        let bytes = decompress(gz.finish().unwrap()).unwrap();
        assert_eq!(bytes, b"{\"name\":\"A\"}");
    }
}
