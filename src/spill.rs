//! Sorted runs of table rows kept on disk and merged back in table order,
//! and the k-way merge of sorted runs ([`MergeSorted`]) that also merges
//! the part tables of `shard::merge`.
//!
//! A JSON Lines dump's records come in any order of id, but its rows go to
//! the tables in table order ([`TableOrder`]): a dump larger than a part
//! (see `pipeline`) has the rows of each part sorted and written here as a
//! run (JSON, one row a line), then all its runs are merged, reading a row
//! at a time from each. Memory holds one part and one row per run, whatever
//! the size of the dump. Ties keep the order the rows came in: runs are
//! merged in the order they were written, each sorted stably.

use crate::model::TableOrder;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

/// Runs written so far; their files are removed when it (or the merge made
/// of it) is dropped.
pub struct Runs<T> {
    dir: PathBuf,
    name: String,
    files: Vec<PathBuf>,
    rows: std::marker::PhantomData<T>,
}

impl<T: Serialize + DeserializeOwned + TableOrder> Runs<T> {
    /// Runs of temporary files `dir/.NAME-K.tmp`.
    pub fn new(dir: &Path, name: &str) -> Runs<T> {
        Runs { dir: dir.to_path_buf(), name: name.to_string(), files: Vec::new(), rows: std::marker::PhantomData }
    }

    /// Writes `rows`, sorted in table order, as the next run.
    pub fn push(&mut self, rows: &[T]) -> std::io::Result<()> {
        let path = self.dir.join(format!(".{}-{}.tmp", self.name, self.files.len()));
        self.files.push(path.clone());
        let mut w = BufWriter::with_capacity(1 << 16, File::create(&path)?);
        for r in rows {
            serde_json::to_writer(&mut w, r)?;
            w.write_all(b"\n")?;
        }
        w.flush()
    }

    /// The rows of every run, merged in table order (on an error the run
    /// files are removed as they are when the merge is dropped).
    pub fn merge(mut self) -> std::io::Result<Merged<T>> {
        let open = |f: &PathBuf| -> std::io::Result<RunReader<T>> {
            Ok(RunReader { reader: BufReader::with_capacity(1 << 14, File::open(f)?), line: String::new(), rows: std::marker::PhantomData })
        };
        let runs = self.files.iter().map(open).collect::<std::io::Result<Vec<_>>>()?;
        let merge = MergeSorted::new(runs, T::table_cmp)?;
        Ok(Merged { merge, files: std::mem::take(&mut self.files) })
    }
}

impl<T> Drop for Runs<T> {
    fn drop(&mut self) {
        remove_files(&self.files);
    }
}

/// Removes the run files `files` (those already gone are no error).
fn remove_files(files: &[PathBuf]) {
    for f in files {
        let _ = std::fs::remove_file(f);
    }
}

/// The rows of one run file, read back a line at a time.
struct RunReader<T> {
    reader: BufReader<File>,
    line: String,
    rows: std::marker::PhantomData<T>,
}

impl<T: DeserializeOwned> Iterator for RunReader<T> {
    type Item = std::io::Result<T>;

    fn next(&mut self) -> Option<Self::Item> {
        self.line.clear();
        match self.reader.read_line(&mut self.line) {
            Ok(0) => None,
            Ok(_) => Some(serde_json::from_str(&self.line).map_err(std::io::Error::from)),
            Err(e) => Some(Err(e)),
        }
    }
}

/// The merge of [`Runs`]: their rows in table order, read as they are taken;
/// the run files are removed when it is dropped.
pub struct Merged<T: DeserializeOwned> {
    merge: MergeSorted<T, RunReader<T>>,
    files: Vec<PathBuf>,
}

impl<T: DeserializeOwned> Merged<T> {
    /// The next row, without taking it.
    pub fn peek(&self) -> Option<&T> {
        self.merge.peek()
    }

    /// Takes the next row.
    pub fn next_row(&mut self) -> std::io::Result<Option<T>> {
        self.merge.next_row()
    }
}

