//! Scale-out by shards: `run --shard K/N` processes the K-th of N parts of a
//! corpus, and [`merge`] combines the part outputs into the tables a single
//! full run writes, byte for byte.
//!
//! A file belongs to shard `blake3(rel_path) mod N` (the first 8 bytes of the
//! hash, little-endian). Sharding is by source file, so a JSON Lines file is
//! never split and every article, mention and error row of a file lands in
//! exactly one part.

use crate::ingest::Discovery;
use crate::model::{ArticleRow, ErrorRow, Format, Level, Mention, Status};
use crate::output;
use crate::pipeline;
use anyhow::{bail, Context, Result};
use polars::prelude::{Column, DataFrame, DataType, ParquetReader, SerReader};
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// Name of the file that records, in a part folder, which shard it holds.
pub const SHARD_MARKER: &str = ".anugerah-shard";

/// One part of N: `index` in `0..count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Shard {
    /// Which part (0-based).
    pub index: u64,
    /// How many parts.
    pub count: u64,
}

impl FromStr for Shard {
    type Err = String;

    /// Parses `K/N` with `0 <= K < N`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (k, n) = s.split_once('/').ok_or_else(|| format!("`{s}` is not K/N (e.g. 0/4)"))?;
        let index: u64 = k.trim().parse().map_err(|_| format!("`{k}` is not a shard number"))?;
        let count: u64 = n.trim().parse().map_err(|_| format!("`{n}` is not a shard count"))?;
        if count == 0 || index >= count {
            return Err(format!("shard {index}/{count}: K must be in 0..N and N at least 1"));
        }
        Ok(Shard { index, count })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// Shard number (in `0..count`) of a source file, from its path relative to the corpus root.
pub fn shard_of(rel_path: &str, count: u64) -> u64 {
    let h = blake3::hash(rel_path.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&h.as_bytes()[..8]);
    u64::from_le_bytes(first) % count.max(1)
}

impl Shard {
    /// Whether the file at `rel_path` belongs to this shard.
    pub fn contains(&self, rel_path: &str) -> bool {
        shard_of(rel_path, self.count) == self.index
    }

    /// Keeps the files (and corpus-walk error rows, by their path) of this shard.
    pub fn filter(&self, discovery: &mut Discovery) {
        discovery.files.retain(|f| self.contains(&f.rel_path));
        discovery.errors.retain(|e| self.contains(&e.source_path));
    }
}

/// Records in `out` which shard its tables hold (or removes the record after a full run).
pub fn mark_output(out: &Path, shard: Option<Shard>) -> Result<()> {
    let path = out.join(SHARD_MARKER);
    match shard {
        Some(s) => std::fs::write(&path, format!("{s}\n")).with_context(|| format!("cannot write {}", path.display())),
        None => match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e).with_context(|| format!("cannot remove {}", path.display())),
            _ => Ok(()),
        },
    }
}

/// The shard a part folder holds, when it was written by `run --shard`.
pub fn read_mark(part: &Path) -> Result<Option<Shard>> {
    let path = part.join(SHARD_MARKER);
    match std::fs::read_to_string(&path) {
        Ok(s) => s.trim().parse().map(Some).map_err(|e| anyhow::anyhow!("{}: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// What a merge wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MergeSummary {
    /// Part folders read.
    pub parts: usize,
    /// Article rows.
    pub articles: usize,
    /// Mention rows.
    pub mentions: usize,
    /// Error rows.
    pub errors: usize,
}

impl std::fmt::Display for MergeSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "merged {} parts: {} articles, {} mentions, {} errors", self.parts, self.articles, self.mentions, self.errors)
    }
}

/// Checks that the parts written by `run --shard` are all of one N, each K
/// once, and none missing. Parts without a shard record are taken as they are.
fn check_parts(parts: &[PathBuf]) -> Result<()> {
    let mut seen: Vec<(Shard, &PathBuf)> = Vec::new();
    for p in parts {
        if let Some(s) = read_mark(p)? {
            if let Some((other, q)) = seen.iter().find(|(o, _)| o.count != s.count) {
                bail!("{} holds shard {s} but {} holds shard {other}: parts of different N", p.display(), q.display());
            }
            if let Some((_, q)) = seen.iter().find(|(o, _)| o.index == s.index) {
                bail!("shard {s} given twice: {} and {}", q.display(), p.display());
            }
            seen.push((s, p));
        }
    }
    if let Some((s, _)) = seen.first() {
        let missing: Vec<String> =
            (0..s.count).filter(|k| !seen.iter().any(|(o, _)| o.index == *k)).map(|k| format!("{k}/{}", s.count)).collect();
        if !missing.is_empty() {
            bail!("shard(s) {} missing from the parts", missing.join(", "));
        }
    }
    Ok(())
}

