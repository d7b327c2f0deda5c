//! State of incremental runs, kept in `<out>/.anugerah-state/` beside the tables.
//!
//! Layout:
//! - `lock`: an advisory lock (`flock`) held for the whole run; the kernel
//!   drops it when the process dies, so a killed run never blocks the next.
//! - `manifest.json`: fingerprint of rules + tool build, one entry per source
//!   file (relative path, size, mtime, blake3 of the bytes), stamps of the
//!   tables last written, and the name and hash of the results file.
//! - `results-<generation>.jsonl`: the extraction results of each file, one
//!   JSON line per manifest entry, in manifest order.
//!
//! Every file is written to a temporary name, fsynced and renamed; the manifest
//! is renamed last and names its results file, so the manifest on disk always
//! describes a complete results file. Tables are written before the manifest:
//! a run killed in between leaves the old manifest, whose table stamps no longer
//! match, and the next run rewrites the tables.

use crate::model::{ArticleRow, ErrorRow, Mention};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Folder inside `--out` that holds the state.
pub const STATE_DIR: &str = ".anugerah-state";
/// Version of the state layout; a different one is ignored (full run).
pub const STATE_FORMAT: u32 = 1;
/// Files modified less than this before a run started are hashed again on the
/// next run even when size and mtime match (mtime granularity, "racy" files).
pub const RACY_WINDOW_NS: i64 = 3_000_000_000;

const MANIFEST: &str = "manifest.json";
const LOCK: &str = "lock";

/// A state problem that stops the run.
#[derive(Debug, Error)]
pub enum StateError {
    /// Another run holds the lock.
    #[error("another anugerah run is writing {out} ({holder}); wait for it to finish")]
    Locked {
        /// Output folder.
        out: PathBuf,
        /// Who holds it, as written in the lock file.
        holder: String,
    },
    /// File system error.
    #[error("{path}: {source}")]
    Io {
        /// Path concerned.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StateError + '_ {
    move |source| StateError::Io { path: path.to_path_buf(), source }
}

/// Everything one source file gave after extraction: what the state caches.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileResult {
    /// Articles rows.
    pub articles: Vec<ArticleRow>,
    /// Mentions.
    pub mentions: Vec<Mention>,
    /// Errors.
    pub errors: Vec<ErrorRow>,
}

/// One source file as last seen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// Path relative to the corpus root.
    #[serde(rename = "p")]
    pub path: String,
    /// Size in bytes.
    #[serde(rename = "s")]
    pub size: u64,
    /// Modification time, ns since the epoch.
    #[serde(rename = "m")]
    pub mtime_ns: i64,
    /// blake3 of the bytes; empty when unknown.
    #[serde(rename = "h")]
    pub hash: String,
    /// The results must not be reused (the file changed while it was read,
    /// or reading it failed): the next run extracts it again.
    #[serde(rename = "x", default)]
    pub retry: bool,
    /// Modified too close to the run that recorded it: hash before reuse.
    #[serde(rename = "r", default)]
    pub racy: bool,
}

impl Entry {
    /// Whether the cached results may be reused when the bytes hash the same.
    pub fn reusable(&self) -> bool {
        !self.retry && !self.hash.is_empty()
    }

    /// Whether size and mtime alone prove the bytes unchanged.
    pub fn trusted_by_stat(&self, size: u64, mtime_ns: i64) -> bool {
        self.reusable() && !self.racy && self.size == size && self.mtime_ns == mtime_ns && mtime_ns != 0
    }
}

/// Size and hash of a table file as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    /// File name.
    pub name: String,
    /// Size.
    pub len: u64,
    /// blake3.
    pub hash: String,
}

/// Identity of the running executable; its hash is reused while size and mtime hold.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ExeStamp {
    /// Path of the executable.
    pub path: String,
    /// Size.
    pub size: u64,
    /// mtime, ns.
    pub mtime_ns: i64,
    /// blake3 of the bytes.
    pub hash: String,
}

/// Row counts of the tables last written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Totals {
    /// Articles rows.
    pub articles: usize,
    /// Mentions rows.
    pub mentions: usize,
    /// Errors rows.
    pub errors: usize,
}

/// The manifest: what the last completed run saw and wrote.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Manifest {
    /// [`STATE_FORMAT`].
    pub format: u32,
    /// Rules + tool build fingerprint the results were made with.
    pub fingerprint: String,
    /// Run counter; names the results file.
    pub generation: u64,
    /// The executable of the run.
    pub exe: ExeStamp,
    /// Results file name.
    pub results: String,
    /// Its size.
    pub results_len: u64,
    /// Its blake3.
    pub results_hash: String,
    /// Table files written.
    pub tables: Vec<Stamp>,
    /// Error rows of the corpus walk.
    pub walk_errors: Vec<ErrorRow>,
    /// Row counts.
    pub totals: Totals,
    /// Source files, sorted by path, one results line each.
    pub entries: Vec<Entry>,
}

