//! The tables of an output folder read back into rows: Parquet, or CSV when
//! the Parquet file is missing. Used by `merge` (which combines part outputs
//! into the files of one full run) and by `report`.

use crate::model::{ArticleRow, ErrorRow, Format, Level, Mention, Status};
use polars::prelude::{DataType, ParquetReader, PolarsError, SerReader};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use thiserror::Error;

/// Why a table could not be read back.
#[derive(Debug, Error)]
pub enum ReadError {
    /// Neither the Parquet nor the CSV file of a table is there.
    #[error("{0}: no {1}.parquet or {1}.csv (run `anugerah run --out {0}` first)")]
    Missing(PathBuf, &'static str),
    /// The file could not be opened.
    #[error("{path}: {source}")]
    Io {
        /// File concerned.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// The file does not hold the table as written.
    #[error("{path}: {message}")]
    Table {
        /// File concerned.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// A table as columns of optional strings.
struct Table {
    path: PathBuf,
    rows: usize,
    /// Read from CSV, where a null and an empty text are both an empty field.
    csv: bool,
    cols: HashMap<String, Vec<Option<String>>>,
}

impl Table {
    /// `dir/name.parquet`, else `dir/name.csv`.
    fn open(dir: &Path, name: &'static str) -> Result<Table, ReadError> {
        let parquet = dir.join(format!("{name}.parquet"));
        let csv = dir.join(format!("{name}.csv"));
        if parquet.is_file() {
            Table::parquet(&parquet)
        } else if csv.is_file() {
            Table::csv(&csv)
        } else {
            Err(ReadError::Missing(dir.to_path_buf(), name))
        }
    }

    fn parquet(path: &Path) -> Result<Table, ReadError> {
        let f = std::fs::File::open(path).map_err(|source| ReadError::Io { path: path.to_path_buf(), source })?;
        Table::parquet_from(path, f)
    }

    /// The Parquet table of `path` read from `source` (its bytes).
    fn parquet_from(path: &Path, source: impl polars::io::mmap::MmapBytesReader) -> Result<Table, ReadError> {
        let err = |e: PolarsError| ReadError::Table { path: path.to_path_buf(), message: e.to_string() };
        Table::from_frame(path, ParquetReader::new(source).finish().map_err(err)?)
    }

    /// The rows of `df`, read from `path`.
    fn from_frame(path: &Path, df: polars::prelude::DataFrame) -> Result<Table, ReadError> {
        let err = |e: PolarsError| ReadError::Table { path: path.to_path_buf(), message: e.to_string() };
        let mut cols = HashMap::new();
        for c in df.columns() {
            // Dates become `YYYY-MM-DD`, numbers their decimal text.
            let s = c.cast(&DataType::String).map_err(err)?;
            let v: Vec<Option<String>> = s.str().map_err(err)?.iter().map(|o| o.map(str::to_string)).collect();
            cols.insert(c.name().to_string(), v);
        }
        Ok(Table { path: path.to_path_buf(), rows: df.height(), csv: false, cols })
    }

    fn csv(path: &Path) -> Result<Table, ReadError> {
        let err = |e: csv::Error| ReadError::Table { path: path.to_path_buf(), message: e.to_string() };
        let mut r = csv::ReaderBuilder::new().has_headers(true).from_path(path).map_err(err)?;
        let header: Vec<String> = r.headers().map_err(err)?.iter().map(str::to_string).collect();
        let mut cols: Vec<Vec<Option<String>>> = vec![Vec::new(); header.len()];
        let mut rows = 0;
        for rec in r.records() {
            let rec = rec.map_err(err)?;
            for (i, col) in cols.iter_mut().enumerate() {
                col.push(rec.get(i).filter(|v| !v.is_empty()).map(str::to_string));
            }
            rows += 1;
        }
        Ok(Table { path: path.to_path_buf(), rows, csv: true, cols: header.into_iter().zip(cols).collect() })
    }

    fn error(&self, message: String) -> ReadError {
        ReadError::Table { path: self.path.clone(), message }
    }

    /// A nullable text column.
    fn opt(&self, name: &str) -> Result<Vec<Option<String>>, ReadError> {
        self.cols.get(name).cloned().ok_or_else(|| self.error(format!("no column `{name}`")))
    }

    /// A column that never holds a null (in CSV an empty field is the empty text).
    fn req(&self, name: &str) -> Result<Vec<String>, ReadError> {
        self.opt(name)?
            .into_iter()
            .enumerate()
            .map(|(i, v)| match v {
                Some(v) => Ok(v),
                None if self.csv => Ok(String::new()),
                None => Err(self.error(format!("null in column `{name}`, row {i}"))),
            })
            .collect()
    }

    /// A nullable column of values parsed by `parse`.
    fn opt_parsed<T>(&self, name: &str, parse: impl Fn(&str) -> Option<T>) -> Result<Vec<Option<T>>, ReadError> {
        self.opt(name)?
            .into_iter()
            .map(|v| match v {
                None => Ok(None),
                Some(s) => parse(s.trim()).map(Some).ok_or_else(|| self.error(format!("column `{name}`: unexpected value {s:?}"))),
            })
            .collect()
    }

    /// A column of values parsed by `parse` that never holds a null.
    fn parsed<T>(&self, name: &str, parse: impl Fn(&str) -> Option<T>) -> Result<Vec<T>, ReadError> {
        self.opt_parsed(name, parse)?
            .into_iter()
            .enumerate()
            .map(|(i, v)| v.ok_or_else(|| self.error(format!("null in column `{name}`, row {i}"))))
            .collect()
    }
}

fn number<T: FromStr>(s: &str) -> Option<T> {
    s.parse().ok()
}

/// The `mentions` table of `dir`.
pub fn read_mentions(dir: &Path) -> Result<Vec<Mention>, ReadError> {
    mentions_of(Table::open(dir, "mentions")?)
}

fn mentions_of(t: Table) -> Result<Vec<Mention>, ReadError> {
    let (mut mention_id, mut article_id, mut program) = (t.req("mention_id")?, t.req("article_id")?, t.req("program")?);
    let (mut recipient, mut recipient_raw, mut evidence, mut rule) = (t.req("recipient")?, t.req("recipient_raw")?, t.req("evidence")?, t.req("rule")?);
    let (mut region_code, mut category, mut category_key) = (t.opt("region_code")?, t.opt("category")?, t.opt("category_key")?);
    let (mut group, mut rank_text, mut award_date, mut date_text) = (t.opt("group")?, t.opt("rank_text")?, t.opt("award_date")?, t.opt("date_text")?);
    let (edition, rank) = (t.opt_parsed("edition", number)?, t.opt_parsed("rank", number)?);
    let (level, start, end) = (t.parsed("recipient_level", Level::parse)?, t.parsed("start", number)?, t.parsed("end", number)?);
    let take = std::mem::take::<String>;
    Ok((0..t.rows)
        .map(|i| Mention {
            mention_id: take(&mut mention_id[i]),
            article_id: take(&mut article_id[i]),
            program: take(&mut program[i]),
            edition: edition[i],
            recipient: take(&mut recipient[i]),
            recipient_raw: take(&mut recipient_raw[i]),
            recipient_level: level[i],
            region_code: region_code[i].take(),
            category: category[i].take(),
            category_key: category_key[i].take(),
            group: group[i].take(),
            rank: rank[i],
            rank_text: rank_text[i].take(),
            award_date: award_date[i].take(),
            date_text: date_text[i].take(),
            evidence: take(&mut evidence[i]),
            start: start[i],
            end: end[i],
            rule: take(&mut rule[i]),
        })
        .collect())
}

/// The `articles` table of `dir`.
pub fn read_articles(dir: &Path) -> Result<Vec<ArticleRow>, ReadError> {
    articles_of(Table::open(dir, "articles")?)
}

fn articles_of(t: Table) -> Result<Vec<ArticleRow>, ReadError> {
    let format = |s: &str| [Format::Txt, Format::Html, Format::Jsonl].into_iter().find(|f| f.as_str() == s);
    let status = |s: &str| [Status::Ok, Status::Decoded, Status::Error].into_iter().find(|f| f.as_str() == s);
    let (mut article_id, mut source_path, mut content_hash) = (t.req("article_id")?, t.req("source_path")?, t.req("content_hash")?);
    let (mut url, mut title, mut published) = (t.opt("url")?, t.opt("title")?, t.opt("published")?);
    let (formats, statuses) = (t.parsed("format", format)?, t.parsed("status", status)?);
    let (chars, mentions) = (t.parsed("chars", number)?, t.parsed("mentions", number)?);
    let take = std::mem::take::<String>;
    Ok((0..t.rows)
        .map(|i| ArticleRow {
            article_id: take(&mut article_id[i]),
            source_path: take(&mut source_path[i]),
            format: formats[i],
            url: url[i].take(),
            title: title[i].take(),
            published: published[i].take(),
            chars: chars[i],
            content_hash: take(&mut content_hash[i]),
            mentions: mentions[i],
            status: statuses[i],
        })
        .collect())
}

/// The `errors` table of `dir`.
pub fn read_errors(dir: &Path) -> Result<Vec<ErrorRow>, ReadError> {
    errors_of(Table::open(dir, "errors")?)
}

/// The rows of an `errors` Parquet file (`path`) already read (`bytes`).
pub fn errors_from_parquet(path: &Path, bytes: &[u8]) -> Result<Vec<ErrorRow>, ReadError> {
    errors_of(Table::parquet_from(path, std::io::Cursor::new(bytes))?)
}

fn errors_of(t: Table) -> Result<Vec<ErrorRow>, ReadError> {
    let (source_path, article_id, stage, message) = (t.req("source_path")?, t.opt("article_id")?, t.req("stage")?, t.req("message")?);
    Ok(source_path
        .into_iter()
        .zip(article_id)
        .zip(stage.into_iter().zip(message))
        .map(|((source_path, article_id), (stage, message))| ErrorRow { source_path, article_id, stage, message })
        .collect())
}

/// The rows of a table's Parquet file, read a row group at a time: `merge`
/// reads the part tables this way, so it never holds them whole.
pub struct GroupRows<T> {
    path: PathBuf,
    meta: polars::io::parquet::metadata::FileMetadataRef,
    /// First row and row count of each row group not yet read.
    groups: std::vec::IntoIter<(usize, usize)>,
    rows_of: fn(Table) -> Result<Vec<T>, ReadError>,
    current: std::vec::IntoIter<T>,
}

impl<T> GroupRows<T> {
    fn open(dir: &Path, name: &str, rows_of: fn(Table) -> Result<Vec<T>, ReadError>) -> Result<GroupRows<T>, ReadError> {
        let path = dir.join(format!("{name}.parquet"));
        let err = |e: PolarsError| ReadError::Table { path: path.clone(), message: e.to_string() };
        let f = std::fs::File::open(&path).map_err(|source| ReadError::Io { path: path.clone(), source })?;
        let meta = ParquetReader::new(f).get_metadata().map_err(err)?.clone();
        let mut groups = Vec::new();
        let mut first = 0;
        for rg in &meta.row_groups {
            groups.push((first, rg.num_rows()));
            first += rg.num_rows();
        }
        Ok(GroupRows { path, meta, groups: groups.into_iter(), rows_of, current: Vec::new().into_iter() })
    }

    /// The rows of the row group of rows `first..first + rows`.
    fn read_group(&self, first: usize, rows: usize) -> Result<Vec<T>, ReadError> {
        let err = |e: PolarsError| ReadError::Table { path: self.path.clone(), message: e.to_string() };
        let f = std::fs::File::open(&self.path).map_err(|source| ReadError::Io { path: self.path.clone(), source })?;
        let mut reader = ParquetReader::new(f).with_slice(Some((first, rows)));
        reader.set_metadata(self.meta.clone());
        (self.rows_of)(Table::from_frame(&self.path, reader.finish().map_err(err)?)?)
    }
}

impl<T> Iterator for GroupRows<T> {
    type Item = Result<T, ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(row) = self.current.next() {
                return Some(Ok(row));
            }
            let (first, rows) = self.groups.next()?;
            match self.read_group(first, rows) {
                Ok(rows) => self.current = rows.into_iter(),
                Err(e) => {
                    self.groups = Vec::new().into_iter();
                    return Some(Err(e));
                }
            }
        }
    }
}

/// The `mentions` rows of `dir/mentions.parquet`, a row group at a time.
pub fn mentions_by_group(dir: &Path) -> Result<GroupRows<Mention>, ReadError> {
    GroupRows::open(dir, "mentions", mentions_of)
}

/// The `articles` rows of `dir/articles.parquet`, a row group at a time.
pub fn articles_by_group(dir: &Path) -> Result<GroupRows<ArticleRow>, ReadError> {
    GroupRows::open(dir, "articles", articles_of)
}

/// The `errors` rows of `dir/errors.parquet`, a row group at a time.
pub fn errors_by_group(dir: &Path) -> Result<GroupRows<ErrorRow>, ReadError> {
    GroupRows::open(dir, "errors", errors_of)
}
