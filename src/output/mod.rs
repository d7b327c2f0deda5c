//! Writing the `mentions`, `articles`, `errors` and `summary` tables as Parquet and CSV with polars.
//!
//! The columns of every table are documented in `docs/schema.md`; each
//! Parquet file carries the key `schema_version` ([`SCHEMA_VERSION`]) and the
//! key `table` (its table name) in its key-value metadata.
//!
//! Every table is written to a temporary file first and renamed into place
//! only when all of them are complete, so an interrupted run never leaves a
//! half-written table behind.

use crate::model::{ArticleRow, ErrorRow, Mention};
use polars::prelude::*;
use foldhash::HashSet;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Version of the table schema; bumped on any column change.
pub const SCHEMA_VERSION: &str = "1";

/// Key of the schema version in the Parquet key-value metadata.
pub const SCHEMA_VERSION_KEY: &str = "schema_version";

pub mod carry;
pub mod read;
mod summary;
pub use summary::{summary_frame, summary_rows, SummaryBuilder, SummaryRow};

/// Why tables could not be written.
#[derive(Debug, Error)]
pub enum OutputError {
    /// File system error.
    #[error("{path}: {source}")]
    Io {
        /// Path concerned.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// polars refused the data.
    #[error("{table}: {source}")]
    Polars {
        /// Table name.
        table: String,
        /// Cause.
        source: PolarsError,
    },
    /// The last run's tables cannot be carried over (see [`carry`]).
    #[error("tables of the last run: {0}")]
    Carry(String),
    /// A fresh row has the key of a carried row (ids made equal by unusual
    /// file names): its place is known only to a full run.
    #[error("tables of the last run: {0}")]
    SharedKey(String),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> OutputError + '_ {
    move |source| OutputError::Io { path: path.to_path_buf(), source }
}

/// Days since 1970-01-01 of an ISO date.
fn epoch_days(iso: &str) -> Option<i32> {
    let d = chrono::NaiveDate::parse_from_str(iso.get(..10)?, "%Y-%m-%d").ok()?;
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1)?;
    i32::try_from((d - epoch).num_days()).ok()
}

/// The ISO date (`YYYY-MM-DD`) of a day count since 1970-01-01.
fn iso_date(days: i32) -> Option<String> {
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1)?;
    let d = epoch.checked_add_signed(chrono::TimeDelta::try_days(i64::from(days))?)?;
    Some(d.format("%Y-%m-%d").to_string())
}

fn date_column(name: &str, values: Vec<Option<i32>>) -> Result<Column, PolarsError> {
    Ok(Series::new(name.into(), values).cast(&DataType::Date)?.into_column())
}

fn str_col(name: &str, values: Vec<Option<String>>) -> Column {
    Column::new(name.into(), values)
}

/// The `mentions` table.
pub fn mentions_frame(rows: &[Mention]) -> Result<DataFrame, PolarsError> {
    let s = |f: fn(&Mention) -> Option<String>| rows.iter().map(f).collect::<Vec<_>>();
    let cols = vec![
        str_col("mention_id", s(|m| Some(m.mention_id.clone()))),
        str_col("article_id", s(|m| Some(m.article_id.clone()))),
        str_col("program", s(|m| Some(m.program.clone()))),
        Column::new("edition".into(), rows.iter().map(|m| m.edition).collect::<Vec<_>>()),
        str_col("recipient", s(|m| Some(m.recipient.clone()))),
        str_col("recipient_raw", s(|m| Some(m.recipient_raw.clone()))),
        str_col("recipient_level", s(|m| Some(m.recipient_level.as_str().to_string()))),
        str_col("region_code", s(|m| m.region_code.clone())),
        str_col("category", s(|m| m.category.clone())),
        str_col("category_key", s(|m| m.category_key.clone())),
        str_col("group", s(|m| m.group.clone())),
        Column::new("rank".into(), rows.iter().map(|m| m.rank).collect::<Vec<_>>()),
        str_col("rank_text", s(|m| m.rank_text.clone())),
        date_column("award_date", rows.iter().map(|m| m.award_date.as_deref().and_then(epoch_days)).collect())?,
        str_col("date_text", s(|m| m.date_text.clone())),
        str_col("evidence", s(|m| Some(m.evidence.clone()))),
        Column::new("start".into(), rows.iter().map(|m| m.start).collect::<Vec<_>>()),
        Column::new("end".into(), rows.iter().map(|m| m.end).collect::<Vec<_>>()),
        str_col("rule", s(|m| Some(m.rule.clone()))),
    ];
    DataFrame::new(rows.len(), cols)
}

