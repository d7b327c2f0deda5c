//! Rows carried over from the tables of the last run, for incremental runs.
//!
//! An incremental run reads and extracts only new and changed files; the
//! rows of every other file come from the Parquet tables the last run wrote
//! (the manifest holds their stamps, so they are the files as written, made
//! with the same rules and tool build). The carried rows are merged with the
//! fresh ones in table order (see `pipeline::sort_tables`): articles by
//! `article_id`, mentions by (`article_id`, `start`, `end`, `mention_id`),
//! errors by all their fields. Carried rows go to the tables as frames
//! (slices of the last tables), so they are never turned into rows and back.
//! The last tables are decoded a row group at a time as the merge reaches
//! them, their keys (ids, offsets, source paths: `Keys`) and their rows
//! (`OldRows`) apart, so a re-run does not hold the last tables.
//!
//! A row is carried when its file is neither deleted nor read again: articles
//! and errors name their file (`source_path`); a mention belongs to the file
//! of the article row with its `article_id`. Errors of the corpus walk are
//! never carried (each run walks the corpus again).

use super::read::errors_from_parquet;
use super::{OutputError, Sink, SummaryBuilder};
use crate::model::{ArticleRow, ErrorRow, Mention};
use polars::prelude::*;
use std::cmp::Ordering;
use std::path::Path;

/// The tables of the last run, with how far they have been merged.
pub struct Carry {
    articles: Articles,
    mentions: Mentions,
    errors: Errors,
}

/// The carried `articles` rows and the next one to merge.
struct Articles {
    rows: OldRows,
    csv: Option<CsvLines>,
    keys: Keys<ArticleKeys>,
    next: usize,
}

/// The CSV file of a carried table, open, and where each row starts: the
/// carried rows' lines are copied from it (in the kernel, file to file).
pub(super) struct CsvLines {
    file: std::fs::File,
    /// Start of row `i` (after the header), and the end of the file last.
    starts: Vec<u64>,
}

impl CsvLines {
    /// Opens and scans `dir/name.csv`, which must hold `rows` rows.
    fn read(dir: &Path, name: &str, rows: usize) -> Result<CsvLines, OutputError> {
        use std::io::Read;
        let path = dir.join(format!("{name}.csv"));
        let err = |source| OutputError::Io { path: path.clone(), source };
        let mut file = std::fs::File::open(&path).map_err(err)?;
        // Records end at a newline outside quotes; a doubled quote inside a
        // quoted field toggles twice.
        let mut starts = Vec::with_capacity(rows + 2);
        let mut quoted = false;
        let mut buf = vec![0u8; 1 << 20];
        let mut offset = 0u64;
        loop {
            let n = file.read(&mut buf).map_err(err)?;
            let Some(piece) = buf.get(..n).filter(|p| !p.is_empty()) else { break };
            for at in memchr::memchr2_iter(b'"', b'\n', piece) {
                match piece.get(at) {
                    Some(b'"') => quoted = !quoted,
                    _ if !quoted => starts.push(offset + at as u64 + 1),
                    _ => {}
                }
            }
            offset += n as u64;
        }
        if quoted || starts.len() != rows + 1 || starts.last() != Some(&offset) {
            return Err(bad(&format!("{name}.csv does not hold the rows of {name}.parquet")));
        }
        Ok(CsvLines { file, starts })
    }

    /// Where the CSV lines of rows `from..to` are: offset and length.
    fn span(&self, from: usize, to: usize) -> (u64, u64) {
        let (a, b) = (self.starts.get(from).copied().unwrap_or(0), self.starts.get(to).copied().unwrap_or(0));
        (a, b.saturating_sub(a))
    }

    /// Appends the CSV lines of rows `from..to` to `dest`.
    pub(super) fn copy_lines(&self, from: usize, to: usize, dest: &mut std::fs::File) -> std::io::Result<()> {
        use std::io::{Read, Seek};
        let (at, len) = self.span(from, to);
        let mut source = &self.file;
        source.seek(std::io::SeekFrom::Start(at))?;
        let copied = std::io::copy(&mut source.take(len), dest)?;
        if copied != len {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "carried CSV shorter than scanned"));
        }
        Ok(())
    }
}

