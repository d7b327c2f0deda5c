//! The batch job: discover the corpus, read and extract in parallel, write the tables.

use crate::extract;
use crate::ingest::{self, FileOutcome, SourceFile};
use crate::model::{Article, ArticleRow, ErrorRow, Format, Mention, Status, TableOrder};
use crate::output::{self, OutputError};
use crate::rules::{RuleError, RuleTexts, Rules};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use std::io::IsTerminal;
use crate::state::{self, Entry, StateError, Totals};
use foldhash::HashMap;
use std::ops::ControlFlow;
use std::sync::Arc;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use thiserror::Error;

/// Name of the marker file that says anugerah owns an output folder.
pub const OUTPUT_MARKER: &str = ".anugerah-output";

/// Settings of one run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Corpus folder.
    pub corpus: PathBuf,
    /// Output folder.
    pub out: PathBuf,
    /// Rule override folder.
    pub rules_dir: Option<PathBuf>,
    /// Worker threads (default: all cores).
    pub threads: Option<usize>,
    /// Show a progress bar when stderr is a terminal.
    pub progress: bool,
    /// Write into a folder that holds files anugerah did not write.
    pub force: bool,
    /// Process only the files of this shard (see [`crate::shard`]).
    pub shard: Option<crate::shard::Shard>,
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunSummary {
    /// Articles read.
    pub articles: usize,
    /// Mentions written.
    pub mentions: usize,
    /// Error rows written.
    pub errors: usize,
    /// Files skipped for their extension.
    pub skipped: usize,
    /// Files not in the last run's state.
    pub new: usize,
    /// Files whose bytes changed since the last run.
    pub changed: usize,
    /// Files whose bytes did not change.
    pub unchanged: usize,
    /// Files of the last run that are gone.
    pub deleted: usize,
    /// Why every file was extracted again (`--full`, no state, rules changed), if so.
    pub full_reason: Option<String>,
    /// Wall time.
    pub elapsed: Duration,
}

impl std::fmt::Display for RunSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} articles, {} mentions, {} errors, {} skipped; files: {} new, {} changed, {} unchanged, {} deleted",
            self.articles, self.mentions, self.errors, self.skipped, self.new, self.changed, self.unchanged, self.deleted,
        )?;
        if let Some(r) = &self.full_reason {
            write!(f, " (all extracted: {r})")?;
        }
        write!(f, " in {:.2}s", self.elapsed.as_secs_f64())
    }
}