/// Path of the state folder of `out`.
pub fn state_dir(out: &Path) -> PathBuf {
    out.join(STATE_DIR)
}

/// The held lock on an output folder; released on drop or process death.
#[derive(Debug)]
pub struct OutputLock {
    _file: File,
}

/// Takes the run lock of `out` (creating the state folder), or says who holds it.
pub fn lock(out: &Path) -> Result<OutputLock, StateError> {
    let dir = state_dir(out);
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    let path = dir.join(LOCK);
    let mut file = std::fs::OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path).map_err(io(&path))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim();
            let holder = if holder.is_empty() { "lock held".to_string() } else { format!("lock held by {holder}") };
            return Err(StateError::Locked { out: out.to_path_buf(), holder });
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(io(&path)(e)),
    }
    let note = format!("process {} since {}", std::process::id(), chrono::Local::now().format("%Y-%m-%d %H:%M:%S"));
    file.set_len(0).map_err(io(&path))?;
    file.write_all(note.as_bytes()).map_err(io(&path))?;
    Ok(OutputLock { _file: file })
}

/// Size and mtime of a file, mtime in ns (0 when unknown).
pub fn stat(path: &Path) -> Option<(u64, i64)> {
    let m = std::fs::metadata(path).ok()?;
    Some((m.len(), crate::ingest::mtime_nanos(&m) as i64))
}

/// blake3 of a file's bytes.
pub fn hash_file(path: &Path) -> std::io::Result<String> {
    let mut f = File::open(path)?;
    let mut h = blake3::Hasher::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finalize().to_hex().to_string())
}

/// Identity of the running executable, reusing `prev`'s hash when size and mtime match.
/// Without a readable executable the hash is a fresh nonce, so nothing is reused.
pub fn exe_stamp(prev: Option<&ExeStamp>) -> ExeStamp {
    let nonce = || ExeStamp { hash: format!("unknown-{}-{:?}", std::process::id(), std::time::SystemTime::now()), ..Default::default() };
    let Ok(path) = std::env::current_exe() else { return nonce() };
    let Some((size, mtime_ns)) = stat(&path) else { return nonce() };
    let path_s = path.to_string_lossy().into_owned();
    if let Some(p) = prev {
        if p.path == path_s && p.size == size && p.mtime_ns == mtime_ns && mtime_ns != 0 && !p.hash.is_empty() {
            return p.clone();
        }
    }
    match sample_hash(&path, size) {
        Ok(hash) => ExeStamp { path: path_s, size, mtime_ns, hash },
        Err(_) => nonce(),
    }
}

/// blake3 of a file's size and its first and last MiB: enough to tell two builds
/// of the executable apart without reading all of it on every fresh output folder.
fn sample_hash(path: &Path, size: u64) -> std::io::Result<String> {
    use std::io::{Seek, SeekFrom};
    const SAMPLE: u64 = 1 << 20;
    let mut f = File::open(path)?;
    let mut h = blake3::Hasher::new();
    h.update(&size.to_le_bytes());
    let mut buf = vec![0u8; SAMPLE as usize];
    let n = f.read(&mut buf)?;
    h.update(&buf[..n]);
    if size > 2 * SAMPLE {
        f.seek(SeekFrom::Start(size - SAMPLE))?;
        let n = f.read(&mut buf)?;
        h.update(&buf[..n]);
    }
    Ok(h.finalize().to_hex().to_string())
}

/// Fingerprint of rules, tool build and state format.
pub fn fingerprint(rules_fingerprint: &str, exe: &ExeStamp) -> String {
    let mut h = blake3::Hasher::new();
    h.update(format!("state {STATE_FORMAT}\nrules {rules_fingerprint}\nexe {}\n", exe.hash).as_bytes());
    h.finalize().to_hex().to_string()
}

/// The manifest of `out`, if one is there and readable in this format.
pub fn load_manifest(out: &Path) -> Option<Manifest> {
    let path = state_dir(out).join(MANIFEST);
    let bytes = std::fs::read(&path).ok()?;
    match serde_json::from_slice::<Manifest>(&bytes) {
        Ok(m) if m.format == STATE_FORMAT => Some(m),
        Ok(_) => None,
        Err(e) => {
            tracing::warn!("ignoring unreadable state {}: {e}", path.display());
            None
        }
    }
}

/// The results file of a manifest: one JSON line per entry.
#[derive(Debug, Default)]
pub struct Cached {
    buf: Vec<u8>,
    lines: Vec<(usize, usize)>,
}