/// The Parquet file of a carried table as the last run wrote it: where a
/// row group of the new table holds exactly the rows of one of its row
/// groups, that row group is copied as it is (its compressed pages) rather
/// than encoded again. Encoding is deterministic, so the bytes are those
/// encoding would give.
pub(super) struct OldParquet {
    bytes: polars_buffer::Buffer<u8>,
    meta: std::sync::Arc<polars_parquet::parquet::metadata::FileMetadata>,
    /// First row of each row group, and the row count last.
    starts: Vec<usize>,
}

impl OldParquet {
    fn read(bytes: Vec<u8>) -> Result<OldParquet, OutputError> {
        let bytes = polars_buffer::Buffer::from(bytes);
        let meta = std::sync::Arc::new(polars_parquet::parquet::read::read_metadata(&mut std::io::Cursor::new(bytes.clone())).map_err(|e| bad(&e.to_string()))?);
        let mut starts = vec![0];
        for rg in &meta.row_groups {
            starts.push(starts.last().copied().unwrap_or(0) + rg.num_rows());
        }
        Ok(OldParquet { bytes, meta, starts })
    }

    /// The row group made of rows `start..start + rows`, if there is one.
    pub(super) fn group_of(&self, start: usize, rows: usize) -> Option<usize> {
        let k = self.starts.binary_search(&start).ok()?;
        (self.starts.get(k + 1) == Some(&(start + rows)) && k < self.meta.row_groups.len()).then_some(k)
    }

    /// Row count and compressed pages (per column) of row group `k`.
    pub(super) fn row_group(&self, k: usize) -> PolarsResult<(usize, Vec<Vec<polars_parquet::write::CompressedPage>>)> {
        let rg = self.meta.row_groups.get(k).ok_or_else(|| polars_err!(ComputeError: "no row group {k} in the last table"))?;
        let mut columns = Vec::new();
        for chunk in rg.parquet_columns() {
            let reader = std::io::Cursor::new(self.bytes.clone());
            let pages = polars_parquet::parquet::read::get_page_iterator(chunk, reader, Vec::new(), usize::MAX)?;
            let mut pages = pages.collect::<Result<Vec<_>, _>>()?;
            // Page headers do not record rows; in these flat columns each row is one value.
            for page in &mut pages {
                if let polars_parquet::write::CompressedPage::Data(data) = page {
                    data.num_rows = Some(data.num_values());
                }
            }
            columns.push(pages);
        }
        Ok((rg.num_rows(), columns))
    }

    /// Rows of the table.
    fn height(&self) -> usize {
        self.starts.last().copied().unwrap_or(0)
    }

    /// The row group holding row `i`: its index, first row and end.
    fn group_at(&self, i: usize) -> Option<(usize, usize, usize)> {
        let k = self.starts.partition_point(|&s| s <= i).checked_sub(1)?;
        match (self.starts.get(k), self.starts.get(k + 1)) {
            (Some(&first), Some(&end)) if i < end => Some((k, first, end)),
            _ => None,
        }
    }

    /// Rows `from..from + len` decoded (`columns`: all when `None`).
    fn decode(&self, from: usize, len: usize, columns: Option<Vec<String>>) -> PolarsResult<DataFrame> {
        let mut reader = ParquetReader::new(std::io::Cursor::new(self.bytes.as_ref())).with_slice(Some((from, len))).with_columns(columns);
        reader.set_metadata(self.meta.clone());
        reader.finish()
    }
}

/// The rows of a carried table, decoded one row group at a time as the
/// merge moves forward through them.
struct OldRows {
    parquet: std::sync::Arc<OldParquet>,
    /// The row group decoded last: its index and rows.
    decoded: std::cell::RefCell<Option<(usize, DataFrame)>>,
}

impl OldRows {
    fn new(parquet: std::sync::Arc<OldParquet>) -> OldRows {
        OldRows { parquet, decoded: Default::default() }
    }

    /// Rows `from..to` (increasing from call to call, so each row group is
    /// decoded once) as a frame.
    fn slice(&self, from: usize, to: usize) -> PolarsResult<DataFrame> {
        let mut frame: Option<DataFrame> = None;
        let mut at = from;
        while at < to {
            let Some((k, first, end)) = self.parquet.group_at(at) else {
                return Err(polars_err!(ComputeError: "row {at} is not in the last table"));
            };
            let group = self.group(k, first, end - first)?;
            let piece = group.slice((at - first) as i64, to.min(end) - at);
            frame = Some(match frame {
                None => piece,
                Some(mut f) => {
                    f.vstack_mut(&piece)?;
                    f
                }
            });
            at = to.min(end);
        }
        match frame {
            Some(f) => Ok(f),
            None => self.parquet.decode(0, 0, None),
        }
    }