/// The `articles` table.
pub fn articles_frame(rows: &[ArticleRow]) -> Result<DataFrame, PolarsError> {
    let s = |f: fn(&ArticleRow) -> Option<String>| rows.iter().map(f).collect::<Vec<_>>();
    let cols = vec![
        str_col("article_id", s(|a| Some(a.article_id.clone()))),
        str_col("source_path", s(|a| Some(a.source_path.clone()))),
        str_col("format", s(|a| Some(a.format.as_str().to_string()))),
        str_col("url", s(|a| a.url.clone())),
        str_col("title", s(|a| a.title.clone())),
        date_column("published", rows.iter().map(|a| a.published.as_deref().and_then(epoch_days)).collect())?,
        Column::new("chars".into(), rows.iter().map(|a| a.chars).collect::<Vec<_>>()),
        str_col("content_hash", s(|a| Some(a.content_hash.clone()))),
        Column::new("mentions".into(), rows.iter().map(|a| a.mentions).collect::<Vec<_>>()),
        str_col("status", s(|a| Some(a.status.as_str().to_string()))),
    ];
    DataFrame::new(rows.len(), cols)
}

/// The `errors` table.
pub fn errors_frame(rows: &[ErrorRow]) -> Result<DataFrame, PolarsError> {
    let s = |f: fn(&ErrorRow) -> Option<String>| rows.iter().map(f).collect::<Vec<_>>();
    let cols = vec![
        str_col("source_path", s(|e| Some(e.source_path.clone()))),
        str_col("article_id", s(|e| e.article_id.clone())),
        str_col("stage", s(|e| Some(e.stage.clone()))),
        str_col("message", s(|e| Some(e.message.clone()))),
    ];
    DataFrame::new(rows.len(), cols)
}

/// Rows per Parquet row group of the `errors` and `summary` tables (and
/// per CSV batch): the tables are written a row group at a time as the rows
/// come, so memory does not grow with the corpus. A table of fewer rows is
/// one row group, as polars writes a frame of that size in one go.
pub const ROW_GROUP_ROWS: usize = 8_192;

/// Fewest rows in a row group of the `mentions` and `articles` tables, but
/// for the last (see [`GroupCuts`]).
pub const MIN_GROUP_ROWS: usize = 4_096;

/// Most rows in a row group of the `mentions` and `articles` tables.
pub const MAX_GROUP_ROWS: usize = 16_384;

/// One article in this many (by the blake3 of its id) starts a row group of
/// the `mentions` and `articles` tables once the group has [`MIN_GROUP_ROWS`].
const ANCHOR_EVERY: u64 = 1_024;

/// Where the row groups of a table end. In the tables of articles
/// (`mentions`, `articles`), a group ends before the first row of an
/// "anchor" article (1 in [`ANCHOR_EVERY`] by the hash of its id) once it
/// has [`MIN_GROUP_ROWS`] rows, or at [`MAX_GROUP_ROWS`]: the cuts depend on
/// the rows near them, not on how many came before, so rows added or
/// removed in one place leave the groups elsewhere as they were, and an
/// incremental run copies those from the last file. Other tables: every
/// [`ROW_GROUP_ROWS`] rows.
struct GroupCuts {
    keyed: bool,
    /// Article id of the last row seen.
    last: Option<String>,
}

impl GroupCuts {
    /// Whether a group that has `len` rows ends before a row of article `key`.
    fn before(&mut self, len: usize, key: Option<&str>) -> bool {
        if !self.keyed {
            return len >= ROW_GROUP_ROWS;
        }
        let key = key.unwrap_or_default();
        let new_article = self.last.as_deref() != Some(key);
        if new_article {
            set_text(&mut self.last, key);
        }
        len >= MAX_GROUP_ROWS || (len >= MIN_GROUP_ROWS && new_article && anchor(key))
    }
}