/// Why a run could not finish.
#[derive(Debug, Error)]
pub enum PipelineError {
    /// The corpus folder is missing.
    #[error("corpus folder not found: {0}")]
    MissingCorpus(PathBuf),
    /// The output folder holds files anugerah did not write.
    #[error("output folder {0} holds files anugerah did not write (use --force to write there anyway)")]
    ForeignOutput(PathBuf),
    /// `--force` was given but the folder holds a file anugerah would replace or delete.
    #[error("output folder {dir} holds {file}, which anugerah did not write; --force never replaces or deletes such a file (move it away or choose another --out)", dir = .0.display(), file = .1.display())]
    ForeignFile(PathBuf, PathBuf),
    /// The output folder cannot be created or written.
    #[error("cannot write output folder {path}: {source}")]
    Unwritable {
        /// Folder.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// Rules failed to load.
    #[error(transparent)]
    Rules(#[from] RuleError),
    /// Tables failed to write.
    #[error(transparent)]
    Output(#[from] OutputError),
    /// The incremental state is locked by another run or cannot be written.
    #[error(transparent)]
    State(#[from] StateError),
    /// The thread pool could not start.
    #[error("thread pool: {0}")]
    Threads(String),
}

pub use crate::state::FileResult;

/// Reads and extracts one file. Never panics on bad input: a panic inside
/// the readers or extractor becomes an error row.
pub fn process_file(rules: &Rules, file: &SourceFile) -> FileResult {
    guarded(file, || extract_outcome(rules, ingest::read_source(file)))
}

/// Runs `f`, turning a panic into the error row of `file`.
fn guarded(file: &SourceFile, f: impl FnOnce() -> FileResult) -> FileResult {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
        .unwrap_or_else(|_| FileResult { errors: vec![ErrorRow::internal(&file.rel_path, &file.rel_path)], ..Default::default() })
}

/// Files with at least this many articles (JSON Lines dumps) have their
/// articles extracted in parallel, so one huge dump among many small files
/// does not leave the other cores idle.
const PARALLEL_ARTICLES: usize = 8;

/// Extracts the mentions of the articles one file gave (see [`process_file`]).
fn extract_outcome(rules: &Rules, outcome: FileOutcome) -> FileResult {
    let FileOutcome { articles, errors } = outcome;
    let one = |a: Article| -> (ArticleRow, Option<ErrorRow>, Vec<Mention>) {
        let mentions = extract::extract(rules, &a);
        let decode_error = ErrorRow::decode(&a);
        let row = ArticleRow {
            chars: a.text.chars().count() as i64,
            content_hash: blake3::hash(a.text.as_bytes()).to_hex().to_string(),
            mentions: mentions.len() as i32,
            status: if a.decode_note.is_some() { Status::Decoded } else { Status::Ok },
            article_id: a.article_id,
            source_path: a.source_path,
            format: a.format,
            url: a.url,
            title: a.title,
            published: a.published,
        };
        (row, decode_error, mentions)
    };
    let done: Vec<_> = if articles.len() >= PARALLEL_ARTICLES {
        articles.into_par_iter().map(one).collect()
    } else {
        articles.into_iter().map(one).collect()
    };
    let mut res = FileResult { errors, ..Default::default() };
    res.articles.reserve(done.len());
    for (row, decode_error, mentions) in done {
        res.articles.push(row);
        res.errors.extend(decode_error);
        res.mentions.extend(mentions);
    }
    res
}

/// Names of the entries anugerah writes, replaces or deletes in an output
/// folder: the tables, their temporary files, the state folder and the
/// shard marker.
pub fn owned_names() -> Vec<String> {
    let mut names: Vec<String> = output::TABLE_FILES.iter().map(|t| t.to_string()).collect();
    names.extend(output::TABLE_FILES.iter().map(|t| format!(".{t}.tmp")));
    names.extend(output::TABLE_FILES.iter().map(|t| format!(".{t}.old")));
    names.push(state::STATE_DIR.to_string());
    names.push(crate::shard::SHARD_MARKER.to_string());
    names
}

/// Checks that `out` may be written: created if missing, refused if it holds
/// files anugerah did not write. With `force` a folder without the marker is
/// accepted as long as none of its entries is one anugerah would replace or
/// delete ([`owned_names`]): other files are left alone, and a foreign
/// `mentions.csv` (say) is never overwritten.
pub fn prepare_output(out: &Path, force: bool) -> Result<(), PipelineError> {
    let unwritable = |source| PipelineError::Unwritable { path: out.to_path_buf(), source };
    if out.exists() && !out.is_dir() {
        return Err(unwritable(std::io::Error::new(std::io::ErrorKind::AlreadyExists, "not a folder")));
    }
    let marker = out.join(OUTPUT_MARKER);
    if out.is_dir() && std::fs::symlink_metadata(&marker).is_err() {
        let foreign = std::fs::read_dir(out).map_err(unwritable)?.next().is_some();
        if foreign && !force {
            return Err(PipelineError::ForeignOutput(out.to_path_buf()));
        }
        for name in owned_names() {
            let p = out.join(&name);
            if std::fs::symlink_metadata(&p).is_ok() {
                return Err(PipelineError::ForeignFile(out.to_path_buf(), p));
            }
        }
    }
    std::fs::create_dir_all(out).map_err(unwritable)?;
    std::fs::write(out.join(OUTPUT_MARKER), "This folder is written by anugerah.\n").map_err(unwritable)?;
    Ok(())
}

/// How a run uses the state of earlier runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Carry over the rows of files whose bytes did not change.
    #[default]
    Incremental,
    /// Re-read and re-extract every file.
    Full,
}

/// Runs the batch incrementally: see [`run_with`].
pub fn run(opts: &RunOptions) -> Result<RunSummary, PipelineError> {
    run_with(opts, Mode::Incremental)
}

/// What to do with one discovered file.
enum Plan {
    /// Size and mtime match a trusted entry: carry its rows over.
    Reuse(Entry),
    /// Known file whose stat changed: carry its rows over when the bytes hash the same.
    Check(Entry),
    /// Read and extract; the entry (if any) only classifies new/changed/unchanged.
    Process(Option<Entry>),
}

/// Whether a file was new, changed or unchanged since the last run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    New,
    Changed,
    Unchanged,
}

/// One file after this run.
struct Done {
    entry: Entry,
    /// The rows of a file read this run; `None` when carried over from the
    /// last tables, or read as a dump.
    result: Option<FileResult>,
    /// The rows of a file read as a dump ([`process_dump`]).
    dump: Option<DumpRows>,
    kind: Kind,
}

fn now_ns() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as i64).unwrap_or(0)
}

/// Reads and extracts one file for the state: hashes the bytes first, then
/// extracts, then checks the file did not change meanwhile. A file that
/// changed, could not be read (I/O error) or shares its id with another is
/// marked `retry`, so the next run processes it again.
fn process_for_state(rules: &Rules, f: &SourceFile, run_start_ns: i64, shared_id: bool) -> (Entry, FileResult) {
    // The hash is that of the bytes the readers read (one read of the file),
    // or of the file itself when they did not read it whole.
    let mut hash = None;
    let result = guarded(f, || {
        let (outcome, h) = ingest::read_source_hashed(f);
        hash = h;
        extract_outcome(rules, outcome)
    });
    (entry_of_read(f, hash, read_failed(&result.errors), shared_id, run_start_ns), result)
}

/// Whether `errors` (of reading a file) tell an I/O error.
fn read_failed(errors: &[ErrorRow]) -> bool {
    errors.iter().any(|e| e.stage == "read" && e.message.starts_with("cannot read"))
}

/// The state entry of `f` once read: `hash` is that of the bytes the readers
/// read (the file is hashed again when they did not read it whole), and the
/// file is marked to be read again next time when reading it failed
/// (`io_failed`) or it shares its id with another.
fn entry_of_read(f: &SourceFile, hash: Option<String>, io_failed: bool, shared_id: bool, run_start_ns: i64) -> Entry {
    let hash = hash.or_else(|| state::hash_file(&f.path()).ok());
    let retry = hash.is_none() || io_failed || shared_id;
    entry_after_read(f, hash.unwrap_or_default(), retry, run_start_ns)
}

/// The state entry of `f` once its bytes (hashing to `hash`) were used: to
/// be read again next time when `retry`, or when the file no longer has the
/// size and mtime seen by the walk (it changed while it was read).
fn entry_after_read(f: &SourceFile, hash: String, retry: bool, run_start_ns: i64) -> Entry {
    let mtime_ns = f.mtime_ns as i64;
    let stable = state::stat(&f.path()) == Some((f.size, mtime_ns));
    Entry {
        path: f.rel_path.clone(),
        size: f.size,
        mtime_ns,
        retry: retry || !stable,
        hash,
        racy: mtime_ns >= run_start_ns.saturating_sub(state::RACY_WINDOW_NS),
    }
}