/// Combines the tables of `parts` (output folders of `run --shard K/N`) into
/// `out`: rows concatenated, sorted as [`pipeline::sort_tables`] does and
/// written by [`output::write_tables`], so the files are those of a single
/// full run. The incremental state of the parts is ignored; `out` gets the
/// tables and the output marker only. `force` as for `run`.
pub fn merge(out: &Path, parts: &[PathBuf], force: bool) -> Result<MergeSummary> {
    if parts.is_empty() {
        bail!("no part folders to merge");
    }
    check_parts(parts)?;
    let (mut mentions, mut articles, mut errors) = (Vec::new(), Vec::new(), Vec::new());
    for p in parts {
        for t in ["mentions", "articles", "errors"] {
            let f = p.join(format!("{t}.parquet"));
            if !f.is_file() {
                bail!("{}: no {t}.parquet (not an anugerah output folder?)", p.display());
            }
        }
        mentions.extend(read_mentions(&p.join("mentions.parquet"))?);
        articles.extend(read_articles(&p.join("articles.parquet"))?);
        errors.extend(read_errors(&p.join("errors.parquet"))?);
    }
    // Ties of the article sort (equal ids from different files) keep the
    // order of a full run, whose files are in path order.
    articles.sort_by(|a, b| a.source_path.cmp(&b.source_path));
    pipeline::sort_tables(&mut articles, &mut mentions, &mut errors);
    pipeline::prepare_output(out, force)?;
    mark_output(out, None)?;
    output::write_tables(out, &mentions, &articles, &errors)?;
    Ok(MergeSummary { parts: parts.len(), articles: articles.len(), mentions: mentions.len(), errors: errors.len() })
}

fn read_frame(path: &Path) -> Result<DataFrame> {
    let f = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    ParquetReader::new(f).finish().with_context(|| format!("cannot read {}", path.display()))
}

/// Typed column access with the file name in every error.
struct Cols<'a> {
    df: &'a DataFrame,
    path: &'a Path,
}

impl Cols<'_> {
    fn col(&self, name: &str) -> Result<&Column> {
        self.df.column(name).with_context(|| format!("{}: no column `{name}`", self.path.display()))
    }

    fn opt_str(&self, name: &str) -> Result<Vec<Option<String>>> {
        let c = self.col(name)?;
        let s = c.str().with_context(|| format!("{}: column `{name}` is not a string", self.path.display()))?;
        Ok(s.iter().map(|v| v.map(str::to_string)).collect())
    }

    fn str(&self, name: &str) -> Result<Vec<String>> {
        self.opt_str(name)?
            .into_iter()
            .enumerate()
            .map(|(i, v)| v.with_context(|| format!("{}: null in column `{name}`, row {i}", self.path.display())))
            .collect()
    }

    fn opt_i32(&self, name: &str) -> Result<Vec<Option<i32>>> {
        let c = self.col(name)?;
        let s = c.i32().with_context(|| format!("{}: column `{name}` is not Int32", self.path.display()))?;
        Ok(s.iter().collect())
    }

    fn i32(&self, name: &str) -> Result<Vec<i32>> {
        self.opt_i32(name)?
            .into_iter()
            .enumerate()
            .map(|(i, v)| v.with_context(|| format!("{}: null in column `{name}`, row {i}", self.path.display())))
            .collect()
    }

    fn i64(&self, name: &str) -> Result<Vec<i64>> {
        let c = self.col(name)?;
        let s = c.i64().with_context(|| format!("{}: column `{name}` is not Int64", self.path.display()))?;
        s.iter()
            .enumerate()
            .map(|(i, v)| v.with_context(|| format!("{}: null in column `{name}`, row {i}", self.path.display())))
            .collect()
    }

    /// A Date column as ISO `YYYY-MM-DD` strings.
    fn date(&self, name: &str) -> Result<Vec<Option<String>>> {
        let c = self.col(name)?;
        if c.dtype() != &DataType::Date {
            bail!("{}: column `{name}` is not a Date", self.path.display());
        }
        let days = c.cast(&DataType::Int32).with_context(|| format!("{}: column `{name}`", self.path.display()))?;
        let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch");
        Ok(days
            .i32()?
            .iter()
            .map(|d| d.and_then(|d| epoch.checked_add_signed(chrono::Duration::days(d.into()))).map(|d| d.format("%Y-%m-%d").to_string()))
            .collect())
    }
}

fn bad_value(path: &Path, col: &str, v: &str) -> anyhow::Error {
    anyhow::anyhow!("{}: unknown value `{v}` in column `{col}`", path.display())
}

