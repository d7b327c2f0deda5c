//! `anugerah report`: a self-contained HTML page over the tables of a run.
//!
//! The page has inline CSS and an inline SVG chart, no scripts and no
//! external resources, so it opens offline and can be mailed as one file. It
//! reads `mentions` and `articles` from the output folder (Parquet, or CSV when
//! the Parquet file is missing) and derives the deduplicated awards with
//! [`crate::output::summary_rows`], exactly as the `summary` table is built.

use crate::model::Mention;
use crate::normalize::gazetteer::Gazetteer;
use crate::output::read::{read_articles, read_mentions, ReadError};
use crate::output::{summary_rows, SummaryRow, SCHEMA_VERSION};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// File name of the report inside the output folder.
pub const REPORT_FILE: &str = "report.html";

/// Number of rows in the "top recipients" table.
const TOP_RECIPIENTS: usize = 10;
/// Number of rows in the "latest mentions" table.
const LATEST_MENTIONS: usize = 25;

/// Why the report could not be written.
#[derive(Debug, Error)]
pub enum ReportError {
    /// File system error.
    #[error("{path}: {source}")]
    Io {
        /// Path concerned.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// The folder has no output marker: anugerah did not write it, and does not write into it.
    #[error("{0} was not written by `anugerah run` (no {marker} in it); the report is written only next to anugerah's own tables", marker = crate::pipeline::OUTPUT_MARKER)]
    ForeignFolder(PathBuf),
    /// A table is missing or could not be read.
    #[error(transparent)]
    Read(#[from] ReadError),
}

/// Article fields the report uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArticleInfo {
    /// Article id.
    pub article_id: String,
    /// Canonical URL.
    pub url: Option<String>,
    /// Headline.
    pub title: Option<String>,
    /// Publication date (ISO).
    pub published: Option<String>,
}

/// Reads the `mentions` and `articles` tables of an output folder.
pub fn load(out: &Path) -> Result<(Vec<Mention>, Vec<ArticleInfo>), ReportError> {
    let mentions = read_mentions(out)?;
    let articles = read_articles(out)?
        .into_iter()
        .map(|a| ArticleInfo { article_id: a.article_id, url: a.url, title: a.title, published: a.published })
        .collect();
    Ok((mentions, articles))
}

/// Reads the tables in `out` and writes `out/report.html`; returns its path.
/// A folder without anugerah's output marker is refused (nothing written).
pub fn write_report(out: &Path) -> Result<PathBuf, ReportError> {
    let (mentions, articles) = load(out)?;
    if std::fs::symlink_metadata(out.join(crate::pipeline::OUTPUT_MARKER)).is_err() {
        return Err(ReportError::ForeignFolder(out.to_path_buf()));
    }
    let rules = crate::rules::Rules::embedded();
    let html = render(&mentions, &articles, &rules.gazetteer);
    let path = out.join(REPORT_FILE);
    let tmp = out.join(format!(".{REPORT_FILE}.tmp"));
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |source| ReportError::Io { path: p, source }
    };
    std::fs::write(&tmp, html).map_err(io(&tmp))?;
    std::fs::rename(&tmp, &path).map_err(io(&path))?;
    Ok(path)
}

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            _ => o.push(c),
        }
    }
    o
}

/// Label used for recipients without a region code (ministries, agencies, ...).
pub const NO_PROVINCE: &str = "Tingkat pusat / tanpa wilayah";

/// Province name of a region code (`35.07` → `Jawa Timur`), via the gazetteer.
pub fn province_name(gazetteer: &Gazetteer, region_code: Option<&str>) -> String {
    let Some(code) = region_code.and_then(|c| c.split('.').next()).map(str::trim).filter(|c| !c.is_empty()) else {
        return NO_PROVINCE.to_string();
    };
    gazetteer
        .regions
        .iter()
        .find(|r| r.code == code)
        .map(|r| r.name.clone())
        .unwrap_or_else(|| format!("Wilayah {code}"))
}

const PALETTE: &[&str] =
    &["#1b6ca8", "#e07b39", "#3a9d5d", "#c0392b", "#8e6bbf", "#8c564b", "#d4a017", "#17becf", "#7f7f7f", "#e377c2"];

fn edition_label(e: Option<i32>) -> String {
    e.map_or_else(|| "tanpa tahun".to_string(), |y| y.to_string())
}

