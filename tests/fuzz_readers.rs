//! Issue 5 property tests: arbitrary bytes and text through the three readers
//! and the extractor must never panic, and what they return must hold
//! together (offsets inside the text, ids under the file's path).

use anugerah::extract;
use anugerah::ingest::{self, decode, html, jsonl, text, FileOutcome, SourceFile};
use anugerah::model::{Article, Format};
use anugerah::rules::Rules;
use proptest::prelude::*;
use std::io::BufReader;
use std::sync::LazyLock;

static RULES: LazyLock<Rules> = LazyLock::new(Rules::embedded);

/// 256 cases per property by default (under a second in all); set
/// PROPTEST_CASES for a longer soak.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256);
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

fn source(format: Format, rel: &str) -> SourceFile {
    SourceFile::new(rel, rel, format)
}

fn article(text: String) -> Article {
    Article::plain("fuzz.txt", text)
}

/// Words of award news, so that random text reaches deep into the extractor.
const VOCAB: &[&str] = &[
    "Pemerintah", "Provinsi", "Kabupaten", "Kota", "Pemkab", "Pemprov", "Pemkot", "Sleman", "Jawa", "Tengah", "Madiun",
    "Batam", "DIY", "Jatim", "Kementerian", "Dalam", "Negeri", "BKN", "Award", "Awards", "2021", "2023", "2024",
    "Adipura", "WTP", "Innovative", "Government", "meraih", "menerima", "diraih", "oleh", "penghargaan", "kategori",
    "Penilaian", "Kinerja", "Manajemen", "Talenta", "peringkat", "pertama", "ke-2", "ke-IV", "juara", "I", "II",
    "terbaik", "Tipe", "A", "Kamis", "(7/12)", "(20/10/2021)", "7", "Desember", "tahun", "lalu", "berikut", ":", ";",
    ",", ".", "dan", "serta", "diikuti", "disusul", "masing-masing", "\n", "\n\n", "-", "•", "1.", "2)", "“", "”",
    "(", ")", "Baca", "juga", "Kanreg", "XII", "Kantor", "Regional", "é", "ẞ", "😀", "\u{200b}", "\u{0}", "İ",
];

fn award_text() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(VOCAB), 0..120).prop_map(|w| w.join(" "))
}

const HTML_BITS: &[&str] = &[
    "<html>", "</html>", "<head>", "</head>", "<body>", "</body>", "<article>", "</article>", "<div>", "</div>",
    "<p>", "</p>", "<h1>", "</h1>", "<title>", "</title>", "<script>", "</script>", "<style>", "</style>", "<nav>",
    "<aside class='related'>", "</aside>", "<br/>", "<!--", "-->", "<!DOCTYPE html>", "<time datetime=\"2023-06-08\">",
    "</time>", "<meta property=\"og:title\" content=\"Judul\">", "<meta property=\"article:published_time\" content=\"2023-13-45\">",
    "<link rel=\"canonical\" href=\"https://x.example/\">", "<script type=\"application/ld+json\">{\"datePublished\": \"2021-10-25\"}",
    "<table><tr><td>", "</td></tr></table>", "<ul><li>", "</li></ul>", "<b>", "</b>", "<a href='", "'>", "&amp;",
    "&nbsp;", "&#x0;", "&#128512;", "<", ">", "\"", "'", "Baca juga: ", "Pemkab Sleman meraih penghargaan BKN Award 2023",
    "kategori Penilaian Kinerja", "Kamis (7/12/2023)", ".", "\n", "é", "\u{0}",
];

fn html_text() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(HTML_BITS), 0..150).prop_map(|w| w.concat())
}

fn json_value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("null".to_string()),
        Just("true".to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|f| if f.is_finite() { f.to_string() } else { "1e999".into() }),
        ".{0,40}".prop_map(|s| serde_json::to_string(&s).unwrap()),
        award_text().prop_map(|s| serde_json::to_string(&s).unwrap()),
        Just("[1, \"a\"]".to_string()),
        Just("{\"x\": {}}".to_string()),
    ]
}

fn json_line() -> impl Strategy<Value = String> {
    let key = prop::sample::select(&["id", "url", "title", "published", "date", "text", "content", "body", "x"][..]);
    prop_oneof![
        3 => prop::collection::vec((key, json_value()), 0..8).prop_map(|kv| {
            let fields: Vec<String> = kv.into_iter().map(|(k, v)| format!("\"{k}\": {v}")).collect();
            format!("{{{}}}", fields.join(", "))
        }),
        1 => ".{0,60}",
        1 => json_value(),
    ]
}

const BOMS: &[&[u8]] = &[b"\xEF\xBB\xBF", b"\xFF\xFE", b"\xFE\xFF", b""];