/// Sets `slot` to `text`, reusing the string it holds: no allocation each
/// time the article id followed row by row changes.
fn set_text(slot: &mut Option<String>, text: &str) {
    let s = slot.get_or_insert_with(String::new);
    s.clear();
    s.push_str(text);
}

/// Whether rows of article `id` start a row group (once it is long enough).
fn anchor(id: &str) -> bool {
    let h = blake3::hash(id.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&h.as_bytes()[..8]);
    u64::from_le_bytes(first) % ANCHOR_EVERY == 0
}

// Unbuffered: polars' CSV writer formats whole batches before writing them,
// and the Parquet writer writes whole pages.
type ParquetBatched = polars::io::parquet::write::BatchedWriter<std::fs::File>;
type CsvBatched = polars::io::csv::write::BatchedWriter<std::fs::File>;

/// `parts` stacked into a frame of one chunk (one row group).
fn one_chunk(parts: Vec<DataFrame>) -> Result<DataFrame, PolarsError> {
    let mut parts = parts.into_iter();
    let mut all = parts.next().unwrap_or_default();
    for p in parts {
        all.vstack_mut_owned(p)?;
    }
    all.rechunk_mut();
    Ok(all)
}

/// The (temporary, final) paths of a table's Parquet and CSV files.
type TableFiles = [(PathBuf, PathBuf); 2];

/// The row count of the `articles` table and its files, once written.
type ArticlesWritten = Result<(usize, TableFiles), OutputError>;

/// A thread that takes messages in order and ends with a value: the
/// plumbing of the Parquet and `articles` threads. The thread gets `Some`
/// per message and `None` to end ([`Worker::finish`]); a channel closed
/// without it (dropped early, or a panic) leaves its work unfinished.
struct Worker<M, T> {
    tx: Option<std::sync::mpsc::SyncSender<Option<M>>>,
    handle: Option<std::thread::JoinHandle<T>>,
}

impl<M: Send + 'static, T: Send + 'static> Worker<M, T> {
    /// Starts `work` on a thread named `name`, at most `queue` messages behind.
    fn spawn(name: String, queue: usize, work: impl FnOnce(std::sync::mpsc::Receiver<Option<M>>) -> T + Send + 'static) -> std::io::Result<Self> {
        let (tx, rx) = std::sync::mpsc::sync_channel(queue);
        let handle = std::thread::Builder::new().name(name).spawn(move || work(rx))?;
        Ok(Worker { tx: Some(tx), handle: Some(handle) })
    }

    fn send(&mut self, msg: M) {
        // A closed channel means the thread failed: finish() reports it.
        if self.tx.as_ref().is_some_and(|tx| tx.send(Some(msg)).is_err()) {
            self.tx = None;
        }
    }

    /// Ends the messages and waits for the thread's value (`None` once taken).
    fn finish(&mut self) -> Option<T> {
        if let Some(tx) = self.tx.take() {
            let _ = tx.send(None);
        }
        self.handle.take().map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
    }
}

impl<M, T> Drop for Worker<M, T> {
    fn drop(&mut self) {
        self.tx = None;
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// What the Parquet thread of a table is sent.
enum RowGroup {
    /// A frame of one chunk: one row group.
    Rows(DataFrame),
    /// Row group `k` of the last run's file, copied as it is (see
    /// [`carry::OldParquet`]); its rows, as frames, to encode should its
    /// pages not be read.
    Copy(std::sync::Arc<carry::OldParquet>, usize, Vec<DataFrame>),
}

/// The Parquet file of a table, encoded and written by a thread of its own
/// (row groups in the order sent), while the rows of the next row group are
/// gathered and their CSV lines written.
type ParquetLane = Worker<RowGroup, Result<(), PolarsError>>;

fn parquet_lane(name: &str, mut writer: ParquetBatched) -> std::io::Result<ParquetLane> {
    Worker::spawn(format!("anugerah-{name}"), 1, move |rx| {
        for msg in rx {
            match msg {
                Some(RowGroup::Rows(df)) => writer.write_batch(&df)?,
                Some(RowGroup::Copy(old, k, parts)) => {
                    let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| old.row_group(k)));
                    match read {
                        Ok(Ok((rows, pages))) => writer.write_row_group(rows as u64, &pages)?,
                        _ => writer.write_batch(&one_chunk(parts)?)?,
                    }
                }
                None => {
                    writer.finish()?;
                    return Ok(());
                }
            }
        }
        Err(PolarsError::ComputeError("table abandoned before its end".into()))
    })
}

