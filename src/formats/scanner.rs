//! Finding where JSON values begin and end in a stream, without building them: a file of any
//! size is read through a buffer that holds only the value being looked at, and each record is
//! then parsed by serde_json from its own bytes. Positions (line, column) are kept for messages.
//!
//! The scanner checks only what it needs to find a value's end (strings, escapes, nesting);
//! serde_json validates the bytes it is given.

use std::io::{self, Read};

const CHUNK: usize = 256 * 1024;

/// Why the scanner could not find a value's end.
#[derive(Debug)]
pub enum ScanError {
    /// The input ended inside a value.
    Truncated,
    /// A byte that cannot start (or continue) JSON here, at this buffer index.
    Unexpected {
        byte: u8,
        at: usize,
    },
    Io(io::Error),
}

impl From<io::Error> for ScanError {
    fn from(e: io::Error) -> Self {
        ScanError::Io(e)
    }
}

pub struct Scanner<R> {
    reader: R,
    buf: Vec<u8>,
    /// Valid bytes are `buf[..end]`.
    end: usize,
    pub pos: usize,
    /// Buffer indices that must survive a refill (starts of values still being read); shifted
    /// when the buffer is compacted.
    marks: Vec<usize>,
    eof: bool,
    /// Absolute offset of `buf[0]` in the stream.
    dropped: u64,
    /// Newlines before `buf[counted]`, and the absolute offset where that line starts.
    lines: usize,
    counted: usize,
    line_start: u64,
}

impl<R: Read> Scanner<R> {
    pub fn new(reader: R) -> Self {
        Scanner {
            reader,
            buf: Vec::new(),
            end: 0,
            pos: 0,
            marks: Vec::new(),
            eof: false,
            dropped: 0,
            lines: 0,
            counted: 0,
            line_start: 0,
        }
    }

