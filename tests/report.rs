//! `anugerah report`: a self-contained HTML page over the tables of a run.

mod support;

use std::fs;
use std::path::Path;
use support::*;

/// An HTML page whose title and text carry characters that must be escaped.
const TRICKY_HTML: &str = r#"<!DOCTYPE html><html><head>
<meta property="og:title" content="Banyuwangi &lt;Juara&gt; &amp; &quot;Terbaik&quot; di BKN Award 2021">
<meta property="og:url" content="https://berita.example/banyuwangi?a=1&amp;b=2">
<meta property="article:published_time" content="2021-10-21T09:00:00+07:00"></head>
<body><article><h1>Banyuwangi Juara</h1>
<p>Pemerintah Kabupaten Banyuwangi meraih penghargaan BKN Award 2021 kategori Penilaian Kinerja di Jakarta, Rabu (20/10/2021).</p>
</article></body></html>
"#;

fn report(out: &Path) -> std::process::Output {
    anugerah(&["report".as_ref(), "--out".as_ref(), out.as_os_str()])
}

fn setup() -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let corpus = tmp.path().join("corpus");
    let out = tmp.path().join("out");
    write_good_corpus(&corpus);
    write(&corpus, "html/banyuwangi.html", TRICKY_HTML);
    run_ok(&corpus, &out, &[]);
    (tmp, out)
}

/// (tag, attribute value) for every src/href attribute of the page.
fn resource_attrs(html: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for (i, _) in html.match_indices('<') {
        let tag_end = html[i..].find('>').map_or(html.len(), |e| i + e);
        let tag = &html[i + 1..tag_end];
        let name: String = tag.chars().take_while(|c| c.is_ascii_alphanumeric()).collect::<String>().to_lowercase();
        for attr in ["src=", "href=", "xlink:href=", "srcset=", "poster=", "data="] {
            let mut rest = tag;
            while let Some(p) = rest.to_lowercase().find(attr) {
                let v = rest[p + attr.len()..].trim_start_matches(['"', '\'']);
                let v: String = v.chars().take_while(|c| *c != '"' && *c != '\'' && !c.is_whitespace()).collect();
                found.push((name.clone(), v));
                rest = &rest[p + attr.len()..];
            }
        }
    }
    found
}

#[test]
fn report_is_self_contained_and_has_the_figures() {
    let (_tmp, out) = setup();
    let o = report(&out);
    assert!(o.status.success(), "report failed: {}", text(&o.stderr));
    assert!(text(&o.stdout).contains("report.html"), "stdout: {}", text(&o.stdout));
    let html = fs::read_to_string(out.join("report.html")).unwrap();

    // Headline figures: 5 articles (sleman, madiun, k1, k2, banyuwangi), 4 mentions, 4 recipients, 2 programmes.
    let mentions = csv_maps(&out.join("mentions.csv")).len();
    let articles = csv_maps(&out.join("articles.csv")).len();
    assert_eq!((articles, mentions), (5, 4), "corpus assumptions");
    for (n, label) in [(5, "articles"), (4, "mentions"), (4, "recipients"), (2, "programmes")] {
        let figure = format!("<span class=\"n\">{n}</span><span class=\"l\">{label}</span>");
        assert!(html.contains(&figure), "missing headline figure {figure}");
    }

    // The chart: inline SVG with the provinces of the recipients.
    assert!(html.contains("<svg"), "no inline SVG chart");
    for p in ["DI Yogyakarta", "Jawa Timur", "Jawa Tengah"] {
        let svg = &html[html.find("<svg").unwrap()..html.find("</svg>").unwrap()];
        assert!(svg.contains(&format!(">{p}</text>")), "province {p} missing from the chart");
    }
    for e in ["2021", "2022", "2023"] {
        assert!(html.contains(&format!(">{e}</text>")), "edition {e} missing from the legend");
    }

    // Top recipients and latest mentions.
    assert!(html.contains("Top recipients") && html.contains("Latest mentions"));
    for r in ["Kabupaten Sleman", "Kota Madiun", "Provinsi Jawa Tengah", "Kabupaten Banyuwangi"] {
        assert!(html.contains(r), "recipient {r} missing");
    }
    assert!(html.contains("<a href=\"https://berita.example/madiun-adipura\""), "mention not linked to its article");
    assert!(html.contains("<a href=\"https://berita.example/k1\""), "jsonl mention not linked to its article");

    // Escaping: the tricky title appears escaped, never raw.
    assert!(html.contains("Banyuwangi &lt;Juara&gt; &amp; &quot;Terbaik&quot;"), "title not escaped");
    assert!(!html.contains("<Juara>"), "raw markup from the data in the page");
    assert!(html.contains("href=\"https://berita.example/banyuwangi?a=1&amp;b=2\""), "url not escaped in href");

    // Self-contained: no scripts, no external stylesheets, images, fonts or frames.
    let lower = html.to_lowercase();
    for tag in ["<script", "<link", "<img", "<iframe", "<object", "<embed", "@import", "url("] {
        assert!(!lower.contains(tag), "report must not contain {tag}");
    }
    for (tag, v) in resource_attrs(&html) {
        let external = v.starts_with("http://") || v.starts_with("https://") || v.starts_with("//");
        assert!(tag == "a" || !external, "external resource in <{tag}>: {v}");
    }
}

#[test]
fn report_falls_back_to_csv_and_is_deterministic() {
    let (_tmp, out) = setup();
    assert!(report(&out).status.success());
    let from_parquet = fs::read(out.join("report.html")).unwrap();
    assert!(report(&out).status.success());
    assert!(fs::read(out.join("report.html")).unwrap() == from_parquet, "two reports over the same tables differ");
    for t in ["mentions", "articles"] {
        fs::remove_file(out.join(format!("{t}.parquet"))).unwrap();
    }
    let o = report(&out);
    assert!(o.status.success(), "report from CSV failed: {}", text(&o.stderr));
    assert!(fs::read(out.join("report.html")).unwrap() == from_parquet, "report from CSV differs from report from Parquet");
}

#[test]
fn report_without_tables_fails_with_a_message() {
    let tmp = tempfile::tempdir().unwrap();
    let o = report(tmp.path());
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(err.starts_with("anugerah: ") && err.contains("mentions.parquet"), "stderr: {err}");
    assert!(!tmp.path().join("report.html").exists());
}

#[test]
fn report_refuses_a_folder_anugerah_did_not_write() {
    let (tmp, out) = setup();
    // The same tables, copied into a folder without the output marker.
    let foreign = tmp.path().join("foreign");
    fs::create_dir(&foreign).unwrap();
    for t in ["mentions", "articles"] {
        for ext in ["parquet", "csv"] {
            fs::copy(out.join(format!("{t}.{ext}")), foreign.join(format!("{t}.{ext}"))).unwrap();
        }
    }
    let o = report(&foreign);
    assert!(!o.status.success(), "report wrote into a foreign folder");
    assert!(text(&o.stderr).contains("not written by `anugerah run`"), "stderr: {}", text(&o.stderr));
    assert!(!foreign.join("report.html").exists());
    assert!(report(&out).status.success());
}
