//! HTML news pages: title, date and URL from the head, main text from the body.

use super::decode::Decoded;
use super::SourceFile;
use crate::model::{Article, Format};
use regex::Regex;
use scraper::{ElementRef, Html, Node, Selector};
use std::sync::LazyLock;

/// Elements whose content never reaches the extractor.
const SKIPPED_ELEMENTS: &[&str] = &[
    "script", "style", "noscript", "nav", "aside", "footer", "header", "form", "button", "iframe", "svg",
    "template", "select", "figcaption",
];

/// Elements that end a line of text.
const BLOCK_ELEMENTS: &[&str] = &[
    "p", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "br", "tr", "td", "th", "table",
    "section", "article", "blockquote", "main", "pre", "dd", "dt", "figure",
];

static BOILERPLATE_CLASS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)related|terkait|share|social|tags?\b|breadcrumb|comment|sidebar|advert|iklan|baca-?juga|newsletter|\bmeta\b|author|byline")
        .expect("static regex")
});
static RELATED_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^\W*(baca|lihat|simak|cek)\s+(juga|pula)\b|^\W*(berita|artikel)\s+(terkait|lainnya)\b|^\W*ikuti\s+berita")
        .expect("static regex")
});
static JSONLD_DATE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#""datePublished"\s*:\s*"([^"]+)""#).expect("static regex"));
static ISO_DATE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s*(\d{4})-(\d{2})-(\d{2})").expect("static regex"));

fn sel(s: &str) -> Selector {
    Selector::parse(s).expect("static selector")
}

/// The `YYYY-MM-DD` at the start of an ISO timestamp, if it is a real date.
pub fn iso_date_prefix(s: &str) -> Option<String> {
    let c = ISO_DATE.captures(s)?;
    let (y, m, d) = (c[1].parse::<i32>().ok()?, c[2].parse::<u32>().ok()?, c[3].parse::<u32>().ok()?);
    chrono::NaiveDate::from_ymd_opt(y, m, d).map(|d| d.format("%Y-%m-%d").to_string())
}