/// Awards (summary rows) per province and edition as an SVG stacked bar chart.
fn province_chart(awards: &[SummaryRow], gazetteer: &Gazetteer) -> String {
    let mut counts: BTreeMap<String, BTreeMap<Option<i32>, usize>> = BTreeMap::new();
    let mut editions: BTreeSet<Option<i32>> = BTreeSet::new();
    for a in awards {
        *counts.entry(province_name(gazetteer, a.region_code.as_deref())).or_default().entry(a.edition).or_default() += 1;
        editions.insert(a.edition);
    }
    if counts.is_empty() {
        return "<p class=\"empty\">No awards to chart.</p>".to_string();
    }
    let editions: Vec<Option<i32>> = editions.into_iter().collect();
    let colour = |e: &Option<i32>| PALETTE[editions.iter().position(|x| x == e).unwrap_or(0) % PALETTE.len()];
    let mut rows: Vec<(String, usize, &BTreeMap<Option<i32>, usize>)> =
        counts.iter().map(|(p, m)| (p.clone(), m.values().sum(), m)).collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let most = rows.iter().map(|r| r.1).max().unwrap_or(1).max(1);
    // Axis ends on a tick: steps of 1, 2, 5, 10, 20, 50, ... with at most 6 ticks.
    let step = [1, 2, 5].iter().flat_map(|m| (0..9).map(move |e| m * 10usize.pow(e))).filter(|s| most.div_ceil(*s) <= 6).min().unwrap_or(1);
    let max = most.div_ceil(step) * step;

    let (label_w, bar_w, row_h, top, legend_h) = (230.0, 560.0, 26.0, 16.0, 34.0);
    let width = label_w + bar_w + 60.0;
    let height = top + legend_h + row_h * rows.len() as f64 + 36.0;
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg class=\"chart\" role=\"img\" aria-label=\"Awards per province per edition\" \
         viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\" font-family=\"system-ui, sans-serif\" font-size=\"13\">"
    );
    // Legend.
    let mut x = label_w;
    for e in &editions {
        let label = escape(&edition_label(*e));
        let _ = write!(
            s,
            "<rect x=\"{x}\" y=\"{top}\" width=\"14\" height=\"14\" fill=\"{}\"/><text x=\"{}\" y=\"{}\">{label}</text>",
            colour(e),
            x + 19.0,
            top + 12.0
        );
        x += 30.0 + 8.0 * label.chars().count() as f64;
    }
    // Grid lines and axis ticks.
    let y0 = top + legend_h;
    let y_end = y0 + row_h * rows.len() as f64;
    let mut t = 0;
    while t <= max {
        let gx = label_w + bar_w * t as f64 / max as f64;
        let _ = write!(
            s,
            "<line x1=\"{gx:.1}\" y1=\"{y0}\" x2=\"{gx:.1}\" y2=\"{y_end}\" stroke=\"#ddd\"/>\
             <text x=\"{gx:.1}\" y=\"{}\" text-anchor=\"middle\" fill=\"#666\">{t}</text>",
            y_end + 16.0
        );
        t += step;
    }
    let _ = write!(
        s,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#666\">awards (deduplicated)</text>",
        label_w + bar_w / 2.0,
        y_end + 32.0
    );
    // Bars.
    for (i, (province, total, by_edition)) in rows.iter().enumerate() {
        let y = y0 + row_h * i as f64;
        let _ = write!(
            s,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
            label_w - 8.0,
            y + row_h / 2.0 + 4.5,
            escape(province)
        );
        let mut x = label_w;
        for e in &editions {
            let Some(&n) = by_edition.get(e) else { continue };
            let w = bar_w * n as f64 / max as f64;
            let _ = write!(
                s,
                "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"{:.1}\" fill=\"{}\"><title>{}: {} award{} in {}</title></rect>",
                y + 4.0,
                row_h - 8.0,
                colour(e),
                escape(province),
                n,
                if n == 1 { "" } else { "s" },
                escape(&edition_label(*e))
            );
            if w >= 16.0 {
                let _ = write!(
                    s,
                    "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#fff\" font-size=\"11\">{n}</text>",
                    x + w / 2.0,
                    y + row_h / 2.0 + 4.0
                );
            }
            x += w;
        }
        let _ = write!(s, "<text x=\"{:.1}\" y=\"{:.1}\" fill=\"#333\">{total}</text>", x + 6.0, y + row_h / 2.0 + 4.5);
    }
    s.push_str("</svg>");
    s
}

fn http_url(url: Option<&str>) -> Option<&str> {
    let u = url?.trim();
    let lower = u.to_ascii_lowercase();
    (lower.starts_with("http://") || lower.starts_with("https://")).then_some(u)
}