impl<T: DeserializeOwned> Drop for Merged<T> {
    fn drop(&mut self) {
        remove_files(&self.files);
    }
}

/// Runs of rows, each sorted by `cmp`, merged into one sequence sorted by
/// `cmp`: rows that tie come in the order of their runs. Reads a row of a
/// run only when the row before it was taken.
pub struct MergeSorted<T, R> {
    runs: Vec<R>,
    /// The next row of each run not yet exhausted.
    heads: BinaryHeap<Head<T>>,
    cmp: fn(&T, &T) -> Ordering,
}

impl<T, E, R: Iterator<Item = Result<T, E>>> MergeSorted<T, R> {
    /// The merge of `runs`, each sorted by `cmp`.
    pub fn new(runs: Vec<R>, cmp: fn(&T, &T) -> Ordering) -> Result<MergeSorted<T, R>, E> {
        let mut merge = MergeSorted { runs, heads: BinaryHeap::new(), cmp };
        for k in 0..merge.runs.len() {
            merge.refill(k)?;
        }
        Ok(merge)
    }

    /// The next row, without taking it.
    pub fn peek(&self) -> Option<&T> {
        self.heads.peek().map(|h| &h.row)
    }

    /// Takes the next row.
    pub fn next_row(&mut self) -> Result<Option<T>, E> {
        let Some(Head { row, run, .. }) = self.heads.pop() else { return Ok(None) };
        self.refill(run)?;
        Ok(Some(row))
    }

    /// Reads the next row of run `k` into the heads.
    fn refill(&mut self, k: usize) -> Result<(), E> {
        if let Some(next) = self.runs.get_mut(k).and_then(Iterator::next) {
            self.heads.push(Head { row: next?, run: k, cmp: self.cmp });
        }
        Ok(())
    }
}

/// A run's next row: the heap's greatest is the row that comes first (the
/// first run on ties).
struct Head<T> {
    row: T,
    run: usize,
    cmp: fn(&T, &T) -> Ordering,
}

impl<T> Ord for Head<T> {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.cmp)(&self.row, &other.row).then(self.run.cmp(&other.run)).reverse()
    }
}

impl<T> PartialOrd for Head<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<T> PartialEq for Head<T> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}

impl<T> Eq for Head<T> {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ArticleRow, Format, Status};
    use proptest::prelude::*;

    fn row(id: &str, tag: usize) -> ArticleRow {
        ArticleRow {
            article_id: id.to_string(),
            source_path: "d.jsonl".into(),
            format: Format::Jsonl,
            url: None,
            title: Some(format!("arrival {tag}")),
            published: None,
            chars: tag as i64,
            content_hash: String::new(),
            mentions: 0,
            status: Status::Ok,
        }
    }

    proptest! {
        #![proptest_config(crate::rules::testing::proptest_config())]
        /// Rows cut into parts, each sorted and spilled, come back as one
        /// stable sort of all of them gives: ties in the order they came.
        #[test]
        fn merged_runs_are_the_stable_sort_of_all_rows(ids in proptest::collection::vec("[a-c]{0,2}", 0..60), cuts in proptest::collection::vec(1usize..9, 1..8)) {
            let dir = tempfile::tempdir().expect("temp dir");
            let rows: Vec<ArticleRow> = ids.iter().enumerate().map(|(i, id)| row(id, i)).collect();
            let mut runs = Runs::new(dir.path(), "t");
            let (mut at, mut c) = (0, 0);
            while at < rows.len() {
                let end = rows.len().min(at + cuts[c % cuts.len()]);
                let mut part = rows[at..end].to_vec();
                part.sort_by(TableOrder::table_cmp);
                runs.push(&part).expect("spilled");
                (at, c) = (end, c + 1);
            }
            let mut merged = runs.merge().expect("merged");
            let mut got = Vec::new();
            while let Some(r) = merged.next_row().expect("read back") {
                got.push(r);
            }
            let mut want = rows.clone();
            want.sort_by(TableOrder::table_cmp);
            prop_assert_eq!(got, want);
            drop(merged);
            prop_assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 0, "spill files left");
        }
    }
}