    /// Row group `k` (rows `first..first + rows`), decoded.
    fn group(&self, k: usize, first: usize, rows: usize) -> PolarsResult<DataFrame> {
        let mut decoded = self.decoded.borrow_mut();
        if let Some((_, df)) = decoded.as_ref().filter(|(at, _)| *at == k) {
            return Ok(df.clone());
        }
        let df = self.parquet.decode(first, rows, None)?;
        *decoded = Some((k, df.clone()));
        Ok(df)
    }
}

/// The carried `mentions` rows and the next one to merge.
struct Mentions {
    rows: OldRows,
    csv: Option<CsvLines>,
    keys: Keys<MentionKeys>,
    /// The carried articles, to find the file of each mention's article.
    articles: Keys<ArticleKeys>,
    /// The article row of the mention looked at last (mentions and articles
    /// are in the same order: it only moves forward).
    article: std::cell::Cell<usize>,
    next: usize,
}

/// Key columns of a carried table, decoded a row group at a time as the
/// merge moves forward through the rows, and checked to be in table order.
struct Keys<K> {
    parquet: std::sync::Arc<OldParquet>,
    /// The row group decoded last: its index, first row, row count and keys.
    current: std::cell::RefCell<Option<(usize, usize, usize, K)>>,
    /// The last key of the row group decoded last, to check the next one follows it.
    last: std::cell::RefCell<Option<String>>,
}

/// The key columns of one row group of a table.
trait KeyColumns: Sized {
    /// Table name, for messages.
    const TABLE: &'static str;
    /// Names of the key columns.
    const COLUMNS: &'static [&'static str];
    /// The keys of a row group decoded with [`KeyColumns::COLUMNS`]; checks
    /// them to be in table order after `last` (the previous group's last key).
    fn of(df: &DataFrame, last: Option<&str>) -> Result<Self, OutputError>;
    /// The `article_id` column, the first key of both tables.
    fn article_ids(&self) -> &StringChunked;
    /// The key text the next group's first row must not sort before.
    fn last_id(&self) -> Option<String> {
        self.article_ids().last().map(str::to_string)
    }
}

/// `article_id` and `source_path` of articles rows.
struct ArticleKeys {
    article_id: StringChunked,
    source_path: StringChunked,
}

/// The sort key of mentions rows.
struct MentionKeys {
    article_id: StringChunked,
    start: Int64Chunked,
    end: Int64Chunked,
    mention_id: StringChunked,
}

impl KeyColumns for ArticleKeys {
    const TABLE: &'static str = "articles";
    const COLUMNS: &'static [&'static str] = &["article_id", "source_path"];

    fn of(df: &DataFrame, last: Option<&str>) -> Result<Self, OutputError> {
        let keys = ArticleKeys { article_id: strings(df, Self::TABLE, "article_id")?, source_path: strings(df, Self::TABLE, "source_path")? };
        // Article ids strictly increasing: each id names one article row.
        let mut before = last;
        for id in keys.article_id.iter().map(Option::unwrap_or_default) {
            if before.is_some_and(|b| b >= id) {
                return Err(bad("article ids of the last articles table not unique and sorted"));
            }
            before = Some(id);
        }
        Ok(keys)
    }

    fn article_ids(&self) -> &StringChunked {
        &self.article_id
    }
}

impl KeyColumns for MentionKeys {
    const TABLE: &'static str = "mentions";
    const COLUMNS: &'static [&'static str] = &["article_id", "start", "end", "mention_id"];

    fn of(df: &DataFrame, last: Option<&str>) -> Result<Self, OutputError> {
        let keys = MentionKeys {
            article_id: strings(df, Self::TABLE, "article_id")?,
            start: numbers(df, Self::TABLE, "start")?,
            end: numbers(df, Self::TABLE, "end")?,
            mention_id: strings(df, Self::TABLE, "mention_id")?,
        };
        let mut before = last;
        for id in keys.article_id.iter().map(Option::unwrap_or_default) {
            if before.is_some_and(|b| id < b) {
                return Err(bad("last mentions table not sorted"));
            }
            before = Some(id);
        }
        Ok(keys)
    }

    fn article_ids(&self) -> &StringChunked {
        &self.article_id
    }
}