/// One table being written: rows buffered up to the end of their row group
/// (see [`GroupCuts`]), then turned into a frame and appended to the Parquet
/// and CSV temporary files.
struct Sink<R> {
    name: &'static str,
    frame: fn(&[R]) -> Result<DataFrame, PolarsError>,
    /// The article id of a row, for the tables of articles.
    key: Option<fn(&R) -> &str>,
    cuts: GroupCuts,
    /// Rows waiting for their row group, after those of `waiting`.
    buf: Vec<R>,
    /// Rows waiting for their row group as frames, before those of `buf`,
    /// each with its first row in the last run's table when carried over.
    waiting: Vec<(DataFrame, Option<usize>)>,
    /// The last run's Parquet file of this table, whose row groups are
    /// copied when the same rows make a row group again.
    old: Option<std::sync::Arc<carry::OldParquet>>,
    /// Row groups copied from `old`, and written in all.
    groups: (usize, usize),
    /// Number of rows in `waiting`.
    waiting_rows: usize,
    /// CSV written as the rows come rather than a row group at a time: set
    /// once rows carried over with their CSV text (see [`carry`]) may come.
    csv_ahead: bool,
    rows: usize,
    parquet: ParquetLane,
    csv: CsvBatched,
    tmp_parquet: PathBuf,
    tmp_csv: PathBuf,
    /// Handles on the two files, to fsync them when complete (and to write
    /// carried CSV lines between the CSV writer's batches).
    sync: [std::fs::File; 2],
}

impl<R> Sink<R> {
    fn create(dir: &Path, name: &'static str, frame: fn(&[R]) -> Result<DataFrame, PolarsError>, key: Option<fn(&R) -> &str>) -> Result<Self, OutputError> {
        let pe = |source| OutputError::Polars { table: name.to_string(), source };
        let schema = frame(&[]).map_err(pe)?.schema().as_ref().clone();
        let tmp_parquet = dir.join(format!(".{name}.parquet.tmp"));
        let tmp_csv = dir.join(format!(".{name}.csv.tmp"));
        let f = std::fs::File::create(&tmp_parquet).map_err(io(&tmp_parquet))?;
        let sync_parquet = f.try_clone().map_err(io(&tmp_parquet))?;
        let kv = KeyValueMetadata::from_static(vec![
            (SCHEMA_VERSION_KEY.to_string(), SCHEMA_VERSION.to_string()),
            ("table".to_string(), name.to_string()),
        ]);
        let parquet = ParquetWriter::new(f)
            // Level 1: on these tables both quicker and smaller than the default 3.
            .with_compression(ParquetCompression::Zstd(polars_parquet::write::ZstdLevel::try_new(1).ok()))
            .with_statistics(StatisticsOptions::empty())
            .with_key_value_metadata(Some(kv))
            .batched(&schema)
            .map_err(pe)?;
        let parquet = parquet_lane(name, parquet).map_err(io(&tmp_parquet))?;
        let f = std::fs::File::create(&tmp_csv).map_err(io(&tmp_csv))?;
        let sync_csv = f.try_clone().map_err(io(&tmp_csv))?;
        let csv = CsvWriter::new(f).include_header(true).batched(&schema).map_err(pe)?;
        Ok(Sink { name, frame, key, cuts: GroupCuts { keyed: key.is_some(), last: None }, buf: Vec::new(), waiting: Vec::new(), old: None, groups: (0, 0), waiting_rows: 0, csv_ahead: false, rows: 0, parquet, csv, tmp_parquet, tmp_csv, sync: [sync_parquet, sync_csv] })
    }

