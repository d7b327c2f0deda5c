//! Reading the corpus: finding files and turning each into articles.

pub mod decode;
pub mod html;
pub mod jsonl;
pub mod text;

use crate::model::{Article, ErrorRow, Format};
use rayon::prelude::*;
use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use thiserror::Error;

/// Largest txt/html file read whole; larger ones become an error row.
pub const MAX_DOCUMENT_BYTES: u64 = 64 * 1024 * 1024;
/// Longest JSON Lines record read; longer lines become an error row.
pub const MAX_JSONL_LINE_BYTES: usize = 32 * 1024 * 1024;

/// Why a file or record could not be read.
#[derive(Debug, Error)]
pub enum IngestError {
    /// The file system refused.
    #[error("cannot read: {0}")]
    Io(#[from] std::io::Error),
    /// The file holds binary data.
    #[error("binary content in a text file")]
    Binary,
    /// The file is over the size limit.
    #[error("file of {size} bytes is over the {limit}-byte limit")]
    TooLarge {
        /// Size of the file.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// The file holds no text.
    #[error("empty file")]
    Empty,
    /// A JSON Lines record is not valid JSON or lacks the text.
    #[error("{0}")]
    Record(String),
}

/// A file found in the corpus that anugerah reads.
///
/// Files sort by relative path, then by full path (only files whose names
/// are not UTF-8 can share a relative path).
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Path relative to the corpus root with `/` separators.
    pub rel_path: String,
    /// Where the file is on disk: see [`SourceFile::path`].
    location: Location,
    /// Reader to use.
    pub format: Format,
    /// Size in bytes at discovery.
    pub size: u64,
    /// Modification time in nanoseconds since the epoch (0 when unknown).
    pub mtime_ns: i128,
}

/// Where a source file is on disk: under a corpus root shared by every
/// file of a walk, at the file's relative path (the common case: a walk
/// of a million files holds one root, not a million full paths), or at a
/// path of its own.
#[derive(Debug, Clone)]
enum Location {
    Under(Arc<Path>),
    At(PathBuf),
}

impl SourceFile {
    /// The file at `path`, named `rel_path` in the tables; size and mtime unknown.
    pub fn new(rel_path: impl Into<String>, path: impl Into<PathBuf>, format: Format) -> SourceFile {
        SourceFile { rel_path: rel_path.into(), location: Location::At(path.into()), format, size: 0, mtime_ns: 0 }
    }

    /// The file found at `path` by a walk of `root`: kept as `root` and the
    /// relative path when these give `path` back exactly.
    fn walked(root: &Arc<Path>, rel_path: String, path: PathBuf, format: Format) -> SourceFile {
        let root_bytes = root.as_os_str().as_encoded_bytes();
        let rest = path.as_os_str().as_encoded_bytes().strip_prefix(root_bytes).and_then(|r| r.strip_prefix(b"/"));
        let rejoins = !root_bytes.is_empty() && !root_bytes.ends_with(b"/") && rest == Some(rel_path.as_bytes());
        let location = if rejoins { Location::Under(root.clone()) } else { Location::At(path) };
        SourceFile { rel_path, location, format, size: 0, mtime_ns: 0 }
    }

    /// The corpus root and the folder under it (`""` for the root itself)
    /// of a file found by a walk, `None` for a file at a path of its own.
    fn folder(&self) -> Option<(&Arc<Path>, &str)> {
        match &self.location {
            Location::Under(root) => Some((root, self.rel_path.rsplit_once('/').map_or("", |(dir, _)| dir))),
            Location::At(_) => None,
        }
    }

    /// Full path on disk.
    pub fn path(&self) -> Cow<'_, Path> {
        match &self.location {
            Location::Under(root) => Cow::Owned(root.join(&self.rel_path)),
            Location::At(path) => Cow::Borrowed(path),
        }
    }
}

impl Ord for SourceFile {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.rel_path
            .cmp(&other.rel_path)
            .then_with(|| self.path().cmp(&other.path()))
            .then_with(|| (self.format, self.size, self.mtime_ns).cmp(&(other.format, other.size, other.mtime_ns)))
    }
}

