//! JSON Lines dumps: one article per line.

use super::{decode, IngestError, SourceFile, MAX_JSONL_LINE_BYTES};
use crate::model::{Article, ErrorRow, Format};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read};

/// Reads every line of a JSON Lines file; bad lines become error rows.
pub fn read_jsonl_file(file: &SourceFile) -> super::FileOutcome {
    read_jsonl_file_hashed(file).0
}

/// [`read_jsonl_file`], also returning the blake3 hash (hex) of the file's
/// bytes, computed while they are read; `None` when reading failed.
pub fn read_jsonl_file_hashed(file: &SourceFile) -> (super::FileOutcome, Option<String>) {
    let mut parts = JsonlParts::open(file);
    let out = parts.next_part(usize::MAX).unwrap_or_default();
    (out, parts.hash())
}

/// Reads JSON Lines records from any reader into `out`.
pub fn read_jsonl<R: Read>(file: &SourceFile, reader: R, out: &mut super::FileOutcome) {
    let mut parts = JsonlParts::from_reader(file, reader);
    if let Some(part) = parts.next_part(usize::MAX) {
        out.articles.extend(part.articles);
        out.errors.extend(part.errors);
    }
}

/// A JSON Lines file read a part at a time ([`JsonlParts::next_part`]), its
/// bytes hashed as they are read: a dump of any size is never held whole.
pub struct JsonlParts<'f, R = std::fs::File> {
    file: &'f SourceFile,
    /// `None` once the file is read to its end, or reading failed.
    reader: Option<BufReader<HashingReader<R>>>,
    /// The error row of a file that could not be opened, not yet handed out.
    open_error: Option<ErrorRow>,
    hash: Option<String>,
    line_no: usize,
    buf: Vec<u8>,
}