    fn pe(&self) -> impl Fn(PolarsError) -> OutputError + '_ {
        |source| OutputError::Polars { table: self.name.to_string(), source }
    }

    /// Writes `df` (one chunk, at most one row group) as one batch (a
    /// Parquet row group, and its CSV lines unless written ahead).
    fn write_frame(&mut self, df: DataFrame) -> Result<(), OutputError> {
        if !self.csv_ahead {
            self.csv.write_batch(&df).map_err(self.pe())?;
        }
        self.rows += df.height();
        self.groups.1 += usize::from(df.height() > 0);
        self.parquet.send(RowGroup::Rows(df));
        Ok(())
    }

    /// From now on writes the CSV lines as the rows come (the header at once),
    /// so that rows carried over with their CSV text can come too.
    fn write_csv_ahead(&mut self) -> Result<(), OutputError> {
        if !self.csv_ahead {
            self.push_waiting_as_frame()?;
            for (df, _) in &self.waiting {
                self.csv.write_batch(df).map_err(self.pe())?;
            }
            if self.rows == 0 && self.waiting.is_empty() {
                let header = (self.frame)(&[]).map_err(self.pe())?;
                self.csv.write_batch(&header).map_err(self.pe())?;
            }
            self.csv_ahead = true;
        }
        Ok(())
    }

    /// Moves the rows of `buf` into `waiting` as one frame.
    fn push_waiting_as_frame(&mut self) -> Result<(), OutputError> {
        if !self.buf.is_empty() {
            let rows = std::mem::take(&mut self.buf);
            let f = (self.frame)(&rows).map_err(self.pe())?;
            self.waiting_rows += f.height();
            self.waiting.push((f, None));
        }
        Ok(())
    }

    /// Appends rows in table order; full row groups are written at once.
    fn push(&mut self, rows: impl IntoIterator<Item = R>) -> Result<(), OutputError> {
        if self.csv_ahead {
            let rows: Vec<R> = rows.into_iter().collect();
            if rows.is_empty() {
                return Ok(());
            }
            let df = (self.frame)(&rows).map_err(self.pe())?;
            self.csv.write_batch(&df).map_err(self.pe())?;
            return self.push_frame(df, None);
        }
        for r in rows {
            if self.cuts.before(self.waiting_rows + self.buf.len(), self.key.map(|k| k(&r))) {
                self.write_waiting()?;
            }
            self.buf.push(r);
        }
        Ok(())
    }

    /// Appends rows carried over from the last run's table: `df`, a frame
    /// of this table, and `csv`, rows `from..to` of the last CSV file, the
    /// same rows as CSV lines (when known); in table order after those pushed before.
    fn push_carried(&mut self, df: DataFrame, from: usize, csv: Option<&carry::CsvLines>) -> Result<(), OutputError> {
        self.write_csv_ahead()?;
        match csv {
            Some(lines) => {
                let [_, file] = &mut self.sync;
                lines.copy_lines(from, from + df.height(), file).map_err(io(&self.tmp_csv))?;
            }
            None => self.csv.write_batch(&df).map_err(self.pe())?,
        }
        self.push_frame(df, Some(from))
    }

    /// Appends rows given as a frame of this table (CSV lines already
    /// written; `from`: their first row in the last run's table, when
    /// carried over), in table order after those pushed before.
    fn push_frame(&mut self, df: DataFrame, from: Option<usize>) -> Result<(), OutputError> {
        if df.height() == 0 {
            return Ok(());
        }
        self.push_waiting_as_frame()?;
        let keys = match self.key {
            Some(_) => Some(df.column("article_id").and_then(|c| c.str().cloned()).map_err(self.pe())?),
            None => None,
        };
        // Row groups ending inside `df`: its rows up to each cut, then the group.
        let mut start = 0;
        for i in 0..df.height() {
            let key = keys.as_ref().and_then(|k| k.get(i));
            if self.cuts.before(self.waiting_rows + (i - start), key) {
                if i > start {
                    self.waiting_rows += i - start;
                    self.waiting.push((df.slice(start as i64, i - start), from.map(|f| f + start)));
                }
                self.write_waiting()?;
                start = i;
            }
        }
        let rest = df.height() - start;
        self.waiting_rows += rest;
        self.waiting.push((df.slice(start as i64, rest), from.map(|f| f + start)));
        Ok(())
    }

    /// Writes the waiting rows as one row group: exactly the bytes the same
    /// rows pushed one by one give, as a row group is written from a frame
    /// of one chunk either way. When the rows are those of a whole row group
    /// of the last run's file (carried over, in one run), that row group is
    /// copied instead: the same bytes.
    fn write_waiting(&mut self) -> Result<(), OutputError> {
        let rows = std::mem::take(&mut self.buf);
        if self.waiting.is_empty() {
            let df = (self.frame)(&rows).map_err(self.pe())?;
            return self.write_frame(df);
        }
        if !rows.is_empty() {
            let f = (self.frame)(&rows).map_err(self.pe())?;
            self.waiting.push((f, None));
        }
        let group = std::mem::take(&mut self.waiting);
        let take = std::mem::take(&mut self.waiting_rows) + rows.len();
        let copy = self.copyable(&group, take);
        let parts: Vec<DataFrame> = group.into_iter().map(|(df, _)| df).collect();
        if let (Some(k), Some(old)) = (copy, self.old.clone()) {
            self.rows += take;
            self.groups.0 += 1;
            self.groups.1 += 1;
            self.parquet.send(RowGroup::Copy(old, k, parts));
            return Ok(());
        }
        let all = one_chunk(parts).map_err(self.pe())?;
        self.write_frame(all)
    }

    /// The row group of the last run's file that holds exactly the `rows`
    /// rows of `group`, if they are carried rows in one run.
    fn copyable(&self, group: &[(DataFrame, Option<usize>)], rows: usize) -> Option<usize> {
        let old = self.old.as_ref()?;
        let start = group.first()?.1?;
        let mut next = start;
        for (df, from) in group {
            if *from != Some(next) {
                return None;
            }
            next += df.height();
        }
        old.group_of(start, rows)
    }

    /// Copies whole row groups from `old` (the last run's file of this
    /// table) where the same rows make a row group again.
    fn copy_row_groups_from(&mut self, old: std::sync::Arc<carry::OldParquet>) {
        self.old = Some(old);
    }

    /// Rows pushed so far.
    fn waiting_or_written(&self) -> usize {
        self.rows + self.waiting_rows + self.buf.len()
    }

    /// Writes the last row group and the footers, syncs both files; returns
    /// the (temporary, final) paths.
    fn finish(mut self, dir: &Path) -> Result<TableFiles, OutputError> {
        // The last group (or, for an empty table, its schema).
        if self.rows == 0 || !self.buf.is_empty() || self.waiting_rows > 0 {
            self.write_waiting()?;
        }
        self.csv.finish().map_err(self.pe())?;
        let written = self.parquet.finish().unwrap_or_else(|| Err(PolarsError::ComputeError("table already finished".into())));
        written.map_err(self.pe())?;
        if self.old.is_some() {
            tracing::debug!("{}: {} of {} row groups copied from the last table", self.name, self.groups.0, self.groups.1);
        }
        let Sink { name, tmp_parquet, tmp_csv, sync: [p, c], .. } = self;
        p.sync_all().map_err(io(&tmp_parquet))?;
        c.sync_all().map_err(io(&tmp_csv))?;
        Ok([(tmp_parquet, dir.join(format!("{name}.parquet"))), (tmp_csv, dir.join(format!("{name}.csv")))])
    }
}