impl PartialOrd for SourceFile {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for SourceFile {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}

impl Eq for SourceFile {}

/// What a walk of the corpus found.
#[derive(Debug, Default)]
pub struct Discovery {
    /// Files to read, sorted by relative path.
    pub files: Vec<SourceFile>,
    /// Files with another extension.
    pub skipped: usize,
    /// Entries the walk could not visit (permissions, loops, bad names).
    pub errors: Vec<ErrorRow>,
}

/// The articles and error rows one file gave.
#[derive(Debug, Default)]
pub struct FileOutcome {
    /// Articles read.
    pub articles: Vec<Article>,
    /// Problems met.
    pub errors: Vec<ErrorRow>,
}

/// Format implied by a file name's extension, if anugerah reads it.
pub fn format_for(path: &Path) -> Option<Format> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    match ext.as_str() {
        "txt" => Some(Format::Txt),
        "html" | "htm" => Some(Format::Html),
        "jsonl" | "ndjson" => Some(Format::Jsonl),
        _ => None,
    }
}

/// Path relative to `root` with `/` separators; non-UTF-8 bytes are replaced.
pub fn relative_id(root: &Path, path: &Path) -> String {
    #[cfg(unix)]
    if let Some(id) = plain_relative_id(root, path) {
        return id;
    }
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// [`relative_id`] of the common case, without taking the paths apart (a
/// walk gives tens of thousands): `path` is `root`, a `/` and UTF-8 that the
/// component split would leave as it is (no empty or `.` component).
#[cfg(unix)]
fn plain_relative_id(root: &Path, path: &Path) -> Option<String> {
    use std::os::unix::ffi::OsStrExt;
    let rest = path.as_os_str().as_bytes().strip_prefix(root.as_os_str().as_bytes())?.strip_prefix(b"/")?;
    let rel = std::str::from_utf8(rest).ok()?;
    let plain = rel.split('/').all(|c| !c.is_empty() && c != ".");
    plain.then(|| rel.to_string())
}

/// `stage` of the error rows of the corpus walk (made again by every run).
pub const WALK_STAGE: &str = "walk";

/// Walks `root` recursively (following no symlink loops) and lists the files to read.
/// Files are looked at (`stat`) in parallel, on the current rayon pool.
pub fn discover(root: &Path) -> Discovery {
    let mut out = Discovery::default();
    let shared_root: Arc<Path> = Arc::from(root);
    // Unsorted (sorting by name in walkdir parses each path on every
    // comparison): files and errors are sorted once at the end.
    for entry in walkdir::WalkDir::new(root).follow_links(true) {
        let entry = match entry {
            Ok(e) => e,
            Err(err) => {
                let p = err.path().map(|p| relative_id(root, p)).unwrap_or_default();
                out.errors.push(ErrorRow {
                    source_path: p,
                    article_id: None,
                    stage: WALK_STAGE.into(),
                    message: err.to_string(),
                });
                continue;
            }
        };
        if !entry.file_type().is_file() {
            continue;
        }
        let rel = relative_id(root, entry.path());
        if rel.split('/').any(|c| c.starts_with('.')) {
            continue;
        }
        let Some(format) = format_for(entry.path()) else {
            out.skipped += 1;
            continue;
        };
        if entry.path().to_str().is_none() {
            out.errors.push(ErrorRow {
                source_path: rel.clone(),
                article_id: Some(rel.clone()),
                stage: WALK_STAGE.into(),
                message: "file name is not valid UTF-8; read with replacement characters in its id".into(),
            });
        }
        out.files.push(SourceFile::walked(&shared_root, rel, entry.into_path(), format));
    }
    // The order is total (paths differ), so an unstable sort is deterministic
    // (size and mtime, read next, only break ties between equal paths).
    out.files.par_sort_unstable();
    stat_files(&mut out.files);
    out.files.shrink_to_fit();
    out.errors.sort();
    out
}

/// Most files `stat`ed relative to one open folder by one task.
const STAT_RUN: usize = 512;

/// Sets the size and mtime of every file (left 0 when it cannot be looked
/// at), on all threads of the current rayon pool. `files` sorted by path: the
/// files of one folder under the corpus root come in runs, each looked at
/// relative to the open folder (`fstatat`), one lookup of the folder's path
/// per run instead of one of each file's whole path.
fn stat_files(files: &mut [SourceFile]) {
    let mut runs: Vec<&mut [SourceFile]> = Vec::new();
    let mut rest = files;
    while !rest.is_empty() {
        let folder = rest.first().and_then(SourceFile::folder);
        let n = match folder {
            Some(key) => rest.iter().take(STAT_RUN).take_while(|f| f.folder() == Some(key)).count(),
            None => 1,
        };
        let (run, tail) = rest.split_at_mut(n.max(1));
        runs.push(run);
        rest = tail;
    }
    runs.into_par_iter().for_each(stat_run);
}

/// [`stat_files`] of files that share a folder (or of one file).
fn stat_run(run: &mut [SourceFile]) {
    #[cfg(unix)]
    if let Some(dir) = run.first().and_then(SourceFile::folder).map(|(root, folder)| root.join(folder)) {
        use rustix::fs::{AtFlags, Mode, OFlags};
        if let Ok(fd) = rustix::fs::open(&dir, OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty()) {
            for f in run.iter_mut() {
                let name = f.rel_path.rsplit('/').next().unwrap_or(&f.rel_path);
                if let Ok(st) = rustix::fs::statat(&fd, name, AtFlags::empty()) {
                    // As `mtime_nanos` reads it: 0 before the epoch.
                    let (secs, nanos) = (st.st_mtime as i128, st.st_mtime_nsec as i128);
                    f.size = u64::try_from(st.st_size).unwrap_or(0);
                    f.mtime_ns = if secs < 0 { 0 } else { secs * 1_000_000_000 + nanos };
                }
            }
            return;
        }
    }
    for f in run.iter_mut() {
        if let Ok(m) = std::fs::metadata(f.path()) {
            (f.size, f.mtime_ns) = (m.len(), mtime_nanos(&m));
        }
    }
}

/// Modification time of a file in nanoseconds since the epoch, 0 when unknown.
pub fn mtime_nanos(meta: &std::fs::Metadata) -> i128 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_nanos() as i128)
        .unwrap_or(0)
}