/// Files processed per chunk (see [`run_with`]): enough to keep every core
/// busy, few enough that a chunk's rows are few.
const CHUNK_FILES: usize = 1024;

/// Input bytes per chunk: a chunk ends before this much input (by the sizes
/// seen at discovery), so a run of large files (JSON Lines dumps) does not
/// hold the rows of hundreds of megabytes at once. A single larger file
/// is a chunk of its own.
const CHUNK_BYTES: u64 = 16 << 20;

/// JSON Lines files larger than this (dumps) are read and extracted a part
/// of about this many bytes at a time; their rows wait in sorted runs on
/// disk (`spill`), merged back in table order, so memory does not grow
/// with the size of a dump.
pub const DUMP_PART_BYTES: u64 = CHUNK_BYTES;

/// Articles per batch of a dump's merged rows sent to the tables.
const DUMP_BATCH_ARTICLES: usize = 8192;

/// Whether `f` is read as a dump (see [`DUMP_PART_BYTES`]).
fn is_dump(f: &SourceFile) -> bool {
    f.format == Format::Jsonl && f.size > DUMP_PART_BYTES
}

/// The rows of a dump (at `path`), each table merged from its sorted runs.
struct DumpRows {
    path: String,
    articles: crate::spill::Merged<ArticleRow>,
    mentions: crate::spill::Merged<Mention>,
    errors: crate::spill::Merged<ErrorRow>,
}

/// Reads and extracts a dump a part at a time (the articles of a part in
/// parallel on `pool`), as [`process_for_state`] does a file: the state
/// entry, and its rows, spilled to sorted runs in `spill_dir`.
fn process_dump(rules: &Rules, f: &SourceFile, pool: &rayon::ThreadPool, run_start_ns: i64, shared_id: bool, spill_dir: &Path) -> Result<(Entry, DumpRows), PipelineError> {
    let spill_error = |source| PipelineError::Unwritable { path: spill_dir.to_path_buf(), source };
    let mut parts = ingest::jsonl::JsonlParts::open(f);
    let runs = || (crate::spill::Runs::new(spill_dir, "dump-articles"), crate::spill::Runs::new(spill_dir, "dump-mentions"), crate::spill::Runs::new(spill_dir, "dump-errors"));
    let (mut articles, mut mentions, mut errors) = runs();
    // Whether reading failed (I/O error): the file is read again next time.
    let mut io_failed = false;
    loop {
        // As in `guarded`: a panic gives the file's internal error row, and no other row.
        let part = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            parts.next_part(DUMP_PART_BYTES as usize).map(|outcome| pool.install(|| extract_outcome(rules, outcome)))
        }));
        match part {
            Ok(Some(mut res)) => {
                sort_tables(&mut res.articles, &mut res.mentions, &mut res.errors);
                io_failed |= read_failed(&res.errors);
                articles.push(&res.articles).map_err(spill_error)?;
                mentions.push(&res.mentions).map_err(spill_error)?;
                errors.push(&res.errors).map_err(spill_error)?;
            }
            Ok(None) => break,
            Err(_) => {
                (articles, mentions, errors) = runs();
                errors.push(&[ErrorRow::internal(&f.rel_path, &f.rel_path)]).map_err(spill_error)?;
                break;
            }
        }
    }
    let entry = entry_of_read(f, parts.hash(), io_failed, shared_id, run_start_ns);
    let rows = DumpRows { path: f.rel_path.clone(), articles: articles.merge().map_err(spill_error)?, mentions: mentions.merge().map_err(spill_error)?, errors: errors.merge().map_err(spill_error)? };
    Ok((entry, rows))
}

/// Sends a dump's rows to the tables, in table order. Its error rows first,
/// straight to the tables (merged with the corpus-walk error rows of its
/// path, all the error rows with that path): they sort before every
/// error row still held in `pending`, which all name later paths. Then its
/// articles through `pending`, in batches of [`DUMP_BATCH_ARTICLES`] (with
/// their mentions), each released with the bound of the dump's next article
/// id (or of the next file, `next_path`, when that comes first), before which
/// no row is still to come. `dropped` goes with the first batch.
fn send_dump(rows: DumpRows, next_path: Option<&str>, pending: &mut Pending, tables: &mut TablesThread, dropped: &mut Vec<String>, spill_dir: &Path) -> Result<(), PipelineError> {
    let spill_error = |source| PipelineError::Unwritable { path: spill_dir.to_path_buf(), source };
    let DumpRows { path, mut articles, mut mentions, mut errors } = rows;
    let (walk, later): (Vec<ErrorRow>, Vec<ErrorRow>) = std::mem::take(&mut pending.errors).into_iter().partition(|e| e.source_path == path);
    pending.errors = later;
    let mut walk = walk.into_iter().peekable();
    loop {
        let mut batch = Vec::new();
        while batch.len() < output::ROW_GROUP_ROWS {
            // On a tie the walk's row first, as a stable sort of the rows in arrival order gives.
            let walk_first = match (walk.peek(), errors.peek()) {
                (None, None) => break,
                (Some(w), Some(e)) => w <= e,
                (w, _) => w.is_some(),
            };
            let next = if walk_first { walk.next() } else { errors.next_row().map_err(spill_error)? };
            batch.extend(next);
        }
        if batch.is_empty() {
            break;
        }
        tables.send((Vec::new(), Vec::new(), batch), Some(path.clone()), std::mem::take(dropped));
    }
    loop {
        let mut taken = 0;
        // A batch ends between two article ids (rows that share one go together).
        while let Some(next) = articles.peek() {
            let same_id = pending.articles.last().is_some_and(|a| a.article_id == next.article_id);
            if taken >= DUMP_BATCH_ARTICLES && !same_id {
                break;
            }
            let Some(a) = articles.next_row().map_err(spill_error)? else { break };
            pending.articles.push(a);
            taken += 1;
        }
        let next_id = articles.peek().map(|a| a.article_id.clone());
        while let Some(m) = mentions.peek() {
            if next_id.as_ref().is_some_and(|k| m.article_id >= *k) {
                break;
            }
            let Some(m) = mentions.next_row().map_err(spill_error)? else { break };
            pending.mentions.push(m);
        }
        let bound = match (next_id, next_path) {
            (Some(k), Some(p)) => Some(if p < k.as_str() { p.to_string() } else { k }),
            (k, p) => k.or_else(|| p.map(str::to_string)),
        };
        let done = articles.peek().is_none();
        let batch = pending.release(bound.as_deref());
        tables.send(batch, bound, std::mem::take(dropped));
        if done {
            return Ok(());
        }
    }
}