impl<K: KeyColumns> Keys<K> {
    fn new(parquet: std::sync::Arc<OldParquet>) -> Keys<K> {
        Keys { parquet, current: Default::default(), last: Default::default() }
    }

    fn height(&self) -> usize {
        self.parquet.height()
    }

    /// Whether row `i` sorts before `bound` (an article id; every row when `None`).
    fn before(&self, i: usize, bound: Option<&str>) -> Result<bool, OutputError> {
        self.at(i, |k, j| bound.is_none_or(|b| k.article_ids().get(j).unwrap_or_default() < b))
    }

    /// `f` of the keys of the row group holding row `i` and `i`'s place in it.
    fn at<T>(&self, i: usize, f: impl FnOnce(&K, usize) -> T) -> Result<T, OutputError> {
        let mut current = self.current.borrow_mut();
        match current.as_ref() {
            Some((_, first, rows, keys)) if *first <= i && i < first + rows => return Ok(f(keys, i - first)),
            _ => {}
        }
        let Some((k, first, end)) = self.parquet.group_at(i) else {
            return Err(bad(&format!("row {i} is not in the last {} table", K::TABLE)));
        };
        let columns = Some(K::COLUMNS.iter().map(|c| c.to_string()).collect());
        let df = self.parquet.decode(first, end - first, columns).map_err(|source| OutputError::Polars { table: K::TABLE.into(), source })?;
        // The groups are decoded in order: each must follow the one before.
        let follows = current.as_ref().is_some_and(|(before, ..)| before + 1 == k);
        let keys = {
            let last = self.last.borrow();
            K::of(&df, last.as_deref().filter(|_| follows))?
        };
        *self.last.borrow_mut() = keys.last_id();
        let out = f(&keys, i - first);
        *current = Some((k, first, end - first, keys));
        Ok(out)
    }
}

/// The carried `errors` rows (few: merged as rows) and the next one to merge.
struct Errors {
    rows: Vec<ErrorRow>,
    next: usize,
}

/// Whether the bytes read of a table file (by file name) are those the last run wrote.
pub type Verify<'a> = &'a (dyn Fn(&str, &[u8]) -> bool + Sync);

/// The bytes of `dir/file`, if `verify` accepts them.
fn read_verified(dir: &Path, file: &str, verify: Verify<'_>) -> Result<Vec<u8>, OutputError> {
    let path = dir.join(file);
    let bytes = std::fs::read(&path).map_err(|source| OutputError::Io { path, source })?;
    if !verify(file, &bytes) {
        return Err(bad(&format!("{file} is not the file the last run wrote")));
    }
    Ok(bytes)
}

/// Whether the rows of a source file (by relative path) are dropped.
pub type Dropped<'a> = &'a dyn Fn(&str) -> bool;

fn bad(what: &str) -> OutputError {
    OutputError::Carry(what.to_string())
}

/// The last run's Parquet file of table `name`.
fn parquet(dir: &Path, name: &str, verify: Verify<'_>) -> Result<OldParquet, OutputError> {
    OldParquet::read(read_verified(dir, &format!("{name}.parquet"), verify)?)
}

/// A text column without nulls.
fn strings(df: &DataFrame, table: &str, name: &str) -> Result<StringChunked, OutputError> {
    let pe = |source| OutputError::Polars { table: table.to_string(), source };
    let c = df.column(name).map_err(pe)?.str().map_err(pe)?.clone();
    if c.null_count() > 0 {
        return Err(bad(&format!("null {name} in the last {table} table")));
    }
    Ok(c)
}

fn numbers(df: &DataFrame, table: &str, name: &str) -> Result<Int64Chunked, OutputError> {
    let pe = |source| OutputError::Polars { table: table.to_string(), source };
    Ok(df.column(name).map_err(pe)?.i64().map_err(pe)?.clone())
}

