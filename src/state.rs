//! State of incremental runs, kept in `<out>/.anugerah-state/` beside the tables.
//!
//! Layout:
//! - `lock`: an advisory lock (`flock`) held for the whole run; the kernel
//!   drops it when the process dies, so a killed run never blocks the next.
//! - `manifest.json`: fingerprint of rules + tool build, one entry per source
//!   file (relative path, size, mtime, blake3 of the bytes), and stamps of the
//!   tables last written.
//!
//! The tables themselves hold the rows of every file: a re-run carries the
//! rows of unchanged files over from them (`output::carry`). Every file is
//! written to a temporary name, fsynced and renamed; tables first, the manifest
//! last. A run killed in between leaves the old manifest, whose table stamps no
//! longer match the tables: the next run then reads every file again.

use crate::model::{ArticleRow, ErrorRow, Mention};
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Folder inside `--out` that holds the state.
pub const STATE_DIR: &str = ".anugerah-state";
/// Version of the state layout; a different one is ignored (full run).
pub const STATE_FORMAT: u32 = 2;
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

/// Everything one source file gave after extraction: its rows of the tables.
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
    /// The rows must not be carried over (the file changed while it was read,
    /// or reading it failed): the next run extracts it again.
    #[serde(rename = "x", default)]
    pub retry: bool,
    /// Modified too close to the run that recorded it: hash before reuse.
    #[serde(rename = "r", default)]
    pub racy: bool,
}

impl Entry {
    /// Whether the rows of the last run may be carried over when the bytes hash the same.
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
    /// Run counter.
    pub generation: u64,
    /// The executable of the run.
    pub exe: ExeStamp,
    /// Table files written.
    pub tables: Vec<Stamp>,
    /// blake3 of the tables a re-run carries rows over from
    /// ([`CARRIED_TABLES`]): these may be used even when the folder was
    /// copied (which changes the other stamps).
    #[serde(default)]
    pub carried: Vec<Stamp>,
    /// Error rows of the corpus walk.
    pub walk_errors: Vec<ErrorRow>,
    /// Row counts.
    pub totals: Totals,
    /// Source files, sorted by path.
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

/// The tables a re-run carries rows over from.
pub const CARRIED_TABLES: &[&str] = &["mentions.parquet", "articles.parquet", "errors.parquet"];

/// Size and blake3 of the table files in `out` (hashed side by side), `None` when one is missing.
pub fn content_stamps(out: &Path, names: &[&str]) -> Option<Vec<Stamp>> {
    let stamp = |n: &str| -> Option<Stamp> {
        let path = out.join(n);
        let len = std::fs::metadata(&path).ok()?.len();
        Some(Stamp { name: n.to_string(), len, hash: hash_file(&path).ok()? })
    };
    std::thread::scope(|s| {
        let hashing: Vec<_> = names.iter().map(|n| s.spawn(move || stamp(n))).collect();
        hashing.into_iter().map(|h| h.join().ok().flatten()).collect()
    })
}

/// Whether `bytes` are those of table file `name` as `stamps` (of
/// [`content_stamps`]) describe it.
pub fn content_matches(stamps: &[Stamp], name: &str, bytes: &[u8]) -> bool {
    stamps.iter().any(|s| s.name == name && s.len == bytes.len() as u64 && s.hash == blake3::hash(bytes).to_hex().as_str())
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

/// Writes the manifest (last, after the tables).
pub fn write_manifest(out: &Path, mut m: Manifest) -> Result<(), StateError> {
    let entries = entries_json(&std::mem::take(&mut m.entries));
    write_manifest_with(out, m, &entries)
}

/// The `entries` of a manifest as JSON, for [`write_manifest_with`] (the bulk
/// of the manifest: it can be made while the tables are being finished).
pub fn entries_json(entries: &[Entry]) -> Vec<u8> {
    serde_json::to_vec(entries).expect("entries serialize")
}

/// Writes the manifest `m` whose entries are `entries` (of [`entries_json`];
/// those of `m` are ignored).
pub fn write_manifest_with(out: &Path, mut m: Manifest, entries: &[u8]) -> Result<(), StateError> {
    let dir = state_dir(out);
    m.format = STATE_FORMAT;
    m.entries = Vec::new();
    let mut manifest = serde_json::to_vec(&m).expect("manifest serializes");
    // `entries` is the last field: the text ends with `"entries":[]}`.
    const EMPTY: &[u8] = b"\"entries\":[]}";
    let head = manifest.len().checked_sub(EMPTY.len()).filter(|&at| manifest.get(at..) == Some(EMPTY));
    let Some(head) = head else {
        return Err(StateError::Io { path: dir.join(MANIFEST), source: std::io::Error::other("manifest layout") });
    };
    manifest.truncate(head + EMPTY.len() - 3);
    write_atomic(&dir.join(MANIFEST), &[&manifest, entries, b"}"])
}

/// Removes leftover temporary files, and the results files earlier versions kept.
pub fn cleanup(out: &Path) {
    let dir = state_dir(out);
    let Ok(rd) = std::fs::read_dir(&dir) else { return };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let stale_results = name.starts_with("results-");
        let tmp = name.starts_with('.') && name.ends_with(".tmp");
        if stale_results || tmp {
            let _ = std::fs::remove_file(e.path());
        }
    }
}