impl<'f> JsonlParts<'f> {
    /// Opens `file` (a failure is handed out as the error row of the first part).
    pub fn open(file: &'f SourceFile) -> JsonlParts<'f> {
        match std::fs::File::open(file.path()) {
            Ok(h) => JsonlParts::from_reader(file, h),
            Err(e) => JsonlParts { file, reader: None, open_error: Some(error_row(file, None, &IngestError::Io(e))), hash: None, line_no: 0, buf: Vec::new() },
        }
    }
}

impl<'f, R: Read> JsonlParts<'f, R> {
    /// The records of `file` as read from `reader`.
    pub fn from_reader(file: &'f SourceFile, reader: R) -> JsonlParts<'f, R> {
        let hashing = HashingReader { inner: reader, hasher: blake3::Hasher::new(), failed: false };
        JsonlParts { file, reader: Some(BufReader::with_capacity(256 * 1024, hashing)), open_error: None, hash: None, line_no: 0, buf: Vec::new() }
    }

    /// The articles and error rows of the next lines, up to the first line
    /// that ends past `bytes` bytes of input; `None` once the file is read.
    pub fn next_part(&mut self, bytes: usize) -> Option<super::FileOutcome> {
        let mut out = super::FileOutcome::default();
        if let Some(e) = self.open_error.take() {
            out.errors.push(e);
            return Some(out);
        }
        let reader = self.reader.as_mut()?;
        let (file, buf) = (self.file, &mut self.buf);
        let mut read = 0usize;
        let mut finished = false;
        while read < bytes {
            buf.clear();
            self.line_no += 1;
            let line_no = self.line_no;
            match read_bounded_line(reader, buf, MAX_JSONL_LINE_BYTES) {
                Ok(LineRead::Eof) => {
                    finished = true;
                    break;
                }
                Ok(LineRead::TooLong(len)) => {
                    read = read.saturating_add(len);
                    let id = format!("{}#{}", file.rel_path, line_no);
                    out.errors.push(error_row(
                        file,
                        Some(id),
                        &IngestError::Record(format!(
                            "line {line_no}: record of {len} bytes is over the {MAX_JSONL_LINE_BYTES}-byte limit"
                        )),
                    ));
                }
                Ok(LineRead::Line) => {
                    read = read.saturating_add(buf.len() + 1);
                    if buf.iter().all(|b| b.is_ascii_whitespace()) {
                        continue;
                    }
                    match parse_record(file, line_no, buf) {
                        Ok(a) => out.articles.push(a),
                        Err((id, e)) => out.errors.push(error_row(file, Some(id), &e)),
                    }
                }
                Err(e) => {
                    out.errors.push(error_row(file, None, &IngestError::Io(e)));
                    finished = true;
                    break;
                }
            }
        }
        if finished {
            if let Some(r) = self.reader.take() {
                let h = r.into_inner();
                // Read to the end unless reading failed: the hash is of the whole file.
                self.hash = (!h.failed).then(|| h.hasher.finalize().to_hex().to_string());
            }
        }
        Some(out)
    }

    /// blake3 (hex) of the file's bytes, once read to the end without an I/O error.
    pub fn hash(&self) -> Option<String> {
        self.hash.clone()
    }
}

/// A reader that hashes every byte it hands out and notes I/O errors.
struct HashingReader<R> {
    inner: R,
    hasher: blake3::Hasher,
    failed: bool,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self.inner.read(buf) {
            Ok(n) => {
                self.hasher.update(&buf[..n]);
                Ok(n)
            }
            Err(e) => {
                // Reading stops at the first error: the hash is incomplete.
                self.failed = true;
                Err(e)
            }
        }
    }
}

pub(crate) enum LineRead {
    Line,
    TooLong(usize),
    Eof,
}

/// Reads up to the next newline, keeping at most `limit` bytes; a longer line
/// is consumed and reported with its length, never buffered whole.
pub(crate) fn read_bounded_line<R: BufRead>(r: &mut R, buf: &mut Vec<u8>, limit: usize) -> std::io::Result<LineRead> {
    let mut total = 0usize;
    let mut any = false;
    loop {
        let chunk = r.fill_buf()?;
        if chunk.is_empty() {
            return Ok(if !any {
                LineRead::Eof
            } else if total > limit {
                LineRead::TooLong(total)
            } else {
                LineRead::Line
            });
        }
        any = true;
        let (part, found) = match chunk.iter().position(|&b| b == b'\n') {
            Some(i) => (&chunk[..i], Some(i)),
            None => (chunk, None),
        };
        total += part.len();
        if total <= limit {
            buf.extend_from_slice(part);
        } else {
            buf.clear();
        }
        let consumed = found.map(|i| i + 1).unwrap_or(chunk.len());
        r.consume(consumed);
        if found.is_some() {
            return Ok(if total > limit { LineRead::TooLong(total) } else { LineRead::Line });
        }
    }
}

/// Parses one record, line `line_no` (1-based) of `file`, as [`JsonlParts`]
/// does: the article, or the error row for the line.
pub fn parse_line(file: &SourceFile, line_no: usize, bytes: &[u8]) -> Result<Article, ErrorRow> {
    parse_record(file, line_no, bytes).map_err(|(id, e)| error_row(file, Some(id), &e))
}

fn parse_record(file: &SourceFile, line_no: usize, bytes: &[u8]) -> Result<Article, (String, IngestError)> {
    let fallback_id = format!("{}#{}", file.rel_path, line_no);
    let decoded = decode::decode_bytes(bytes).map_err(|e| (fallback_id.clone(), e))?;
    let value: Value = serde_json::from_str(decoded.text.trim()).map_err(|e| {
        (fallback_id.clone(), IngestError::Record(format!("line {line_no}: malformed JSON: {e}")))
    })?;
    let Value::Object(map) = value else {
        return Err((fallback_id, IngestError::Record(format!("line {line_no}: not a JSON object"))));
    };
    let id = match map.get("id") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
        Some(Value::Number(n)) => n.to_string(),
        _ => line_no.to_string(),
    };
    let article_id = format!("{}#{}", file.rel_path, id);
    let field = |names: &[&str]| -> Result<Option<String>, (String, IngestError)> {
        for name in names {
            match map.get(*name) {
                None | Some(Value::Null) => continue,
                Some(Value::String(s)) => return Ok(Some(s.clone())),
                Some(other) => {
                    return Err((
                        article_id.clone(),
                        IngestError::Record(format!(
                            "line {line_no}: field `{name}` should be a string, found {}",
                            json_type(other)
                        )),
                    ))
                }
            }
        }
        Ok(None)
    };
    let body = field(&["text", "content", "body"])?
        .ok_or_else(|| (article_id.clone(), IngestError::Record(format!("line {line_no}: no `text` field"))))?;
    let title = field(&["title"])?.map(|t| clean_text(&t).trim().to_string()).filter(|t| !t.is_empty());
    let url = field(&["url"])?.map(|u| clean_text(&u).trim().to_string()).filter(|u| !u.is_empty());
    let published = field(&["published", "date"])?.and_then(|d| super::html::iso_date_prefix(&d));
    let body = clean_text(&body);
    let text = match &title {
        Some(t) if !body.trim_start().starts_with(t.as_str()) => format!("{t}\n{body}"),
        _ => body,
    };
    Ok(Article {
        article_id,
        source_path: file.rel_path.clone(),
        format: Format::Jsonl,
        url,
        title,
        published,
        text,
        decode_note: decoded.note,
    })
}