impl Carry {
    /// Reads the `articles`, `mentions` and `errors` tables of `dir` (as
    /// written by the last run: `verify` checks the bytes of each Parquet
    /// file read) and checks they are in table order with one article row per
    /// article id, which the merge relies on. With `csv_as_written` (the CSV
    /// files are those the last run wrote, untouched) the carried rows' CSV
    /// lines are copied from them; otherwise they are written anew.
    pub fn load(dir: &Path, verify: Verify<'_>, csv_as_written: bool) -> Result<Carry, OutputError> {
        let table = |name: &str| -> Result<(std::sync::Arc<OldParquet>, Option<CsvLines>), OutputError> {
            let old = parquet(dir, name, verify)?;
            let csv = if csv_as_written { Some(CsvLines::read(dir, name, old.height())?) } else { None };
            Ok((std::sync::Arc::new(old), csv))
        };
        let (articles, mentions) = std::thread::scope(|s| {
            let articles = s.spawn(|| table("articles"));
            let mentions = table("mentions");
            (articles.join().unwrap_or_else(|p| std::panic::resume_unwind(p)), mentions)
        });
        let ((articles_parquet, articles_csv), (mentions_parquet, mentions_csv)) = (articles?, mentions?);
        let errors_bytes = read_verified(dir, "errors.parquet", verify)?;
        let errors = match errors_from_parquet(&dir.join("errors.parquet"), &errors_bytes) {
            Ok(rows) => rows.into_iter().filter(|e| e.stage != crate::ingest::WALK_STAGE).collect(),
            Err(e) => return Err(bad(&e.to_string())),
        };
        let mentions = Mentions {
            rows: OldRows::new(mentions_parquet.clone()),
            csv: mentions_csv,
            keys: Keys::new(mentions_parquet),
            articles: Keys::new(articles_parquet.clone()),
            article: std::cell::Cell::new(0),
            next: 0,
        };
        let articles = Articles { rows: OldRows::new(articles_parquet.clone()), csv: articles_csv, keys: Keys::new(articles_parquet), next: 0 };
        Ok(Carry { articles, mentions, errors: Errors { rows: errors, next: 0 } })
    }

    /// The part the `articles` table needs and the part the `mentions` and
    /// `errors` tables need, to be merged on threads of their own.
    pub(super) fn split(self) -> (ArticlesPart, MentionsPart) {
        let Carry { articles, mentions, errors } = self;
        (ArticlesPart { articles }, MentionsPart { mentions, errors })
    }
}

/// The carried rows of the `articles` table.
pub(super) struct ArticlesPart {
    articles: Articles,
}

/// The carried rows of the `mentions` and `errors` tables.
pub(super) struct MentionsPart {
    mentions: Mentions,
    errors: Errors,
}

impl ArticlesPart {
    /// The last run's Parquet file of the table.
    pub(super) fn old_parquet(&self) -> std::sync::Arc<OldParquet> {
        self.articles.rows.parquet.clone()
    }

    /// Writes the fresh `articles` rows (in table order) merged with the
    /// carried ones that sort before `bound` (all that are left when
    /// `None`) and whose file is not `dropped`.
    pub(super) fn merge(&mut self, sink: &mut Sink<ArticleRow>, fresh: Vec<ArticleRow>, bound: Option<&str>, dropped: Dropped<'_>) -> Result<(), OutputError> {
        self.articles.merge(sink, fresh, bound, dropped)
    }
}

impl MentionsPart {
    /// The last run's Parquet file of the `mentions` table.
    pub(super) fn old_parquet(&self) -> std::sync::Arc<OldParquet> {
        self.mentions.rows.parquet.clone()
    }

    /// As [`ArticlesPart::merge`] for the mentions (added to `summary` as
    /// they are written) and the errors.
    pub(super) fn merge(
        &mut self,
        (mentions_sink, errors_sink, summary): (&mut Sink<Mention>, &mut Sink<ErrorRow>, &mut SummaryBuilder),
        (fresh_mentions, fresh_errors): (Vec<Mention>, Vec<ErrorRow>),
        bound: Option<&str>,
        dropped: Dropped<'_>,
    ) -> Result<(), OutputError> {
        self.mentions.merge(mentions_sink, summary, fresh_mentions, bound, dropped)?;
        self.errors.merge(errors_sink, fresh_errors, bound, dropped)
    }
}

impl Articles {
    fn merge(&mut self, sink: &mut Sink<ArticleRow>, fresh: Vec<ArticleRow>, bound: Option<&str>, dropped: Dropped<'_>) -> Result<(), OutputError> {
        let (rows, csv, keys) = (&self.rows, &self.csv, &self.keys);
        self.next = merge(
            sink,
            fresh,
            (self.next, keys.height()),
            |i| keys.before(i, bound),
            |i| keys.at(i, |k, j| k.source_path.get(j).is_some_and(|p| !dropped(p))),
            |i, r| keys.at(i, |k, j| k.article_id.get(j).unwrap_or_default().cmp(r.article_id.as_str())),
            |sink, from, to| sink.push_carried(rows.slice(from, to).map_err(sink.pe())?, from, csv.as_ref()),
        )?;
        Ok(())
    }
}

