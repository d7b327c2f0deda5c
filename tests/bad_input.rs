//! Issue 5: a corpus of broken inputs generated on the fly. The run must
//! finish, every bad input must have its errors row (or a noted decode), and
//! the good articles beside them must keep their mentions.

mod support;

use std::collections::BTreeMap;
use std::fs;
use support::*;

type Row = BTreeMap<String, String>;

fn rows_for<'a>(rows: &'a [Row], id: &str) -> Vec<&'a Row> {
    rows.iter().filter(|r| r["article_id"] == id || r["source_path"] == id).collect()
}

#[test]
fn bad_inputs_give_error_rows_and_good_articles_keep_mentions() {
    let tmp = tempfile::tempdir().unwrap();
    let corpus = tmp.path().join("corpus");
    let out = tmp.path().join("out");
    let (cases, skipped) = write_bad_corpus(&corpus);
    for s in &skipped {
        eprintln!("skipped case: {s}");
    }

    let o = run(&corpus, &out, &["--threads", "2"]);
    let stdout = text(&o.stdout);
    assert!(o.status.success(), "run must finish with status 0 despite bad input: {}\n{stdout}\n{}", o.status, text(&o.stderr));
    assert!(!text(&o.stderr).contains("panicked"), "panic message on stderr: {}", text(&o.stderr));
    for f in TABLE_FILES {
        assert!(out.join(f).is_file(), "{f} missing");
    }

    let articles = csv_maps(&out.join("articles.csv"));
    let mentions = csv_maps(&out.join("mentions.csv"));
    let errors = csv_maps(&out.join("errors.csv"));
    let n_errors = errors.len();
    assert!(stdout.contains(&format!("{n_errors} errors")), "summary must count the errors rows ({n_errors}): {stdout}");
    // No bad input may cost an internal error.
    let internal: Vec<_> = errors.iter().filter(|e| e["stage"] == "extract").collect();
    assert!(internal.is_empty(), "internal errors: {internal:?}");

    let mut failures = Vec::new();
    for c in &cases {
        let article = articles.iter().find(|a| a["article_id"] == c.id);
        let errs: Vec<&Row> = if c.id.contains('#') {
            errors.iter().filter(|e| e["article_id"] == c.id).collect()
        } else {
            rows_for(&errors, &c.id)
        };
        let msg_ok = |stage: &str| {
            errs.iter().any(|e| e["stage"] == stage && c.message.is_none_or(|m| e["message"].to_lowercase().contains(&m.to_lowercase())))
        };
        let ok = match c.expect {
            Expect::Error(stage) => article.is_none() && msg_ok(stage),
            Expect::Decoded => article.is_some_and(|a| a["status"] == "decoded") && msg_ok("decode"),
            Expect::ReadWithMentions => {
                article.is_some_and(|a| a["mentions"] != "0") && mentions.iter().any(|m| m["article_id"] == c.id)
            }
            Expect::Read => article.is_some(),
            Expect::Noted(stage) => msg_ok(stage),
        };
        if !ok {
            failures.push(format!("{c:?}\n    article: {article:?}\n    errors: {errs:?}"));
        }
    }
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));

    // The good articles beside the bad ones keep their mentions.
    for id in ["txt/sleman.txt", "html/madiun.html", "kiriman.jsonl#k1"] {
        assert!(mentions.iter().any(|m| m["article_id"] == id), "good article {id} lost its mentions");
        let a = articles.iter().find(|a| a["article_id"] == id).expect("good article row");
        assert_eq!(a["status"], "ok");
    }
    // Every errors row names its file.
    assert!(errors.iter().all(|e| !e["source_path"].is_empty() && !e["stage"].is_empty() && !e["message"].is_empty()));
    // Decoded text is clean: no CR, no NUL in any evidence.
    assert!(mentions.iter().all(|m| !m["evidence"].contains('\r') && !m["evidence"].contains('\0')));
    // --strict turns the errors rows into a failing exit status.
    let strict = run(&corpus, &tmp.path().join("out-strict"), &["--strict"]);
    assert_eq!(strict.status.code(), Some(1));

    // Leave the tempdir removable when permissions were changed.
    use std::os::unix::fs::PermissionsExt;
    let _ = fs::set_permissions(corpus.join("bad/locked-dir"), fs::Permissions::from_mode(0o700));
}

/// A 50 MB JSON Lines record is refused with an errors row; the records
/// around it are read. Written to a temp folder by the test.
#[test]
fn fifty_megabyte_jsonl_line_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let corpus = tmp.path().join("corpus");
    let out = tmp.path().join("out");
    let mut data = Vec::with_capacity(50_100_000);
    data.extend_from_slice(GOOD_JSONL_K2.as_bytes());
    data.push(b'\n');
    data.extend_from_slice(br#"{"id":"besar","text":""#);
    data.resize(data.len() + 50_000_000, b'a');
    data.extend_from_slice(b"\"}\n");
    data.extend_from_slice(GOOD_JSONL_K1.as_bytes());
    data.push(b'\n');
    write(&corpus, "besar.jsonl", &data);
    drop(data);
    // A 200 MB file without a single newline: sparse, streamed, refused.
    fs::create_dir_all(&corpus).unwrap();
    fs::File::create(corpus.join("nol.jsonl")).and_then(|f| f.set_len(200_000_000)).unwrap();
    // A 200 MB html file: refused by its size before reading.
    fs::File::create(corpus.join("besar.html")).and_then(|f| f.set_len(200_000_000)).unwrap();

    run_ok(&corpus, &out, &[]);
    let errors = csv_maps(&out.join("errors.csv"));
    let articles = csv_maps(&out.join("articles.csv"));
    let big = errors.iter().find(|e| e["article_id"] == "besar.jsonl#2").unwrap_or_else(|| panic!("no error row for the 50 MB line: {errors:?}"));
    assert!(big["message"].contains("limit"), "{big:?}");
    assert!(errors.iter().any(|e| e["source_path"] == "nol.jsonl" && e["message"].contains("limit")), "{errors:?}");
    assert!(errors.iter().any(|e| e["source_path"] == "besar.html" && e["message"].contains("limit")), "{errors:?}");
    let ids: Vec<&str> = articles.iter().map(|a| a["article_id"].as_str()).collect();
    assert_eq!(ids, ["besar.jsonl#k1", "besar.jsonl#k2"]);
    let mentions = csv_maps(&out.join("mentions.csv"));
    assert!(mentions.iter().any(|m| m["article_id"] == "besar.jsonl#k1"));
}
