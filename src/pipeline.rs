//! The batch job: discover the corpus, read and extract in parallel, write the tables.

use crate::extract;
use crate::ingest::{self, FileOutcome, SourceFile};
use crate::model::{ArticleRow, ErrorRow, Mention, Status};
use crate::output::{self, OutputError};
use crate::rules::{RuleError, Rules};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use std::io::IsTerminal;
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
    /// Wall time.
    pub elapsed: Duration,
}

impl std::fmt::Display for RunSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} articles, {} mentions, {} errors, {} skipped in {:.2}s",
            self.articles,
            self.mentions,
            self.errors,
            self.skipped,
            self.elapsed.as_secs_f64()
        )
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
    /// The thread pool could not start.
    #[error("thread pool: {0}")]
    Threads(String),
}

pub use crate::state::FileResult;

/// Reads and extracts one file. Never panics on bad input: a panic inside
/// the readers or extractor becomes an error row.
pub fn process_file(rules: &Rules, file: &SourceFile) -> FileResult {
    let attempt = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let FileOutcome { articles, errors } = ingest::read_source(file);
        let mut res = FileResult { errors, ..Default::default() };
        for a in articles {
            let mentions = extract::extract(rules, &a);
            res.articles.push(ArticleRow {
                article_id: a.article_id.clone(),
                source_path: a.source_path.clone(),
                format: a.format,
                url: a.url.clone(),
                title: a.title.clone(),
                published: a.published.clone(),
                chars: a.text.chars().count() as i64,
                content_hash: blake3::hash(a.text.as_bytes()).to_hex().to_string(),
                mentions: mentions.len() as i32,
                status: if a.decode_note.is_some() { Status::Decoded } else { Status::Ok },
            });
            if let Some(note) = &a.decode_note {
                res.errors.push(ErrorRow {
                    source_path: a.source_path.clone(),
                    article_id: Some(a.article_id.clone()),
                    stage: "decode".into(),
                    message: note.clone(),
                });
            }
            res.mentions.extend(mentions);
        }
        res
    }));
    attempt.unwrap_or_else(|_| FileResult {
        errors: vec![ErrorRow {
            source_path: file.rel_path.clone(),
            article_id: Some(file.rel_path.clone()),
            stage: "extract".into(),
            message: "internal error while processing this file (please report it)".into(),
        }],
        ..Default::default()
    })
}

/// Checks that `out` may be written: created if missing, refused if it holds
/// files anugerah did not write (unless `force`).
pub fn prepare_output(out: &Path, force: bool) -> Result<(), PipelineError> {
    let unwritable = |source| PipelineError::Unwritable { path: out.to_path_buf(), source };
    if out.exists() && !out.is_dir() {
        return Err(unwritable(std::io::Error::new(std::io::ErrorKind::AlreadyExists, "not a folder")));
    }
    if out.is_dir() && !out.join(OUTPUT_MARKER).exists() && !force {
        let foreign = std::fs::read_dir(out).map_err(unwritable)?.next().is_some();
        if foreign {
            return Err(PipelineError::ForeignOutput(out.to_path_buf()));
        }
    }
    std::fs::create_dir_all(out).map_err(unwritable)?;
    std::fs::write(out.join(OUTPUT_MARKER), "This folder is written by anugerah.\n").map_err(unwritable)?;
    Ok(())
}

/// Runs the whole batch.
pub fn run(opts: &RunOptions) -> Result<RunSummary, PipelineError> {
    let started = Instant::now();
    if !opts.corpus.is_dir() {
        return Err(PipelineError::MissingCorpus(opts.corpus.clone()));
    }
    let rules = Rules::load(opts.rules_dir.as_deref())?;
    prepare_output(&opts.out, opts.force)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.threads.unwrap_or(0))
        .build()
        .map_err(|e| PipelineError::Threads(e.to_string()))?;

    let discovery = ingest::discover(&opts.corpus);
    let bar = if opts.progress && std::io::stderr().is_terminal() {
        let b = ProgressBar::new(discovery.files.len() as u64);
        if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} files {elapsed_precise} eta {eta}") {
            b.set_style(style);
        }
        b
    } else {
        ProgressBar::hidden()
    };
    let results: Vec<FileResult> = pool.install(|| {
        discovery
            .files
            .par_iter()
            .map(|f| {
                let r = process_file(&rules, f);
                bar.inc(1);
                r
            })
            .collect()
    });
    bar.finish_and_clear();

    let mut articles = Vec::new();
    let mut mentions = Vec::new();
    let mut errors = discovery.errors;
    for r in results {
        articles.extend(r.articles);
        mentions.extend(r.mentions);
        errors.extend(r.errors);
    }
    sort_tables(&mut articles, &mut mentions, &mut errors);
    output::write_tables(&opts.out, &mentions, &articles, &errors)?;
    Ok(RunSummary {
        articles: articles.len(),
        mentions: mentions.len(),
        errors: errors.len(),
        skipped: discovery.skipped,
        elapsed: started.elapsed(),
    })
}

/// Sorts rows into their deterministic order: by article id, then offset.
pub fn sort_tables(articles: &mut [ArticleRow], mentions: &mut [Mention], errors: &mut [ErrorRow]) {
    articles.sort_by(|a, b| a.article_id.cmp(&b.article_id));
    mentions.sort_by(|a, b| (&a.article_id, a.start, a.end, &a.mention_id).cmp(&(&b.article_id, b.start, b.end, &b.mention_id)));
    errors.sort();
}