impl Done {
    /// A file whose rows are carried over from the last tables.
    fn carried(entry: Entry) -> Done {
        Done { entry, result: None, dump: None, kind: Kind::Unchanged }
    }
}

/// The entry of `f` when its bytes hash as `known` says (its rows may be
/// carried over although its size or mtime alone do not prove it).
fn unchanged_by_hash(f: &SourceFile, known: &Entry, run_start_ns: i64) -> Option<Entry> {
    let hash = state::hash_file(&f.path()).ok()?;
    (known.reusable() && hash == known.hash).then(|| entry_after_read(f, hash, false, run_start_ns))
}

/// The part of a plan that needs no reading: `Break` with the file when
/// its rows are carried over, else `Continue` with its last entry (if
/// any), to read it.
fn try_carry(f: &SourceFile, plan: Plan, run_start_ns: i64) -> ControlFlow<Done, Option<Entry>> {
    match plan {
        Plan::Reuse(entry) => ControlFlow::Break(Done::carried(entry)),
        Plan::Check(known) => match unchanged_by_hash(f, &known, run_start_ns) {
            Some(entry) => ControlFlow::Break(Done::carried(entry)),
            None => ControlFlow::Continue(Some(known)),
        },
        Plan::Process(known) => ControlFlow::Continue(known),
    }
}

/// Whether a file read anew (now `entry`) was new, changed or unchanged since its `known` entry.
fn kind_of(known: Option<&Entry>, entry: &Entry) -> Kind {
    match known {
        None => Kind::New,
        Some(k) if !k.hash.is_empty() && k.hash == entry.hash => Kind::Unchanged,
        Some(_) => Kind::Changed,
    }
}

/// Carries out the plan for one file: carry its rows over, or read and extract it.
fn process_plan(rules: &Rules, f: &SourceFile, plan: Plan, run_start_ns: i64, shared_id: bool) -> Done {
    match try_carry(f, plan, run_start_ns) {
        ControlFlow::Break(done) => done,
        ControlFlow::Continue(known) => {
            let (entry, result) = process_for_state(rules, f, run_start_ns, shared_id);
            Done { kind: kind_of(known.as_ref(), &entry), entry, result: Some(result), dump: None }
        }
    }
}

/// [`process_plan`] for a dump ([`is_dump`]), read by [`process_dump`].
fn process_dump_plan(rules: &Rules, f: &SourceFile, plan: Plan, pool: &rayon::ThreadPool, run_start_ns: i64, shared_id: bool, spill_dir: &Path) -> Result<Done, PipelineError> {
    match try_carry(f, plan, run_start_ns) {
        ControlFlow::Break(done) => Ok(done),
        ControlFlow::Continue(known) => {
            let (entry, rows) = process_dump(rules, f, pool, run_start_ns, shared_id, spill_dir)?;
            Ok(Done { kind: kind_of(known.as_ref(), &entry), entry, result: None, dump: Some(rows) })
        }
    }
}