/// JSON string escapes can carry what the decoder removes from files:
/// NUL characters and CR line endings. Remove them here too.
fn clean_text(s: &str) -> String {
    // Both are ASCII: a byte search finds them without decoding characters.
    if memchr::memchr2(0, b'\r', s.as_bytes()).is_none() {
        return s.to_string();
    }
    s.replace('\0', "").replace("\r\n", "\n").replace('\r', "\n")
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn error_row(file: &SourceFile, article_id: Option<String>, e: &IngestError) -> ErrorRow {
    ErrorRow {
        source_path: file.rel_path.clone(),
        article_id,
        stage: "read".into(),
        message: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source() -> SourceFile {
        SourceFile::new("d/a.jsonl", "d/a.jsonl", Format::Jsonl)
    }

    fn read(s: &str) -> super::super::FileOutcome {
        let mut out = super::super::FileOutcome::default();
        read_jsonl(&source(), BufReader::new(s.as_bytes()), &mut out);
        out
    }

    #[test]
    fn good_and_bad_lines() {
        let out = read(concat!(
            "{\"id\":\"a1\",\"title\":\"Judul\",\"text\":\"Isi berita\",\"published\":\"2023-06-08T10:00:00+07:00\"}\n",
            "{\"id\":\"a2\",\"text\":\"terpotong\n",
            "\n",
            "{\"id\":7,\"content\":\"Isi lain\",\"date\":\"2021-10-25\"}\n",
            "{\"id\":\"a4\",\"text\":42}\n",
            "[1,2]\n",
        ));
        assert_eq!(out.articles.len(), 2);
        assert_eq!(out.articles[0].article_id, "d/a.jsonl#a1");
        assert_eq!(out.articles[0].text, "Judul\nIsi berita");
        assert_eq!(out.articles[0].published.as_deref(), Some("2023-06-08"));
        assert_eq!(out.articles[1].article_id, "d/a.jsonl#7");
        assert_eq!(out.errors.len(), 3);
        assert_eq!(out.errors[0].article_id.as_deref(), Some("d/a.jsonl#2"));
        assert!(out.errors[1].message.contains("should be a string"));
        assert!(out.errors[2].message.contains("not a JSON object"));
    }

    #[test]
    fn escaped_nul_and_cr_are_cleaned_in_every_field() {
        let out = read("{\"id\":\"a\",\"title\":\"\\u0000Judul\\r\",\"url\":\"\\u0000\",\"text\":\"satu\\rdua\\r\\ntiga\\u0000\"}\n");
        assert_eq!(out.errors, vec![]);
        let a = &out.articles[0];
        assert_eq!(a.title.as_deref(), Some("Judul"));
        assert_eq!(a.url, None);
        assert_eq!(a.text, "Judul\nsatu\ndua\ntiga");
    }

    #[test]
    fn overlong_line_is_refused_without_buffering() {
        let mut r = BufReader::with_capacity(16, "abcdefghijklmnopqrstuvwxyz\nok\n".as_bytes());
        let mut buf = Vec::new();
        assert!(matches!(read_bounded_line(&mut r, &mut buf, 10).unwrap(), LineRead::TooLong(26)));
        buf.clear();
        assert!(matches!(read_bounded_line(&mut r, &mut buf, 10).unwrap(), LineRead::Line));
        assert_eq!(buf, b"ok");
        buf.clear();
        assert!(matches!(read_bounded_line(&mut r, &mut buf, 10).unwrap(), LineRead::Eof));
    }
}