impl Cached {
    /// Raw JSON line of entry `i` (no newline).
    pub fn line(&self, i: usize) -> &[u8] {
        let (a, b) = self.lines[i];
        &self.buf[a..b]
    }

    /// Number of lines.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// Size of the results file.
    pub fn buf_len(&self) -> usize {
        self.buf.len()
    }

    /// Whether there are no lines.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }
}

/// blake3 of 1 MiB chunks in parallel, then of the chunk hashes.
pub fn par_hash(bytes: &[u8]) -> String {
    let parts: Vec<[u8; 32]> = bytes.par_chunks(HASH_PIECE).map(|c| *blake3::hash(c).as_bytes()).collect();
    let mut h = blake3::Hasher::new();
    h.update(&(bytes.len() as u64).to_le_bytes());
    for p in parts {
        h.update(&p);
    }
    h.finalize().to_hex().to_string()
}

/// The cached results of a manifest, if the results file is complete and matches it.
pub fn load_results(out: &Path, m: &ResultsRef) -> Option<Cached> {
    let path = state_dir(out).join(&m.results);
    let buf = std::fs::read(&path).ok()?;
    if buf.len() as u64 != m.results_len || par_hash(&buf) != m.results_hash {
        tracing::warn!("ignoring state results {}: size or hash mismatch", path.display());
        return None;
    }
    let mut lines = Vec::with_capacity(m.entries);
    let mut start = 0;
    for (i, b) in buf.iter().enumerate() {
        if *b == b'\n' {
            lines.push((start, i));
            start = i + 1;
        }
    }
    (lines.len() == m.entries && start == buf.len()).then_some(Cached { buf, lines })
}

/// What [`load_results`] needs of a manifest.
#[derive(Debug, Clone)]
pub struct ResultsRef {
    /// Results file name.
    pub results: String,
    /// Its size.
    pub results_len: u64,
    /// Its hash.
    pub results_hash: String,
    /// Number of entries (lines).
    pub entries: usize,
}

impl Manifest {
    /// The results file this manifest names.
    pub fn results_ref(&self) -> ResultsRef {
        ResultsRef {
            results: self.results.clone(),
            results_len: self.results_len,
            results_hash: self.results_hash.clone(),
            entries: self.entries.len(),
        }
    }
}

/// Parses one results line.
pub fn parse_result(line: &[u8]) -> Option<FileResult> {
    serde_json::from_slice(line).ok()
}

/// Serializes one results line (no newline).
pub fn result_line(r: &FileResult) -> Vec<u8> {
    serde_json::to_vec(r).expect("results serialize")
}

/// Stamp of a table file: size and identity (inode, mtime) on Unix, else a hash.
fn stamp(path: &Path, name: &str) -> Option<Stamp> {
    let meta = std::fs::metadata(path).ok()?;
    #[cfg(unix)]
    let hash = {
        use std::os::unix::fs::MetadataExt;
        format!("dev {} ino {} mtime {}.{} ctime {}.{}", meta.dev(), meta.ino(), meta.mtime(), meta.mtime_nsec(), meta.ctime(), meta.ctime_nsec())
    };
    #[cfg(not(unix))]
    let hash = hash_file(path).ok()?;
    Some(Stamp { name: name.to_string(), len: meta.len(), hash })
}

/// Stamps of the table files in `out`, `None` when one is missing.
pub fn table_stamps(out: &Path, names: &[&str]) -> Option<Vec<Stamp>> {
    names.iter().map(|n| stamp(&out.join(n), n)).collect()
}

/// Writes `bytes` to `path` atomically: temporary file, fsync, rename, fsync of the folder.
pub fn write_atomic(path: &Path, chunks: &[&[u8]]) -> Result<(), StateError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(".{}.tmp", path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default()));
    {
        let f = File::create(&tmp).map_err(io(&tmp))?;
        let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
        for c in chunks {
            w.write_all(c).map_err(io(&tmp))?;
        }
        w.flush().map_err(io(&tmp))?;
        w.get_ref().sync_all().map_err(io(&tmp))?;
    }
    std::fs::rename(&tmp, path).map_err(io(path))?;
    sync_dir(dir);
    Ok(())
}

/// fsync of a folder so renames in it survive a power loss (best effort).
pub fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Writes the results file of `generation` (one line per entry, newline-terminated)
/// and returns its name, size and hash for the manifest.
pub fn write_results(out: &Path, generation: u64, buf: &[u8]) -> Result<(String, u64, String), StateError> {
    let dir = state_dir(out);
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    let name = format!("results-{generation:08}.jsonl");
    let hash = par_hash(buf);
    write_atomic(&dir.join(&name), &[buf])?;
    Ok((name, buf.len() as u64, hash))
}

/// Size of the pieces [`par_hash`] hashes separately.
const HASH_PIECE: usize = 1 << 20;