/// Runs the whole batch. In [`Mode::Incremental`] it carries over, from the
/// last tables in `<out>`, the rows of files whose size and mtime (or else
/// bytes) did not change (see `<out>/.anugerah-state/` and `output::carry`),
/// as long as rules and tool build are the same; the tables are always
/// those a full run would write.
pub fn run_with(opts: &RunOptions, mode: Mode) -> Result<RunSummary, PipelineError> {
    let started = Instant::now();
    let run_start_ns = now_ns();
    if !opts.corpus.is_dir() {
        return Err(PipelineError::MissingCorpus(opts.corpus.clone()));
    }
    // Rules compile in the background while the output folder, the state and
    // the corpus walk are looked at, as soon as it is clear they are needed
    // (at once with --full); the fingerprint needs only their text.
    let texts = Arc::new(RuleTexts::load(opts.rules_dir.as_deref())?);
    let rules_fingerprint = texts.fingerprint();
    let compile = move || {
        let texts = texts.clone();
        std::thread::spawn(move || Rules::compile(&texts))
    };
    let compiling_early = (mode == Mode::Full).then(&compile);
    prepare_output(&opts.out, opts.force)?;
    let _lock = state::lock(&opts.out)?;
    for t in output::TABLE_FILES {
        let _ = std::fs::remove_file(opts.out.join(format!(".{t}.tmp")));
        let _ = std::fs::remove_file(opts.out.join(format!(".{t}.old")));
    }
    let pool = Arc::new(
        rayon::ThreadPoolBuilder::new()
            .num_threads(opts.threads.unwrap_or(0))
            .build()
            .map_err(|e| PipelineError::Threads(e.to_string()))?,
    );

    // The last completed run, and whether its rows may be carried over, are
    // looked at while the corpus is walked.
    let looking = {
        let out = opts.out.clone();
        let compile = compile.clone();
        let compiling_early = compiling_early.is_some();
        std::thread::spawn(move || {
            let known = state::load_manifest(&out);
            state::cleanup(&out);
            let exe = state::exe_stamp(known.as_ref().map(|m| &m.exe));
            let fingerprint = state::fingerprint(&rules_fingerprint, &exe);
            let full_reason = match (&known, mode) {
                (_, Mode::Full) => Some("--full"),
                (None, _) => Some("no previous state"),
                (Some(m), _) if m.fingerprint != fingerprint => Some("rules or tool changed"),
                _ => None,
            };
            // Nothing of the last run can be reused: the rules will be needed.
            let compiling = (full_reason.is_some() && !compiling_early).then(compile);
            // Rows may be carried over: the last tables start loading while
            // the corpus is walked (left unused when nothing changed).
            let loading = match (&known, full_reason) {
                (Some(m), None) => {
                    let (tables, carried) = (m.tables.clone(), m.carried.clone());
                    Some(std::thread::spawn(move || load_carry(&out, &tables, &carried)))
                }
                _ => None,
            };
            (known, exe, fingerprint, full_reason, compiling, loading)
        })
    };
    let mut discovery = pool.install(|| ingest::discover(&opts.corpus));
    let (known, exe, fingerprint, mut full_reason, compiling, loading) = looking.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
    let compiling = compiling_early.or(compiling);
    tracing::debug!("manifest loaded and corpus walked at {:.3}s", started.elapsed().as_secs_f64());
    if let Some(shard) = opts.shard {
        shard.filter(&mut discovery);
    }
    let files = &discovery.files;
    let empty = state::Manifest::default();
    let known_m = known.as_ref().unwrap_or(&empty);
    let by_path: HashMap<&str, usize> = known_m.entries.iter().enumerate().map(|(i, e)| (e.path.as_str(), i)).collect();
    // Files sharing their relative path (and so their ids) with another file
    // (non-UTF-8 names made equal by the lossy conversion); `files` is sorted
    // by relative path, so such files are neighbours.
    let shared_id = |i: usize| -> bool {
        let same = |j: Option<usize>| j.and_then(|j| files.get(j)).is_some_and(|g| g.rel_path == files[i].rel_path);
        same(i.checked_sub(1)) || same(i.checked_add(1))
    };
    let mut seen = vec![false; known_m.entries.len()];
    for f in files {
        if let Some(&i) = by_path.get(f.rel_path.as_str()) {
            seen[i] = true;
        }
    }
    let deleted = seen.iter().filter(|s| !**s).count();
    // The last run's entry of file `i`, and whether size and mtime prove it unchanged.
    let known_index = |i: usize| by_path.get(files[i].rel_path.as_str()).copied();
    let known_entry = |i: usize| known_index(i).and_then(|k| known_m.entries.get(k));
    let trusted = |i: usize| known_entry(i).is_some_and(|e| e.trusted_by_stat(files[i].size, files[i].mtime_ns as i64));

    // Nothing changed and the tables are those the state describes: done.
    // Files whose size or mtime alone do not prove them unchanged (modified
    // just before the last run, or touched since) are hashed first; when
    // their bytes are those of the last run too, only the manifest is
    // written again (with what was learnt of them), not the tables.
    if full_reason.is_none()
        && deleted == 0
        && known_m.walk_errors == discovery.errors
        && (0..files.len()).all(|i| !shared_id(i) && known_entry(i).is_some_and(Entry::reusable))
        && state::table_stamps(&opts.out, output::TABLE_FILES).as_ref() == Some(&known_m.tables)
    {
        let unsure: Vec<usize> = (0..files.len()).filter(|&i| !trusted(i)).collect();
        let rechecked: Option<Vec<(usize, Entry)>> = pool.install(|| {
            unsure.par_iter().map(|&i| Some((known_index(i)?, unchanged_by_hash(&files[i], known_entry(i)?, run_start_ns)?))).collect()
        });
        if let Some(rechecked) = rechecked {
            if !rechecked.is_empty() {
                let mut manifest = known_m.clone();
                for (k, entry) in rechecked {
                    if let Some(slot) = manifest.entries.get_mut(k) {
                        *slot = entry;
                    }
                }
                state::write_manifest(&opts.out, manifest)?;
            }
            let t = known_m.totals;
            return Ok(RunSummary {
                articles: t.articles,
                mentions: t.mentions,
                errors: t.errors,
                skipped: discovery.skipped,
                unchanged: files.len(),
                elapsed: started.elapsed(),
                ..Default::default()
            });
        }
    }

    tracing::debug!("discovered at {:.3}s", started.elapsed().as_secs_f64());
    // Something changed: the rules start compiling (if not yet), and the
    // tables of the last run, whose rows of unchanged files are carried over,
    // are waited for. Tables that are not those the manifest describes (a run
    // killed between writing them and the manifest, or an edit) are not
    // used: every file is read again.
    let compiling = compiling.unwrap_or_else(&compile);
    let carry = match loading.map(|l| l.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))) {
        Some(Ok(c)) if full_reason.is_none() => Some(c),
        Some(Err(e)) if full_reason.is_none() => {
            tracing::warn!("not reusing the last run: {e}");
            full_reason = Some("tables of the last run changed or unreadable");
            None
        }
        _ => None,
    };
    tracing::debug!("last tables loaded at {:.3}s", started.elapsed().as_secs_f64());
    // The rules are waited for once a file needs them: the rows carried over
    // from files before it go to the tables meanwhile.
    let mut compiling = Some(compiling);
    let mut rules: Option<Rules> = None;
    let reuse = carry.is_some();
    // What to do with file `i`.
    let plan_for = |i: usize| -> Plan {
        match known_entry(i).cloned() {
            Some(e) if reuse && !shared_id(i) => {
                if trusted(i) {
                    Plan::Reuse(e)
                } else {
                    Plan::Check(e)
                }
            }
            e => Plan::Process(e),
        }
    };

    let bar = if opts.progress && std::io::stderr().is_terminal() {
        let b = ProgressBar::new(files.len() as u64);
        if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} files {elapsed_precise} eta {eta}") {
            b.set_style(style);
        }
        b
    } else {
        ProgressBar::hidden()
    };
    // Files are processed in chunks, in path order: each chunk in parallel,
    // then its rows go to the tables (written by a background thread, merged
    // with the rows carried over), so no chunk's rows are held longer than needed.
    let generation = known.as_ref().map_or(0, |m| m.generation) + 1;
    let mut tables = TablesThread::start(&opts.out, carry)?;
    // Files whose carried rows are dropped: deleted ones now, read ones as they are.
    let mut dropped: Vec<String> = known_m.entries.iter().zip(&seen).filter(|(_, s)| !**s).map(|(e, _)| e.path.clone()).collect();
    let (mut new, mut changed, mut unchanged) = (0usize, 0usize, 0usize);
    // Rows wait here until no later file can sort before them (see `Pending`).
    let mut pending = Pending { errors: discovery.errors.clone(), ..Default::default() };
    let mut entries = state::EntryLines::create(&opts.out)?;
    let spill_dir = state::state_dir(&opts.out);
    let mut first = 0;
    while first < files.len() {
        let mut last = first + 1;
        let mut bytes = files[first].size;
        while last < files.len() && last - first < CHUNK_FILES && bytes.saturating_add(files[last].size) <= CHUNK_BYTES {
            bytes += files[last].size;
            last += 1;
        }
        let mut chunk_plans: Vec<(usize, Plan)> = (first..last).map(|i| (i, plan_for(i))).collect();
        let carried_only = chunk_plans.iter().all(|(_, p)| matches!(p, Plan::Reuse(_)));
        if rules.is_none() && !carried_only {
            if let Some(c) = compiling.take() {
                rules = Some(c.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))?);
                tracing::debug!("rules compiled at {:.3}s", started.elapsed().as_secs_f64());
            }
        }
        // A dump is a chunk of its own (it is over `CHUNK_BYTES`), read a part at a time.
        let dump_chunk = last == first + 1 && is_dump(&files[first]);
        let done: Vec<Done> = match rules.as_ref().filter(|_| !carried_only) {
            Some(rules) if dump_chunk => match chunk_plans.pop() {
                Some((i, plan)) => {
                    let d = process_dump_plan(rules, &files[i], plan, &pool, run_start_ns, shared_id(i), &spill_dir)?;
                    bar.inc(1);
                    vec![d]
                }
                None => Vec::new(),
            },
            Some(rules) => pool.install(|| {
                chunk_plans
                    .into_par_iter()
                    .with_max_len(1)
                    .map(|(i, plan)| {
                        let d = process_plan(rules, &files[i], plan, run_start_ns, shared_id(i));
                        bar.inc(1);
                        d
                    })
                    .collect()
            }),
            // Only carried files: nothing to hand to the pool.
            None => chunk_plans
                .into_iter()
                .filter_map(|(_, plan)| match plan {
                    Plan::Reuse(entry) => {
                        bar.inc(1);
                        Some(Done::carried(entry))
                    }
                    _ => None,
                })
                .collect(),
        };
        for d in done {
            match d.kind {
                Kind::New => new += 1,
                Kind::Changed => changed += 1,
                Kind::Unchanged => unchanged += 1,
            }
            let fresh = d.result.is_some() || d.dump.is_some();
            if let Some(result) = d.result {
                pending.articles.extend(result.articles);
                pending.mentions.extend(result.mentions);
                pending.errors.extend(result.errors);
            }
            entries.push(&d.entry)?;
            if fresh {
                dropped.push(d.entry.path);
            }
            if let Some(rows) = d.dump {
                send_dump(rows, files.get(last).map(|f| f.rel_path.as_str()), &mut pending, &mut tables, &mut dropped, &spill_dir)?;
            }
        }
        let bound = files.get(last).map(|f| f.rel_path.clone());
        let batch = pending.release(bound.as_deref());
        tables.send(batch, bound, std::mem::take(&mut dropped));
        first = last;
    }
    if files.is_empty() {
        tables.send(pending.release(None), None, std::mem::take(&mut dropped));
    }
    bar.finish_and_clear();
    tracing::debug!("files processed at {:.3}s", started.elapsed().as_secs_f64());

    let finished = match tables.finish() {
        // A fresh row with the key of a carried one (ids made equal by
        // unusual file names): its place is known only to a full run; so
        // are the rows of last tables found out of order while merged.
        Err(e @ (OutputError::SharedKey(_) | OutputError::Carry(_))) if reuse => {
            tracing::warn!("reading every file again: {e}");
            drop((entries, _lock));
            let mut again = run_with(opts, Mode::Full)?;
            again.full_reason = Some(match e {
                OutputError::SharedKey(_) => "a new article has the id of an unchanged one",
                _ => "tables of the last run could not be merged",
            }
            .into());
            return Ok(again);
        }
        finished => finished?,
    };
    let counts = finished.counts;
    // The renames of the tables are made durable, and the tables they
    // replaced removed, while the manifest is written.
    let out_synced = {
        let out = opts.out.clone();
        std::thread::spawn(move || {
            state::sync_dir(&out);
            finished.remove_replaced();
        })
    };
    tracing::debug!("tables written at {:.3}s", started.elapsed().as_secs_f64());

    let totals = Totals { articles: counts.articles, mentions: counts.mentions, errors: counts.errors };
    let manifest = state::Manifest {
        fingerprint,
        generation,
        exe,
        tables: state::table_stamps(&opts.out, output::TABLE_FILES).unwrap_or_default(),
        carried: state::content_stamps(&opts.out, state::CARRIED_TABLES).unwrap_or_default(),
        walk_errors: discovery.errors,
        totals,
        ..Default::default()
    };
    entries.write_manifest(&opts.out, manifest)?;
    let _ = out_synced.join();
    tracing::debug!("state written at {:.3}s", started.elapsed().as_secs_f64());
    let summary = RunSummary {
        articles: totals.articles,
        mentions: totals.mentions,
        errors: totals.errors,
        skipped: discovery.skipped,
        new,
        changed,
        unchanged,
        deleted,
        full_reason: full_reason.map(str::to_string),
        elapsed: started.elapsed(),
    };
    // The run's large structures (the file list, the last manifest, the
    // compiled rules, the pool) are freed on a thread of their own: the
    // summary returns at once, and a command that exits does not wait.
    drop(by_path);
    let files = discovery.files;
    std::thread::spawn(move || drop((files, known, rules, pool)));
    Ok(summary)
}