/// Reads a `mentions.parquet` back into rows.
pub fn read_mentions(path: &Path) -> Result<Vec<Mention>> {
    let df = read_frame(path)?;
    let c = Cols { df: &df, path };
    let levels = c
        .str("recipient_level")?
        .into_iter()
        .map(|l| Level::parse(&l).ok_or_else(|| bad_value(path, "recipient_level", &l)))
        .collect::<Result<Vec<_>>>()?;
    let mention_id = c.str("mention_id")?;
    let mut article_id = c.str("article_id")?.into_iter();
    let mut program = c.str("program")?.into_iter();
    let mut edition = c.opt_i32("edition")?.into_iter();
    let mut recipient = c.str("recipient")?.into_iter();
    let mut recipient_raw = c.str("recipient_raw")?.into_iter();
    let mut region_code = c.opt_str("region_code")?.into_iter();
    let mut category = c.opt_str("category")?.into_iter();
    let mut category_key = c.opt_str("category_key")?.into_iter();
    let mut group = c.opt_str("group")?.into_iter();
    let mut rank = c.opt_i32("rank")?.into_iter();
    let mut rank_text = c.opt_str("rank_text")?.into_iter();
    let mut award_date = c.date("award_date")?.into_iter();
    let mut date_text = c.opt_str("date_text")?.into_iter();
    let mut evidence = c.str("evidence")?.into_iter();
    let mut start = c.i64("start")?.into_iter();
    let mut end = c.i64("end")?.into_iter();
    let mut rule = c.str("rule")?.into_iter();
    let rows = mention_id
        .into_iter()
        .zip(levels)
        .map(|(mention_id, recipient_level)| -> Option<Mention> {
            Some(Mention {
                mention_id,
                article_id: article_id.next()?,
                program: program.next()?,
                edition: edition.next()?,
                recipient: recipient.next()?,
                recipient_raw: recipient_raw.next()?,
                recipient_level,
                region_code: region_code.next()?,
                category: category.next()?,
                category_key: category_key.next()?,
                group: group.next()?,
                rank: rank.next()?,
                rank_text: rank_text.next()?,
                award_date: award_date.next()?,
                date_text: date_text.next()?,
                evidence: evidence.next()?,
                start: start.next()?,
                end: end.next()?,
                rule: rule.next()?,
            })
        })
        .collect::<Option<Vec<_>>>();
    rows.with_context(|| format!("{}: columns of unequal length", path.display()))
}

/// Reads an `articles.parquet` back into rows.
pub fn read_articles(path: &Path) -> Result<Vec<ArticleRow>> {
    let df = read_frame(path)?;
    let c = Cols { df: &df, path };
    let format = |s: &str| match s {
        "txt" => Ok(Format::Txt),
        "html" => Ok(Format::Html),
        "jsonl" => Ok(Format::Jsonl),
        _ => Err(bad_value(path, "format", s)),
    };
    let status = |s: &str| match s {
        "ok" => Ok(Status::Ok),
        "decoded" => Ok(Status::Decoded),
        "error" => Ok(Status::Error),
        _ => Err(bad_value(path, "status", s)),
    };
    let ids = c.str("article_id")?;
    let mut source_path = c.str("source_path")?.into_iter();
    let mut formats = c.str("format")?.into_iter();
    let mut url = c.opt_str("url")?.into_iter();
    let mut title = c.opt_str("title")?.into_iter();
    let mut published = c.date("published")?.into_iter();
    let mut chars = c.i64("chars")?.into_iter();
    let mut content_hash = c.str("content_hash")?.into_iter();
    let mut mentions = c.i32("mentions")?.into_iter();
    let mut statuses = c.str("status")?.into_iter();
    let mut rows = Vec::with_capacity(ids.len());
    for article_id in ids {
        let short = || anyhow::anyhow!("{}: columns of unequal length", path.display());
        rows.push(ArticleRow {
            article_id,
            source_path: source_path.next().ok_or_else(short)?,
            format: format(&formats.next().ok_or_else(short)?)?,
            url: url.next().ok_or_else(short)?,
            title: title.next().ok_or_else(short)?,
            published: published.next().ok_or_else(short)?,
            chars: chars.next().ok_or_else(short)?,
            content_hash: content_hash.next().ok_or_else(short)?,
            mentions: mentions.next().ok_or_else(short)?,
            status: status(&statuses.next().ok_or_else(short)?)?,
        });
    }
    Ok(rows)
}

/// Reads an `errors.parquet` back into rows.
pub fn read_errors(path: &Path) -> Result<Vec<ErrorRow>> {
    let df = read_frame(path)?;
    let c = Cols { df: &df, path };
    let source_path = c.str("source_path")?;
    let article_id = c.opt_str("article_id")?;
    let stage = c.str("stage")?;
    let message = c.str("message")?;
    if [article_id.len(), stage.len(), message.len()].iter().any(|n| *n != source_path.len()) {
        bail!("{}: columns of unequal length", path.display());
    }
    Ok(source_path
        .into_iter()
        .zip(article_id)
        .zip(stage.into_iter().zip(message))
        .map(|((source_path, article_id), (stage, message))| ErrorRow { source_path, article_id, stage, message })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_k_of_n() {
        assert_eq!("2/5".parse::<Shard>(), Ok(Shard { index: 2, count: 5 }));
        assert!("5/5".parse::<Shard>().is_err());
        assert!("0/0".parse::<Shard>().is_err());
        assert!("1".parse::<Shard>().is_err());
        assert!("a/3".parse::<Shard>().is_err());
    }

    #[test]
    fn every_path_is_in_exactly_one_shard() {
        for n in 1..6 {
            for p in ["bkn/jatim-2021.txt", "a.jsonl", "", "x/y/z.html"] {
                let owners = (0..n).filter(|k| Shard { index: *k, count: n }.contains(p)).count();
                assert_eq!(owners, 1, "{p} in {n} shards");
            }
        }
        // Stable across builds: the value is part of the format.
        assert_eq!(shard_of("bkn/jatim-2021.txt", 1), 0);
    }
}
