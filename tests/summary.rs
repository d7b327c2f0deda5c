//! The `summary` table and the schema metadata of the Parquet files.

mod support;

use anugerah::model::{Level, Mention};
use anugerah::output::{summary_rows, SCHEMA_VERSION, TABLE_FILES};
use polars::prelude::*;
use std::fs;
use std::path::Path;
use support::*;

/// Sleman, BKN Award 2023, Penilaian Kinerja: rank 2, ceremony on Thursday 7 December.
const SLEMAN_RANKED: &str = "Sleman Juara Dua BKN Award 2023

SLEMAN – Pemerintah Kabupaten Sleman meraih peringkat kedua BKN Award 2023 kategori Penilaian Kinerja dalam acara yang digelar di Jakarta, Kamis (7/12/2023).
";

/// The same award from another outlet: no rank, an earlier date (Wednesday 6 December).
const SLEMAN_EARLIER: &str = "Pemkab Sleman Raih BKN Award 2023

Pemerintah Kabupaten Sleman meraih penghargaan BKN Award 2023 kategori Penilaian Kinerja dalam acara yang digelar di Jakarta, Rabu (6/12/2023).
";

fn summary_corpus(root: &Path) {
    write(root, "a/sleman-peringkat.txt", SLEMAN_RANKED);
    write(root, "b/sleman.txt", SLEMAN_EARLIER);
    write(root, "html/madiun.html", GOOD_HTML);
    write(root, "kiriman.jsonl", format!("{GOOD_JSONL_K1}\n{GOOD_JSONL_K2}\n"));
}

fn col_str(df: &DataFrame, name: &str) -> Vec<Option<String>> {
    df.column(name).unwrap().cast(&DataType::String).unwrap().str().unwrap().iter().map(|o| o.map(str::to_string)).collect()
}

#[test]
fn two_outlets_reporting_one_award_give_one_summary_row() {
    let tmp = tempfile::tempdir().unwrap();
    let corpus = tmp.path().join("corpus");
    let out = tmp.path().join("out");
    summary_corpus(&corpus);
    run_ok(&corpus, &out, &["--threads", "2"]);

    let mentions = read_parquet(&out.join("mentions.parquet"));
    let sleman_mentions = col_str(&mentions, "recipient").iter().filter(|r| r.as_deref() == Some("Kabupaten Sleman")).count();
    assert_eq!(sleman_mentions, 2, "both articles must give a Sleman mention");

    let s = read_parquet(&out.join("summary.parquet"));
    let names: Vec<String> = s.get_column_names().iter().map(|n| n.to_string()).collect();
    assert_eq!(
        names,
        [
            "recipient",
            "region_code",
            "recipient_level",
            "program",
            "edition",
            "category_key",
            "category",
            "best_rank",
            "mentions",
            "articles",
            "first_award_date"
        ]
    );
    for (n, t) in [
        ("edition", DataType::Int32),
        ("best_rank", DataType::Int32),
        ("mentions", DataType::Int32),
        ("articles", DataType::Int32),
        ("first_award_date", DataType::Date),
        ("region_code", DataType::String),
    ] {
        assert_eq!(s.column(n).unwrap().dtype(), &t, "type of summary.{n}");
    }
    assert_eq!(s.height(), 3, "Sleman (once), Madiun, Jawa Tengah: {s}");

    let rec = col_str(&s, "recipient");
    let i = rec.iter().position(|r| r.as_deref() == Some("Kabupaten Sleman")).expect("Sleman row");
    let get = |c: &str| col_str(&s, c)[i].clone();
    assert_eq!(get("program").as_deref(), Some("BKN Award"));
    assert_eq!(get("edition").as_deref(), Some("2023"));
    assert_eq!(get("recipient_level").as_deref(), Some("kabupaten"));
    assert_eq!(get("region_code").as_deref(), Some("34.04"));
    assert_eq!(get("category_key").as_deref(), Some("kinerja"));
    assert_eq!(get("category").as_deref(), Some("Penilaian Kinerja"));
    assert_eq!(get("best_rank").as_deref(), Some("2"), "best rank comes from the ranked article");
    assert_eq!(get("mentions").as_deref(), Some("2"));
    assert_eq!(get("articles").as_deref(), Some("2"));
    assert_eq!(get("first_award_date").as_deref(), Some("2023-12-06"), "earliest date comes from the other article");

    // The CSV has the same rows.
    let csv = csv_maps(&out.join("summary.csv"));
    assert_eq!(csv.len(), 3);
    let row = csv.iter().find(|r| r["recipient"] == "Kabupaten Sleman").unwrap();
    assert_eq!(row["first_award_date"], "2023-12-06");
    assert_eq!(row["mentions"], "2");
    assert_eq!(row["articles"], "2");
    assert_eq!(row["best_rank"], "2");
    // Madiun's Adipura has no rank and no category: empty fields.
    let madiun = csv.iter().find(|r| r["recipient"] == "Kota Madiun").unwrap();
    assert_eq!(madiun["best_rank"], "");
    assert_eq!(madiun["category_key"], "");
}

