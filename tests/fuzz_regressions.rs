//! Inputs that crashed a fuzz target (`cargo fuzz`, see fuzz/), kept as
//! regression tests.

mod support;

use anugerah::extract;
use anugerah::model::Article;
use anugerah::rules::Rules;
use support::*;

/// Found by `cargo fuzz run extract`: two category matches overlap and
/// `drop_moved_from` slices `sent[w[0].end..w[1].start]` with end > start
/// ("byte range starts at 309 but ends at 145", src/extract/mod.rs).
const OVERLAPPING_CATEGORIES: &[&str] = &[
    "BKN Award 2021\0Kategori I nsPenilaian Kompetensi",
    "BKN Award 2021 Kategori I nsPenilaian Kompetensi",
    "Pemkab Sleman meraih BKN Award 2021 Kategori I nsPenilaian Kompetensi.",
];

fn article(text: &str) -> Article {
    Article::plain("f.txt", text)
}

#[test]
fn extractor_survives_overlapping_categories() {
    let rules = Rules::embedded();
    for t in OVERLAPPING_CATEGORIES {
        let _ = extract::extract(&rules, &article(t));
    }
}

/// Whatever the extractor does with such an article, the batch finishes and
/// the articles beside it keep their mentions.
#[test]
fn batch_survives_an_extractor_crash_input() {
    let tmp = tempfile::tempdir().unwrap();
    let corpus = tmp.path().join("corpus");
    let out = tmp.path().join("out");
    write_good_corpus(&corpus);
    for (i, t) in OVERLAPPING_CATEGORIES.iter().enumerate() {
        write(&corpus, &format!("crash/{i}.txt"), t);
    }
    run_ok(&corpus, &out, &[]);
    let articles = csv_maps(&out.join("articles.csv"));
    let errors = csv_maps(&out.join("errors.csv"));
    for i in 0..OVERLAPPING_CATEGORIES.len() {
        let id = format!("crash/{i}.txt");
        assert!(
            articles.iter().any(|a| a["article_id"] == id) || errors.iter().any(|e| e["article_id"] == id),
            "{id} has neither an article row nor an errors row"
        );
    }
    let mentions = csv_maps(&out.join("mentions.csv"));
    for id in ["txt/sleman.txt", "html/madiun.html", "kiriman.jsonl#k1"] {
        assert!(mentions.iter().any(|m| m["article_id"] == id), "{id} lost its mentions");
    }
}