/// The rows of the last run's tables in `out`, to carry over: the tables as
/// the last run left them (the same files, untouched: `tables`) need no
/// further check, and their CSV lines are copied; otherwise (a copied
/// folder) the Parquet files must hash as written (`carried`) and the CSV
/// lines are written anew.
fn load_carry(out: &Path, tables: &[state::Stamp], carried: &[state::Stamp]) -> Result<output::carry::Carry, OutputError> {
    let untouched = state::table_stamps(out, output::TABLE_FILES).as_deref() == Some(tables);
    let verify = |name: &str, bytes: &[u8]| untouched || state::content_matches(carried, name, bytes);
    output::carry::Carry::load(out, &verify, untouched)
}

/// Table rows not yet written: held until no file still to come can give a
/// row that sorts before them.
///
/// Files are processed in path order, and every row of a file has an
/// `article_id` (and errors a `source_path`) that starts with the file's
/// relative path, so a row that sorts before the first path of the next
/// chunk can be written: no later row sorts before it. Only the rows of a
/// JSON Lines file `P` whose ids `P#...` sort after a later path (`P` then a
/// byte below `#`, such as `P .txt`) and the walk errors wait longer.
/// Writing the released rows one batch after another therefore gives the
/// rows in the order [`sort_tables`] gives them, ties included (a stable
/// sort of rows kept in arrival order).
#[derive(Default)]
struct Pending {
    articles: Vec<ArticleRow>,
    mentions: Vec<Mention>,
    errors: Vec<ErrorRow>,
}