#[test]
fn every_parquet_table_carries_the_schema_version() {
    let tmp = tempfile::tempdir().unwrap();
    let corpus = tmp.path().join("corpus");
    let out = tmp.path().join("out");
    summary_corpus(&corpus);
    run_ok(&corpus, &out, &[]);
    for f in TABLE_FILES.iter().filter(|f| f.ends_with(".parquet")) {
        let mut r = ParquetReader::new(fs::File::open(out.join(f)).unwrap());
        let meta = r.get_metadata().unwrap();
        let kv: Vec<(String, Option<String>)> =
            meta.key_value_metadata().clone().unwrap_or_default().into_iter().map(|k| (k.key, k.value)).collect();
        let get = |k: &str| kv.iter().find(|(key, _)| key == k).and_then(|(_, v)| v.clone());
        assert_eq!(get("schema_version").as_deref(), Some(SCHEMA_VERSION), "{f}: {kv:?}");
        assert_eq!(get("table").as_deref(), f.strip_suffix(".parquet"), "{f}");
        assert!(get("ARROW:schema").is_some(), "{f}: the Arrow schema must still be there");
    }
}

#[test]
fn docs_list_every_column_of_every_table() {
    let doc = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/schema.md")).unwrap();
    assert!(doc.contains(&format!("Schema version: **{SCHEMA_VERSION}**")), "docs/schema.md must state the schema version");
    let tmp = tempfile::tempdir().unwrap();
    let corpus = tmp.path().join("corpus");
    let out = tmp.path().join("out");
    summary_corpus(&corpus);
    run_ok(&corpus, &out, &[]);
    for t in ["mentions", "articles", "errors", "summary"] {
        let section = doc.split(&format!("## `{t}`")).nth(1).unwrap_or_else(|| panic!("no section for {t}"));
        let section = section.split("\n## ").next().unwrap();
        let df = read_parquet(&out.join(format!("{t}.parquet")));
        for c in df.columns() {
            let ty = match c.dtype() {
                DataType::String => "String",
                DataType::Int32 => "Int32",
                DataType::Int64 => "Int64",
                DataType::Date => "Date",
                other => panic!("{t}.{}: undocumented type {other}", c.name()),
            };
            assert!(section.contains(&format!("| `{}` | {ty} |", c.name())), "docs/schema.md: {t}.{} ({ty}) missing", c.name());
        }
    }
}

