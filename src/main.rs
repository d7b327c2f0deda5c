//! Command-line interface of anugerah: a thin layer over the library.

use anugerah::{extract, ingest, pipeline, rules};
use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "anugerah", version, about = "Turns Indonesian award news into tables")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the batch: read the corpus, extract mentions, write the tables.
    Run {
        /// Corpus folder.
        #[arg(long, default_value = "corpus")]
        corpus: PathBuf,
        /// Output folder.
        #[arg(long, default_value = "output")]
        out: PathBuf,
        /// Folder of rule files that override the embedded ones.
        #[arg(long)]
        rules: Option<PathBuf>,
        /// Worker threads (default: all cores).
        #[arg(long)]
        threads: Option<usize>,
        /// Exit non-zero when any article failed.
        #[arg(long)]
        strict: bool,
        /// Write into an output folder that holds other files.
        #[arg(long)]
        force: bool,
        /// Re-read and re-extract every file instead of reusing the results
        /// of files unchanged since the last run into the same --out.
        #[arg(long)]
        full: bool,
        /// Process only the K-th of N parts of the corpus (by file; see `merge`).
        #[arg(long, value_name = "K/N")]
        shard: Option<anugerah::shard::Shard>,
    },
    /// Stream JSON Lines articles in, one JSON line per mention out (errors as JSON lines on stderr).
    Extract {
        /// JSON Lines input file, or `-` for standard input.
        #[arg(long, value_name = "FILE")]
        jsonl: PathBuf,
        /// Source name in article ids (`NAME#<id>`); default `stdin`, or the file name.
        #[arg(long, value_name = "NAME")]
        source: Option<String>,
        /// Folder of rule files that override the embedded ones.
        #[arg(long)]
        rules: Option<PathBuf>,
        /// Worker threads (default: all cores).
        #[arg(long)]
        threads: Option<usize>,
    },
    /// Combine the output folders of `run --shard K/N` into the tables of a full run.
    Merge {
        /// Output folder for the merged tables.
        out: PathBuf,
        /// Part output folders.
        #[arg(required = true)]
        parts: Vec<PathBuf>,
        /// Write into an output folder that holds other files.
        #[arg(long)]
        force: bool,
    },
    /// Explain the extraction of one file: every field with its rule, every rejected sentence.
    Explain {
        /// Article file (txt, html or jsonl).
        file: PathBuf,
        /// Record id inside a JSON Lines file.
        #[arg(long)]
        id: Option<String>,
        /// Folder of rule files that override the embedded ones.
        #[arg(long)]
        rules: Option<PathBuf>,
    },
    /// Write <out>/report.html: a self-contained page over the tables of a run.
    Report {
        /// Output folder of a run (holds mentions.parquet and articles.parquet).
        #[arg(long, default_value = "output")]
        out: PathBuf,
    },
    /// Work with rule files.
    Rules {
        #[command(subcommand)]
        action: RulesAction,
    },
}

#[derive(Subcommand)]
enum RulesAction {
    /// Validate a rule folder and run its example sentences.
    Check {
        /// Folder of rule files (default: the embedded rules).
        #[arg(long)]
        rules: Option<PathBuf>,
    },
}

/// jemalloc as the allocator (not on MSVC, where it does not build).
/// Measured against glibc's malloc (tuned with `mallopt`: a 4 MiB mmap
/// threshold, the heap trimmed past 64 MiB), alternating runs of the same
/// code: the 20,000-article full run 1.33-1.35 s -> 1.18-1.22 s (cpu
/// -11%), 240,000 articles 16.6 s -> 12.5 s, the 1% re-run of 50,000
/// articles 0.28-0.29 s -> 0.26-0.27 s, for the same peak RSS (141 vs 143 MB
/// at 60,000 articles, 179 vs 177 MB at 240,000). mimalloc, tried before,
/// was quicker too but held 310 MB at 60,000 articles.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    tracing_subscriber::fmt().with_writer(std::io::stderr).with_env_filter(
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
    ).init();
    match real_main() {
        Ok(code) => code,
        Err(e) if e.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("anugerah: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn real_main() -> Result<ExitCode> {
    let cli = Cli::parse();
    match cli.command {
        Command::Run { corpus, out, rules, threads, strict, force, full, shard } => {
            let opts = pipeline::RunOptions { corpus, out, rules_dir: rules, threads, progress: true, force, shard };
            let mode = if full { pipeline::Mode::Full } else { pipeline::Mode::Incremental };
            let summary = pipeline::run_with(&opts, mode)?;
            anugerah::shard::mark_output(&opts.out, shard)?;
            println!("{summary}");
            if strict && summary.errors > 0 {
                return Ok(ExitCode::from(1));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Extract { jsonl, source, rules, threads } => {
            let opts = anugerah::stream::StreamOptions { input: jsonl, source, rules_dir: rules, threads };
            let summary = anugerah::stream::run(&opts)?;
            Ok(if summary.input_failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
        }
        Command::Merge { out, parts, force } => {
            println!("{}", anugerah::shard::merge(&out, &parts, force)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Explain { file, id, rules } => {
            let rules = rules::Rules::load(rules.as_deref())?;
            explain(&rules, file, id)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Report { out } => {
            let path = anugerah::report::write_report(&out)?;
            println!("wrote {}", path.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Rules { action: RulesAction::Check { rules } } => {
            let texts = rules::RuleTexts::load(rules.as_deref())?;
            let compiled = rules::Rules::compile(&texts).context("rules do not compile")?;
            let (n, failures) = rules::examples::run_examples(&texts, &compiled)?;
            for f in &failures {
                println!("FAIL {}: {}\n     {}", f.file, f.text, f.message);
            }
            println!("{} rule files ({} overridden), {} examples, {} failed", texts.files.len(), texts.overridden.len(), n, failures.len());
            Ok(if failures.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
    }
}

fn explain(rules: &rules::Rules, file: PathBuf, id: Option<String>) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let Some(format) = ingest::format_for(&file) else { bail!("{}: not a .txt, .html or .jsonl file", file.display()) };
    let parent = file.parent().map(PathBuf::from).unwrap_or_default();
    let meta = std::fs::metadata(&file).with_context(|| format!("cannot read {}", file.display()))?;
    let mut source = ingest::SourceFile::new(ingest::relative_id(&parent, &file), file.clone(), format);
    source.size = meta.len();
    let outcome = ingest::read_source(&source);
    for e in &outcome.errors {
        writeln!(out, "error: {} ({})", e.message, e.article_id.as_deref().unwrap_or(""))?;
    }
    for a in outcome.articles.iter().filter(|a| id.as_ref().is_none_or(|i| a.article_id.ends_with(&format!("#{i}")))) {
        writeln!(out, "== {}  title: {}", a.article_id, a.title.as_deref().unwrap_or("-"))?;
        let ex = extract::extract_traced(rules, a);
        for m in &ex.mentions {
            writeln!(out, 
                "MENTION {} | {} | ed {:?} | {} | {:?} | rank {:?} | date {:?} | rule {}",
                m.recipient, m.program, m.edition, m.recipient_level.as_str(), m.category_key.as_ref().or(m.category.as_ref()), m.rank, m.award_date, m.rule
            )?;
        }
        for t in &ex.trace {
            let sent = a.text.get(t.start..t.end).unwrap_or("");
            writeln!(out, "-- [{}..{}] {}: {}", t.start, t.end, t.outcome, sent.chars().take(160).collect::<String>())?;
            for (field, rule, text) in &t.fields {
                writeln!(out, "     {field:<11} {rule:<30} {text}")?;
            }
        }
    }
    Ok(())
}