/// Rows released together, in table order.
type Batch = (Vec<ArticleRow>, Vec<Mention>, Vec<ErrorRow>);

/// A batch for the tables thread: the rows, the bound they were released
/// with, and the files whose carried rows are dropped from now on.
type TablesMsg = (Batch, Option<String>, Vec<String>);

impl Pending {
    /// Sorts the held rows and takes those that sort before `bound` (all of
    /// them when `None`).
    fn release(&mut self, bound: Option<&str>) -> Batch {
        sort_tables(&mut self.articles, &mut self.mentions, &mut self.errors);
        fn take<T>(v: &mut Vec<T>, keep_from: usize) -> Vec<T> {
            let rest = v.split_off(keep_from);
            std::mem::replace(v, rest)
        }
        let a = bound.map_or(self.articles.len(), |b| self.articles.partition_point(|r| r.article_id.as_str() < b));
        let m = bound.map_or(self.mentions.len(), |b| self.mentions.partition_point(|r| r.article_id.as_str() < b));
        let e = bound.map_or(self.errors.len(), |b| self.errors.partition_point(|r| r.source_path.as_str() < b));
        (take(&mut self.articles, a), take(&mut self.mentions, m), take(&mut self.errors, e))
    }
}

/// The tables, written by a background thread from batches of rows in
/// table order while the next chunk of files is processed.
struct TablesThread {
    /// `None` ends the tables; a channel closed without it (an early return
    /// or a panic) leaves them unfinished, never renamed into place. The
    /// flag tells a batch that holds rows.
    tx: Option<std::sync::mpsc::Sender<Option<(TablesMsg, bool)>>>,
    in_flight: Arc<InFlight>,
    handle: Option<std::thread::JoinHandle<Result<output::Finished, OutputError>>>,
}

/// Batches holding rows that are queued or being written at most: memory
/// stays that of a few chunks. Batches without rows (files whose rows are
/// carried over) are not counted, so the files after them (new ones to
/// extract) are reached while the carried rows are still being written.
const BATCHES_IN_FLIGHT: usize = 2;

/// Count of queued batches holding rows, and whether the writer has stopped.
#[derive(Default)]
struct InFlight {
    state: std::sync::Mutex<(usize, bool)>,
    changed: std::sync::Condvar,
}