/// Row counts of the tables written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TableCounts {
    /// `mentions` rows.
    pub mentions: usize,
    /// `articles` rows.
    pub articles: usize,
    /// `errors` rows.
    pub errors: usize,
}

/// Writes the four tables into a folder as the rows come, a row group at a
/// time, so that only one row group per table is held in memory. Rows must
/// be pushed in table order (see `pipeline::sort_tables`); the `summary`
/// table is aggregated from the mentions as they arrive and written by
/// [`TablesWriter::finish`], which renames all eight files into place.
/// The `articles` table is written on a thread of its own (`ArticlesLane`),
/// so that the two large tables are written side by side.
pub struct TablesWriter {
    dir: PathBuf,
    mentions: Sink<Mention>,
    articles: ArticlesLane,
    errors: Sink<ErrorRow>,
    summary: SummaryBuilder,
    carry: Option<carry::MentionsPart>,
    /// Files whose carried rows are dropped.
    dropped: HashSet<String>,
}

/// What the articles thread is sent: rows, the bound they were released
/// with and the files whose carried rows are dropped from now on.
type ArticlesMsg = (Vec<ArticleRow>, Option<String>, Vec<String>);

/// The `articles` table, written by a thread of its own; a queue of two
/// batches keeps it in step with the rest.
type ArticlesLane = Worker<ArticlesMsg, ArticlesWritten>;