    /// Reads more input, keeping what is buffered from `pos` and the marks on; false at the
    /// end. Indices held outside `pos` and `marks` are invalid afterwards.
    pub fn fill(&mut self) -> io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        if self.buf.len() - self.end < CHUNK / 2 {
            let keep = self.marks.iter().copied().fold(self.pos, usize::min);
            if keep > 0 {
                self.count_lines_to(keep);
                self.buf.copy_within(keep..self.end, 0);
                self.end -= keep;
                self.pos -= keep;
                self.counted -= keep;
                self.marks.iter_mut().for_each(|m| *m -= keep);
                self.dropped += keep as u64;
            }
            if self.buf.len() - self.end < CHUNK / 2 {
                self.buf.resize(self.end + CHUNK, 0);
            }
        }
        loop {
            match self.reader.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => {
                    self.end += n;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    fn count_lines_to(&mut self, index: usize) {
        if index < self.counted {
            // Reading went back (to resume after a broken record): take back the lines counted
            // past `index`.
            self.lines -= memchr::memchr_iter(b'\n', &self.buf[index..self.counted]).count();
            self.line_start = memchr::memrchr(b'\n', &self.buf[..index])
                .map_or(self.dropped, |last| self.dropped + (last + 1) as u64);
            self.counted = index;
            return;
        }
        let span = &self.buf[self.counted..index];
        if let Some(last) = memchr::memrchr(b'\n', span) {
            self.lines += memchr::memchr_iter(b'\n', span).count();
            self.line_start = self.dropped + (self.counted + last + 1) as u64;
        }
        self.counted = index;
    }

    /// The 1-based line of a buffer index. Indices are asked for in increasing order, but for
    /// a step back to where reading resumes.
    pub fn line_at(&mut self, index: usize) -> usize {
        self.count_lines_to(index);
        self.lines + 1
    }

    /// The 1-based column (in bytes) of a buffer index.
    pub fn column_at(&mut self, index: usize) -> u64 {
        self.count_lines_to(index);
        self.dropped + index as u64 - self.line_start + 1
    }

    /// Line and column of the end of what has been read: where a truncated input stops.
    pub fn end_position(&mut self) -> (usize, u64) {
        let end = self.end;
        (self.line_at(end), self.column_at(end))
    }

    pub fn bytes(&self, start: usize, end: usize) -> &[u8] {
        &self.buf[start..end]
    }

    /// Skips white space; the next byte, or `None` at the end of the input.
    pub fn peek(&mut self) -> io::Result<Option<u8>> {
        loop {
            while self.pos < self.end {
                let b = self.buf[self.pos];
                if !matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
                    return Ok(Some(b));
                }
                self.pos += 1;
            }
            if !self.fill()? {
                return Ok(None);
            }
        }
    }

    /// Consumes `expected` after white space.
    pub fn expect(&mut self, expected: u8) -> Result<(), ScanError> {
        match self.peek()? {
            Some(b) if b == expected => {
                self.pos += 1;
                Ok(())
            }
            Some(byte) => Err(ScanError::Unexpected { byte, at: self.pos }),
            None => Err(ScanError::Truncated),
        }
    }

    /// Keeps bytes from `index` on in the buffer until [`Scanner::unmark`].
    pub fn mark(&mut self, index: usize) {
        self.marks.push(index);
    }

    /// Where the latest mark points now: offsets taken from it stay valid across refills.
    pub fn marked(&self) -> usize {
        *self.marks.last().expect("a mark was set")
    }

    /// Releases the latest mark and returns where it points now.
    pub fn unmark(&mut self) -> usize {
        self.marks.pop().expect("a mark was set")
    }

    /// Finds the value starting at the next non-space byte and moves past it; returns its
    /// `(start, end)` buffer indices, valid until the next read.
    pub fn value(&mut self) -> Result<(usize, usize), ScanError> {
        let first = self.peek()?.ok_or(ScanError::Truncated)?;
        self.mark(self.pos);
        let scanned = match first {
            b'{' | b'[' => self.skip_nested(),
            b'"' => {
                self.pos += 1;
                self.skip_string_body()
            }
            b',' | b':' | b']' | b'}' => Err(ScanError::Unexpected {
                byte: first,
                at: self.pos,
            }),
            _ => self.skip_scalar(),
        };
        let start = self.unmark();
        scanned.map(|()| (start, self.pos))
    }

    /// Past the closing quote of a string whose opening quote is consumed.
    fn skip_string_body(&mut self) -> Result<(), ScanError> {
        loop {
            match memchr::memchr2(b'"', b'\\', &self.buf[self.pos..self.end]) {
                Some(i) if self.buf[self.pos + i] == b'"' => {
                    self.pos += i + 1;
                    return Ok(());
                }
                Some(i) => {
                    // A backslash and the byte it escapes.
                    self.pos += i + 1;
                    if self.pos == self.end && !self.fill()? {
                        return Err(ScanError::Truncated);
                    }
                    self.pos += 1;
                }
                None => {
                    self.pos = self.end;
                    if !self.fill()? {
                        return Err(ScanError::Truncated);
                    }
                }
            }
        }
    }

    fn skip_nested(&mut self) -> Result<(), ScanError> {
        let mut depth = 0usize;
        loop {
            if self.pos == self.end && !self.fill()? {
                return Err(ScanError::Truncated);
            }
            let b = self.buf[self.pos];
            self.pos += 1;
            match b {
                b'"' => self.skip_string_body()?,
                b'{' | b'[' => depth += 1,
                b'}' | b']' => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(());
                    }
                }
                _ => {}
            }
        }
    }

    fn skip_scalar(&mut self) -> Result<(), ScanError> {
        loop {
            while self.pos < self.end {
                if matches!(
                    self.buf[self.pos],
                    b' ' | b'\t' | b'\n' | b'\r' | b',' | b']' | b'}' | b':' | b'[' | b'{' | b'"'
                ) {
                    return Ok(());
                }
                self.pos += 1;
            }
            if !self.fill()? {
                return Ok(());
            }
        }
    }

    /// Moves past the end of the line that holds buffer index `from`, then past any lines that
    /// do not start with `{` or `[` (the rest of a broken pretty-printed record), or to the end
    /// of the input: where reading resumes after a broken record.
    pub fn skip_line(&mut self, from: usize) -> io::Result<()> {
        self.pos = from;
        loop {
            if let Some(i) = memchr::memchr(b'\n', &self.buf[self.pos..self.end]) {
                self.pos += i + 1;
                if self.pos == self.end && !self.fill()? {
                    return Ok(());
                }
                if matches!(self.buf[self.pos], b'{' | b'[') {
                    return Ok(());
                }
                continue;
            }
            self.pos = self.end;
            if !self.fill()? {
                return Ok(());
            }
        }
    }

    /// The end of what is buffered: `bytes(pos, buffered_end())` is read but not yet consumed.
    pub fn buffered_end(&self) -> usize {
        self.end
    }

    /// Skips a UTF-8 byte-order mark at the current position; false when there is none.
    pub fn skip_bom(&mut self) -> io::Result<bool> {
        while self.end - self.pos < 3 {
            if !self.fill()? {
                break;
            }
        }
        if self.buf[self.pos..self.end].starts_with(b"\xEF\xBB\xBF") {
            self.pos += 3;
            return Ok(true);
        }
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(input: &[u8]) -> Vec<String> {
        let mut s = Scanner::new(input);
        let mut out = Vec::new();
        while s.peek().unwrap().is_some() {
            let (a, b) = s.value().unwrap();
            out.push(String::from_utf8(s.bytes(a, b).to_vec()).unwrap());
        }
        out
    }

    #[test]
    fn finds_values_with_tricky_strings() {
        let input = br#"{"a":"}\"{"} [1,[2]] "x\\" 12.5e3 true"#;
        assert_eq!(
            values(input),
            [r#"{"a":"}\"{"}"#, "[1,[2]]", r#""x\\""#, "12.5e3", "true"]
        );
    }

    #[test]
    fn values_larger_than_the_buffer_survive_refills() {
        let big = format!("{{\"k\":\"{}\"}}\n{{\"n\":1}}", "y".repeat(3 * CHUNK));
        let found = values(big.as_bytes());
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].len(), 3 * CHUNK + 8);
        assert_eq!(found[1], "{\"n\":1}");
    }

    #[test]
    fn lines_and_columns() {
        let mut s = Scanner::new(&b"{}\n\n  [1]\n"[..]);
        s.value().unwrap();
        s.peek().unwrap();
        assert_eq!((s.line_at(s.pos), s.column_at(s.pos)), (3, 3));
    }

    #[test]
    fn a_value_cut_short_is_truncated() {
        let mut s = Scanner::new(&b"{\"a\":[1,2"[..]);
        assert!(matches!(s.value(), Err(ScanError::Truncated)));
    }
}