impl InFlight {
    fn update(&self, f: impl FnOnce(&mut (usize, bool))) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut s);
        self.changed.notify_all();
    }

    /// Waits for room for one more batch with rows and counts it.
    fn enter(&self) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        while s.0 >= BATCHES_IN_FLIGHT && !s.1 {
            s = self.changed.wait(s).unwrap_or_else(|e| e.into_inner());
        }
        s.0 += 1;
    }
}

/// Marks the writer stopped when its thread ends, however it ends.
struct Stopped(Arc<InFlight>);

impl Drop for Stopped {
    fn drop(&mut self) {
        self.0.update(|s| s.1 = true);
    }
}

impl TablesThread {
    fn start(out: &Path, carry: Option<output::carry::Carry>) -> Result<TablesThread, PipelineError> {
        let mut writer = match carry {
            Some(c) => output::TablesWriter::with_carry(out, c)?,
            None => output::TablesWriter::create(out)?,
        };
        let (tx, rx) = std::sync::mpsc::channel::<Option<(TablesMsg, bool)>>();
        let in_flight = Arc::new(InFlight::default());
        let stopped = Stopped(in_flight.clone());
        let handle = std::thread::Builder::new()
            .name("anugerah-tables".into())
            .spawn(move || {
                let stopped = stopped;
                for msg in rx {
                    let Some((((articles, mentions, errors), bound, gone), rows)) = msg else { return writer.finish() };
                    writer.push_batch(articles, mentions, errors, bound.as_deref(), gone)?;
                    if rows {
                        stopped.0.update(|s| s.0 = s.0.saturating_sub(1));
                    }
                }
                Err(OutputError::Io {
                    path: PathBuf::new(),
                    source: std::io::Error::other("tables abandoned before the end of the run"),
                })
            })
            .map_err(|e| PipelineError::Unwritable { path: out.to_path_buf(), source: e })?;
        Ok(TablesThread { tx: Some(tx), in_flight, handle: Some(handle) })
    }

    /// Queues rows released with `bound`, and the files whose carried rows
    /// are dropped from now on (waits while [`BATCHES_IN_FLIGHT`] batches
    /// with rows are queued).
    fn send(&mut self, batch: Batch, bound: Option<String>, dropped: Vec<String>) {
        if let Some(tx) = &self.tx {
            let rows = !(batch.0.is_empty() && batch.1.is_empty() && batch.2.is_empty());
            if rows {
                self.in_flight.enter();
            }
            // A closed channel means the writer failed: finish() reports it.
            if tx.send(Some(((batch, bound, dropped), rows))).is_err() {
                self.tx = None;
            }
        }
    }

    /// Waits for the writer; the files are complete and renamed into place.
    fn finish(mut self) -> Result<output::Finished, OutputError> {
        if let Some(tx) = self.tx.take() {
            let _ = tx.send(None);
        }
        match self.handle.take() {
            Some(h) => h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)),
            None => Ok(Default::default()),
        }
    }
}

impl Drop for TablesThread {
    fn drop(&mut self) {
        self.tx = None;
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// Sorts rows into their deterministic order: by article id, then offset.
pub fn sort_tables(articles: &mut [ArticleRow], mentions: &mut [Mention], errors: &mut [ErrorRow]) {
    articles.sort_by(TableOrder::table_cmp);
    mentions.sort_by(TableOrder::table_cmp);
    errors.sort();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Format;

    fn article(id: &str) -> ArticleRow {
        ArticleRow {
            article_id: id.into(),
            source_path: id.split('#').next().unwrap_or(id).into(),
            format: Format::Txt,
            url: None,
            title: None,
            published: None,
            chars: 0,
            content_hash: String::new(),
            mentions: 0,
            status: Status::Ok,
        }
    }

    /// Rows released chunk by chunk, with the next chunk's first path as the
    /// bound, come out exactly as one global sort orders them, even when the
    /// ids of a JSON Lines file sort after the next file (`x.jsonl .txt`
    /// sorts between `x.jsonl` and `x.jsonl#1`) and for shared ids.
    #[test]
    fn pending_release_gives_the_global_sort_order() {
        // (file, ids of its rows in file order)
        let files: Vec<(&str, Vec<&str>)> = vec![
            ("a.txt", vec!["a.txt"]),
            ("x.jsonl", vec!["x.jsonl#9", "x.jsonl#10", "x.jsonl#1"]),
            ("x.jsonl .txt", vec!["x.jsonl .txt"]),
            ("x.jsonl!.txt", vec!["x.jsonl!.txt"]),
            ("x.jsonl$.txt", vec!["x.jsonl$.txt"]),
            ("y.txt", vec!["y.txt"]),
            ("y.txt", vec!["y.txt"]),
            ("z.jsonl", vec!["z.jsonl#b", "z.jsonl#a"]),
        ];
        let all: Vec<ArticleRow> = files.iter().flat_map(|(_, ids)| ids.iter().map(|i| article(i))).collect();
        let mut expected = all.clone();
        sort_tables(&mut expected, &mut [], &mut []);
        for chunk in 1..=files.len() {
            let mut pending = Pending::default();
            let mut got = Vec::new();
            let mut first = 0;
            while first < files.len() {
                let last = files.len().min(first + chunk);
                for (_, ids) in &files[first..last] {
                    pending.articles.extend(ids.iter().map(|i| article(i)));
                }
                let bound = files.get(last).map(|f| f.0);
                got.extend(pending.release(bound).0);
                first = last;
            }
            let ids = |v: &[ArticleRow]| v.iter().map(|a| a.article_id.clone()).collect::<Vec<_>>();
            assert_eq!(ids(&got), ids(&expected), "chunks of {chunk} files");
        }
    }
}