fn articles_lane(dir: &Path, mut carry: Option<carry::ArticlesPart>) -> Result<ArticlesLane, OutputError> {
    let mut sink = Sink::create(dir, "articles", articles_frame, Some(|a: &ArticleRow| a.article_id.as_str()))?;
    if let Some(c) = &carry {
        sink.copy_row_groups_from(c.old_parquet());
    }
    let out = dir.to_path_buf();
    Worker::spawn("anugerah-articles".into(), 2, move |rx: std::sync::mpsc::Receiver<Option<ArticlesMsg>>| {
        let mut dropped: HashSet<String> = HashSet::default();
        for msg in rx {
            let Some((rows, bound, gone)) = msg else {
                let rows = sink.waiting_or_written();
                return Ok((rows, sink.finish(&out)?));
            };
            dropped.extend(gone);
            match carry.as_mut() {
                Some(c) => c.merge(&mut sink, rows, bound.as_deref(), &|p| dropped.contains(p))?,
                None => sink.push(rows)?,
            }
        }
        Err(OutputError::Io { path: out, source: std::io::Error::other("articles table abandoned before its end") })
    })
    .map_err(|e| OutputError::Io { path: dir.to_path_buf(), source: e })
}

impl TablesWriter {
    /// Starts the temporary files of all tables in `dir`.
    pub fn create(dir: &Path) -> Result<TablesWriter, OutputError> {
        TablesWriter::start(dir, None)
    }

    /// As [`TablesWriter::create`], merging the rows of `carry` (the last
    /// run's tables) into the tables: see [`TablesWriter::push_batch`].
    pub fn with_carry(dir: &Path, carry: carry::Carry) -> Result<TablesWriter, OutputError> {
        TablesWriter::start(dir, Some(carry))
    }

    fn start(dir: &Path, carry: Option<carry::Carry>) -> Result<TablesWriter, OutputError> {
        let (articles_carry, carry) = match carry.map(carry::Carry::split) {
            Some((a, m)) => (Some(a), Some(m)),
            None => (None, None),
        };
        let mut mentions = Sink::create(dir, "mentions", mentions_frame, Some(|m: &Mention| m.article_id.as_str()))?;
        if let Some(c) = &carry {
            mentions.copy_row_groups_from(c.old_parquet());
        }
        Ok(TablesWriter {
            dir: dir.to_path_buf(),
            mentions,
            articles: articles_lane(dir, articles_carry)?,
            errors: Sink::create(dir, "errors", errors_frame, None)?,
            summary: SummaryBuilder::default(),
            carry,
            dropped: HashSet::default(),
        })
    }

    /// Appends fresh rows, each table's in table order, that sort before
    /// `bound` (by `article_id`, errors by `source_path`; all rows when
    /// `None`), with no row still to come sorting before them. With a
    /// carry (see [`TablesWriter::with_carry`]), its rows that sort before
    /// `bound` are merged in, except those of the files in `gone` or in the
    /// `gone` of earlier batches (deleted, or read again).
    pub fn push_batch(&mut self, articles: Vec<ArticleRow>, mentions: Vec<Mention>, errors: Vec<ErrorRow>, bound: Option<&str>, gone: Vec<String>) -> Result<(), OutputError> {
        self.articles.send((articles, bound.map(str::to_string), gone.clone()));
        let Some(carry) = self.carry.as_mut() else {
            self.push_mentions(mentions)?;
            return self.errors.push(errors);
        };
        self.dropped.extend(gone);
        let dropped = &self.dropped;
        carry.merge((&mut self.mentions, &mut self.errors, &mut self.summary), (mentions, errors), bound, &|p| dropped.contains(p))
    }

    /// Appends mentions, in table order (after those pushed before).
    pub fn push_mentions(&mut self, rows: Vec<Mention>) -> Result<(), OutputError> {
        for m in &rows {
            self.summary.add(m);
        }
        self.mentions.push(rows)
    }

