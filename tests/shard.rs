//! `run --shard K/N` + `merge` (issue 8): the merged tables are byte-identical
//! to those of a single full run.

mod support;

use anugerah::output::TABLE_FILES;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use support::*;

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus")
}

/// Runs every shard of `n` into `root/part-K`, merges them into `root/merged`
/// and returns the part folders.
fn shard_and_merge(corpus: &Path, root: &Path, n: usize, threads: &str) -> Vec<PathBuf> {
    let parts: Vec<PathBuf> = (0..n).map(|k| root.join(format!("part-{k}"))).collect();
    for (k, p) in parts.iter().enumerate() {
        run_ok(corpus, p, &["--shard", &format!("{k}/{n}"), "--threads", threads]);
        assert_eq!(std::fs::read_to_string(p.join(".anugerah-shard")).unwrap().trim(), format!("{k}/{n}"));
    }
    let merged = root.join("merged");
    let mut args: Vec<&OsStr> = vec!["merge".as_ref(), merged.as_os_str()];
    args.extend(parts.iter().map(|p| p.as_os_str()));
    let o = anugerah(&args);
    assert!(o.status.success(), "merge failed: {}", text(&o.stderr));
    assert!(text(&o.stdout).starts_with(&format!("merged {n} parts")), "{}", text(&o.stdout));
    parts
}

fn assert_same_tables(full: &Path, merged: &Path) {
    for t in TABLE_FILES {
        let a = std::fs::read(full.join(t)).unwrap_or_else(|e| panic!("{t} of the full run: {e}"));
        let b = std::fs::read(merged.join(t)).unwrap_or_else(|e| panic!("{t} of the merge: {e}"));
        assert!(a == b, "{t} differs between the full run and the merge");
    }
}

#[test]
fn three_shards_of_the_bundled_corpus_merge_into_the_full_run() {
    let tmp = tempfile::tempdir().unwrap();
    let full = tmp.path().join("full");
    run_ok(&corpus_dir(), &full, &["--full"]);
    let parts = shard_and_merge(&corpus_dir(), tmp.path(), 3, "2");
    let merged = tmp.path().join("merged");
    assert_same_tables(&full, &merged);
    // Every part holds some of the corpus, and none holds it all.
    let total = csv_maps(&full.join("articles.csv")).len();
    for p in &parts {
        let n = csv_maps(&p.join("articles.csv")).len();
        assert!(n > 0 && n < total, "{}: {n} of {total} articles", p.display());
    }
    // The merged folder gets the tables and the output marker, no state, no shard record.
    let mut names: Vec<String> =
        std::fs::read_dir(&merged).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    let mut expected: Vec<String> = TABLE_FILES.iter().map(|s| s.to_string()).collect();
    expected.push(".anugerah-output".into());
    expected.sort();
    assert_eq!(names, expected);
}

#[test]
fn shards_of_a_corpus_with_bad_inputs_and_walk_errors_merge_into_the_full_run() {
    let tmp = tempfile::tempdir().unwrap();
    let corpus = tmp.path().join("corpus");
    write_bad_corpus(&corpus);
    // More files, so that no shard is left empty by chance.
    for i in 0..30 {
        write(&corpus, &format!("more/{i:02}.txt"), GOOD_TXT.replace("Sleman", if i % 2 == 0 { "Bantul" } else { "Sleman" }));
    }
    let full = tmp.path().join("full");
    run_ok(&corpus, &full, &["--full"]);
    for n in [1usize, 2, 5] {
        let root = tmp.path().join(format!("n{n}"));
        shard_and_merge(&corpus, &root, n, if n == 2 { "1" } else { "3" });
        assert_same_tables(&full, &root.join("merged"));
    }
}

/// Parts whose tables have several row groups (merge reads them a row group
/// at a time): 24,000 articles in JSON Lines files, some ids shared between
/// files.
#[test]
fn shards_with_many_row_groups_merge_into_the_full_run() {
    let tmp = tempfile::tempdir().unwrap();
    let corpus = tmp.path().join("corpus");
    let body = GOOD_TXT.split_once('\n').map(|(_, b)| b).unwrap_or(GOOD_TXT);
    for f in 0..12 {
        let mut dump = String::new();
        for i in 0..2000 {
            let id = if i % 500 == 0 { "shared".to_string() } else { format!("{}", (i * 7919 + f) % 100_003) };
            let text = if i % 3 == 0 { format!("{body} Nomor {i}.") } else { format!("Berita nomor {i} dari berkas {f}.") };
            dump.push_str(&serde_json::json!({ "id": id, "title": format!("Judul {i}"), "text": text }).to_string());
            dump.push('\n');
        }
        write(&corpus, &format!("dump-{f:02}.jsonl"), dump);
    }
    let full = tmp.path().join("full");
    run_ok(&corpus, &full, &["--full"]);
    let parts = shard_and_merge(&corpus, tmp.path(), 2, "2");
    assert_same_tables(&full, &tmp.path().join("merged"));
    for p in &parts {
        let f = std::fs::File::open(p.join("articles.parquet")).unwrap();
        let groups = {
            use polars::prelude::SerReader;
            polars::prelude::ParquetReader::new(f).get_metadata().unwrap().row_groups.len()
        };
        assert!(groups >= 2, "{}: {groups} row group(s)", p.display());
    }
}

#[test]
fn an_incremental_rerun_of_a_shard_keeps_its_tables() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("a");
    let parts = shard_and_merge(&corpus_dir(), &root, 2, "2");
    let before = std::fs::read(parts[1].join("mentions.parquet")).unwrap();
    let o = run_ok(&corpus_dir(), &parts[1], &["--shard", "1/2"]);
    assert!(text(&o.stdout).contains("0 new, 0 changed"), "{}", text(&o.stdout));
    assert_eq!(std::fs::read(parts[1].join("mentions.parquet")).unwrap(), before);
    // A full run into a part folder drops the shard record.
    run_ok(&corpus_dir(), &parts[1], &[]);
    assert!(!parts[1].join(".anugerah-shard").exists());
}

#[test]
fn merge_refuses_missing_duplicate_or_mismatched_shards() {
    let tmp = tempfile::tempdir().unwrap();
    let parts = shard_and_merge(&corpus_dir(), tmp.path(), 3, "2");
    let other = tmp.path().join("other");
    run_ok(&corpus_dir(), &other, &["--shard", "0/2"]);
    let out = tmp.path().join("bad-merge");
    let cases: Vec<(Vec<&Path>, &str)> = vec![
        (vec![&parts[0], &parts[1]], "2/3 missing"),
        (vec![&parts[0], &parts[1], &parts[1], &parts[2]], "given twice"),
        (vec![&parts[0], &parts[1], &parts[2], &other], "different N"),
        (vec![&parts[0], &parts[1], &parts[2], tmp.path()], "no mentions.parquet"),
    ];
    for (ps, msg) in cases {
        let mut args: Vec<&OsStr> = vec!["merge".as_ref(), out.as_os_str()];
        args.extend(ps.iter().map(|p| p.as_os_str()));
        let o = anugerah(&args);
        assert_eq!(o.status.code(), Some(1), "{msg}");
        assert!(text(&o.stderr).contains(msg), "expected `{msg}` in: {}", text(&o.stderr));
    }
    assert!(!out.join("mentions.parquet").exists());
    // Bad shard values are usage errors.
    for bad in ["3/3", "1", "x/2", "0/0"] {
        let o = run(&corpus_dir(), &tmp.path().join("x"), &["--shard", bad]);
        assert_eq!(o.status.code(), Some(2), "--shard {bad}");
    }
}
