//! Article-level context: sentences, programme editions, candidate years and the
//! ceremony date that sentences without their own date inherit.

use super::sentences::Sentence;
use crate::model::Article;
use crate::normalize::date::DateMatch;
use crate::normalize::program::{year_after, Naming};
use crate::rules::Rules;
use regex::Regex;
use std::cell::OnceCell;
use std::collections::BTreeMap;
use std::sync::LazyLock;

static YEAR: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?-u:\b)(20[0-3]\d|199\d)(?-u:\b)").expect("static regex"));
static URL_YEAR: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"/(20[0-3]\d)/").expect("static regex"));
static EVENT_CUE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)penghargaan|award|anugerah|diserahkan|menyerahkan|penyerahan|menerima|meraih|diraih|acara|digelar|berlangsung|dilaksanakan|diumumkan|pengumuman|malam|puncak|trofi|piagam|predikat|selamat|hadirin|seremoni|upacara|rakornas|rakernas|rapat\s+koordinasi")
        .expect("static regex")
});
static EARLIER: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?i)^\W{0,3}(?:yang\s+)?lalu(?-u:\b)").expect("static regex"));
static OTHER_EVENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)peraturan|(?-u:\b)nomor(?-u:\b)|(?-u:\b)SK(?-u:\b)|undang-undang|pendaftaran|batas\s+waktu|(?-u:\b)akan(?-u:\b)|(?-u:\b)rencana(?-u:\b)|keterangan\s+(?:resmi|tertulis)").expect("static regex")
});

/// What the whole article says that single sentences rely on. The sentences
/// and the programmes named are read at once; the rest (`Facts`) only when
/// a sentence first needs it, so articles whose sentences give no mention
/// never look for dates.
#[derive(Debug)]
pub struct DocContext<'a> {
    rules: &'a Rules,
    article: &'a Article,
    /// Sentences in text order.
    pub sentences: Vec<Sentence>,
    /// Programmes named anywhere in the article, and where.
    pub naming: Naming,
    facts: OnceCell<Facts>,
}

/// Editions, candidate years and dates of an article.
#[derive(Debug)]
struct Facts {
    /// Edition per programme name: the first year written right after its name.
    editions: BTreeMap<String, i32>,
    /// Years to try for a dateline without one, most likely first.
    years: Vec<i32>,
    /// Dates per sentence index.
    dates: BTreeMap<usize, Vec<DateMatch>>,
    /// The ceremony date: (ISO date, text, sentence index).
    event: Option<(String, String, usize)>,
    /// Publication date: from the page or feed, else a full date in the first lines.
    published: Option<chrono::NaiveDate>,
}

impl<'a> DocContext<'a> {
    /// Splits the article into sentences; `naming` tells the programmes it names.
    pub fn build(rules: &'a Rules, article: &'a Article, naming: Naming) -> DocContext<'a> {
        let sentences = super::sentences_of(&article.text);
        DocContext { rules, article, sentences, naming, facts: OnceCell::new() }
    }

    fn facts(&self) -> &Facts {
        self.facts.get_or_init(|| Facts::read(self.rules, self.article, &self.sentences, &self.naming))
    }
}