fn opt(s: Option<&str>) -> String {
    s.map_or_else(|| "<span class=\"null\">–</span>".to_string(), escape)
}

/// Renders the report page.
pub fn render(mentions: &[Mention], articles: &[ArticleInfo], gazetteer: &Gazetteer) -> String {
    let awards = summary_rows(mentions);
    let recipients: BTreeSet<(&str, Option<&str>)> =
        mentions.iter().map(|m| (m.recipient.as_str(), m.region_code.as_deref())).collect();
    let programs: BTreeSet<&str> = mentions.iter().map(|m| m.program.as_str()).collect();
    let editions: BTreeSet<i32> = mentions.iter().filter_map(|m| m.edition).collect();
    let by_id: HashMap<&str, &ArticleInfo> = articles.iter().map(|a| (a.article_id.as_str(), a)).collect();

    let mut h = String::new();
    h.push_str(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>anugerah report</title>\n<style>\n",
    );
    h.push_str(CSS);
    h.push_str("</style>\n</head>\n<body>\n<main>\n<h1>Government awards in the news</h1>\n");
    let span = match (editions.first(), editions.last()) {
        (Some(a), Some(b)) if a != b => format!("editions {a}–{b}"),
        (Some(a), _) => format!("edition {a}"),
        _ => "no editions".to_string(),
    };
    let _ = writeln!(
        h,
        "<p class=\"sub\">Generated by anugerah {} from the <code>mentions</code> and <code>articles</code> tables (schema version {}); {}.</p>",
        escape(env!("CARGO_PKG_VERSION")),
        escape(SCHEMA_VERSION),
        escape(&span)
    );

    // Headline figures.
    h.push_str("<section class=\"figures\">\n");
    for (n, label) in [
        (articles.len(), "articles"),
        (mentions.len(), "mentions"),
        (awards.len(), "awards (deduplicated)"),
        (recipients.len(), "recipients"),
        (programs.len(), "programmes"),
    ] {
        let _ = writeln!(h, "<div class=\"figure\"><span class=\"n\">{n}</span><span class=\"l\">{}</span></div>", escape(label));
    }
    h.push_str("</section>\n");

    // Chart.
    h.push_str("<section>\n<h2>Awards per province per edition</h2>\n");
    h.push_str(
        "<p class=\"note\">One award is one row of the <code>summary</code> table (recipient, programme, edition, category), \
         however many articles report it. Provinces come from the first two digits of <code>region_code</code>.</p>\n",
    );
    h.push_str(&province_chart(&awards, gazetteer));
    h.push_str("\n</section>\n");

    // Top recipients.
    struct Rec<'a> {
        recipient: &'a str,
        level: &'a str,
        region: Option<&'a str>,
        awards: usize,
        mentions: i64,
        articles: BTreeSet<&'a str>,
        best: Option<i32>,
        programs: BTreeSet<&'a str>,
    }
    let mut recs: BTreeMap<(&str, Option<&str>, &str), Rec> = BTreeMap::new();
    for a in &awards {
        let r = recs.entry((&a.recipient, a.region_code.as_deref(), &a.recipient_level)).or_insert_with(|| Rec {
            recipient: &a.recipient,
            level: &a.recipient_level,
            region: a.region_code.as_deref(),
            awards: 0,
            mentions: 0,
            articles: BTreeSet::new(),
            best: None,
            programs: BTreeSet::new(),
        });
        r.awards += 1;
        r.mentions += i64::from(a.mentions);
        r.best = match (r.best, a.best_rank) {
            (Some(x), Some(y)) => Some(x.min(y)),
            (x, y) => x.or(y),
        };
        r.programs.insert(&a.program);
    }
    for m in mentions {
        if let Some(r) = recs.get_mut(&(m.recipient.as_str(), m.region_code.as_deref(), m.recipient_level.as_str())) {
            r.articles.insert(&m.article_id);
        }
    }
    let mut recs: Vec<Rec> = recs.into_values().collect();
    recs.sort_by(|a, b| {
        b.awards.cmp(&a.awards).then(b.mentions.cmp(&a.mentions)).then_with(|| a.recipient.cmp(b.recipient)).then(a.region.cmp(&b.region))
    });
    let _ = writeln!(h, "<section>\n<h2>Top recipients</h2>");
    if recs.is_empty() {
        h.push_str("<p class=\"empty\">No recipients.</p>\n");
    } else {
        h.push_str(
            "<table>\n<thead><tr><th>#</th><th>recipient</th><th>level</th><th>province</th><th class=\"num\">awards</th>\
             <th class=\"num\">mentions</th><th class=\"num\">articles</th><th class=\"num\">best rank</th><th>programmes</th></tr></thead>\n<tbody>\n",
        );
        for (i, r) in recs.iter().take(TOP_RECIPIENTS).enumerate() {
            let _ = writeln!(
                h,
                "<tr><td class=\"num\">{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
                 <td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
                i + 1,
                escape(r.recipient),
                escape(r.level),
                escape(&province_name(gazetteer, r.region)),
                r.awards,
                r.mentions,
                r.articles.len(),
                opt(r.best.map(|b| b.to_string()).as_deref()),
                escape(&r.programs.iter().copied().collect::<Vec<_>>().join(", "))
            );
        }
        h.push_str("</tbody>\n</table>\n");
    }
    h.push_str("</section>\n");

    // Latest mentions.
    let date_of = |m: &Mention| -> Option<String> {
        m.award_date.clone().or_else(|| by_id.get(m.article_id.as_str()).and_then(|a| a.published.clone()))
    };
    let mut latest: Vec<(Option<String>, &Mention)> = mentions.iter().map(|m| (date_of(m), m)).collect();
    latest.sort_by(|(da, a), (db, b)| {
        db.cmp(da).then_with(|| a.article_id.cmp(&b.article_id)).then(a.start.cmp(&b.start)).then_with(|| a.mention_id.cmp(&b.mention_id))
    });
    let _ = writeln!(h, "<section>\n<h2>Latest mentions</h2>");
    h.push_str(
        "<p class=\"note\">By award date (the article's publication date when the award date is unknown); \
         hover a row for the sentence it comes from.</p>\n",
    );
    if latest.is_empty() {
        h.push_str("<p class=\"empty\">No mentions.</p>\n");
    } else {
        h.push_str(
            "<table>\n<thead><tr><th>date</th><th>recipient</th><th>programme</th><th class=\"num\">edition</th>\
             <th>category</th><th class=\"num\">rank</th><th>article</th></tr></thead>\n<tbody>\n",
        );
        for (date, m) in latest.iter().take(LATEST_MENTIONS) {
            let a = by_id.get(m.article_id.as_str());
            let label = a.and_then(|a| a.title.as_deref()).unwrap_or(&m.article_id);
            let article = match http_url(a.and_then(|a| a.url.as_deref())) {
                Some(u) => format!("<a href=\"{}\" rel=\"noopener noreferrer\">{}</a>", escape(u), escape(label)),
                None => format!("{} <span class=\"id\">{}</span>", escape(label), escape(&m.article_id)),
            };
            let _ = writeln!(
                h,
                "<tr title=\"{}\"><td class=\"date\">{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td>{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
                escape(&m.evidence),
                opt(date.as_deref()),
                escape(&m.recipient),
                escape(&m.program),
                opt(m.edition.map(|e| e.to_string()).as_deref()),
                opt(m.category.as_deref()),
                opt(m.rank.map(|r| r.to_string()).as_deref()),
                article
            );
        }
        h.push_str("</tbody>\n</table>\n");
    }
    h.push_str("</section>\n</main>\n</body>\n</html>\n");
    h
}

