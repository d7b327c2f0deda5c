//! Streaming mode: JSON Lines articles in, JSON Lines mentions out.
//!
//! `anugerah extract --jsonl -` is the per-record step of a distributed
//! engine (Spark's `RDD.pipe`, Hadoop Streaming, a Ray or Dask map): it reads
//! articles in the record format of the JSON Lines reader, extracts them in
//! small batches (in parallel, output in input order) and writes one JSON
//! object per mention with the columns of the `mentions` table. Memory stays
//! bounded by the batch size whatever the length of the input. Problems are
//! written as JSON objects with the columns of the `errors` table to a
//! separate writer (stderr on the command line).

use crate::extract;
use crate::ingest::jsonl::{self, LineRead};
use crate::ingest::{SourceFile, MAX_JSONL_LINE_BYTES};
use crate::model::{ErrorRow, Format, Mention};
use crate::rules::Rules;
use rayon::prelude::*;
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};

/// Source name of standard input in article ids (`stdin#<id>`).
pub const STDIN_SOURCE: &str = "stdin";

/// Records per batch at most.
pub const BATCH_LINES: usize = 256;
/// Bytes of records per batch at most (a batch always takes at least one record).
pub const BATCH_BYTES: usize = 16 * 1024 * 1024;

/// Settings of a streaming extraction.
#[derive(Debug, Clone)]
pub struct StreamOptions {
    /// Input file, or `-` for standard input.
    pub input: PathBuf,
    /// Name used as the source path in article ids; defaults to `stdin`, or
    /// to the file name when `input` is a file.
    pub source: Option<String>,
    /// Rule override folder.
    pub rules_dir: Option<PathBuf>,
    /// Worker threads (default: all cores).
    pub threads: Option<usize>,
}

/// What a streaming extraction did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreamSummary {
    /// Articles read.
    pub articles: usize,
    /// Mention lines written.
    pub mentions: usize,
    /// Error lines written.
    pub errors: usize,
    /// The input could not be read to its end.
    pub input_failed: bool,
}

/// The source name used when none is given.
pub fn default_source(input: &Path) -> String {
    if input.as_os_str() == "-" {
        return STDIN_SOURCE.to_string();
    }
    input.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| STDIN_SOURCE.to_string())
}

/// Runs the command-line mode: input from the file or stdin, mentions to
/// stdout, errors to stderr.
pub fn run(opts: &StreamOptions) -> anyhow::Result<StreamSummary> {
    use anyhow::Context;
    let rules = Rules::load(opts.rules_dir.as_deref())?;
    let pool = rayon::ThreadPoolBuilder::new().num_threads(opts.threads.unwrap_or(0)).build().context("thread pool")?;
    let source = opts.source.clone().unwrap_or_else(|| default_source(&opts.input));
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut err = std::io::BufWriter::new(stderr.lock());
    let summary = if opts.input.as_os_str() == "-" {
        let stdin = std::io::stdin();
        extract_stream(&rules, &pool, &source, &opts.input, stdin.lock(), &mut out, &mut err)?
    } else {
        let f = std::fs::File::open(&opts.input).with_context(|| format!("cannot read {}", opts.input.display()))?;
        extract_stream(&rules, &pool, &source, &opts.input, f, &mut out, &mut err)?
    };
    out.flush()?;
    err.flush()?;
    Ok(summary)
}

/// One input line waiting for extraction.
enum Pending {
    Record(usize, Vec<u8>),
    Failed(ErrorRow),
}

/// What one line gave.
#[derive(Default)]
struct Extracted {
    mentions: Vec<Mention>,
    errors: Vec<ErrorRow>,
    article: bool,
}