impl Facts {
    /// Reads the article once for its editions, years and dates.
    fn read(rules: &Rules, article: &Article, sentences: &[Sentence], naming: &Naming) -> Facts {
        let text = article.text.as_str();
        let mut editions = BTreeMap::new();
        let found = rules.programs.find_in(text, naming);
        for p in &found {
            if let Some(y) = year_after(text, p.end) {
                editions.entry(p.name.clone()).or_insert(y);
            }
        }
        // "predikat WBK dan WBBM tahun 2024": a year after the last of several
        // programmes named in one sentence is the edition of each.
        for s in sentences {
            let here: Vec<_> = found.iter().filter(|p| p.start >= s.start && p.end <= s.end).collect();
            if let Some(y) = here.iter().find_map(|p| year_after(text, p.end)) {
                for p in &here {
                    editions.entry(p.name.clone()).or_insert(y);
                }
            }
        }
        let mut counts: BTreeMap<i32, usize> = BTreeMap::new();
        for c in YEAR.captures_iter(text) {
            if let Ok(y) = c[1].parse::<i32>() {
                *counts.entry(y).or_default() += 1;
            }
        }
        let mut years: Vec<i32> = Vec::new();
        let mut push = |y: i32| {
            if !years.contains(&y) {
                years.push(y);
            }
        };
        if let Some(y) = article.published.as_deref().and_then(|p| p.get(..4)).and_then(|y| y.parse().ok()) {
            push(y);
        }
        if let Some(y) = article.url.as_deref().and_then(|u| URL_YEAR.captures(u)).and_then(|c| c[1].parse().ok()) {
            push(y);
        }
        for y in editions.values() {
            push(*y);
            push(*y + 1);
        }
        let mut by_count: Vec<(i32, usize)> = counts.into_iter().collect();
        by_count.sort_by_key(|(y, n)| (std::cmp::Reverse(*n), std::cmp::Reverse(*y)));
        for (y, _) in by_count {
            push(y);
        }
        // One pass over the text; each date goes to the sentence that holds it,
        // with offsets made relative to that sentence.
        let mut dates: BTreeMap<usize, Vec<DateMatch>> = BTreeMap::new();
        for mut d in rules.dates.find_all(text) {
            let i = sentences.partition_point(|s| s.end <= d.start);
            let Some(s) = sentences.get(i).filter(|s| s.start <= d.start && d.end <= s.end) else { continue };
            d.start -= s.start;
            d.end -= s.start;
            dates.entry(i).or_default().push(d);
        }
        let published = article
            .published
            .as_deref()
            .and_then(|p| chrono::NaiveDate::parse_from_str(p.get(..10)?, "%Y-%m-%d").ok())
            .or_else(|| {
                dates.range(..3).flat_map(|(_, found)| found.iter()).find_map(|d| d.year.and_then(|_| d.resolve(&[])))
            });
        let mut facts = Facts { editions, years, dates, event: None, published };
        facts.event = facts.find_event(rules, text, sentences);
        facts
    }

    /// The ceremony date: the first date beside a handover or award word that
    /// does not belong to an earlier event ("pada 17 Desember 2020 lalu").
    fn find_event(&self, rules: &Rules, text: &str, sentences: &[Sentence]) -> Option<(String, String, usize)> {
        for (i, found) in &self.dates {
            let s = sentences.get(*i)?;
            let sent = &text[s.start..s.end];
            if !EVENT_CUE.is_match(sent) || OTHER_EVENT.is_match(sent) {
                continue;
            }
            if let Some((d, t)) = self.resolve_in(rules, sent, found) {
                return Some((d, t, *i));
            }
        }
        // Wire copy: "... berlangsung di Jakarta, Kamis." with the date only in the byline.
        let published = self.published?;
        sentences.iter().enumerate().find_map(|(i, s)| {
            let sent = &text[s.start..s.end];
            if !EVENT_CUE.is_match(sent) || OTHER_EVENT.is_match(sent) {
                return None;
            }
            let (d, t) = rules.dates.weekday_before(sent, published)?;
            Some((d.format("%Y-%m-%d").to_string(), t, i))
        })
    }

    /// The first date of a sentence that is not marked as an earlier event.
    fn resolve_in(&self, rules: &Rules, sent: &str, found: &[DateMatch]) -> Option<(String, String)> {
        found.iter().filter(|d| !EARLIER.is_match(sent.get(d.end..).unwrap_or(""))).find_map(|d| {
            rules.dates.resolve(d, &self.years).map(|x| (x.format("%Y-%m-%d").to_string(), d.text.clone()))
        })
    }
}

impl DocContext<'_> {
    /// Edition of a programme in this article, if written.
    pub fn edition_for(&self, program: &str) -> Option<i32> {
        self.facts().editions.get(program).copied()
    }

    /// Year of the ceremony date, if any.
    pub fn event_year(&self) -> Option<i32> {
        self.facts().event.as_ref().and_then(|(d, _, _)| d.get(..4)).and_then(|y| y.parse().ok())
    }

    /// The award date for a mention in sentence `index`: a date in that sentence,
    /// else the article's ceremony date unless the award is from another edition.
    pub fn date_for(&self, rules: &Rules, text: &str, index: usize, edition: Option<i32>, program: &str) -> Option<(String, String)> {
        let facts = self.facts();
        if let (Some(found), Some(s)) = (facts.dates.get(&index), self.sentences.get(index)) {
            if let Some(hit) = facts.resolve_in(rules, &text[s.start..s.end], found) {
                return Some(hit);
            }
        }
        let (date, text, _) = facts.event.as_ref()?;
        let doc_edition = self.edition_for(program);
        let event_year: i32 = date.get(..4)?.parse().ok()?;
        match (edition, doc_edition) {
            (Some(e), Some(d)) if e != d => None,
            (Some(e), None) if e != event_year && e + 1 != event_year => None,
            _ => Some((date.clone(), text.clone())),
        }
    }
}