fn check_article(a: &Article, rel: &str) {
    assert!(a.article_id.starts_with(rel), "{} not under {rel}", a.article_id);
    assert!(!a.text.contains('\0'), "NUL in text");
    assert!(!a.text.contains('\r'), "CR in text");
    assert!(!a.title.as_deref().unwrap_or("").contains('\0'), "NUL in title");
    if let Some(p) = &a.published {
        assert_eq!(p.len(), 10, "published not ISO: {p}");
    }
}

fn check_extraction(a: &Article) {
    let mentions = extract::extract(&RULES, a);
    // The article gate of `extract` must not change what the full reading finds.
    assert_eq!(mentions, extract::extract_traced(&RULES, a).mentions, "gate changed the mentions of {:?}", a.text);
    for m in mentions {
        assert!(m.start >= 0 && m.start <= m.end, "bad span {}..{}", m.start, m.end);
        assert!(a.text.get(m.start as usize..m.end as usize).is_some(), "span {}..{} not in text of {} bytes", m.start, m.end, a.text.len());
        assert!(!m.recipient.is_empty() && !m.program.is_empty());
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn decode_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        if let Ok(d) = decode::decode_bytes(&bytes) {
            prop_assert!(!d.text.contains('\0'));
            prop_assert!(!d.text.contains('\r'));
        }
    }

    #[test]
    fn decode_with_boms_never_panics(bom in prop::sample::select(BOMS),
                                     bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let mut all = bom.to_vec();
        all.extend(bytes);
        let _ = decode::decode_bytes(&all);
    }

    #[test]
    fn text_reader_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..1024)) {
        if let Ok(d) = decode::decode_bytes(&bytes) {
            let a = text::article_from_text(&source(Format::Txt, "f.txt"), d);
            check_article(&a, "f.txt");
        }
    }

    #[test]
    fn html_reader_never_panics_on_markup(page in html_text()) {
        let d = decode::Decoded { text: page, note: None };
        let a = html::article_from_html(&source(Format::Html, "f.html"), d);
        check_article(&a, "f.html");
        check_extraction(&a);
    }

    #[test]
    fn html_reader_never_panics_on_any_text(page in ".{0,400}") {
        let a = html::article_from_html(&source(Format::Html, "f.html"), decode::Decoded { text: page, note: None });
        check_article(&a, "f.html");
    }

    #[test]
    fn html_flatten_never_panics(page in html_text(), limit in 0usize..6) {
        if let Some(flat) = html::flatten_deep(&page, limit) {
            prop_assert!(flat.len() <= page.len() + page.matches('<').count());
        }
    }

    #[test]
    fn jsonl_reader_never_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let mut out = FileOutcome::default();
        jsonl::read_jsonl(&source(Format::Jsonl, "f.jsonl"), BufReader::new(bytes.as_slice()), &mut out);
        for a in &out.articles {
            check_article(a, "f.jsonl#");
        }
    }

    #[test]
    fn jsonl_reader_never_panics_on_records(lines in prop::collection::vec(json_line(), 0..12), crlf in any::<bool>()) {
        let sep = if crlf { "\r\n" } else { "\n" };
        let data = lines.join(sep);
        let mut out = FileOutcome::default();
        jsonl::read_jsonl(&source(Format::Jsonl, "f.jsonl"), BufReader::new(data.as_bytes()), &mut out);
        let non_blank = lines.iter().filter(|l| !l.trim().is_empty()).count();
        prop_assert!(out.articles.len() + out.errors.len() >= non_blank.min(1).min(lines.len()));
        for a in &out.articles {
            check_article(a, "f.jsonl#");
            check_extraction(a);
        }
        for e in &out.errors {
            prop_assert_eq!(e.source_path.as_str(), "f.jsonl");
        }
    }

    #[test]
    fn read_source_never_panics_on_files(bytes in prop::collection::vec(any::<u8>(), 0..1024),
                                         format in prop::sample::select(&[Format::Txt, Format::Html, Format::Jsonl][..])) {
        let dir = tempfile::tempdir().unwrap();
        let name = format!("f.{}", format.as_str());
        let path = dir.path().join(&name);
        std::fs::write(&path, &bytes).unwrap();
        let mut file = SourceFile::new(name.clone(), path, format);
        file.size = bytes.len() as u64;
        let out = ingest::read_source(&file);
        prop_assert!(!out.articles.is_empty() || !out.errors.is_empty() || format == Format::Jsonl);
        for a in &out.articles {
            check_article(a, &name);
            check_extraction(a);
        }
    }

    #[test]
    fn extractor_never_panics_on_any_text(t in "\\PC{0,600}") {
        check_extraction(&article(t));
    }

    #[test]
    fn extractor_never_panics_on_award_text(t in award_text()) {
        check_extraction(&article(t));
    }
}
