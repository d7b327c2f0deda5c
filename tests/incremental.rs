//! Incremental runs (issue 4): after any sequence of runs into the same
//! `--out`, the tables are byte for byte those of a full run into a fresh
//! folder; killed runs, concurrent runs and rule changes included.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const TABLES: &[&str] =
    &["mentions.parquet", "mentions.csv", "articles.parquet", "articles.csv", "errors.parquet", "errors.csv"];

fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_anugerah"))
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn write(root: &Path, rel: &str, content: impl AsRef<[u8]>) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, content).unwrap();
}

/// Copies a folder tree.
fn copy_tree(from: &Path, to: &Path) {
    for e in walk(from) {
        let rel = e.strip_prefix(from).unwrap();
        let dest = to.join(rel);
        fs::create_dir_all(dest.parent().unwrap()).unwrap();
        fs::copy(&e, &dest).unwrap();
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Bodies of the bundled txt articles (without their title line).
fn bundled_bodies() -> Vec<String> {
    walk(&repo().join("corpus"))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .map(|p| {
            let t = fs::read_to_string(p).unwrap();
            t.split_once('\n').map(|(_, b)| b.to_string()).unwrap_or(t)
        })
        .collect()
}

/// The bundled corpus (txt, html, jsonl) plus `n` generated txt articles in `gen/`.
fn make_corpus(root: &Path, n: usize) {
    copy_tree(&repo().join("corpus"), root);
    let bodies = bundled_bodies();
    for i in 0..n {
        write(root, &format!("gen/{:03}/{i:05}.txt", i / 500), article(&bodies, i, ""));
    }
}

fn article(bodies: &[String], i: usize, extra: &str) -> String {
    format!("Berita daerah nomor {i}\n\nArsip redaksi {i}. {extra}\n{}", bodies[i % bodies.len()])
}

fn run(corpus: &Path, out: &Path, args: &[&str]) -> Output {
    Command::new(bin()).arg("run").arg("--corpus").arg(corpus).arg("--out").arg(out).args(args).output().unwrap()
}

/// Runs and expects success; returns the summary line.
fn run_ok(corpus: &Path, out: &Path, args: &[&str]) -> String {
    let o = run(corpus, out, args);
    let stdout = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(o.status.success(), "run failed: {}\n{}", stdout, String::from_utf8_lossy(&o.stderr));
    stdout
}

/// A full run into a fresh folder next to `out`.
fn full_reference(corpus: &Path, scratch: &Path, args: &[&str]) -> PathBuf {
    let r = scratch.join(format!("ref-{}", fs::read_dir(scratch).unwrap().count()));
    run_ok(corpus, &r, args);
    r
}

fn tables(dir: &Path) -> Vec<Vec<u8>> {
    TABLES.iter().map(|t| fs::read(dir.join(t)).unwrap_or_else(|e| panic!("{t}: {e}"))).collect()
}

fn assert_same_tables(got: &Path, want: &Path) {
    for (t, (g, w)) in TABLES.iter().zip(tables(got).into_iter().zip(tables(want))) {
        assert!(g == w, "{t} differs between {} and {}", got.display(), want.display());
    }
}

/// Parses "files: N new, N changed, N unchanged, N deleted".
fn counts(summary: &str) -> [usize; 4] {
    let files = summary.split("files: ").nth(1).unwrap_or_else(|| panic!("no counts in {summary:?}"));
    let mut it = files.split(", ").map(|p| p.split_whitespace().next().unwrap().parse::<usize>().unwrap());
    [it.next().unwrap(), it.next().unwrap(), it.next().unwrap(), it.next().unwrap()]
}

/// Moves a file's mtime to the past so that it is not "racy" (modified just before a run).
fn age(path: &Path, secs: u64) {
    let f = fs::OpenOptions::new().write(true).open(path).unwrap();
    f.set_modified(std::time::SystemTime::now() - Duration::from_secs(secs)).unwrap();
}

fn age_tree(dir: &Path) {
    for p in walk(dir) {
        age(&p, 3600);
    }
}

struct Setup {
    _tmp: tempfile::TempDir,
    corpus: PathBuf,
    out: PathBuf,
    scratch: PathBuf,
}

fn setup(n: usize) -> Setup {
    let tmp = tempfile::tempdir().unwrap();
    let corpus = tmp.path().join("corpus");
    make_corpus(&corpus, n);
    age_tree(&corpus);
    let scratch = tmp.path().join("scratch");
    fs::create_dir_all(&scratch).unwrap();
    Setup { out: tmp.path().join("out"), corpus, scratch, _tmp: tmp }
}

#[test]
fn second_run_reuses_everything_and_writes_the_same_tables() {
    let s = setup(40);
    let first = run_ok(&s.corpus, &s.out, &[]);
    assert!(first.contains("all extracted: no previous state"), "{first}");
    let n_files = counts(&first)[0];
    let before = tables(&s.out);
    let second = run_ok(&s.corpus, &s.out, &[]);
    assert_eq!(counts(&second), [0, 0, n_files, 0], "{second}");
    assert!(!second.contains("all extracted"), "{second}");
    assert!(before == tables(&s.out));
    let r = full_reference(&s.corpus, &s.scratch, &[]);
    assert_same_tables(&s.out, &r);
}

#[test]
fn added_files_are_the_only_ones_extracted() {
    let s = setup(40);
    run_ok(&s.corpus, &s.out, &[]);
    let bodies = bundled_bodies();
    for i in 1000..1005 {
        write(&s.corpus, &format!("baru/{i}.txt"), article(&bodies, i, "Tambahan."));
    }
    write(&s.corpus, "baru/kiriman.jsonl", fs::read(repo().join("corpus/bkn/kiriman.jsonl")).unwrap());
    let sum = run_ok(&s.corpus, &s.out, &[]);
    let [new, changed, _, deleted] = counts(&sum);
    assert_eq!((new, changed, deleted), (6, 0, 0), "{sum}");
    assert_same_tables(&s.out, &full_reference(&s.corpus, &s.scratch, &[]));
}

#[test]
fn changed_file_is_extracted_again() {
    let s = setup(40);
    run_ok(&s.corpus, &s.out, &[]);
    // A different award in one article, and a longer jsonl file.
    let p = s.corpus.join("gen/000/00003.txt");
    let text = fs::read_to_string(&p).unwrap() + "\nPemerintah Kota Madiun menerima penghargaan Adipura 2024 di Jakarta.\n";
    fs::write(&p, text).unwrap();
    let j = s.corpus.join("bkn/kiriman.jsonl");
    let mut jt = fs::read_to_string(&j).unwrap();
    jt.push_str("{\"id\":\"baru\",\"title\":\"Pemprov Jawa Tengah Raih BKN Award 2022\",\"text\":\"Pemerintah Provinsi Jawa Tengah meraih penghargaan BKN Award 2022 kategori Manajemen Talenta.\"}\n");
    fs::write(&j, jt).unwrap();
    let sum = run_ok(&s.corpus, &s.out, &[]);
    let [new, changed, _, deleted] = counts(&sum);
    assert_eq!((new, changed, deleted), (0, 2, 0), "{sum}");
    assert_same_tables(&s.out, &full_reference(&s.corpus, &s.scratch, &[]));
}

#[test]
fn touched_file_is_hashed_not_extracted() {
    let s = setup(10);
    run_ok(&s.corpus, &s.out, &[]);
    age(&s.corpus.join("gen/000/00004.txt"), 60);
    let sum = run_ok(&s.corpus, &s.out, &[]);
    assert_eq!(counts(&sum)[0..2], [0, 0], "{sum}");
    assert_same_tables(&s.out, &full_reference(&s.corpus, &s.scratch, &[]));
}

#[test]
fn same_size_same_mtime_change_of_a_fresh_file_is_seen() {
    // The file is written just before the run, so its mtime is too recent to
    // trust on the next run: the next run hashes it even though size and mtime match.
    let s = setup(10);
    let p = s.corpus.join("gen/000/00005.txt");
    let original = fs::read_to_string(&p).unwrap();
    fs::write(&p, &original).unwrap();
    let mtime = fs::metadata(&p).unwrap().modified().unwrap();
    run_ok(&s.corpus, &s.out, &[]);
    let changed = original.replacen("Arsip redaksi 5.", "Arsip redaksi X.", 1);
    assert_eq!(changed.len(), original.len());
    assert_ne!(changed, original);
    fs::write(&p, &changed).unwrap();
    fs::OpenOptions::new().write(true).open(&p).unwrap().set_modified(mtime).unwrap();
    let sum = run_ok(&s.corpus, &s.out, &[]);
    assert_eq!(counts(&sum)[1], 1, "{sum}");
    assert_same_tables(&s.out, &full_reference(&s.corpus, &s.scratch, &[]));
}

#[test]
fn deleted_files_drop_out() {
    let s = setup(40);
    run_ok(&s.corpus, &s.out, &[]);
    fs::remove_file(s.corpus.join("gen/000/00007.txt")).unwrap();
    fs::remove_file(s.corpus.join("bkn/kiriman.jsonl")).unwrap();
    fs::remove_file(s.corpus.join("lain/iga-sumedang.html")).unwrap();
    let sum = run_ok(&s.corpus, &s.out, &[]);
    assert_eq!(counts(&sum), [0, 0, counts(&sum)[2], 3], "{sum}");
    assert_same_tables(&s.out, &full_reference(&s.corpus, &s.scratch, &[]));
}

#[test]
fn a_sequence_of_changes_matches_a_full_run_each_time() {
    let s = setup(60);
    let bodies = bundled_bodies();
    run_ok(&s.corpus, &s.out, &["--threads", "1"]);
    for step in 0..4 {
        write(&s.corpus, &format!("seq/{step}.txt"), article(&bodies, step + 7, "Langkah."));
        let victim = s.corpus.join(format!("gen/000/{:05}.txt", step * 3));
        fs::remove_file(&victim).unwrap();
        let changed = s.corpus.join(format!("gen/000/{:05}.txt", step * 3 + 1));
        fs::write(&changed, article(&bodies, step + 100, "Ubah.")).unwrap();
        let threads = if step % 2 == 0 { "4" } else { "1" };
        let sum = run_ok(&s.corpus, &s.out, &["--threads", threads]);
        assert_eq!(counts(&sum)[3], 1, "{sum}");
        assert_same_tables(&s.out, &full_reference(&s.corpus, &s.scratch, &["--threads", "2"]));
    }
}

#[test]
fn changed_rules_re_extract_everything() {
    let s = setup(30);
    run_ok(&s.corpus, &s.out, &[]);
    let before = tables(&s.out);
    let rules = s.scratch.join("rules");
    fs::create_dir_all(&rules).unwrap();
    let programs = fs::read_to_string(repo().join("rules/programs.toml")).unwrap();
    let renamed = programs.replace("name = \"BKN Award\"", "name = \"BKN Award (uji)\"");
    assert_ne!(renamed, programs);
    fs::write(rules.join("programs.toml"), renamed).unwrap();
    let rules_arg = rules.to_str().unwrap();
    let sum = run_ok(&s.corpus, &s.out, &["--rules", rules_arg]);
    assert!(sum.contains("all extracted: rules or tool changed"), "{sum}");
    let [new, changed, _, deleted] = counts(&sum);
    assert_eq!((new, changed, deleted), (0, 0, 0), "{sum}");
    assert!(before[1] != tables(&s.out)[1], "the renamed programme should change mentions.csv");
    assert_same_tables(&s.out, &full_reference(&s.corpus, &s.scratch, &["--rules", rules_arg]));
    // Back to the embedded rules: everything again, same as a full run with them.
    let sum = run_ok(&s.corpus, &s.out, &[]);
    assert!(sum.contains("rules or tool changed"), "{sum}");
    assert!(before == tables(&s.out));
}

#[test]
fn full_flag_re_extracts_and_gives_the_same_tables() {
    let s = setup(20);
    run_ok(&s.corpus, &s.out, &[]);
    let before = tables(&s.out);
    let sum = run_ok(&s.corpus, &s.out, &["--full"]);
    assert!(sum.contains("all extracted: --full"), "{sum}");
    assert!(before == tables(&s.out));
}

#[test]
fn damaged_or_missing_state_and_tables_are_repaired() {
    let s = setup(20);
    run_ok(&s.corpus, &s.out, &[]);
    let want = tables(&s.out);
    let state = s.out.join(".anugerah-state");
    // A table removed behind anugerah's back.
    fs::remove_file(s.out.join("mentions.csv")).unwrap();
    run_ok(&s.corpus, &s.out, &[]);
    assert!(want == tables(&s.out));
    // A table edited behind anugerah's back.
    fs::write(s.out.join("articles.csv"), "edited\n").unwrap();
    run_ok(&s.corpus, &s.out, &[]);
    assert!(want == tables(&s.out));
    // A copy of the output folder (other inodes and ctimes): the Parquet
    // tables are checked by their bytes and their rows still carried over.
    let copied = s.scratch.join("copied");
    copy_tree(&s.out, &copied);
    let altered = s.scratch.join("altered");
    copy_tree(&s.out, &altered);
    fs::write(s.corpus.join("gen/000/00001.txt"), article(&bundled_bodies(), 1, "Lagi.")).unwrap();
    let sum = run_ok(&s.corpus, &copied, &[]);
    assert_eq!(counts(&sum)[1], 1, "{sum}");
    assert!(!sum.contains("all extracted"), "{sum}");
    let reference = full_reference(&s.corpus, &s.scratch, &[]);
    assert_same_tables(&copied, &reference);
    // A copy whose mentions table is not the one written: every file is read again.
    let parquet = altered.join("mentions.parquet");
    let mut bytes = fs::read(&parquet).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x55;
    fs::write(&parquet, &bytes).unwrap();
    let sum = run_ok(&s.corpus, &altered, &[]);
    assert!(sum.contains("all extracted: tables of the last run changed or unreadable"), "{sum}");
    assert_same_tables(&altered, &reference);
    // A garbage manifest.
    fs::write(state.join("manifest.json"), "{not json").unwrap();
    let sum = run_ok(&s.corpus, &s.out, &[]);
    assert!(sum.contains("all extracted: no previous state"), "{sum}");
    assert_same_tables(&s.out, &full_reference(&s.corpus, &s.scratch, &[]));
}

#[test]
fn a_new_article_with_the_id_of_an_unchanged_one_is_placed_as_a_full_run_places_it() {
    // Record "a.txt" of "dup/x.jsonl" and the file "dup/x.jsonl#a.txt" have
    // the same article id; rows of equal ids are in the order of their files,
    // which the tables of the last run do not tell: all files are read again.
    let s = setup(5);
    let bodies = bundled_bodies();
    let record = serde_json::json!({"id": "a.txt", "title": "Judul", "text": article(&bodies, 2, "")}).to_string();
    write(&s.corpus, "dup/x.jsonl", record + "\n");
    run_ok(&s.corpus, &s.out, &[]);
    write(&s.corpus, "dup/x.jsonl#a.txt", article(&bodies, 3, ""));
    let sum = run_ok(&s.corpus, &s.out, &[]);
    assert!(sum.contains("all extracted: a new article has the id of an unchanged one"), "{sum}");
    assert_eq!(counts(&sum)[0], 1, "{sum}");
    assert_same_tables(&s.out, &full_reference(&s.corpus, &s.scratch, &[]));
}

#[test]
fn whole_row_groups_of_the_last_tables_are_copied_and_match_a_full_run() {
    // Two JSON Lines dumps of 6,000 articles each: several Parquet row groups.
    // A file added between them changes the row groups around it only (the
    // groups are cut at content-defined points): the others, before and
    // after it, are copied from the last tables, which stay those of a full run.
    let s = setup(0);
    let bodies = bundled_bodies();
    for (dump, offset) in [("a/dump.jsonl", 0), ("c/dump.jsonl", 6000)] {
        let mut lines = String::new();
        for i in offset..offset + 6000 {
            let record = serde_json::json!({"id": format!("r{i:05}"), "title": format!("Berita {i}"), "text": article(&bodies, i, "")});
            lines.push_str(&record.to_string());
            lines.push('\n');
        }
        write(&s.corpus, dump, lines);
    }
    age_tree(&s.corpus);
    run_ok(&s.corpus, &s.out, &[]);
    write(&s.corpus, "b/baru.txt", article(&bodies, 3, "Baru."));
    let o = Command::new(bin()).env("RUST_LOG", "debug").arg("run").arg("--corpus").arg(&s.corpus).arg("--out").arg(&s.out).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let log = String::from_utf8_lossy(&o.stderr);
    let copied = |table: &str| -> (usize, usize) {
        let line = log.lines().find(|l| l.contains(&format!("{table}: ")) && l.contains("row groups copied")).unwrap_or_else(|| panic!("{log}"));
        let words: Vec<&str> = line.split(&format!("{table}: ")).nth(1).unwrap().split_whitespace().collect();
        (words[0].parse().unwrap(), words[2].parse().unwrap())
    };
    let ((articles_copied, articles_groups), (mentions_copied, mentions_groups)) = (copied("articles"), copied("mentions"));
    eprintln!("articles {articles_copied}/{articles_groups}, mentions {mentions_copied}/{mentions_groups}");
    assert!(articles_groups >= 3 && articles_copied + 1 >= articles_groups, "{log}");
    assert!(mentions_groups >= 3 && mentions_copied + 1 >= mentions_groups, "{log}");
    assert_eq!(counts(&String::from_utf8_lossy(&o.stdout))[0], 1);
    assert_same_tables(&s.out, &full_reference(&s.corpus, &s.scratch, &[]));
}

#[test]
fn threads_do_not_change_the_tables() {
    let s = setup(200);
    let one = s.scratch.join("one");
    let many = s.scratch.join("many");
    run_ok(&s.corpus, &one, &["--threads", "1"]);
    run_ok(&s.corpus, &many, &["--threads", "8"]);
    assert_same_tables(&one, &many);
    // Incremental with a different thread count than the first run.
    write(&s.corpus, "extra/a.txt", article(&bundled_bodies(), 3, "Tambahan."));
    run_ok(&s.corpus, &one, &["--threads", "8"]);
    run_ok(&s.corpus, &many, &["--threads", "1"]);
    assert_same_tables(&one, &many);
}

#[test]
fn a_held_lock_stops_a_second_run_and_a_stale_one_does_not() {
    let s = setup(5);
    run_ok(&s.corpus, &s.out, &[]);
    let lock_path = s.out.join(".anugerah-state/lock");
    {
        let f = fs::OpenOptions::new().read(true).write(true).open(&lock_path).unwrap();
        f.try_lock().expect("test takes the lock");
        let o = run(&s.corpus, &s.out, &[]);
        assert!(!o.status.success());
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("another anugerah run is writing"), "{err}");
        assert!(err.contains("process "), "the message names the holder: {err}");
    }
    // The lock file stays behind with a dead process in it: not a problem.
    fs::write(&lock_path, "process 999999 since 2000-01-01 00:00:00").unwrap();
    run_ok(&s.corpus, &s.out, &[]);
}

#[test]
fn two_processes_at_once_one_stops_with_a_clear_message() {
    let s = setup(3000);
    let first = Command::new(bin())
        .args(["run", "--corpus"])
        .arg(&s.corpus)
        .arg("--out")
        .arg(&s.out)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = first;
    let lock_path = s.out.join(".anugerah-state/lock");
    let pid = format!("process {} ", first.id());
    let waited = Instant::now();
    while !fs::read_to_string(&lock_path).unwrap_or_default().starts_with(&pid) {
        assert!(waited.elapsed() < Duration::from_secs(60), "first run never took the lock");
        std::thread::sleep(Duration::from_millis(5));
    }
    let second = run(&s.corpus, &s.out, &[]);
    let first_still_running = first.try_wait().unwrap().is_none();
    let first_out = first.wait_with_output().unwrap();
    assert!(first_out.status.success());
    if first_still_running {
        assert!(!second.status.success(), "second run must stop while the first holds the lock");
        let err = String::from_utf8_lossy(&second.stderr);
        assert!(err.contains("another anugerah run is writing"), "{err}");
    }
    assert_same_tables(&s.out, &full_reference(&s.corpus, &s.scratch, &[]));
}

#[test]
fn killed_runs_leave_usable_tables_and_the_next_run_is_right() {
    let s = setup(3000);
    let bodies = bundled_bodies();
    // Earlier state: the corpus without `late/`.
    run_ok(&s.corpus, &s.out, &[]);
    let old = tables(&s.out);
    let prior = s.scratch.join("prior");
    copy_tree(&s.out, &prior);
    for i in 0..1500 {
        write(&s.corpus, &format!("late/{i:05}.txt"), article(&bodies, i + 5000, "Susulan."));
    }
    fs::remove_file(s.corpus.join("gen/000/00010.txt")).unwrap();
    let started = Instant::now();
    let reference = full_reference(&s.corpus, &s.scratch, &[]);
    let full_time = started.elapsed();
    let want = tables(&reference);
    // Kill incremental runs from the prior state at points across their run time.
    let mut killed_mid_run = 0;
    for k in 0..8u32 {
        let out = s.scratch.join(format!("killed-{k}"));
        copy_tree(&prior, &out);
        let delay = full_time.mul_f64(0.05 + 0.12 * k as f64);
        let mut child = Command::new(bin())
            .args(["run", "--corpus"])
            .arg(&s.corpus)
            .arg("--out")
            .arg(&out)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        if child.try_wait().unwrap().is_none() {
            killed_mid_run += 1;
        }
        let _ = child.kill(); // SIGKILL
        child.wait().unwrap();
        // Each table is the old one or the new one, never a torn file.
        for (i, t) in TABLES.iter().enumerate() {
            let got = fs::read(out.join(t)).unwrap();
            assert!(got == old[i] || got == want[i], "{t} torn after a kill at {delay:?}");
        }
        let sum = run_ok(&s.corpus, &out, &[]);
        assert_same_tables(&out, &reference);
        // And the run after that has nothing left to do.
        let again = run_ok(&s.corpus, &out, &[]);
        assert_eq!(counts(&again)[0..2], [0, 0], "after {sum}: {again}");
        assert_same_tables(&out, &reference);
    }
    assert!(killed_mid_run > 0, "no run was killed before it finished; make the corpus bigger");
}
