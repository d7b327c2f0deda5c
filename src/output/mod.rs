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
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Version of the table schema; bumped on any column change.
pub const SCHEMA_VERSION: &str = "1";

/// Key of the schema version in the Parquet key-value metadata.
pub const SCHEMA_VERSION_KEY: &str = "schema_version";

mod summary;
pub use summary::{summary_frame, summary_rows, SummaryRow};

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

/// Writes `df` as `<dir>/<name>.parquet.tmp` and `<dir>/<name>.csv.tmp`; returns both temp paths.
fn write_temp(dir: &Path, name: &str, df: &mut DataFrame) -> Result<Vec<(PathBuf, PathBuf)>, OutputError> {
    let pe = |source| OutputError::Polars { table: name.to_string(), source };
    let parquet = dir.join(format!("{name}.parquet"));
    let csv = dir.join(format!("{name}.csv"));
    let tmp_parquet = dir.join(format!(".{name}.parquet.tmp"));
    let tmp_csv = dir.join(format!(".{name}.csv.tmp"));
    {
        let f = std::fs::File::create(&tmp_parquet).map_err(io(&tmp_parquet))?;
        let kv = KeyValueMetadata::from_static(vec![
            (SCHEMA_VERSION_KEY.to_string(), SCHEMA_VERSION.to_string()),
            ("table".to_string(), name.to_string()),
        ]);
        ParquetWriter::new(f)
            .with_compression(ParquetCompression::Zstd(None))
            .with_statistics(StatisticsOptions::empty())
            .with_key_value_metadata(Some(kv))
            .finish(df)
            .map_err(pe)?;
    }
    {
        let f = std::fs::File::create(&tmp_csv).map_err(io(&tmp_csv))?;
        let mut w = std::io::BufWriter::new(f);
        CsvWriter::new(&mut w).include_header(true).finish(df).map_err(pe)?;
        use std::io::Write;
        w.flush().map_err(io(&tmp_csv))?;
        w.get_ref().sync_all().map_err(io(&tmp_csv))?;
    }
    Ok(vec![(tmp_parquet, parquet), (tmp_csv, csv)])
}

/// Writes all four tables into `dir`, each renamed into place only after all are written.
///
/// The `summary` table is derived from `mentions` alone (see [`summary_rows`]),
/// so it is the same whether the mentions come from a full or an incremental run.
pub fn write_tables(dir: &Path, mentions: &[Mention], articles: &[ArticleRow], errors: &[ErrorRow]) -> Result<(), OutputError> {
    fn pe(t: &'static str) -> impl Fn(PolarsError) -> OutputError {
        move |source| OutputError::Polars { table: t.to_string(), source }
    }
    let mut frames = vec![
        ("mentions", mentions_frame(mentions).map_err(pe("mentions"))?),
        ("articles", articles_frame(articles).map_err(pe("articles"))?),
        ("errors", errors_frame(errors).map_err(pe("errors"))?),
        ("summary", summary_frame(&summary_rows(mentions)).map_err(pe("summary"))?),
    ];
    let mut renames = Vec::new();
    for (name, df) in frames.iter_mut() {
        renames.extend(write_temp(dir, name, df)?);
    }
    for (tmp, fin) in renames {
        std::fs::rename(&tmp, &fin).map_err(io(&fin))?;
    }
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
