//! State of incremental runs, kept in `<out>/.anugerah-state/` beside the tables.
//!
//! Layout:
//! - `lock`: an advisory lock (`flock`) held for the whole run; the kernel
//!   drops it when the process dies, so a killed run never blocks the next.
//! - `manifest.json`: a line of JSON (fingerprint of rules + tool build,
//!   stamps of the tables last written, ...), then one line per source file
//!   (size, mtime, blake3 of the bytes, flags and relative path, tab-separated:
//!   [`Entry::line`]), quicker to read and write than JSON for 10^5 files.
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
pub const STATE_FORMAT: u32 = 3;
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
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Path relative to the corpus root.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// Modification time, ns since the epoch.
    pub mtime_ns: i64,
    /// blake3 of the bytes; empty when unknown.
    pub hash: String,
    /// The rows must not be carried over (the file changed while it was read,
    /// or reading it failed): the next run extracts it again.
    pub retry: bool,
    /// Modified too close to the run that recorded it: hash before reuse.
    pub racy: bool,
}

impl Entry {
    /// The entry as a manifest line (with its newline): size, mtime, hash,
    /// flags (`retry`, `racy` as `0`/`1`) and the path, tab-separated; in the
    /// path a backslash, tab, newline or carriage return is escaped.
    pub fn line(&self, out: &mut String) {
        let mut number = itoa::Buffer::new();
        out.push_str(number.format(self.size));
        out.push('\t');
        out.push_str(number.format(self.mtime_ns));
        out.push('\t');
        out.push_str(&self.hash);
        out.push('\t');
        out.push(if self.retry { '1' } else { '0' });
        out.push(if self.racy { '1' } else { '0' });
        out.push('\t');
        if !self.path.bytes().any(|b| matches!(b, b'\\' | b'\t' | b'\n' | b'\r')) {
            out.push_str(&self.path);
            out.push('\n');
            return;
        }
        for c in self.path.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\t' => out.push_str("\\t"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                c => out.push(c),
            }
        }
        out.push('\n');
    }

    /// The entry of a manifest line (without its newline), `None` when it is not one.
    pub fn parse(line: &str) -> Option<Entry> {
        let mut fields = line.splitn(5, '\t');
        let (size, mtime, hash, flags, path) = (fields.next()?, fields.next()?, fields.next()?, fields.next()?, fields.next()?);
        let (retry, racy) = match flags.as_bytes() {
            [x, r] => (flag(*x)?, flag(*r)?),
            _ => return None,
        };
        let path = if path.contains('\\') {
            let mut out = String::with_capacity(path.len());
            let mut chars = path.chars();
            while let Some(c) = chars.next() {
                out.push(match c {
                    '\\' => match chars.next()? {
                        '\\' => '\\',
                        't' => '\t',
                        'n' => '\n',
                        'r' => '\r',
                        _ => return None,
                    },
                    c => c,
                });
            }
            out
        } else {
            path.to_string()
        };
        Some(Entry { path, size: size.parse().ok()?, mtime_ns: mtime.parse().ok()?, hash: hash.to_string(), retry, racy })
    }

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
    /// Source files, sorted by path (the lines after the JSON line).
    #[serde(skip)]
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
    let (head, lines) = match bytes.iter().position(|&b| b == b'\n') {
        Some(at) => (&bytes[..at], &bytes[at + 1..]),
        None => (&bytes[..], &[][..]),
    };
    let mut m = match serde_json::from_slice::<Manifest>(head) {
        Ok(m) if m.format == STATE_FORMAT => m,
        Ok(_) => return None,
        Err(e) => {
            tracing::warn!("ignoring unreadable state {}: {e}", path.display());
            return None;
        }
    };
    let entries = std::str::from_utf8(lines).ok().and_then(|text| text.lines().map(Entry::parse).collect::<Option<Vec<Entry>>>());
    let Some(entries) = entries else {
        tracing::warn!("ignoring unreadable state {}: a file line does not parse", path.display());
        return None;
    };
    m.entries = entries;
    Some(m)
}

fn flag(b: u8) -> Option<bool> {
    match b {
        b'0' => Some(false),
        b'1' => Some(true),
        _ => None,
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
    write_atomic_with(path, |w| chunks.iter().try_for_each(|c| w.write_all(c)))
}

/// [`write_atomic`] of what `write` writes.
fn write_atomic_with(path: &Path, write: impl FnOnce(&mut std::io::BufWriter<File>) -> std::io::Result<()>) -> Result<(), StateError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(".{}.tmp", path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default()));
    {
        let f = File::create(&tmp).map_err(io(&tmp))?;
        let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
        write(&mut w).map_err(io(&tmp))?;
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
    let mut text = String::with_capacity(m.entries.len() * 120);
    for e in std::mem::take(&mut m.entries) {
        e.line(&mut text);
    }
    let head = manifest_head(m);
    write_atomic(&state_dir(out).join(MANIFEST), &[&head, text.as_bytes()])
}