/// What the writer thread of a [`ResultsWriter`] ends with.
type WriterEnd = Result<(u64, Vec<[u8; 32]>), StateError>;

/// Writes the results file of a run while the run goes on: batches of lines
/// are sent, in manifest order, to a background thread that appends them to
/// a temporary file and hashes them (the hash of [`par_hash`], computed
/// piece by piece). [`ResultsWriter::finish`] fsyncs the file and renames it
/// into place. The lines never need to be held in memory all at once.
pub struct ResultsWriter {
    name: String,
    tx: Option<std::sync::mpsc::SyncSender<Vec<u8>>>,
    handle: Option<std::thread::JoinHandle<WriterEnd>>,
}

impl ResultsWriter {
    /// Starts the results file of `generation` in the state folder of `out`.
    pub fn create(out: &Path, generation: u64) -> Result<ResultsWriter, StateError> {
        let dir = state_dir(out);
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        let name = format!("results-{generation:08}.jsonl");
        let path = dir.join(&name);
        let tmp = dir.join(format!(".{name}.tmp"));
        let file = File::create(&tmp).map_err(io(&tmp))?;
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(2);
        let handle = std::thread::Builder::new()
            .name("anugerah-results".into())
            .spawn(move || -> WriterEnd {
                let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
                let (mut len, mut pieces) = (0u64, Vec::new());
                let (mut piece, mut piece_len) = (blake3::Hasher::new(), 0usize);
                let mut failed = None;
                for batch in rx {
                    if failed.is_none() {
                        if let Err(e) = w.write_all(&batch) {
                            failed = Some(e);
                        }
                    }
                    len += batch.len() as u64;
                    let mut rest = batch.as_slice();
                    while !rest.is_empty() {
                        let take = (HASH_PIECE - piece_len).min(rest.len());
                        piece.update(&rest[..take]);
                        piece_len += take;
                        rest = &rest[take..];
                        if piece_len == HASH_PIECE {
                            pieces.push(*piece.finalize().as_bytes());
                            piece.reset();
                            piece_len = 0;
                        }
                    }
                }
                if piece_len > 0 {
                    pieces.push(*piece.finalize().as_bytes());
                }
                if let Some(e) = failed {
                    return Err(io(&tmp)(e));
                }
                w.flush().map_err(io(&tmp))?;
                w.get_ref().sync_all().map_err(io(&tmp))?;
                drop(w);
                std::fs::rename(&tmp, &path).map_err(io(&path))?;
                if let Some(dir) = path.parent() {
                    sync_dir(dir);
                }
                Ok((len, pieces))
            })
            .map_err(|e| StateError::Io { path: dir.clone(), source: e })?;
        Ok(ResultsWriter { name, tx: Some(tx), handle: Some(handle) })
    }

    /// Appends newline-terminated lines.
    pub fn send(&mut self, lines: Vec<u8>) {
        if let Some(tx) = &self.tx {
            // A closed channel means the thread failed: finish() reports it.
            if tx.send(lines).is_err() {
                self.tx = None;
            }
        }
    }

    /// Waits for the file to be written, fsynced and renamed; returns its
    /// name, size and hash for the manifest.
    pub fn finish(mut self) -> Result<(String, u64, String), StateError> {
        self.tx = None;
        let handle = self.handle.take().expect("results writer joined once");
        let (len, pieces) = handle.join().unwrap_or_else(|p| std::panic::resume_unwind(p))?;
        let mut h = blake3::Hasher::new();
        h.update(&len.to_le_bytes());
        for p in pieces {
            h.update(&p);
        }
        Ok((std::mem::take(&mut self.name), len, h.finalize().to_hex().to_string()))
    }
}

impl Drop for ResultsWriter {
    fn drop(&mut self) {
        self.tx = None;
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// Writes the manifest (last, after its results file and the tables), then
/// removes older results files.
pub fn write_manifest(out: &Path, mut m: Manifest) -> Result<(), StateError> {
    let dir = state_dir(out);
    m.format = STATE_FORMAT;
    let manifest = serde_json::to_vec(&m).expect("manifest serializes");
    write_atomic(&dir.join(MANIFEST), &[&manifest])?;
    cleanup(out, Some(&m.results));
    Ok(())
}

/// Removes results files other than `keep` and leftover temporary files.
pub fn cleanup(out: &Path, keep: Option<&str>) {
    let dir = state_dir(out);
    let Ok(rd) = std::fs::read_dir(&dir) else { return };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let stale_results = name.starts_with("results-") && Some(name.as_str()) != keep;
        let tmp = name.starts_with('.') && name.ends_with(".tmp");
        if stale_results || tmp {
            let _ = std::fs::remove_file(e.path());
        }
    }
}