/// Reads one file with the reader for its format.
pub fn read_source(file: &SourceFile) -> FileOutcome {
    read_source_hashed(file).0
}

/// Reads one file like [`read_source`] and also returns the blake3 hash (hex)
/// of the bytes it read, so a caller that needs both does not read the file
/// twice. The hash is `None` when the file was not read whole (I/O error,
/// over the size limit).
pub fn read_source_hashed(file: &SourceFile) -> (FileOutcome, Option<String>) {
    let mut hash = None;
    let result = match file.format {
        Format::Jsonl => return jsonl::read_jsonl_file_hashed(file),
        Format::Txt => read_document_hashed(file, &mut hash).map(|d| text::article_from_text(file, d)),
        Format::Html => read_document_hashed(file, &mut hash).map(|d| html::article_from_html(file, d)),
    };
    let outcome = match result {
        Ok(article) => FileOutcome { articles: vec![article], errors: vec![] },
        Err(err) => FileOutcome {
            articles: vec![],
            errors: vec![ErrorRow {
                source_path: file.rel_path.clone(),
                article_id: Some(file.rel_path.clone()),
                stage: "read".into(),
                message: err.to_string(),
            }],
        },
    };
    (outcome, hash)
}

/// Reads a whole txt/html file, refusing empty, huge or binary ones, and sets
/// `hash` to the blake3 of the bytes when they were read.
fn read_document_hashed(file: &SourceFile, hash: &mut Option<String>) -> Result<decode::Decoded, IngestError> {
    use std::io::Read;
    let f = std::fs::File::open(file.path())?;
    let size = f.metadata()?.len();
    if size > MAX_DOCUMENT_BYTES {
        return Err(IngestError::TooLarge { size, limit: MAX_DOCUMENT_BYTES });
    }
    let mut bytes = Vec::with_capacity(size as usize + 1);
    // A file that grew past the limit since the check is still refused.
    f.take(MAX_DOCUMENT_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_DOCUMENT_BYTES {
        return Err(IngestError::TooLarge { size: bytes.len() as u64, limit: MAX_DOCUMENT_BYTES });
    }
    *hash = Some(blake3::hash(&bytes).to_hex().to_string());
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(IngestError::Empty);
    }
    decode::decode_bytes(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walked_files_get_the_size_and_mtime_of_their_metadata() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        // More files in one folder than one run looks at, in three folders.
        for i in 0..(STAT_RUN + 3) {
            std::fs::write(root.join(format!("a/{i:04}.txt")), "x".repeat(i % 7)).unwrap();
        }
        std::fs::write(root.join("top.txt"), "top").unwrap();
        std::fs::write(root.join("a/b/deep.html"), "<p>deep</p>").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(root.join("a/b/deep.html"), root.join("a/link.html")).unwrap();
        let found = discover(root);
        assert_eq!(found.files.len(), STAT_RUN + 3 + 2 + usize::from(cfg!(unix)));
        for f in &found.files {
            let m = std::fs::metadata(f.path()).unwrap();
            assert_eq!((f.size, f.mtime_ns), (m.len(), mtime_nanos(&m)), "{}", f.rel_path);
            assert!(f.mtime_ns > 0, "{}", f.rel_path);
        }
        // A file at a path of its own (not under the root) is looked at by that path.
        let mut own = vec![SourceFile::new("own.txt", root.join("top.txt"), Format::Txt)];
        stat_files(&mut own);
        assert_eq!(own[0].size, 3);
    }

    #[test]
    fn relative_ids_are_those_of_the_component_split() {
        let split = |root: &str, path: &str| {
            let (root, path) = (Path::new(root), Path::new(path));
            let rel = path.strip_prefix(root).unwrap_or(path);
            rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect::<Vec<_>>().join("/")
        };
        for (root, path) in [
            ("corpus", "corpus/html/a.html"),
            ("corpus/", "corpus/html/a.html"),
            ("corpus", "corpus//html/./a.html"),
            ("/tmp/c", "/tmp/c/a b/ç.txt"),
            ("corpus", "corpus/../x/a.txt"),
            ("corpus", "other/a.txt"),
            ("corpus", "corpusx/a.txt"),
            ("a/./b", "a/./b/c.txt"),
            ("corpus", "corpus/html/a.html/"),
        ] {
            assert_eq!(relative_id(Path::new(root), Path::new(path)), split(root, path), "{root} {path}");
        }
    }

    #[test]
    fn walked_files_keep_their_exact_path() {
        for (root, path) in [
            ("corpus", "corpus/html/a.html"),
            ("corpus/", "corpus/html/a.html"),
            ("corpus", "corpus//html/./a.html"),
            ("/tmp/c", "/tmp/c/a b/ç.txt"),
            ("a/./b", "a/./b/c.txt"),
            ("", "a.txt"),
        ] {
            let shared: Arc<Path> = Arc::from(Path::new(root));
            let f = SourceFile::walked(&shared, relative_id(Path::new(root), Path::new(path)), PathBuf::from(path), Format::Txt);
            assert_eq!(f.path().as_os_str(), Path::new(path).as_os_str(), "{root} {path}");
        }
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStrExt;
            let path = Path::new(std::ffi::OsStr::from_bytes(b"corpus/bad\xff.txt"));
            let shared: Arc<Path> = Arc::from(Path::new("corpus"));
            let f = SourceFile::walked(&shared, relative_id(Path::new("corpus"), path), path.to_path_buf(), Format::Txt);
            assert_eq!(f.path().as_os_str(), path.as_os_str());
        }
    }
}