impl Mentions {
    /// Whether carried mention `i` stays: the file of its article is not `dropped`.
    fn kept(&self, i: usize, dropped: Dropped<'_>) -> Result<bool, OutputError> {
        self.keys.at(i, |k, j| {
            let id = k.article_id.get(j).unwrap_or_default();
            let mut a = self.article.get();
            loop {
                if a >= self.articles.height() {
                    return Err(bad("a mention of the last run without its article row"));
                }
                match self.articles.at(a, |ak, aj| (ak.article_id.get(aj).unwrap_or_default().cmp(id), ak.source_path.get(aj).is_some_and(|p| !dropped(p))))? {
                    (Ordering::Less, _) => a += 1,
                    (Ordering::Equal, kept) => {
                        self.article.set(a);
                        return Ok(kept);
                    }
                    (Ordering::Greater, _) => return Err(bad("a mention of the last run without its article row")),
                }
            }
        })?
    }

    fn merge(&mut self, sink: &mut Sink<Mention>, summary: &mut SummaryBuilder, fresh: Vec<Mention>, bound: Option<&str>, dropped: Dropped<'_>) -> Result<(), OutputError> {
        for m in &fresh {
            summary.add(m);
        }
        let this = &*self;
        let keys = &this.keys;
        let mut summary_err = None;
        let next = merge(
            sink,
            fresh,
            (this.next, keys.height()),
            |i| keys.before(i, bound),
            |i| this.kept(i, dropped),
            |i, m| {
                keys.at(i, |k, j| {
                    let carried = (k.article_id.get(j).unwrap_or_default(), k.start.get(j), k.end.get(j), k.mention_id.get(j).unwrap_or_default());
                    carried.cmp(&(m.article_id.as_str(), Some(m.start), Some(m.end), m.mention_id.as_str()))
                })
            },
            |sink, from, to| {
                let part = this.rows.slice(from, to).map_err(sink.pe())?;
                if let Err(e) = summary.add_frame(&part) {
                    summary_err.get_or_insert(e);
                }
                sink.push_carried(part, from, this.csv.as_ref())
            },
        )?;
        if let Some(source) = summary_err {
            return Err(OutputError::Polars { table: "summary".into(), source });
        }
        self.next = next;
        Ok(())
    }
}

impl Errors {
    fn merge(&mut self, sink: &mut Sink<ErrorRow>, mut fresh: Vec<ErrorRow>, bound: Option<&str>, dropped: Dropped<'_>) -> Result<(), OutputError> {
        let end = until(self.next, self.rows.len(), bound, |i| self.rows.get(i).map(|e| e.source_path.as_str()));
        let carried = self.rows.get(self.next..end).unwrap_or_default();
        fresh.extend(carried.iter().filter(|e| !dropped(&e.source_path)).cloned());
        fresh.sort();
        self.next = end;
        sink.push(fresh)
    }
}

/// The first row from `from` whose key (`key_of`) is not before `bound`.
fn until<'a>(from: usize, len: usize, bound: Option<&str>, key_of: impl Fn(usize) -> Option<&'a str>) -> usize {
    let Some(b) = bound else { return len };
    let mut i = from;
    while i < len && key_of(i).is_some_and(|k| k < b) {
        i += 1;
    }
    i
}

