//! End-to-end runs of `anugerah run` on small corpora written by the tests:
//! the six tables, their column types, and byte-identical output across
//! thread counts.

mod support;

use polars::prelude::*;
use std::fs;
use support::*;

fn dtypes(df: &DataFrame) -> Vec<(String, DataType)> {
    df.columns().iter().map(|c| (c.name().to_string(), c.dtype().clone())).collect()
}

/// Values of a String column (None for nulls).
fn strs(df: &DataFrame, name: &str) -> Vec<Option<std::string::String>> {
    let c = df.column(name).unwrap();
    (0..c.len())
        .map(|i| match c.get(i).unwrap() {
            AnyValue::Null => None,
            AnyValue::String(s) => Some(s.to_string()),
            AnyValue::StringOwned(s) => Some(s.to_string()),
            other => panic!("{name}: not a string: {other:?}"),
        })
        .collect()
}

/// Values of a non-null String column.
fn strs_nn(df: &DataFrame, name: &str) -> Vec<std::string::String> {
    strs(df, name).into_iter().map(|s| s.unwrap_or_else(|| panic!("null in {name}"))).collect()
}

fn expect_schema(df: &DataFrame, expected: &[(&str, DataType)]) {
    let got = dtypes(df);
    let want: Vec<(String, DataType)> = expected.iter().map(|(n, t)| (n.to_string(), t.clone())).collect();
    assert_eq!(got, want);
}

#[test]
fn run_writes_six_typed_tables() {
    let tmp = tempfile::tempdir().unwrap();
    let corpus = tmp.path().join("corpus");
    let out = tmp.path().join("out");
    write_good_corpus(&corpus);
    let o = run_ok(&corpus, &out, &[]);
    let summary = text(&o.stdout);
    assert!(summary.contains("4 articles"), "summary: {summary}");
    assert!(summary.contains("1 skipped"), "summary: {summary}");
    assert!(summary.contains("0 errors"), "summary: {summary}");

    for f in TABLE_FILES {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    // No temporary file is left, in the folder or its state (the manifest's
    // file lines are streamed through one).
    let leftovers: Vec<_> = [out.clone(), out.join(".anugerah-state")]
        .iter()
        .flat_map(|d| fs::read_dir(d).unwrap())
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");

    let mentions = read_parquet(&out.join("mentions.parquet"));
    use DataType::*;
    expect_schema(
        &mentions,
        &[
            ("mention_id", String),
            ("article_id", String),
            ("program", String),
            ("edition", Int32),
            ("recipient", String),
            ("recipient_raw", String),
            ("recipient_level", String),
            ("region_code", String),
            ("category", String),
            ("category_key", String),
            ("group", String),
            ("rank", Int32),
            ("rank_text", String),
            ("award_date", Date),
            ("date_text", String),
            ("evidence", String),
            ("start", Int64),
            ("end", Int64),
            ("rule", String),
        ],
    );
    assert!(mentions.height() >= 3, "expected a mention from each good article, got {}", mentions.height());
    // Nullable columns hold real nulls (no rank is stated in any article).
    assert_eq!(mentions.column("rank").unwrap().null_count(), mentions.height());
    assert_eq!(mentions.column("group").unwrap().null_count(), mentions.height());
    for c in ["mention_id", "article_id", "program", "recipient", "evidence", "start", "end", "rule"] {
        assert_eq!(mentions.column(c).unwrap().null_count(), 0, "{c} has nulls");
    }
    let ids = strs_nn(&mentions, "article_id");
    for a in ["html/madiun.html", "kiriman.jsonl#k1", "txt/sleman.txt"] {
        assert!(ids.iter().any(|i| i == a), "no mention from {a}: {ids:?}");
    }
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted, "mentions not sorted by article_id");

    // award_date is a real Date: 2023-12-07 for the Sleman article.
    let row = ids.iter().position(|i| i == "txt/sleman.txt").unwrap();
    let date = mentions.column("award_date").unwrap().get(row).unwrap();
    assert_eq!(date, AnyValue::Date(19698), "award_date of the Sleman article (2023-12-07)");
    let edition = mentions.column("edition").unwrap().get(row).unwrap();
    assert_eq!(edition, AnyValue::Int32(2023));
    let (start, end) = (
        mentions.column("start").unwrap().get(row).unwrap().extract::<i64>().unwrap(),
        mentions.column("end").unwrap().get(row).unwrap().extract::<i64>().unwrap(),
    );
    let evidence = strs_nn(&mentions, "evidence")[row].clone();
    assert_eq!(GOOD_TXT.get(start as usize..end as usize), Some(evidence.as_str()), "start/end are byte offsets of the evidence");

    let articles = read_parquet(&out.join("articles.parquet"));
    expect_schema(
        &articles,
        &[
            ("article_id", String),
            ("source_path", String),
            ("format", String),
            ("url", String),
            ("title", String),
            ("published", Date),
            ("chars", Int64),
            ("content_hash", String),
            ("mentions", Int32),
            ("status", String),
        ],
    );
    assert_eq!(articles.height(), 4);
    let aid = strs_nn(&articles, "article_id");
    assert_eq!(aid, ["html/madiun.html", "kiriman.jsonl#k1", "kiriman.jsonl#k2", "txt/sleman.txt"]);
    // url: html and k1 have one, k2 and txt do not.
    assert_eq!(articles.column("url").unwrap().null_count(), 2);
    // published: html 2023-03-01, k1 2022-11-20, k2 2022-05-02, txt null.
    let published = articles.column("published").unwrap();
    assert_eq!(published.null_count(), 1);
    assert_eq!(published.get(0).unwrap(), AnyValue::Date(19417));
    assert_eq!(published.get(2).unwrap(), AnyValue::Date(19114));
    let formats = strs_nn(&articles, "format");
    assert_eq!(formats, ["html", "jsonl", "jsonl", "txt"]);
    let status = strs_nn(&articles, "status");
    assert_eq!(status, ["ok"; 4]);
    assert_eq!(articles.column("mentions").unwrap().get(2).unwrap(), AnyValue::Int32(0));

    let errors = read_parquet(&out.join("errors.parquet"));
    expect_schema(&errors, &[("source_path", String), ("article_id", String), ("stage", String), ("message", String)]);
    assert_eq!(errors.height(), 0);

    // CSV: same columns, header row, ISO dates, empty nulls.
    let (header, rows) = read_csv(&out.join("mentions.csv"));
    assert_eq!(header, mentions.get_column_names().iter().map(|s| s.to_string()).collect::<Vec<_>>());
    assert_eq!(rows.len(), mentions.height());
    let a = csv_maps(&out.join("articles.csv"));
    assert_eq!(a[0]["published"], "2023-03-01");
    assert_eq!(a[3]["published"], "");
    assert_eq!(a[3]["url"], "");
}