/// The JSON line (with its newline) that starts the manifest `m`.
fn manifest_head(mut m: Manifest) -> Vec<u8> {
    m.format = STATE_FORMAT;
    let mut head = serde_json::to_vec(&m).expect("manifest serializes");
    head.push(b'\n');
    head
}

/// The file lines of the manifest a run is making, written to a temporary
/// file of the state folder as files are done (in path order), so a run
/// holds none of them in memory however large the corpus.
pub struct EntryLines {
    path: PathBuf,
    writer: std::io::BufWriter<File>,
    line: String,
}

impl EntryLines {
    /// Starts the lines in `<out>/.anugerah-state/` (after [`cleanup`], which
    /// would remove them).
    pub fn create(out: &Path) -> Result<EntryLines, StateError> {
        let path = state_dir(out).join(".entries.tmp");
        let file = File::options().read(true).write(true).create(true).truncate(true).open(&path).map_err(io(&path))?;
        Ok(EntryLines { path, writer: std::io::BufWriter::with_capacity(1 << 20, file), line: String::new() })
    }

    /// Appends the line of `e`.
    pub fn push(&mut self, e: &Entry) -> Result<(), StateError> {
        self.line.clear();
        e.line(&mut self.line);
        self.writer.write_all(self.line.as_bytes()).map_err(io(&self.path))
    }

    /// Writes the manifest `m` (its `entries` ignored) with these lines,
    /// and removes the temporary file.
    pub fn write_manifest(self, out: &Path, m: Manifest) -> Result<(), StateError> {
        use std::io::Seek;
        let EntryLines { path, writer, .. } = self;
        let mut lines = writer.into_inner().map_err(|e| io(&path)(e.into_error()))?;
        lines.rewind().map_err(io(&path))?;
        let head = manifest_head(m);
        write_atomic_with(&state_dir(out).join(MANIFEST), |w| {
            w.write_all(&head)?;
            std::io::copy(&mut lines, w).map(drop)
        })?;
        let _ = std::fs::remove_file(&path);
        Ok(())
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_lines_round_trip_any_path() {
        let paths = ["txt/a.txt", "dir with space/b.html", "tab\there.txt", "new\nline.txt", "back\\slash\\n.txt", "cr\r.txt", "ünï\u{fffd}cödé.jsonl", "trailing\\"];
        for (i, path) in paths.iter().enumerate() {
            let e = Entry { path: path.to_string(), size: i as u64 * 1000, mtime_ns: -5 + i as i64, hash: if i % 2 == 0 { "ab12".into() } else { String::new() }, retry: i % 3 == 0, racy: i % 2 == 1 };
            let mut text = String::new();
            e.line(&mut text);
            assert_eq!(text.matches('\n').count(), 1, "{text:?}");
            assert_eq!(Entry::parse(text.trim_end_matches('\n')), Some(e), "{text:?}");
        }
        // Lines that are not entries.
        for bad in ["", "1\t2\tab\t00", "x\t2\tab\t00\tp", "1\t2\tab\t02\tp", "1\t2\tab\t0\tp", "1\t2\tab\t00\tbad\\escape"] {
            assert_eq!(Entry::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn manifests_are_written_and_read_back() {
        let dir = tempfile::tempdir().expect("temp dir");
        let entries: Vec<Entry> = (0..3)
            .map(|i| Entry { path: format!("d/{i}\t.txt"), size: i, mtime_ns: 7, hash: format!("h{i}"), retry: false, racy: i == 1 })
            .collect();
        let m = Manifest { fingerprint: "f".into(), generation: 4, entries: entries.clone(), ..Default::default() };
        std::fs::create_dir_all(state_dir(dir.path())).expect("state folder");
        write_manifest(dir.path(), m).expect("written");
        let back = load_manifest(dir.path()).expect("read back");
        assert_eq!((back.fingerprint.as_str(), back.generation, back.entries), ("f", 4, entries));
        // A damaged file line: no manifest (the next run is a full run).
        let path = state_dir(dir.path()).join(MANIFEST);
        let text = std::fs::read_to_string(&path).expect("read");
        std::fs::write(&path, text.replacen("\t00\t", "\t0x\t", 1)).expect("write");
        assert!(load_manifest(dir.path()).is_none());
    }
}