/// Writes the kept carried rows from `from` on that sort before the bound
/// (`before(i)`: the rows up to `len` when there is none) and the `fresh`
/// rows (in table order) to `sink` in merged order: `cmp(i, r)` orders
/// carried row `i` against fresh row `r`; runs of kept carried rows go
/// through `carry`. Carried rows are looked at once each, in order. Returns
/// the first carried row not written. A fresh row with the key of a carried
/// row has no defined place (its file's order is not in the tables): an error.
fn merge<R>(
    sink: &mut Sink<R>,
    fresh: Vec<R>,
    (from, len): (usize, usize),
    before: impl Fn(usize) -> Result<bool, OutputError>,
    kept: impl Fn(usize) -> Result<bool, OutputError>,
    cmp: impl Fn(usize, &R) -> Result<Ordering, OutputError>,
    mut carry: impl FnMut(&mut Sink<R>, usize, usize) -> Result<(), OutputError>,
) -> Result<usize, OutputError> {
    let mut fresh = fresh.into_iter().peekable();
    let mut run = from;
    let mut i = from;
    while i < len && before(i)? {
        if !kept(i)? {
            if run < i {
                carry(sink, run, i)?;
            }
            run = i + 1;
            i += 1;
            continue;
        }
        // The fresh rows that sort before carried row `i`, in one go.
        let mut ahead = Vec::new();
        while let Some(r) = fresh.peek() {
            match cmp(i, r)? {
                Ordering::Less => break,
                Ordering::Equal => return Err(OutputError::SharedKey(format!("{}: a new row has the key of a carried row", sink.name))),
                Ordering::Greater => ahead.extend(fresh.next()),
            }
        }
        if !ahead.is_empty() {
            if run < i {
                carry(sink, run, i)?;
                run = i;
            }
            sink.push(ahead)?;
        }
        i += 1;
    }
    if run < i {
        carry(sink, run, i)?;
    }
    sink.push(fresh)?;
    Ok(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_are_found_past_quoted_newlines_and_doubled_quotes() {
        let dir = tempfile::tempdir().expect("temp dir");
        let text = "id,evidence\n1,\"dua\nbaris\"\n2,\"kata \"\"juara\"\", lalu\"\n3,biasa\n";
        std::fs::write(dir.path().join("t.csv"), text).expect("write");
        let csv = CsvLines::read(dir.path(), "t", 3).expect("three rows");
        let lines = |from, to| {
            let out = dir.path().join("out.csv");
            let mut dest = std::fs::File::create(&out).expect("create");
            csv.copy_lines(from, to, &mut dest).expect("copy");
            std::fs::read(&out).expect("read back")
        };
        assert_eq!(lines(0, 1), b"1,\"dua\nbaris\"\n");
        assert_eq!(lines(1, 2), b"2,\"kata \"\"juara\"\", lalu\"\n");
        assert_eq!(lines(1, 3), b"2,\"kata \"\"juara\"\", lalu\"\n3,biasa\n");
        // Another row count than the Parquet table's, or an open quote: refused.
        assert!(CsvLines::read(dir.path(), "t", 4).is_err());
        std::fs::write(dir.path().join("u.csv"), "id,evidence\n1,\"open\n").expect("write");
        assert!(CsvLines::read(dir.path(), "u", 1).is_err());
    }

    fn article(id: String) -> ArticleRow {
        ArticleRow {
            source_path: format!("{id}.txt"),
            article_id: id,
            format: crate::model::Format::Txt,
            url: None,
            title: None,
            published: None,
            chars: 1,
            content_hash: String::new(),
            mentions: 0,
            status: crate::model::Status::Ok,
        }
    }

    /// The keys of a table of several row groups, read one group at a time,
    /// are those written; a table out of order is refused as it is read.
    #[test]
    fn keys_are_read_a_row_group_at_a_time_and_checked_in_order() {
        let keys_of = |ids: &[String]| -> Result<Vec<String>, OutputError> {
            let dir = tempfile::tempdir().expect("temp dir");
            let rows: Vec<ArticleRow> = ids.iter().cloned().map(article).collect();
            crate::output::write_tables(dir.path(), &[], &rows, &[]).expect("tables");
            let old = OldParquet::read(std::fs::read(dir.path().join("articles.parquet")).expect("read")).expect("parquet");
            assert!(ids.len() < 20_000 || old.meta.row_groups.len() >= 2, "several row groups");
            let keys: Keys<ArticleKeys> = Keys::new(std::sync::Arc::new(old));
            (0..keys.height()).map(|i| keys.at(i, |k, j| k.article_id.get(j).unwrap_or_default().to_string())).collect()
        };
        let sorted: Vec<String> = (0..40_000).map(|i| format!("r{i:06}")).collect();
        assert_eq!(keys_of(&sorted).expect("in order"), sorted);
        let mut swapped = sorted.clone();
        swapped.swap(100, 39_000);
        assert!(matches!(keys_of(&swapped), Err(OutputError::Carry(_))));
        let shared = vec!["a".to_string(), "b".to_string(), "b".to_string()];
        assert!(matches!(keys_of(&shared), Err(OutputError::Carry(_))));
    }
}