const CSS: &str = "\
body { margin: 0; background: #f6f7f9; color: #1d2330; font: 14px/1.45 system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; }
main { max-width: 1120px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 26px; margin: 8px 0 4px; }
h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 2px solid #d8dde6; padding-bottom: 4px; }
.sub, .note { color: #5a6372; margin: 4px 0 12px; }
code { background: #eceff4; padding: 0 4px; border-radius: 3px; font-size: 12px; }
.figures { display: flex; flex-wrap: wrap; gap: 12px; margin: 18px 0; }
.figure { background: #fff; border: 1px solid #d8dde6; border-radius: 8px; padding: 12px 18px; min-width: 130px; }
.figure .n { display: block; font-size: 30px; font-weight: 700; color: #1b6ca8; }
.figure .l { color: #5a6372; }
svg.chart { background: #fff; border: 1px solid #d8dde6; border-radius: 8px; max-width: 100%; height: auto; }
table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid #d8dde6; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid #e6e9ef; vertical-align: top; }
th { background: #eef1f6; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.date { white-space: nowrap; font-variant-numeric: tabular-nums; }
tbody tr:nth-child(even) { background: #fafbfc; }
a { color: #1b6ca8; }
.null { color: #a0a7b3; }
.id { color: #8a93a3; font-size: 12px; }
.empty { color: #8a93a3; font-style: italic; }
";
