//! Golden test: the bundled corpus (articles written for this project) gives
//! exactly the mentions annotated by hand in `tests/expected/`.

mod support;

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use support::*;

/// The fields of a mention that the annotation fixes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    article: String,
    recipient: String,
    level: String,
    region_code: String,
    program: String,
    edition: String,
    category_key: String,
    category: String,
    rank: String,
    award_date: String,
}

fn field(v: &Value, name: &str) -> String {
    match v.get(name) {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

fn norm(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

fn expected() -> Vec<Key> {
    let mut out = Vec::new();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/expected");
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    assert!(files.len() >= 20, "expected files missing in {}", dir.display());
    for f in files {
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
        let article = field(&doc, "article");
        for m in doc["mentions"].as_array().unwrap() {
            out.push(Key {
                article: article.clone(),
                recipient: field(m, "recipient"),
                level: field(m, "recipient_level"),
                region_code: field(m, "region_code"),
                program: field(m, "program"),
                edition: field(m, "edition"),
                category_key: field(m, "category_key"),
                category: norm(&field(m, "category")),
                rank: field(m, "rank"),
                award_date: field(m, "award_date"),
            });
        }
    }
    out.sort();
    out
}

#[test]
fn bundled_corpus_gives_the_annotated_mentions() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    run_ok(&corpus, &out, &[]);
    let mut got: Vec<Key> = csv_maps(&out.join("mentions.csv"))
        .into_iter()
        .map(|m: BTreeMap<String, String>| Key {
            article: m["article_id"].clone(),
            recipient: m["recipient"].clone(),
            level: m["recipient_level"].clone(),
            region_code: m["region_code"].clone(),
            program: m["program"].clone(),
            edition: m["edition"].clone(),
            category_key: m["category_key"].clone(),
            category: norm(&m["category"]),
            rank: m["rank"].clone(),
            award_date: m["award_date"].clone(),
        })
        .collect();
    got.sort();
    let want = expected();
    let missing: Vec<&Key> = want.iter().filter(|k| !got.contains(k)).collect();
    let extra: Vec<&Key> = got.iter().filter(|k| !want.contains(k)).collect();
    assert!(missing.is_empty() && extra.is_empty(), "missing: {missing:#?}\nextra: {extra:#?}");
}
