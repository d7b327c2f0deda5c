//! `extract --jsonl` (issue 8): streaming JSON Lines in, mention lines out;
//! the same mentions (every field) and error rows as `run` over a corpus
//! holding the same file.

mod support;

use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use support::*;

type Row = BTreeMap<String, String>;

/// A JSON line as a row of CSV strings: null is empty, numbers as written.
fn json_row(line: &str) -> Row {
    let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
    let Value::Object(map) = v else { panic!("not an object: {line}") };
    map.into_iter()
        .map(|(k, v)| {
            let s = match v {
                Value::Null => String::new(),
                Value::String(s) => s,
                Value::Number(n) => n.to_string(),
                other => panic!("unexpected value {other} in {line}"),
            };
            (k, s)
        })
        .collect()
}

/// Runs `extract --jsonl -` with `input` on stdin; returns (mention rows, error rows, column order of the first line).
fn stream(input: &[u8], extra: &[&str]) -> (Vec<Row>, Vec<Row>, Vec<String>) {
    let mut child = Command::new(bin())
        .args(["extract", "--jsonl", "-"])
        .args(extra)
        .env("RUST_LOG", "error")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start anugerah extract");
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let o = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(o.status.success(), "extract failed: {}", text(&o.stderr));
    let out = text(&o.stdout);
    // Keys in the order written (serde_json's map would sort them).
    let order = out.lines().next().map(|l| {
        let v: Value = serde_json::from_str(l).unwrap();
        let mut keys: Vec<(usize, String)> =
            v.as_object().unwrap().keys().map(|k| (l.find(&format!("\"{k}\":")).unwrap(), k.clone())).collect();
        keys.sort();
        keys.into_iter().map(|(_, k)| k).collect()
    });
    let mentions = out.lines().map(json_row).collect();
    let errors = text(&o.stderr).lines().map(json_row).collect();
    (mentions, errors, order.unwrap_or_default())
}

fn sorted(mut rows: Vec<Row>) -> Vec<Row> {
    rows.sort();
    rows
}

/// Mention and error rows of `run` whose source is `source`.
fn run_rows(out: &Path, source: &str) -> (Vec<Row>, Vec<Row>) {
    let prefix = format!("{source}#");
    let mentions = csv_maps(&out.join("mentions.csv")).into_iter().filter(|m| m["article_id"].starts_with(&prefix)).collect();
    let errors = csv_maps(&out.join("errors.csv")).into_iter().filter(|e| e["source_path"] == source).collect();
    (sorted(mentions), sorted(errors))
}

fn bundled(rel: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus").join(rel)).unwrap()
}

#[test]
fn stdin_mode_gives_the_mentions_of_run_over_the_same_file() {
    let tmp = tempfile::tempdir().unwrap();
    let corpus = tmp.path().join("corpus");
    let feed = format!(
        "{}{}{GOOD_JSONL_K1}\n{GOOD_JSONL_K2}\n{{\"id\":\"rusak\",\"text\":\n\n{{\"url\":\"https://x.example\",\"text\":\"Pemerintah Kota Madiun menerima penghargaan Adipura 2022 di Jakarta, Selasa (28/2/2023).\"}}\n",
        bundled("bkn/kiriman.jsonl"),
        bundled("lain/kiriman.jsonl"),
    );
    write(&corpus, "feed.jsonl", &feed);
    let out = tmp.path().join("out");
    run_ok(&corpus, &out, &[]);
    let (want_m, want_e) = run_rows(&out, "feed.jsonl");
    assert!(want_m.len() >= 10, "{} mentions", want_m.len());
    assert!(!want_e.is_empty());

    let (got_m, got_e, order) = stream(feed.as_bytes(), &["--source", "feed.jsonl", "--threads", "3"]);
    // Columns in the order of the mentions table.
    let (header, _) = read_csv(&out.join("mentions.csv"));
    assert_eq!(order, header);
    assert_eq!(sorted(got_m), want_m);
    assert_eq!(sorted(got_e), want_e);

    // Without --source the ids say `stdin`.
    let (m, _, _) = stream(feed.as_bytes(), &[]);
    assert!(m.iter().all(|r| r["article_id"].starts_with("stdin#")));
    assert_eq!(m.len(), want_m.len());
}

#[test]
fn bad_records_give_the_error_rows_of_run() {
    let tmp = tempfile::tempdir().unwrap();
    let corpus = tmp.path().join("corpus");
    write_bad_corpus(&corpus);
    let out = tmp.path().join("out");
    run_ok(&corpus, &out, &[]);
    for source in ["bad/records.jsonl", "bad/utf16.jsonl", "bad/empty.jsonl", "kiriman.jsonl"] {
        let bytes = std::fs::read(corpus.join(source)).unwrap();
        let (want_m, want_e) = run_rows(&out, source);
        let (got_m, got_e, _) = stream(&bytes, &["--source", source]);
        assert_eq!(sorted(got_m), want_m, "mentions of {source}");
        assert_eq!(sorted(got_e), want_e, "errors of {source}");
    }
}

#[test]
fn a_file_path_names_the_source_after_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let f = write(tmp.path(), "data/feed.jsonl", format!("{GOOD_JSONL_K1}\n"));
    let o = anugerah(&["extract".as_ref(), "--jsonl".as_ref(), f.as_os_str()]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let rows: Vec<Row> = text(&o.stdout).lines().map(json_row).collect();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["article_id"], "feed.jsonl#k1");
    assert_eq!(rows[0]["recipient"], "Provinsi Jawa Tengah");
    assert_eq!(rows[0]["award_date"], "2022-11-18");
    let missing = anugerah(&["extract".as_ref(), "--jsonl".as_ref(), tmp.path().join("nope.jsonl").as_os_str()]);
    assert_eq!(missing.status.code(), Some(1));
}

#[test]
fn mentions_come_out_before_the_input_ends() {
    let mut child = Command::new(bin())
        .args(["extract", "--jsonl", "-", "--threads", "2"])
        .env("RUST_LOG", "error")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // One full batch, and the input stays open.
    for i in 0..anugerah::stream::BATCH_LINES {
        writeln!(stdin, "{}", GOOD_JSONL_K1.replace("\"k1\"", &format!("\"k{i}\""))).unwrap();
    }
    stdin.flush().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut first = String::new();
        let _ = BufReader::new(stdout).read_line(&mut first);
        let _ = tx.send(first);
    });
    let first = rx.recv_timeout(std::time::Duration::from_secs(60)).expect("no output while the input is open");
    assert_eq!(json_row(&first)["article_id"], "stdin#k0");
    drop(stdin);
    assert!(child.wait().unwrap().success());
}