/// Reads JSON Lines articles from `input` and writes mention lines to `out`
/// and error lines to `err`, batch by batch (flushing `out` after each), in
/// input order, extracting on `pool`. Article ids are
/// `<source>#<id>` (or `<source>#<line number>`), as a `run` over a corpus
/// holding the file at path `source` gives.
pub fn extract_stream<R: Read, W: Write, E: Write>(
    rules: &Rules,
    pool: &rayon::ThreadPool,
    source: &str,
    input_path: &Path,
    input: R,
    out: &mut W,
    err: &mut E,
) -> std::io::Result<StreamSummary> {
    let file = SourceFile::new(source, input_path, Format::Jsonl);
    let mut reader = BufReader::with_capacity(1 << 16, input);
    let mut summary = StreamSummary::default();
    let mut line_no = 0usize;
    let mut eof = false;
    let mut buf = Vec::new();
    while !eof {
        let mut batch = Vec::new();
        let mut bytes = 0usize;
        while batch.len() < BATCH_LINES && bytes < BATCH_BYTES {
            buf.clear();
            line_no += 1;
            match jsonl::read_bounded_line(&mut reader, &mut buf, MAX_JSONL_LINE_BYTES) {
                Ok(LineRead::Eof) => {
                    eof = true;
                    break;
                }
                Ok(LineRead::TooLong(len)) => batch.push(Pending::Failed(ErrorRow {
                    source_path: source.to_string(),
                    article_id: Some(format!("{source}#{line_no}")),
                    stage: "read".into(),
                    message: format!("line {line_no}: record of {len} bytes is over the {MAX_JSONL_LINE_BYTES}-byte limit"),
                })),
                Ok(LineRead::Line) => {
                    if buf.iter().all(|b| b.is_ascii_whitespace()) {
                        continue;
                    }
                    bytes += buf.len();
                    batch.push(Pending::Record(line_no, std::mem::take(&mut buf)));
                }
                Err(e) => {
                    batch.push(Pending::Failed(ErrorRow {
                        source_path: source.to_string(),
                        article_id: None,
                        stage: "read".into(),
                        message: format!("cannot read: {e}"),
                    }));
                    summary.input_failed = true;
                    eof = true;
                    break;
                }
            }
        }
        let results: Vec<Extracted> = pool.install(|| batch.into_par_iter().map(|p| process(rules, &file, p)).collect());
        for r in results {
            summary.articles += usize::from(r.article);
            for m in &r.mentions {
                serde_json::to_writer(&mut *out, &table_mention(m))?;
                out.write_all(b"\n")?;
            }
            for e in &r.errors {
                serde_json::to_writer(&mut *err, e)?;
                err.write_all(b"\n")?;
            }
            summary.mentions += r.mentions.len();
            summary.errors += r.errors.len();
        }
        out.flush()?;
        err.flush()?;
    }
    Ok(summary)
}

/// Parses and extracts one line; a panic in the extractor becomes an error row.
fn process(rules: &Rules, file: &SourceFile, p: Pending) -> Extracted {
    let (line_no, bytes) = match p {
        Pending::Failed(e) => return Extracted { errors: vec![e], ..Default::default() },
        Pending::Record(n, b) => (n, b),
    };
    let article = match jsonl::parse_line(file, line_no, &bytes) {
        Ok(a) => a,
        Err(e) => return Extracted { errors: vec![e], ..Default::default() },
    };
    drop(bytes);
    let mut res = Extracted { article: true, ..Default::default() };
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| extract::extract(rules, &article))) {
        Ok(mentions) => res.mentions = mentions,
        Err(_) => res.errors.push(ErrorRow::internal(&file.rel_path, &article.article_id)),
    }
    res.errors.extend(ErrorRow::decode(&article));
    res
}

/// A mention as the `mentions` table holds it: `award_date` is a valid ISO
/// date or null, as in the Date column.
pub fn table_mention(m: &Mention) -> Mention {
    let mut m = m.clone();
    m.award_date = m.award_date.as_deref().and_then(|d| {
        let d = chrono::NaiveDate::parse_from_str(d.get(..10)?, "%Y-%m-%d").ok()?;
        Some(d.format("%Y-%m-%d").to_string())
    });
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_source_names() {
        assert_eq!(default_source(Path::new("-")), "stdin");
        assert_eq!(default_source(Path::new("data/feed.jsonl")), "feed.jsonl");
    }

    #[test]
    fn streams_in_order_with_errors_apart() {
        let rules = Rules::load(None).expect("embedded rules");
        let line = |id: &str, who: &str| {
            format!(
                "{{\"id\":\"{id}\",\"title\":\"{who} Raih BKN Award 2022\",\"text\":\"Pemerintah {who} meraih penghargaan BKN Award 2022 kategori Manajemen Talenta di Jakarta, Jumat (18/11/2022).\"}}\n"
            )
        };
        let mut input = String::new();
        for i in 0..600 {
            input.push_str(&line(&format!("r{i}"), if i % 2 == 0 { "Provinsi Jawa Tengah" } else { "Kabupaten Sleman" }));
            if i == 10 {
                input.push_str("{not json\n\n");
            }
        }
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let pool = rayon::ThreadPoolBuilder::new().num_threads(4).build().unwrap();
        let s = extract_stream(&rules, &pool, "feed.jsonl", Path::new("-"), input.as_bytes(), &mut out, &mut err).unwrap();
        assert_eq!(s.articles, 600);
        assert_eq!(s.errors, 1);
        let ids: Vec<String> = String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["article_id"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(ids.len(), s.mentions);
        assert!(s.mentions >= 600, "{} mentions", s.mentions);
        let mut dedup = ids.clone();
        dedup.dedup();
        assert_eq!(dedup, (0..600).map(|i| format!("feed.jsonl#r{i}")).collect::<Vec<_>>());
        let e: ErrorRow = serde_json::from_slice(err.trim_ascii_end()).unwrap();
        assert_eq!(e.article_id.as_deref(), Some("feed.jsonl#12"));
        assert_eq!(e.stage, "read");
    }
}
