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

/// The CSS selectors the reader uses, parsed once.
struct Selectors {
    og_title: Selector,
    og_url: Selector,
    canonical: Selector,
    published_time: Selector,
    item_published: Selector,
    pubdate: Selector,
    time: Selector,
    json_ld: Selector,
    title: Selector,
    h1: Selector,
    article: Selector,
    p: Selector,
    body: Selector,
}

static SEL: LazyLock<Selectors> = LazyLock::new(|| {
    let sel = |s: &str| Selector::parse(s).expect("static selector");
    Selectors {
        og_title: sel(r#"meta[property="og:title"]"#),
        og_url: sel(r#"meta[property="og:url"]"#),
        canonical: sel(r#"link[rel="canonical"]"#),
        published_time: sel(r#"meta[property="article:published_time"]"#),
        item_published: sel(r#"meta[itemprop="datePublished"]"#),
        pubdate: sel(r#"meta[name="pubdate"]"#),
        time: sel("time[datetime]"),
        json_ld: sel(r#"script[type="application/ld+json"]"#),
        title: sel("title"),
        h1: sel("h1"),
        article: sel("article"),
        p: sel("p"),
        body: sel("body"),
    }
});

/// The `YYYY-MM-DD` at the start of an ISO timestamp, if it is a real date.
pub fn iso_date_prefix(s: &str) -> Option<String> {
    let c = ISO_DATE.captures(s)?;
    let (y, m, d) = (c[1].parse::<i32>().ok()?, c[2].parse::<u32>().ok()?, c[3].parse::<u32>().ok()?);
    chrono::NaiveDate::from_ymd_opt(y, m, d).map(|d| d.format("%Y-%m-%d").to_string())
}

/// Builds an article from a decoded HTML page.
pub fn article_from_html(file: &SourceFile, decoded: Decoded) -> Article {
    let (doc, note) = match flatten_deep(&decoded.text, MAX_HTML_DEPTH) {
        Some(flat) => {
            let n = format!("html nested deeper than {MAX_HTML_DEPTH} levels: inner levels flattened");
            (Html::parse_document(&flat), Some(match decoded.note { Some(d) => format!("{d}; {n}"), None => n }))
        }
        None => (Html::parse_document(&decoded.text), decoded.note),
    };
    let sel = &*SEL;
    let meta = |selector: &Selector| -> Option<String> {
        doc.select(selector)
            .filter_map(|e| e.value().attr("content").or_else(|| e.value().attr("href")))
            .map(|s| s.trim().to_string())
            .find(|s| !s.is_empty())
    };
    let first_text = |selector: &Selector| -> Option<String> {
        doc.select(selector).map(|e| collapse(&e.text().collect::<String>())).find(|s| !s.is_empty())
    };
    let title = meta(&sel.og_title)
        .or_else(|| first_text(&sel.title))
        .or_else(|| first_text(&sel.h1));
    let url = meta(&sel.og_url).or_else(|| meta(&sel.canonical));
    let published = meta(&sel.published_time)
        .or_else(|| meta(&sel.item_published))
        .or_else(|| meta(&sel.pubdate))
        .or_else(|| {
            doc.select(&sel.time)
                .filter_map(|e| e.value().attr("datetime"))
                .find_map(iso_date_prefix)
        })
        .or_else(|| {
            doc.select(&sel.json_ld)
                .find_map(|e| JSONLD_DATE.captures(&e.text().collect::<String>()).map(|c| c[1].to_string()))
        })
        .and_then(|d| iso_date_prefix(&d));

    let main = main_block(&doc);
    let mut text = main.map(block_text).unwrap_or_default();
    if let Some(h1) = first_text(&sel.h1) {
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
        decode_note: note,
    }
}

/// Deepest element nesting parsed as is. The HTML parser checks the stack of
/// open elements for many start tags, so its time grows with the square of the
/// depth (100,000 nested `<div>`s took 15 s); deeper levels are flattened first.
pub const MAX_HTML_DEPTH: usize = 512;

/// Void elements and elements whose end tag may be omitted: they do not
/// reliably add a nesting level, so the depth count ignores them.
const UNCOUNTED_ELEMENTS: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr",
    "keygen", "p", "li", "dt", "dd", "option", "optgroup", "tr", "td", "th", "thead", "tbody", "tfoot", "colgroup",
    "caption", "rb", "rt", "rtc", "rp", "html", "head", "body",
];

/// Elements whose content is raw text, not markup.
const RAW_TEXT_ELEMENTS: &[&str] = &["script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes", "noscript"];

#[derive(Debug, Clone, Copy, PartialEq)]
enum TagKind {
    Open,
    Close,
}

/// Calls `f(start, end, kind, name)` for every start or end tag that counts
/// towards nesting, with its byte range. A light scan, not a parser: comments,
/// doctypes and raw-text elements are skipped, quoted attribute values are
/// honoured. All offsets fall on ASCII bytes, so they are char boundaries.
fn scan_tags(html: &str, mut f: impl FnMut(usize, usize, TagKind, &str)) {
    let b = html.as_bytes();
    let mut i = 0usize;
    let find = |from: usize, pat: &[u8]| -> Option<usize> {
        b.get(from..)?.windows(pat.len()).position(|w| w.eq_ignore_ascii_case(pat)).map(|p| from + p)
    };
    while let Some(off) = b.get(i..).and_then(|rest| rest.iter().position(|&c| c == b'<')) {
        let start = i + off;
        let next = b.get(start + 1).copied().unwrap_or(0);
        if b.get(start..start + 4) == Some(b"<!--") {
            match find(start + 4, b"-->") {
                Some(e) => i = e + 3,
                None => return,
            }
            continue;
        }
        if next == b'!' || next == b'?' {
            match find(start + 1, b">") {
                Some(e) => i = e + 1,
                None => return,
            }
            continue;
        }
        let (close, name_at) = if next == b'/' { (true, start + 2) } else { (false, start + 1) };
        if !b.get(name_at).is_some_and(u8::is_ascii_alphabetic) {
            i = start + 1;
            continue;
        }
        let name_end = b[name_at..].iter().position(|c| !c.is_ascii_alphanumeric() && *c != b'-').map_or(b.len(), |p| name_at + p);
        // Find the closing `>`, skipping quoted attribute values.
        let mut j = name_end;
        let mut quote: Option<u8> = None;
        let mut after_eq = false;
        let end = loop {
            let Some(&c) = b.get(j) else { break None };
            match quote {
                Some(q) if c == q => quote = None,
                Some(_) => {}
                None if c == b'>' => break Some(j),
                None if (c == b'"' || c == b'\'') && after_eq => quote = Some(c),
                None => {}
            }
            if quote.is_none() && !c.is_ascii_whitespace() {
                after_eq = c == b'=';
            }
            j += 1;
        };
        let Some(end) = end else { return };
        let name = html[name_at..name_end].to_ascii_lowercase();
        i = end + 1;
        let self_closing = b.get(end.wrapping_sub(1)) == Some(&b'/');
        if !close && RAW_TEXT_ELEMENTS.contains(&name.as_str()) {
            let closing = format!("</{name}");
            match find(i, closing.as_bytes()) {
                Some(e) => i = e,
                None => return,
            }
            continue;
        }
        if UNCOUNTED_ELEMENTS.contains(&name.as_str()) || (self_closing && !close) {
            continue;
        }
        f(start, end + 1, if close { TagKind::Close } else { TagKind::Open }, &name);
    }
}

/// The page with every tag nested deeper than `limit` removed (block tags
/// become line breaks, so the text keeps its lines), or `None` when the page
/// is not that deep.
pub fn flatten_deep(html: &str, limit: usize) -> Option<String> {
    // Every level opens with a `<`: a page with fewer cannot be too deep (most pages).
    if super::decode::count_bytes(html.as_bytes(), |b| b == b'<') <= limit {
        return None;
    }
    let (mut depth, mut max) = (0usize, 0usize);
    scan_tags(html, |_, _, kind, _| match kind {
        TagKind::Open => {
            depth += 1;
            max = max.max(depth);
        }
        TagKind::Close => depth = depth.saturating_sub(1),
    });
    if max <= limit {
        return None;
    }
    let mut out = String::with_capacity(html.len());
    let (mut copied, mut depth, mut excess) = (0usize, 0usize, 0usize);
    scan_tags(html, |start, end, kind, name| {
        let drop = match kind {
            TagKind::Open if depth >= limit => {
                excess += 1;
                true
            }
            TagKind::Open => {
                depth += 1;
                false
            }
            TagKind::Close if excess > 0 => {
                excess -= 1;
                true
            }
            TagKind::Close => {
                depth = depth.saturating_sub(1);
                false
            }
        };
        if drop {
            out.push_str(&html[copied..start]);
            if BLOCK_ELEMENTS.contains(&name) {
                out.push('\n');
            }
            copied = end;
        }
    });
    out.push_str(&html[copied..]);
    Some(out)
}

/// The `<article>` with the most text, or else the element holding the most paragraph text.
fn main_block(doc: &Html) -> Option<ElementRef<'_>> {
    let best_article = doc
        .select(&SEL.article)
        .map(|a| (paragraph_chars(a), a))
        .filter(|(n, _)| *n > 0)
        .max_by_key(|(n, _)| *n)
        .map(|(_, a)| a);
    if best_article.is_some() {
        return best_article;
    }
    let mut scores: Vec<(ego_tree::NodeId, usize)> = Vec::new();
    for p in doc.select(&SEL.p) {
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
        None => doc.select(&SEL.body).next().or_else(|| Some(doc.root_element())),
    }
}

fn paragraph_chars(e: ElementRef<'_>) -> usize {
    e.select(&SEL.p).map(|p| p.text().map(str::len).sum::<usize>()).sum()
}

fn is_skipped(e: &scraper::node::Element) -> bool {
    if SKIPPED_ELEMENTS.contains(&e.name()) {
        return true;
    }
    // Each boilerplate word is one token, so class and id can be searched apart.
    [e.attr("class"), e.attr("id")].into_iter().flatten().any(|v| BOILERPLATE_CLASS.is_match(v))
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
                let mut child = node.last_child();
                while let Some(c) = child {
                    stack.push((c, false));
                    child = c.prev_sibling();
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
    let mut out = String::with_capacity(s.len());
    for word in s.split(char::is_whitespace).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(html: &str) -> Article {
        let file = SourceFile::new("a.html", "a.html", Format::Html);
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
        let started = std::time::Instant::now();
        let a = parse(&html);
        assert!(a.text.contains("isi"));
        assert!(a.decode_note.unwrap().contains("flattened"));
        // Quadratic in the depth before flattening: about 15 s.
        assert!(started.elapsed() < std::time::Duration::from_secs(3), "took {:?}", started.elapsed());
    }

    #[test]
    fn deep_lists_and_formatting_are_flattened() {
        for (open, close) in [("<ul><li>x", "</li></ul>"), ("<b><div>", "</div></b>"), ("<table><tr><td>", "</td></tr></table>")] {
            let html = format!("<html><body>{}<p>Kota Batam meraih penghargaan.</p>{}</body></html>", open.repeat(50_000), close.repeat(50_000));
            let started = std::time::Instant::now();
            let a = parse(&html);
            assert!(a.text.contains("Kota Batam meraih penghargaan."), "{open}: {:?}", a.text.get(..200));
            assert!(started.elapsed() < std::time::Duration::from_secs(3), "{open} took {:?}", started.elapsed());
        }
    }

    #[test]
    fn flatten_keeps_shallow_pages_and_text() {
        let page = r#"<html><head><script>if (a < b) { x = "<div>"; }</script><!-- <div><div> --></head>
            <body><div class='a>b'><p>satu<br/>dua</p><img src=x><div>tiga</div></div></body></html>"#;
        assert_eq!(flatten_deep(page, 2), None);
        let deep = "<div><div><div><span>a</span></div><div>b</div></div></div>";
        assert_eq!(flatten_deep(deep, 2).as_deref(), Some("<div><div>\na\n\nb\n</div></div>"));
        assert_eq!(flatten_deep(deep, 3).as_deref(), Some("<div><div><div>a</div><div>b</div></div></div>"));
        assert_eq!(flatten_deep("<div><div><div>", 1).as_deref(), Some("<div>\n\n"));
        for s in ["<", "</", "<a", "<a href='", "<!--", "<!doctype", "<script>", "</div>", "<div/>"] {
            let _ = flatten_deep(s, 0);
        }
    }
}