#[test]
fn summary_is_the_same_across_threads_and_incremental_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let corpus = tmp.path().join("corpus");
    summary_corpus(&corpus);
    let (o1, o4, inc, full) =
        (tmp.path().join("o1"), tmp.path().join("o4"), tmp.path().join("inc"), tmp.path().join("full"));
    run_ok(&corpus, &o1, &["--threads", "1"]);
    run_ok(&corpus, &o4, &["--threads", "4"]);
    run_ok(&corpus, &inc, &["--threads", "2"]);
    for f in ["summary.parquet", "summary.csv"] {
        assert!(fs::read(o1.join(f)).unwrap() == fs::read(o4.join(f)).unwrap(), "{f} differs between 1 and 4 threads");
    }
    // Change one file and add one; the incremental run must equal a full run.
    write(&corpus, "b/sleman.txt", SLEMAN_EARLIER.replace("Rabu (6/12/2023)", "Jumat (8/12/2023)"));
    write(&corpus, "c/sleman-lagi.txt", SLEMAN_RANKED.replace("peringkat kedua", "peringkat pertama"));
    run_ok(&corpus, &inc, &["--threads", "2"]);
    run_ok(&corpus, &full, &["--threads", "3", "--full"]);
    for f in ["summary.parquet", "summary.csv"] {
        assert!(fs::read(inc.join(f)).unwrap() == fs::read(full.join(f)).unwrap(), "{f}: incremental run differs from full run");
    }
    let csv = csv_maps(&inc.join("summary.csv"));
    let row = csv.iter().find(|r| r["recipient"] == "Kabupaten Sleman").unwrap();
    assert_eq!((row["mentions"].as_str(), row["articles"].as_str(), row["best_rank"].as_str()), ("3", "3", "1"));
    assert_eq!(row["first_award_date"], "2023-12-07");
}

fn mention(article: &str, start: i64, category: Option<&str>, key: Option<&str>, rank: Option<i32>, date: Option<&str>) -> Mention {
    Mention {
        mention_id: format!("{article}:{start}"),
        article_id: article.to_string(),
        program: "Adipura".to_string(),
        edition: Some(2022),
        recipient: "Kota Madiun".to_string(),
        recipient_raw: "Pemkot Madiun".to_string(),
        recipient_level: Level::Kota,
        region_code: Some("35.77".to_string()),
        category: category.map(str::to_string),
        category_key: key.map(str::to_string),
        group: None,
        rank,
        rank_text: None,
        award_date: date.map(str::to_string),
        date_text: None,
        evidence: "…".to_string(),
        start,
        end: start + 1,
        rule: "sentence".to_string(),
    }
}

#[test]
fn categories_without_key_group_by_lower_case_text() {
    let rows = vec![
        mention("a", 0, Some("Kota  Sedang"), None, Some(3), Some("2023-02-28")),
        mention("a", 10, Some("kota sedang"), None, Some(1), None),
        mention("b", 0, Some("Kota Sedang"), None, None, Some("2023-02-27")),
        mention("b", 5, Some("Kota Besar"), None, None, None),
        mention("c", 0, None, None, None, None),
        mention("c", 3, Some("Kinerja"), Some("kinerja"), Some(2), None),
        mention("d", 3, Some("Penilaian Kinerja"), Some("kinerja"), None, Some("2023-01-01")),
    ];
    let mut shuffled = rows.clone();
    shuffled.reverse();
    let s = summary_rows(&rows);
    assert_eq!(s, summary_rows(&shuffled), "summary must not depend on row order");
    assert_eq!(s.len(), 4, "{s:#?}");
    // Sorted: null key and null text first, then keys, then text keys.
    assert_eq!((s[0].category_key.as_deref(), s[0].category.as_deref(), s[0].mentions), (None, None, 1));
    let sedang = s.iter().find(|r| r.category.as_deref().is_some_and(|c| c.to_lowercase().contains("sedang"))).unwrap();
    assert_eq!(sedang.category_key, None, "category_key stays null");
    assert_eq!(sedang.category.as_deref(), Some("Kota  Sedang"), "ties between spellings: the smallest");
    assert_eq!((sedang.mentions, sedang.articles, sedang.best_rank), (3, 2, Some(1)));
    assert_eq!(sedang.first_award_date.as_deref(), Some("2023-02-27"));
    let kinerja = s.iter().find(|r| r.category_key.as_deref() == Some("kinerja")).unwrap();
    assert_eq!((kinerja.mentions, kinerja.articles, kinerja.best_rank), (2, 2, Some(2)));
    assert_eq!(kinerja.category.as_deref(), Some("Kinerja"));
    assert_eq!(kinerja.first_award_date.as_deref(), Some("2023-01-01"));
}
