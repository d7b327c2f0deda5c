//! Scale-out by shards: `run --shard K/N` processes the K-th of N parts of a
//! corpus, and [`merge`] combines the part outputs into the tables a single
//! full run writes, byte for byte.
//!
//! A file belongs to shard `blake3(rel_path) mod N` (the first 8 bytes of the
//! hash, little-endian). Sharding is by source file, so a JSON Lines file is
//! never split and every article, mention and error row of a file lands in
//! exactly one part.

use crate::ingest::Discovery;
use crate::model::{ArticleRow, ErrorRow, Mention};
use crate::output;
use crate::pipeline;
use anyhow::{bail, Context, Result};
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
/// `out`: the rows of the parts (each part's tables in table order) merged
/// in the order [`pipeline::sort_tables`] gives and written by the tables
/// writer, so the files are those of a single full run. The part tables are
/// read a row group at a time and merged as they are read: memory does not
/// grow with the size of the corpus. The incremental state of the parts is
/// ignored; `out` gets the tables and the output marker only. `force` as for
/// `run`.
pub fn merge(out: &Path, parts: &[PathBuf], force: bool) -> Result<MergeSummary> {
    use crate::model::TableOrder;
    use crate::spill::MergeSorted;
    if parts.is_empty() {
        bail!("no part folders to merge");
    }
    check_parts(parts)?;
    for p in parts {
        for t in ["mentions", "articles", "errors"] {
            let f = p.join(format!("{t}.parquet"));
            if !f.is_file() {
                bail!("{}: no {t}.parquet (not an anugerah output folder?)", p.display());
            }
        }
    }
    let mut mentions = MergeSorted::new(part_rows(parts, output::read::mentions_by_group)?, Mention::table_cmp)?;
    // Ties of the article order (equal ids from different files) keep the
    // order of a full run, whose files are in path order.
    let by_id_then_path = |a: &ArticleRow, b: &ArticleRow| a.table_cmp(b).then_with(|| a.source_path.cmp(&b.source_path));
    let mut articles = MergeSorted::new(part_rows(parts, output::read::articles_by_group)?, by_id_then_path)?;
    let mut errors = MergeSorted::new(part_rows(parts, output::read::errors_by_group)?, ErrorRow::table_cmp)?;
    pipeline::prepare_output(out, force)?;
    mark_output(out, None)?;
    let mut w = output::TablesWriter::create(out)?;
    let mut summary = MergeSummary { parts: parts.len(), ..Default::default() };
    summary.mentions = push_merged(&mut mentions, |rows| w.push_mentions(rows))?;
    summary.articles = push_merged(&mut articles, |rows| w.push_articles(rows))?;
    summary.errors = push_merged(&mut errors, |rows| w.push_errors(rows))?;
    w.finish()?.remove_replaced();
    Ok(summary)
}

/// One table of each part, read with `open`.
fn part_rows<T>(parts: &[PathBuf], open: fn(&Path) -> Result<output::read::GroupRows<T>, output::read::ReadError>) -> Result<Vec<output::read::GroupRows<T>>> {
    Ok(parts.iter().map(|p| open(p)).collect::<Result<Vec<_>, _>>()?)
}

/// Hands the rows of `merge` to `push` a row group's worth at a time; returns how many there were.
fn push_merged<T, R>(merge: &mut crate::spill::MergeSorted<T, R>, mut push: impl FnMut(Vec<T>) -> Result<(), output::OutputError>) -> Result<usize>
where
    R: Iterator<Item = Result<T, output::read::ReadError>>,
{
    let mut count = 0;
    loop {
        let mut rows = Vec::with_capacity(output::ROW_GROUP_ROWS);
        while rows.len() < output::ROW_GROUP_ROWS {
            match merge.next_row()? {
                Some(r) => rows.push(r),
                None => break,
            }
        }
        if rows.is_empty() {
            return Ok(count);
        }
        count += rows.len();
        push(rows)?;
    }
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