/// Builds an article from a decoded HTML page.
pub fn article_from_html(file: &SourceFile, decoded: Decoded) -> Article {
    let doc = Html::parse_document(&decoded.text);
    let meta = |selector: &str| -> Option<String> {
        doc.select(&sel(selector))
            .filter_map(|e| e.value().attr("content").or_else(|| e.value().attr("href")))
            .map(|s| s.trim().to_string())
            .find(|s| !s.is_empty())
    };
    let first_text = |selector: &str| -> Option<String> {
        doc.select(&sel(selector)).map(|e| collapse(&e.text().collect::<String>())).find(|s| !s.is_empty())
    };
    let title = meta(r#"meta[property="og:title"]"#)
        .or_else(|| first_text("title"))
        .or_else(|| first_text("h1"));
    let url = meta(r#"meta[property="og:url"]"#).or_else(|| meta(r#"link[rel="canonical"]"#));
    let published = meta(r#"meta[property="article:published_time"]"#)
        .or_else(|| meta(r#"meta[itemprop="datePublished"]"#))
        .or_else(|| meta(r#"meta[name="pubdate"]"#))
        .or_else(|| {
            doc.select(&sel("time[datetime]"))
                .filter_map(|e| e.value().attr("datetime"))
                .find_map(iso_date_prefix)
        })
        .or_else(|| {
            doc.select(&sel(r#"script[type="application/ld+json"]"#))
                .find_map(|e| JSONLD_DATE.captures(&e.text().collect::<String>()).map(|c| c[1].to_string()))
        })
        .and_then(|d| iso_date_prefix(&d));

    let main = main_block(&doc);
    let mut text = main.map(block_text).unwrap_or_default();
    if let Some(h1) = first_text("h1") {
        if !text.contains(&h1) {
            text = if text.is_empty() { h1 } else { format!("{h1}\n{text}") };
        }
    }
    Article {
        article_id: file.rel_path.clone(),
        source_path: file.rel_path.clone(),
        format: Format::Html,
        url,
        title,
        published,
        text,
        decode_note: decoded.note,
    }
}

/// The `<article>` with the most text, or else the element holding the most paragraph text.
fn main_block(doc: &Html) -> Option<ElementRef<'_>> {
    let best_article = doc
        .select(&sel("article"))
        .map(|a| (paragraph_chars(a), a))
        .filter(|(n, _)| *n > 0)
        .max_by_key(|(n, _)| *n)
        .map(|(_, a)| a);
    if best_article.is_some() {
        return best_article;
    }
    let mut scores: Vec<(ego_tree::NodeId, usize)> = Vec::new();
    for p in doc.select(&sel("p")) {
        if let Some(parent) = p.parent().and_then(ElementRef::wrap) {
            let n = p.text().map(str::len).sum::<usize>();
            match scores.iter_mut().find(|(id, _)| *id == parent.id()) {
                Some(entry) => entry.1 += n,
                None => scores.push((parent.id(), n)),
            }
        }
    }
    let best = scores.iter().max_by_key(|(_, n)| *n).map(|(id, _)| *id);
    match best {
        Some(id) => doc.tree.get(id).and_then(ElementRef::wrap),
        None => doc.select(&sel("body")).next().or_else(|| Some(doc.root_element())),
    }
}

fn paragraph_chars(e: ElementRef<'_>) -> usize {
    e.select(&sel("p")).map(|p| p.text().map(str::len).sum::<usize>()).sum()
}

fn is_skipped(e: &scraper::node::Element) -> bool {
    if SKIPPED_ELEMENTS.contains(&e.name()) {
        return true;
    }
    let class_id = format!("{} {}", e.attr("class").unwrap_or(""), e.attr("id").unwrap_or(""));
    !class_id.trim().is_empty() && BOILERPLATE_CLASS.is_match(&class_id)
}

/// Visible text of a block, one line per block element, boilerplate lines dropped.
/// Walks the tree with an explicit stack so deeply nested pages cannot overflow.
fn block_text(root: ElementRef<'_>) -> String {
    let mut raw = String::new();
    let mut stack: Vec<(ego_tree::NodeRef<'_, Node>, bool)> = vec![(*root, false)];
    while let Some((node, leaving)) = stack.pop() {
        match node.value() {
            Node::Text(t) if !leaving => raw.push_str(t),
            Node::Element(e) => {
                let block = BLOCK_ELEMENTS.contains(&e.name());
                if leaving {
                    if block {
                        raw.push('\n');
                    }
                    continue;
                }
                if node.id() != root.id() && is_skipped(e) {
                    continue;
                }
                if block {
                    raw.push('\n');
                }
                stack.push((node, true));
                let children: Vec<_> = node.children().collect();
                for child in children.into_iter().rev() {
                    stack.push((child, false));
                }
            }
            _ => {}
        }
    }
    raw.lines()
        .map(collapse)
        .filter(|l| !l.is_empty() && !RELATED_LINE.is_match(l))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Collapses runs of white space (including non-breaking spaces) to one space.
fn collapse(s: &str) -> String {
    s.split(|c: char| c.is_whitespace()).filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn parse(html: &str) -> Article {
        let file = SourceFile { rel_path: "a.html".into(), path: PathBuf::from("a.html"), format: Format::Html, size: 0, mtime_ns: 0 };
        article_from_html(&file, Decoded { text: html.into(), note: None })
    }

    #[test]
    fn head_metadata_and_main_text() {
        let a = parse(r#"<html><head><title>T | Portal</title><meta property="og:title" content="Judul">
            <meta property="article:published_time" content="2023-06-08T10:00:00+07:00">
            <link rel="canonical" href="https://x.id/a"><script>var a="penghargaan";</script></head>
            <body><nav>Menu Penghargaan</nav><article><h1>Judul</h1><div class="meta">Bagikan</div>
            <p>Kota Batam meraih <b>penghargaan</b>.</p><p>Baca juga: Kota lain meraih penghargaan</p></article>
            <aside>Populer</aside><footer>(c)</footer></body></html>"#);
        assert_eq!(a.title.as_deref(), Some("Judul"));
        assert_eq!(a.published.as_deref(), Some("2023-06-08"));
        assert_eq!(a.url.as_deref(), Some("https://x.id/a"));
        assert_eq!(a.text, "Judul\nKota Batam meraih penghargaan.");
    }

    #[test]
    fn no_article_takes_densest_block_and_jsonld_date() {
        let a = parse(r#"<html><head><script type="application/ld+json">{"datePublished": "2021-10-25T08:00:00Z"}</script></head>
            <body><div class="x"><p>Pendek.</p></div><div class="content"><p>Paragraf satu yang panjang sekali.</p><p>Paragraf dua juga panjang.</p></div></body></html>"#);
        assert_eq!(a.published.as_deref(), Some("2021-10-25"));
        assert_eq!(a.text, "Paragraf satu yang panjang sekali.\nParagraf dua juga panjang.");
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let html = format!("<html><body>{}<p>isi</p>{}</body></html>", "<div>".repeat(100_000), "</div>".repeat(100_000));
        let a = parse(&html);
        assert!(a.text.contains("isi"));
    }
}