#[test]
fn output_is_identical_with_one_and_two_threads() {
    let tmp = tempfile::tempdir().unwrap();
    let corpus = tmp.path().join("corpus");
    write_good_corpus(&corpus);
    // More files than threads, in several folders, some with errors rows.
    for i in 0..12 {
        write(&corpus, &format!("n{}/a{i:02}.txt", i % 3), GOOD_TXT.replace("Sleman", if i % 2 == 0 { "Bantul" } else { "Kulon Progo" }));
        write(&corpus, &format!("n{}/b{i:02}.html", i % 4), GOOD_HTML);
    }
    write(&corpus, "rusak/kosong.txt", b"");
    write(&corpus, "rusak/baris.jsonl", format!("{GOOD_JSONL_K1}\n{{\"id\":\n{GOOD_JSONL_K2}\n"));
    write(&corpus, "rusak/lossy.txt", b"Kota \xff Madiun menerima penghargaan Adipura 2022.\n".as_slice());

    let out1 = tmp.path().join("out1");
    let out2 = tmp.path().join("out2");
    let out2b = tmp.path().join("out2b");
    run_ok(&corpus, &out1, &["--threads", "1"]);
    run_ok(&corpus, &out2, &["--threads", "2"]);
    run_ok(&corpus, &out2b, &["--threads", "2"]);
    for f in TABLE_FILES {
        let a = fs::read(out1.join(f)).unwrap();
        let b = fs::read(out2.join(f)).unwrap();
        let c = fs::read(out2b.join(f)).unwrap();
        assert!(a == b, "{f} differs between 1 and 2 threads");
        assert!(b == c, "{f} differs between two runs with 2 threads");
    }
    let m = csv_maps(&out1.join("mentions.csv"));
    assert!(m.len() >= 27, "expected mentions from every good article, got {}", m.len());
    let e = csv_maps(&out1.join("errors.csv"));
    assert!(e.len() >= 3, "expected errors rows, got {e:?}");
}

#[test]
fn rerun_into_own_output_folder_replaces_tables() {
    let tmp = tempfile::tempdir().unwrap();
    let corpus = tmp.path().join("corpus");
    let out = tmp.path().join("out");
    write_good_corpus(&corpus);
    run_ok(&corpus, &out, &[]);
    let first = fs::read(out.join("mentions.csv")).unwrap();
    fs::remove_file(corpus.join("html/madiun.html")).unwrap();
    // The folder now holds only anugerah's files: no --force needed.
    run_ok(&corpus, &out, &[]);
    let second = fs::read(out.join("mentions.csv")).unwrap();
    assert_ne!(first, second);
    assert!(!text(&second).contains("html/madiun.html"));
}
