//! JSON Lines dumps larger than a part (`pipeline::DUMP_PART_BYTES`) are read
//! a part at a time, their rows spilled to sorted runs and merged back: the
//! tables must be exactly those the rows of each whole file give in table
//! order, for full and incremental runs, with ids in any order, shared ids,
//! bad lines, and a neighbour file whose path sorts before the dump's ids.

use anugerah::ingest::SourceFile;
use anugerah::model::{ErrorRow, Format};
use anugerah::output::read::{read_articles, read_errors, read_mentions};
use anugerah::pipeline::{self, Mode, RunOptions, DUMP_PART_BYTES};
use anugerah::rules::Rules;
use std::fs;
use std::path::{Path, PathBuf};

/// Texts of the project's own corpus (txt files: title line, then body).
fn texts() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("corpus")];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "txt") {
                let t = fs::read_to_string(&p).unwrap();
                let (title, body) = t.split_once('\n').unwrap_or(("", &t));
                out.push((title.to_string(), body.to_string()));
            }
        }
    }
    out.sort();
    assert!(out.len() >= 5, "the bundled corpus has txt articles");
    out
}

/// A dump of at least `bytes` bytes: ids in a scrambled order, every 40th
/// record sharing the id `dup`, every 97th line malformed, every 101st
/// record without text, and records numbered from `from`.
fn dump(bytes: u64, from: usize) -> String {
    let texts = texts();
    let mut s = String::new();
    let mut n = from;
    while (s.len() as u64) < bytes {
        let (title, body) = &texts[n % texts.len()];
        let id = if n % 40 == 0 { "dup".to_string() } else { format!("r{}", (n * 7919) % 1_000_003) };
        let line = if n % 97 == 0 {
            "{\"id\": \"broken\", \"text\": ".to_string()
        } else if n % 101 == 0 {
            serde_json::json!({ "id": id, "title": title }).to_string()
        } else {
            serde_json::json!({ "id": id, "title": title, "text": format!("{body}\nNomor {n}."), "published": "2024-10-25" }).to_string()
        };
        s.push_str(&line);
        s.push('\n');
        n += 1;
    }
    s
}

fn write(root: &Path, rel: &str, content: impl AsRef<[u8]>) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, content).unwrap();
}

fn run(corpus: &Path, out: &Path, mode: Mode) -> pipeline::RunSummary {
    let opts = RunOptions { corpus: corpus.into(), out: out.into(), rules_dir: None, threads: Some(2), progress: false, force: false, shard: None };
    pipeline::run_with(&opts, mode).expect("run")
}

/// The rows of `files` (relative id, path, format) as whole files give
/// them, after the corpus-walk error rows `walk`, in table order.
fn expected(files: &[(String, PathBuf, Format)], walk: Vec<ErrorRow>) -> (Vec<anugerah::model::ArticleRow>, Vec<anugerah::model::Mention>, Vec<ErrorRow>) {
    let rules = Rules::embedded();
    let (mut a, mut m, mut e) = (Vec::new(), Vec::new(), walk);
    for (rel, path, format) in files {
        let r = pipeline::process_file(&rules, &SourceFile::new(rel.clone(), path.clone(), *format));
        a.extend(r.articles);
        m.extend(r.mentions);
        e.extend(r.errors);
    }
    pipeline::sort_tables(&mut a, &mut m, &mut e);
    (a, m, e)
}

fn tables(dir: &Path) -> Vec<Vec<u8>> {
    ["mentions.parquet", "mentions.csv", "articles.parquet", "articles.csv", "errors.parquet", "errors.csv"]
        .iter()
        .map(|t| fs::read(dir.join(t)).unwrap())
        .collect()
}

/// The dump's file name: on Unix not UTF-8, so that the corpus walk gives an
/// error row with the dump's path too (its id has a replacement character).
#[cfg(unix)]
fn dump_name() -> (PathBuf, String, Vec<ErrorRow>) {
    use std::os::unix::ffi::OsStrExt;
    let rel = "big\u{fffd}.jsonl".to_string();
    let walk = ErrorRow {
        source_path: rel.clone(),
        article_id: Some(rel.clone()),
        stage: "walk".into(),
        message: "file name is not valid UTF-8; read with replacement characters in its id".into(),
    };
    (PathBuf::from(std::ffi::OsStr::from_bytes(b"big\xff.jsonl")), rel, vec![walk])
}

#[cfg(not(unix))]
fn dump_name() -> (PathBuf, String, Vec<ErrorRow>) {
    (PathBuf::from("big.jsonl"), "big.jsonl".to_string(), Vec::new())
}

#[test]
fn a_dump_larger_than_a_part_gives_the_rows_of_the_whole_file_in_table_order() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("corpus");
    let (dump_file, dump_rel, walk) = dump_name();
    // More bad lines than a batch of error rows (8,192), in the middle.
    let first = dump(DUMP_PART_BYTES + 500_000, 0);
    let big = format!("{first}{}{}", "{\n".repeat(9000), dump(DUMP_PART_BYTES + 500_000, 50_000));
    fs::create_dir_all(&corpus).unwrap();
    fs::write(corpus.join(&dump_file), &big).unwrap();
    let (title, body) = &texts()[0];
    // "<dump> .txt" sorts after the dump's path but before its ids "<dump>#...".
    let neighbour = format!("{dump_rel} .txt");
    write(&corpus, &neighbour, format!("{title}\n{body}"));
    write(&corpus, "a.txt", format!("{title}\n{body}"));
    write(&corpus, "small.jsonl", dump(20_000, 5));
    let files = vec![
        ("a.txt".to_string(), corpus.join("a.txt"), Format::Txt),
        (dump_rel.clone(), corpus.join(&dump_file), Format::Jsonl),
        (neighbour.clone(), corpus.join(&neighbour), Format::Txt),
        ("small.jsonl".to_string(), corpus.join("small.jsonl"), Format::Jsonl),
    ];
    let out = dir.path().join("out");
    let summary = run(&corpus, &out, Mode::Full);
    let (articles, mentions, errors) = expected(&files, walk);
    assert!(mentions.len() > 1000 && errors.len() > 9000, "a test dump with mentions and bad lines");
    assert_eq!(summary.articles, articles.len());
    assert!(read_articles(&out).unwrap() == articles, "articles");
    assert!(read_mentions(&out).unwrap() == mentions, "mentions");
    assert!(read_errors(&out).unwrap() == errors, "errors");
    let left: Vec<_> = fs::read_dir(out.join(".anugerah-state")).unwrap().map(|e| e.unwrap().file_name()).filter(|n| n.to_string_lossy().ends_with(".tmp")).collect();
    assert!(left.is_empty(), "spill files left: {left:?}");

    // The dump grows and another file arrives: an incremental run gives
    // what a full run into a fresh folder gives, byte for byte.
    std::thread::sleep(std::time::Duration::from_millis(20));
    fs::write(corpus.join(&dump_file), format!("{big}{}", dump(300_000, 90_000))).unwrap();
    write(&corpus, "b.txt", format!("{title}\n{body}"));
    let again = run(&corpus, &out, Mode::Incremental);
    assert_eq!((again.new, again.changed), (1, 1), "{again:?}");
    let fresh = dir.path().join("fresh");
    run(&corpus, &fresh, Mode::Full);
    assert!(tables(&out) == tables(&fresh), "incremental tables differ from a full run");
}