    /// Appends articles rows, in table order.
    pub fn push_articles(&mut self, rows: Vec<ArticleRow>) -> Result<(), OutputError> {
        self.articles.send((rows, None, Vec::new()));
        Ok(())
    }

    /// Appends errors rows, in table order.
    pub fn push_errors(&mut self, rows: Vec<ErrorRow>) -> Result<(), OutputError> {
        self.errors.push(rows)
    }

    /// Writes the last row groups and the `summary` table, then renames every
    /// file into place (only once all are complete).
    /// The tables are finished on threads of their own (the last row groups,
    /// footers and fsyncs are the part of the run nothing else overlaps).
    pub fn finish(self) -> Result<Finished, OutputError> {
        let TablesWriter { dir, mentions, mut articles, errors, summary, .. } = self;
        let mut counts = TableCounts { mentions: mentions.waiting_or_written(), errors: errors.waiting_or_written(), articles: 0 };
        fn join<T>(h: std::thread::ScopedJoinHandle<'_, T>) -> T {
            h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        }
        let (finished, articles) = std::thread::scope(|s| {
            let mentions = s.spawn(|| mentions.finish(&dir));
            let summary = s.spawn(|| {
                let mut sink = Sink::create(&dir, "summary", summary_frame, None)?;
                sink.push(summary.rows())?;
                sink.finish(&dir)
            });
            let errors = errors.finish(&dir);
            let articles = articles.finish().unwrap_or_else(|| Err(OutputError::Io { path: dir.clone(), source: std::io::Error::other("articles table already finished") }));
            ([join(mentions), errors, join(summary)], articles)
        });
        let (articles_rows, articles_files) = articles?;
        counts.articles = articles_rows;
        let mut renames = articles_files.to_vec();
        for f in finished {
            renames.extend(f?);
        }
        let mut replaced = Vec::new();
        for (tmp, fin) in renames {
            // The table being replaced keeps a second name until the caller
            // removes it (`Finished::remove_replaced`): the rename does not
            // wait for its blocks to be freed.
            let old = fin.with_file_name(format!(".{}.old", fin.file_name().map(|n| n.to_string_lossy()).unwrap_or_default()));
            let _ = std::fs::remove_file(&old);
            if std::fs::hard_link(&fin, &old).is_ok() {
                replaced.push(old);
            }
            std::fs::rename(&tmp, &fin).map_err(io(&fin))?;
        }
        Ok(Finished { counts, replaced })
    }
}

/// Tables written and renamed into place.
#[derive(Debug, Default)]
pub struct Finished {
    /// Rows written.
    pub counts: TableCounts,
    /// Second names of the tables replaced, to remove.
    replaced: Vec<PathBuf>,
}

impl Finished {
    /// Removes the tables replaced (see [`TablesWriter::finish`]); a run
    /// that stops before leaves them to the next run's start.
    pub fn remove_replaced(&self) {
        for p in &self.replaced {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Writes all four tables into `dir`, each renamed into place only after all are written.
///
/// The rows must be sorted (see `pipeline::sort_tables`). The `summary`
/// table is derived from `mentions` alone (see [`summary_rows`]), so it is
/// the same whether the mentions come from a full or an incremental run.
/// The files are those [`TablesWriter`] writes when given the same rows.
pub fn write_tables(dir: &Path, mentions: &[Mention], articles: &[ArticleRow], errors: &[ErrorRow]) -> Result<(), OutputError> {
    let mut w = TablesWriter::create(dir)?;
    for part in mentions.chunks(ROW_GROUP_ROWS) {
        w.push_mentions(part.to_vec())?;
    }
    for part in articles.chunks(ROW_GROUP_ROWS) {
        w.push_articles(part.to_vec())?;
    }
    for part in errors.chunks(ROW_GROUP_ROWS) {
        w.push_errors(part.to_vec())?;
    }
    w.finish()?.remove_replaced();
    Ok(())
}

/// File names of the tables anugerah writes into an output folder.
pub const TABLE_FILES: &[&str] = &[
    "mentions.parquet",
    "mentions.csv",
    "articles.parquet",
    "articles.csv",
    "errors.parquet",
    "errors.csv",
    "summary.parquet",
    "summary.csv",
];
