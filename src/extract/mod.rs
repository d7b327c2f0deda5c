//! Award-mention extraction: sentences with award cues, their recipients, and the
//! programme, category, rank, edition and date that go with each recipient.

pub mod context;
pub mod recipients;
pub mod scan;
pub mod sentences;
pub mod triggers;

use crate::model::{Article, Level, Mention};
use crate::normalize::category::CategoryMatch;
use crate::normalize::program::{year_after, Naming, ProgramMatch};
use crate::normalize::rank::RankMatch;
use crate::rules::Rules;
use context::DocContext;
use recipients::Recipient;
use regex::Regex;
use scan::Hit;
use sentences::Sentence;
use std::sync::LazyLock;

/// Why a sentence with an award cue gave no mention, or which rule made one.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceLine {
    /// Byte span of the sentence.
    pub start: usize,
    /// End of the sentence.
    pub end: usize,
    /// What happened ("mention", or the reason it gave none).
    pub outcome: String,
    /// Field-level provenance: (field, rule, text).
    pub fields: Vec<(String, String, String)>,
}

/// Mentions of one article and the trace that explains them.
#[derive(Debug, Clone, Default)]
pub struct Extraction {
    /// Mentions, deduplicated, in text order.
    pub mentions: Vec<Mention>,
    /// One line per sentence that had an award cue.
    pub trace: Vec<TraceLine>,
}

static LIST_GAP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^(?:\s*\([^)]*\))?\s*(?:,|;|,?\s*dan|,?\s*serta|&)?\s*(?:juga\s+)?$").expect("static regex")
});
static GROUP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?-u:\b)(?:pemerintah\s+)?(?:provinsi\s+|kabupaten\s+|kota\s+)?(?:wilayah\s+\w+\s+)?tipe\s+(?:[ABC](?-u:\b)|besar|kecil|sedang|provinsi\s+besar|provinsi\s+kecil)|(?-u:\b)(?:kota|kabupaten)\s+(?:metropolitan|besar|sedang|kecil)(?-u:\b)")
        .expect("static regex")
});
static GENERIC_CATEGORY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?-u:\b)(?:kategori|katagori|ketegori)\s+(?:\W\s*)?(?P<c>[A-Za-z][A-Za-z/\-]*(?:\s+[A-Za-z][A-Za-z/\-]*){0,5}?)(?:\W*\s*(?:[,.;:()”“]|$)|\s+(?:dari|pada|tahun|yang|dalam|di|untuk|dengan|oleh|sebagai|diraih|diperoleh|dan|serta|ini|itu|tersebut|karena|atas|se|kepada|bagi|diberikan|dianugerahkan|diserahkan|\d+)(?-u:\b))")
        .expect("static regex")
});
static TIED_YEAR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)(?-u:\b)(?:tahun(?:\s+anggaran)?|TA\.?|LKPD|pada|periode|edisi)\s+((?:19|20)\d\d)(?-u:\b)").expect("static regex"));
static PREVIOUS_YEAR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?-u:\b)tahun\s+(?:sebelumnya|lalu|kemarin)|(?-u:\b)sebelumnya\s+pada\s+tahun").expect("static regex")
});

/// "berikut" ("as follows") in any case, the word of a sentence that opens a
/// list of winners. Unicode case folding, as lower-casing the sentence would
/// give ("BERI\u{212A}UT" with a Kelvin sign too), without a copy per sentence.
static LIST_OPENER: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?i)berikut").expect("static regex"));

/// Trace outcome of a sentence about an award that nobody is said to win.
const NO_WINNING_VERB: &str = "no winning verb";

/// The article prefilter: an award word or a programme name anywhere in `text`.
/// Text without either never reaches sentence splitting.
pub fn mentions_awards(rules: &Rules, text: &str) -> bool {
    rules.triggers.article.any(text) || rules.programs.names_any(text)
}

/// Per-sentence results computed at most once per article.
struct SentenceCache<'a> {
    rules: &'a Rules,
    text: &'a str,
    sentences: &'a [Sentence],
    programs: Vec<std::cell::OnceCell<Vec<ProgramMatch>>>,
    recipients: Vec<std::cell::OnceCell<Vec<Recipient>>>,
    award: Vec<std::cell::OnceCell<bool>>,
    win: Vec<std::cell::OnceCell<bool>>,
    /// Award words, related-link lines and programme names per sentence, from
    /// one search of the whole text each (see [`scan`]).
    award_hits: Vec<Hit>,
    related_hits: Vec<Hit>,
    program_hits: Vec<Hit>,
    /// Programmes named anywhere in the article; sentences are searched for these only.
    named: Vec<usize>,
}

impl<'a> SentenceCache<'a> {
    fn new(rules: &'a Rules, text: &'a str, sentences: &'a [Sentence], naming: &Naming) -> Self {
        let n = sentences.len();
        SentenceCache {
            rules,
            text,
            sentences,
            programs: (0..n).map(|_| std::cell::OnceCell::new()).collect(),
            recipients: (0..n).map(|_| std::cell::OnceCell::new()).collect(),
            award: (0..n).map(|_| std::cell::OnceCell::new()).collect(),
            win: (0..n).map(|_| std::cell::OnceCell::new()).collect(),
            award_hits: rules.triggers.award.hits(text, sentences),
            related_hits: rules.triggers.related.hits(text, sentences),
            program_hits: rules.programs.hits(text, sentences, naming),
            named: naming.named.clone(),
        }
    }

    /// Whether sentence `i` has an award word.
    fn award(&self, i: usize) -> bool {
        *self.award[i].get_or_init(|| {
            self.award_hits.get(i).copied().unwrap_or(Hit::Maybe).or_search(|| self.rules.triggers.award.any(self.sentence(i)))
        })
    }

    /// Whether sentence `i` is a related-link line.
    fn related(&self, i: usize) -> bool {
        self.related_hits.get(i).copied().unwrap_or(Hit::Maybe).or_search(|| self.rules.triggers.related.any(self.sentence(i)))
    }

    /// Whether sentence `i` has a winning word.
    fn win(&self, i: usize) -> bool {
        *self.win[i].get_or_init(|| self.rules.triggers.win.any(self.sentence(i)))
    }

    fn sentence(&self, i: usize) -> &'a str {
        self.sentences.get(i).map(|s| &self.text[s.start..s.end]).unwrap_or("")
    }

    /// Programmes named in sentence `i`.
    fn programs(&self, i: usize) -> &[ProgramMatch] {
        self.programs[i].get_or_init(|| {
            if self.program_hits.get(i) == Some(&Hit::No) {
                return Vec::new();
            }
            self.rules.programs.find_among(self.sentence(i), &self.named)
        })
    }

    /// Recipients of sentence `i`, programme names excluded.
    fn recipients(&self, i: usize) -> &[Recipient] {
        self.recipients[i].get_or_init(|| {
            let excluded: Vec<(usize, usize)> = self.programs(i).iter().map(|p| (p.start, p.end)).collect();
            recipients::find(&self.rules.gazetteer, &self.rules.triggers, self.sentence(i), &excluded)
        })
    }
}

/// One recipient group and the text that describes its award.
struct Slot<'a> {
    members: Vec<&'a Recipient>,
    start: usize,
    primary: (usize, usize),
    secondary: (usize, usize),
    follows: bool,
}

/// Extracts the mentions of one article.
///
/// Every mention needs a programme: one named in the article, or the BKN
/// Award implied by a category name. An article with neither is answered
/// without reading its sentences (the same mentions, none, as
/// [`extract_traced`] gives, without the trace).
pub fn extract(rules: &Rules, article: &Article) -> Vec<Mention> {
    let text = article.text.as_str();
    let naming = rules.programs.naming(text);
    // With no programme named, the article needs an award word (the prefilter,
    // [`mentions_awards`]) and a category name.
    if naming.named.is_empty() && !(rules.triggers.article.any(text) && rules.categories.may_imply_program(text)) {
        return Vec::new();
    }
    extract_named(rules, article, naming).mentions
}

/// Extracts the mentions of one article with an explanation per sentence.
pub fn extract_traced(rules: &Rules, article: &Article) -> Extraction {
    if !mentions_awards(rules, &article.text) {
        return Extraction::default();
    }
    extract_named(rules, article, rules.programs.naming(&article.text))
}

/// [`extract_traced`] of an article that passed the prefilter and names the programmes `naming` tells.
fn extract_named(rules: &Rules, article: &Article, naming: Naming) -> Extraction {
    let mut out = Extraction::default();
    let text = article.text.as_str();
    let doc = DocContext::build(rules, article, naming);
    let mut current_program: Option<ProgramMatch> = None;
    let mut list_category: Option<(String, Option<String>)> = None;
    let mut list_open = false;
    let cache = SentenceCache::new(rules, text, &doc.sentences, &doc.naming);
    let main = std::cell::OnceCell::new();
    let mut candidates: Vec<Mention> = Vec::new();
    // Index of the last sentence that reported a win (with or without a named recipient).
    let mut last_win: Option<usize> = None;
    let mut aggregated: Vec<(String, String)> = Vec::new();
    let mut table: Option<TableColumns> = None;
    let mut list_recipient: Option<Recipient> = None;

    for (si, s) in doc.sentences.iter().enumerate() {
        let sent = &text[s.start..s.end];
        let programs = cache.programs(si);
        let own_program = programs.iter().min_by_key(|p| (p.index, p.start)).cloned();
        if let Some(p) = &own_program {
            current_program = Some(p.clone());
        }
        // A short line without a full stop right after a list opener is an item too
        // (HTML <li> entries, lines under "Berikut daftar pemenang:").
        let list_item = s.list_item || (list_open && sent.len() < 90 && !sent.trim_end().ends_with('.'));
        if !list_item {
            list_open = sent.trim_end().ends_with(':') || (sent.len() < 200 && LIST_OPENER.is_match(sent) && cache.win(si));
            list_category = None;
            list_recipient = None;
            if list_open {
                let opener = cache.recipients(si);
                if opener.len() == 1 && cache.win(si) {
                    list_recipient = opener.first().map(Recipient::carried);
                }
                // "Untuk kategori provinsi, predikat Provinsi Terinovatif diraih oleh:" names the items' category.
                if let Some(p) = cache.programs(si).first().cloned().or_else(|| current_program.clone()) {
                    let year = || doc.edition_for(&p.name).or(doc.event_year());
                    let bkn = rules.programs.get(&p).is_some_and(|d| d.bkn);
                    if let Some(c) = categories(rules, sent, &p, &year).first() {
                        list_category = Some((c.text.clone(), if bkn { Some(c.key.clone()) } else { None }));
                    }
                }
            }
        }
        // Tables written as lines: "No | Instansi | Kategori | Peringkat" then one row per winner.
        if sent.matches('|').count() >= 2 {
            let cells: Vec<&str> = sent.split('|').map(str::trim).collect();
            if let Some(columns) = TableColumns::from_header(&rules.triggers, &cells) {
                table = Some(columns);
                continue;
            }
            if let (Some(columns), Some(program)) = (&table, current_program.clone()) {
                let rows = table_row(rules, &doc, text, si, s, &cells, columns, &program, &cache);
                if !rows.is_empty() {
                    out.trace.push(TraceLine { start: s.start, end: s.end, outcome: "mention (table row)".into(), fields: vec![] });
                    candidates.extend(rows);
                    continue;
                }
            }
        } else if !list_item {
            table = None;
        }
        if cache.related(si) {
            out.trace.push(TraceLine { start: s.start, end: s.end, outcome: "related-link line".into(), fields: vec![] });
            continue;
        }
        let continues = last_win.is_some_and(|w| si <= w + 2) && rules.triggers.syntax("continuation").any(sent);
        if !cache.award(si) && !(list_item && list_category.is_some()) && !continues {
            continue;
        }
        let mut trace = TraceLine { start: s.start, end: s.end, outcome: String::new(), fields: vec![] };
        let inferred = if own_program.is_none() && current_program.is_none() { rules.programs.implied_by_categories(&rules.categories, sent) } else { None };
        if inferred.is_some() {
            current_program = inferred.clone();
        }
        let Some(program) = own_program.clone().or_else(|| current_program.clone()) else {
            trace.outcome = "no programme named in or before the sentence".into();
            out.trace.push(trace);
            continue;
        };
        let Some(prog_def) = rules.programs.get(&program) else { continue };
        trace.fields.push(("program".into(), if own_program.is_some() { "programs.toml".into() } else { "programs.toml (earlier sentence)".into() }, program.name.clone()));
        if let Some(m) = rules.triggers.not_yet.first(sent) {
            trace.outcome = format!("plan or hope, not a win (`{}`)", m.as_str());
            out.trace.push(trace);
            continue;
        }
        if let Some(m) = rules.triggers.person.first(sent) {
            trace.outcome = format!("award to persons or non-government bodies (`{}`)", m.as_str());
            out.trace.push(trace);
            continue;
        }
        // Outside a list, with neither a winning word nor a continuation, only a
        // pronoun subject can make the sentence a win (`winning` below): without
        // one it has no winning verb, known before its recipients, categories
        // and ranks are searched (half of the sentences read, in award news).
        if !list_item && !continues && !cache.win(si) && !rules.triggers.pronoun.any(sent) {
            trace.outcome = NO_WINNING_VERB.into();
            out.trace.push(trace);
            continue;
        }
        let found = cache.recipients(si).to_vec();
        // Categories and ranks of the sentence.
        let year_for_numbers = || doc.edition_for(&program.name).or(doc.event_year());
        let mut cats = categories(rules, sent, &program, &year_for_numbers);
        if let Some(l) = rules.triggers.listing.first(sent) {
            // "terbagi dari tingkat Padapa, Wiwerda dan Wistara": definitions, not awards.
            cats.retain(|c| c.end <= l.start());
        }
        let ranks = rules.ranks.find_all(sent);
        let winning = cache.win(si)
            || (list_item && list_open)
            || continues
            || (found.is_empty() && !cats.is_empty() && rules.triggers.pronoun.any(sent));


        // "Dua penghargaan yang diraih Pemprov Babel yakni:" then one award per item.
        let found = if list_item && found.is_empty() { list_recipient.iter().cloned().collect() } else { found };
        if list_item && found.is_empty() {
            if let Some(c) = cats.first() {
                list_category = Some((c.text.clone(), if prog_def.bkn { Some(c.key.clone()) } else { None }));
                trace.outcome = "list heading: category for the items below".into();
                out.trace.push(trace);
                continue;
            }
        }
        if !winning {
            trace.outcome = NO_WINNING_VERB.into();
            out.trace.push(trace);
            continue;
        }
        last_win = Some(si);
        let mut rule = if list_item { "list-item" } else { "sentence" };
        let found: Vec<Recipient> = if found.is_empty() {
            let informative = !cats.is_empty() || !ranks.is_empty();
            let usable = informative && !rules.triggers.listing.any(sent);
            match usable.then(|| main.get_or_init(|| main_recipient(rules, &doc, &cache)).as_ref()).flatten() {
                Some(m) => {
                    rule = "article-recipient";
                    vec![m.carried()]
                }
                None => {
                    trace.outcome = "no government recipient".into();
                    out.trace.push(trace);
                    continue;
                }
            }
        } else {
            found
        };
        if cats.is_empty() && rules.triggers.aggregate.any(sent) {
            aggregated.extend(found.iter().map(|r| (r.official.clone(), program.name.clone())));
            trace.outcome = "aggregate without a category".into();
            out.trace.push(trace);
            continue;
        }

        let slots = slots(rules, sent, &found);
        let edition = sentence_edition(&doc, sent, &program, programs);
        let mut previous_last_rank: Option<i32> = None;
        for slot in &slots {
            let pick = |range: (usize, usize)| -> (Vec<CategoryMatch>, Vec<RankMatch>) {
                let c = cats.iter().filter(|c| c.start >= range.0 && c.end <= range.1).cloned().collect();
                let r = ranks.iter().filter(|r| r.start >= range.0 && r.end <= range.1).cloned().collect();
                (c, r)
            };
            let (mut scats, mut sranks) = pick(slot.primary);
            let (c2, r2) = pick(slot.secondary);
            if scats.is_empty() {
                scats = c2;
            }
            if scats.is_empty() {
                scats = carried_categories(rules, sent, &cats, slot.primary.0.min(slot.secondary.0).max(slot.start));
            }
            if sranks.is_empty() && !slot.follows {
                sranks = r2;
            }
            // "peringkat kedua Jawa Timur": a rank right before the group is its own.
            if let Some(adjacent) = ranks.iter().rev().find(|r| {
                r.end <= slot.start && sent[r.end..slot.start].trim_matches(|c: char| c.is_whitespace() || c == ':').is_empty()
            }) {
                sranks = vec![adjacent.clone()];
            }
            let ctx = sent.get(slot.primary.0.min(slot.secondary.0)..slot.primary.1.max(slot.secondary.1)).unwrap_or("");
            if rules.triggers.not_award.any(sent.get(slot.primary.0..slot.primary.1).unwrap_or("")) {
                continue;
            }
            let in_order = rules.triggers.syntax("in_order").any(ctx) && slot.members.len() > 1;
            // "menempati peringkat kedua dan ketiga": one rank per member, in order.
            let paired = slot.members.len() > 1 && sranks.len() == slot.members.len();
            let start_rank = if slot.follows {
                previous_last_rank.map(|r| r + 1)
            } else {
                sranks.first().map(|r| r.rank).or(if in_order && ctx.to_lowercase().contains("terbaik") { Some(1) } else { None })
            };
            for (mi, member) in slot.members.iter().enumerate() {
                let date = doc.date_for(rules, text, si, edition, &program.name);
                let member_rank = if let Some(r) = parenthesised_rank(rules, sent, member.end) {
                    Some(r)
                } else if paired {
                    sranks.get(mi).map(|r| r.rank)
                } else if slot.follows || in_order {
                    start_rank.map(|r| r + mi as i32)
                } else {
                    None
                };
                let mut rows: Vec<(Option<CategoryMatch>, Option<(i32, String)>)> = Vec::new();
                let cat_list: Vec<Option<CategoryMatch>> = if !scats.is_empty() {
                    if slot.members.len() > 1 && scats.len() == slot.members.len() && rules.triggers.syntax("respectively").any(ctx) {
                        vec![scats.get(mi).cloned()]
                    } else {
                        scats.iter().cloned().map(Some).collect()
                    }
                } else if let Some((text, key)) = list_category.clone().filter(|_| list_item) {
                    vec![Some(CategoryMatch { key: key.unwrap_or_default(), text, start: 0, end: 0 })]
                } else if rules.triggers.syntax("same_category").any(ctx) {
                    let prev = candidates
                        .iter()
                        .rev()
                        .find(|m| m.recipient == member.official && m.program == program.name && m.category.is_some())
                        .or_else(|| candidates.iter().rev().find(|m| m.program == program.name && m.category.is_some()));
                    vec![prev.and_then(|m| {
                        m.category.clone().map(|text| CategoryMatch { key: m.category_key.clone().unwrap_or_default(), text, start: 0, end: 0 })
                    })]
                } else {
                    vec![None]
                };
                let real_cats: Vec<CategoryMatch> = cat_list.iter().flatten().filter(|c| c.end > 0).cloned().collect();
                let shared = rules.triggers.syntax("respectively").any(ctx);
                for c in cat_list {
                    let rank = if let Some(r) = member_rank {
                        Some((r, "in order".to_string()))
                    } else {
                        match c.as_ref().filter(|c| c.end > 0 && real_cats.len() > 1) {
                            Some(c) => rank_for_category(c, &real_cats, &sranks, shared),
                            None => sranks.first().map(|r| (r.rank, r.text.clone())),
                        }
                    };
                    rows.push((c, rank));
                }
                for (c, rank) in rows {
                    let (category, key) = match (&c, prog_def.bkn) {
                        (Some(c), true) => (Some(clean_category(&c.text)), Some(c.key.clone()).filter(|k| !k.is_empty())),
                        (Some(c), false) => (Some(clean_category(&c.text)), None),
                        (None, _) if prog_def.level_category && matches!(member.level, Level::Provinsi | Level::Kabupaten | Level::Kota) => {
                            (Some(member.level.as_str().to_string()), None)
                        }
                        (None, _) => (None, None),
                    };
                    let group = GROUP.find(ctx).map(|m| m.as_str().trim().to_string());
                    if let Some((r, _)) = &rank {
                        previous_last_rank = Some(*r);
                    }
                    let mut fields = vec![("recipient".to_string(), rule.to_string(), member.raw.clone())];
                    if let Some(c) = &c {
                        fields.push(("category".into(), "categories.toml".into(), c.text.clone()));
                    }
                    if let Some((_, t)) = &rank {
                        fields.push(("rank".into(), "ranks.toml".into(), t.clone()));
                    }
                    if let Some((_, t)) = &date {
                        fields.push(("award_date".into(), "dates.toml".into(), t.clone()));
                    }
                    if let Some(y) = edition {
                        fields.push(("edition".into(), "year after the programme / tied to the sentence / article".into(), y.to_string()));
                    }
                    trace.fields.extend(fields);
                    candidates.push(Mention {
                        mention_id: String::new(),
                        article_id: article.article_id.clone(),
                        program: program.name.clone(),
                        edition,
                        recipient: member.official.clone(),
                        recipient_raw: member.raw.clone(),
                        recipient_level: member.level,
                        region_code: member.code.clone(),
                        category,
                        category_key: key,
                        group,
                        rank: rank.as_ref().map(|r| r.0),
                        rank_text: rank.map(|r| r.1),
                        award_date: date.as_ref().map(|d| d.0.clone()),
                        date_text: date.as_ref().map(|d| d.1.clone()),
                        evidence: sent.to_string(),
                        start: s.start as i64,
                        end: s.end as i64,
                        rule: if slot.members.len() > 1 && rule == "sentence" { "winners-list".to_string() } else { rule.to_string() },
                    });
                }
            }
        }
        last_win = Some(si);
        trace.outcome = "mention".into();
        out.trace.push(trace);
    }
    share_predicates(rules, &mut candidates);
    // A body the article only credits with a count of awards ("memboyong tiga
    // penghargaan") gets no row of its own without a category.
    candidates.retain(|m| {
        m.category.is_some()
            || m.rule == "winners-list"
            || m.rule == "list-item"
            || !aggregated.iter().any(|(r, p)| *r == m.recipient && *p == m.program)
    });
    out.mentions = dedupe(candidates);
    for m in &mut out.mentions {
        m.article_id.clone_from(&article.article_id);
        m.mention_id = mention_id(&m.article_id, m.start, m.end, &m.recipient, m.category_key.as_deref().or(m.category.as_deref()), m.rank);
    }
    out
}

/// Which cells of a winners table hold the recipient, the category and the rank.
#[derive(Debug, Clone, Copy)]
struct TableColumns {
    recipient: usize,
    category: Option<usize>,
    rank: Option<usize>,
}

impl TableColumns {
    /// Reads a header row ("No | Instansi | Kategori | Peringkat").
    fn from_header(cues: &triggers::Triggers, cells: &[&str]) -> Option<TableColumns> {
        let find = |name: &str| cells.iter().position(|c| c.len() < 40 && cues.syntax(name).any(c));
        let recipient = find("table_recipient")?;
        let category = find("table_category");
        let rank = find("table_rank");
        (category.is_some() || rank.is_some()).then_some(TableColumns { recipient, category, rank })
    }
}

/// The mentions of one table row under `columns`.
#[allow(clippy::too_many_arguments)]
fn table_row(
    rules: &Rules,
    doc: &DocContext<'_>,
    text: &str,
    si: usize,
    s: &Sentence,
    cells: &[&str],
    columns: &TableColumns,
    program: &ProgramMatch,
    cache: &SentenceCache<'_>,
) -> Vec<Mention> {
    let Some(cell) = cells.get(columns.recipient) else { return vec![] };
    let found = recipients::find(&rules.gazetteer, &rules.triggers, cell, &[]);
    let Some(r) = found.first() else { return vec![] };
    let Some(def) = rules.programs.get(program) else { return vec![] };
    let category_text = columns.category.and_then(|c| cells.get(c)).map(|c| clean_category(c)).filter(|c| !c.is_empty());
    let (category, category_key) = match &category_text {
        Some(c) if def.bkn => {
            let year = || doc.edition_for(&program.name).or(doc.event_year());
            let key = categories(rules, c, program, &year).first().map(|m| m.key.clone()).filter(|k| !k.is_empty());
            (Some(c.clone()), key.or_else(|| Some("lainnya".to_string())))
        }
        Some(c) => (Some(c.clone()), None),
        None => (None, None),
    };
    let rank_cell = columns.rank.and_then(|c| cells.get(c)).copied().unwrap_or("");
    let rank = rules.ranks.number(rank_cell).or_else(|| rules.ranks.find_all(rank_cell).first().map(|m| m.rank));
    let sent = &text[s.start..s.end];
    let edition = sentence_edition(doc, sent, program, cache.programs(si));
    let date = doc.date_for(rules, text, si, edition, &program.name);
    vec![Mention {
        mention_id: String::new(),
        article_id: String::new(),
        program: program.name.clone(),
        edition,
        recipient: r.official.clone(),
        recipient_raw: r.raw.clone(),
        recipient_level: r.level,
        region_code: r.code.clone(),
        category,
        category_key,
        group: None,
        rank,
        rank_text: rank.map(|_| rank_cell.to_string()),
        award_date: date.as_ref().map(|d| d.0.clone()),
        date_text: date.map(|d| d.1),
        evidence: sent.to_string(),
        start: s.start as i64,
        end: s.end as i64,
        rule: "table-row".to_string(),
    }]
}

/// The body an article is about: among the recipients of its winning sentences,
/// the one named most often in the whole text (the earliest on a tie).
fn main_recipient(rules: &Rules, doc: &DocContext<'_>, cache: &SentenceCache<'_>) -> Option<Recipient> {
    let mut candidates: Vec<(Recipient, usize)> = Vec::new();
    for i in 0..doc.sentences.len() {
        let sent = cache.sentence(i);
        if !cache.award(i) || !cache.win(i) || rules.triggers.not_yet.any(sent) || cache.related(i) {
            continue;
        }
        for r in cache.recipients(i).iter().cloned() {
            if !candidates.iter().any(|(c, _)| c.official == r.official) {
                candidates.push((r, 0));
            }
        }
    }
    if candidates.len() <= 1 {
        return candidates.pop().map(|c| c.0);
    }
    for i in 0..doc.sentences.len() {
        for r in recipients::find(&rules.gazetteer, &rules.triggers, cache.sentence(i), &[]) {
            if let Some(c) = candidates.iter_mut().find(|(c, _)| c.official == r.official) {
                c.1 += 1;
            }
        }
    }
    let best = candidates.iter().map(|c| c.1).max()?;
    candidates.into_iter().find(|c| c.1 == best).map(|c| c.0)
}

/// Categories of a sentence: BKN keys for BKN programmes, the programme's own
/// terms or a "kategori X" phrase for the others. `year` (the edition, whose
/// numbering "Kategori III" follows) is asked for only when a number is written.
fn categories(rules: &Rules, sent: &str, program: &ProgramMatch, year: &dyn Fn() -> Option<i32>) -> Vec<CategoryMatch> {
    let Some(def) = rules.programs.get(program) else { return vec![] };
    if def.bkn {
        let mut named = rules.categories.find_named(sent);
        let numbered = if rules.categories.may_number(sent) { rules.categories.find_numbered(sent, year()) } else { Vec::new() };
        for n in numbered {
            let dup = named.iter().any(|c| c.key == n.key || (c.start >= n.end && c.start - n.end < 3));
            if !dup {
                named.push(n);
            }
        }
        named.retain(|c| !rules.triggers.syntax("except_before").any(&sent[..c.start]));
        drop_moved_from(&rules.triggers, sent, &mut named);
        named.sort_by_key(|c| c.start);
        return named;
    }
    let mut out: Vec<CategoryMatch> = Vec::new();
    for re in &def.category_terms {
        for c in re.captures_iter(sent) {
            let Some(m) = c.name("term").or_else(|| c.get(0)) else { continue };
            if !out.iter().any(|o| o.start < m.end() && m.start() < o.end) {
                out.push(CategoryMatch { key: String::new(), text: m.as_str().to_string(), start: m.start(), end: m.end() });
            }
        }
    }
    if out.is_empty() && !def.level_category && def.generic_category {
        for c in GENERIC_CATEGORY.captures_iter(sent) {
            if let Some(m) = c.name("c").filter(|m| !rules.triggers.syntax("not_a_category").any(m.as_str()) && !GROUP.is_match(m.as_str())) {
                out.push(CategoryMatch { key: String::new(), text: m.as_str().to_string(), start: m.start(), end: m.end() });
            }
        }
    }
    out.sort_by_key(|c| c.start);
    drop_moved_from(&rules.triggers, sent, &mut out);
    out
}

/// "naik dari kategori Madya ke Nindya": the category moved from is not the award.
fn drop_moved_from(syntax: &triggers::Triggers, sent: &str, cats: &mut Vec<CategoryMatch>) {
    let from: Vec<usize> = cats
        .windows(2)
        .filter(|w| {
            let between = sent.get(w[0].end..w[1].start).unwrap_or("");
            !between.is_empty() && syntax.syntax("moved_to").any(between) && syntax.syntax("moved_from").any(sent.get(..w[0].start).unwrap_or(""))
        })
        .map(|w| w[0].start)
        .collect();
    cats.retain(|c| !from.contains(&c.start));
}

fn clean_category(s: &str) -> String {
    let t = s.trim().trim_matches(|c: char| !c.is_alphanumeric() && c != ')');
    t.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Splits the recipients of a sentence into groups (lists) and the spans that describe each.
fn slots<'a>(rules: &Rules, sent: &str, found: &'a [Recipient]) -> Vec<Slot<'a>> {
    let mut groups: Vec<Vec<&Recipient>> = Vec::new();
    for r in found {
        match groups.last_mut() {
            Some(g) if g.last().is_some_and(|l| sent.get(l.end..r.start).is_some_and(|gap| LIST_GAP.is_match(gap))) => g.push(r),
            _ => groups.push(vec![r]),
        }
    }
    let bounds: Vec<(usize, usize)> = groups
        .iter()
        .map(|g| (g.first().map(|r| r.start).unwrap_or(0), g.last().map(|r| r.end).unwrap_or(0)))
        .collect();
    let mut out = Vec::new();
    for (i, g) in groups.into_iter().enumerate() {
        let (gs, ge) = bounds[i];
        let left = (if i == 0 { 0 } else { bounds[i - 1].1 }, gs);
        let right = (ge, bounds.get(i + 1).map(|b| b.0).unwrap_or(sent.len()));
        let left_text = sent.get(left.0..left.1).unwrap_or("");
        let passive = gs > 0 && rules.triggers.syntax("passive_end").any(left_text);
        let follows = i > 0 && rules.triggers.syntax("followed_by").any(left_text);
        let (primary, mut secondary) = if passive { (left, right) } else { (right, left) };
        // The text between two active groups describes the first one ("A raih X, B bawa pulang Y").
        if !passive && out.last().is_some_and(|p: &Slot<'_>| p.primary == left) {
            secondary = (left.1, left.1);
        }
        out.push(Slot { members: g, start: gs, primary, secondary, follows });
    }
    out
}

/// "Pemprov Jatim (peringkat 1)": a rank in parentheses right after a recipient.
fn parenthesised_rank(rules: &Rules, sent: &str, end: usize) -> Option<i32> {
    let rest = sent.get(end..)?.trim_start();
    let inner = rest.strip_prefix('(')?;
    let close = inner.find(')')?;
    rules.ranks.find_all(inner.get(..close)?).first().map(|r| r.rank)
}

/// The rank of one of several categories in a sentence: a lone rank before all
/// categories, or with "masing-masing", is shared; otherwise each rank belongs
/// to the category right after it, or failing that the one right before it.
fn rank_for_category(c: &CategoryMatch, cats: &[CategoryMatch], ranks: &[RankMatch], shared: bool) -> Option<(i32, String)> {
    let as_pair = |r: &RankMatch| (r.rank, r.text.clone());
    if ranks.len() == 1 && (shared || cats.iter().all(|k| ranks[0].end <= k.start)) {
        return ranks.first().map(as_pair);
    }
    let owner = |r: &RankMatch| -> Option<usize> {
        let after = cats.iter().position(|k| k.start >= r.end);
        let before = cats.iter().rposition(|k| k.end <= r.start);
        match (before, after) {
            (_, Some(a)) if before.is_none_or(|b| b + 1 == a) && !cats[a..].is_empty() => {
                // Rank between two categories: it opens the next one unless the next one already has its own rank before it.
                let next_has_own = ranks.iter().any(|o| o.start > r.end && o.end <= cats[a].start);
                if next_has_own { before } else { Some(a) }
            }
            (b, _) => b,
        }
    };
    let me = cats.iter().position(|k| k.start == c.start && k.end == c.end)?;
    ranks.iter().find(|r| owner(r) == Some(me)).map(as_pair)
}

/// Categories named earlier in the sentence that a passive clause carries over
/// to a later recipient ("dalam kategori X ini di tingkat kementerian diraih A, ... oleh B").
fn carried_categories(rules: &Rules, sent: &str, cats: &[CategoryMatch], slot_start: usize) -> Vec<CategoryMatch> {
    let before: Vec<&CategoryMatch> = cats.iter().filter(|c| c.end <= slot_start).collect();
    let Some(last) = before.last() else { return vec![] };
    let between = sent.get(last.end..slot_start).unwrap_or("");
    if rules.triggers.syntax("carries_category").any(between) {
        vec![(*last).clone()]
    } else {
        vec![]
    }
}

/// Edition of a sentence's award: a year after the programme's name, a year tied
/// to the sentence ("pada tahun 2019"), the year before the article's edition
/// ("tahun sebelumnya"), or the article's edition for that programme.
fn sentence_edition(doc: &DocContext<'_>, sent: &str, program: &ProgramMatch, programs: &[ProgramMatch]) -> Option<i32> {
    if let Some(y) = programs.iter().filter(|p| p.name == program.name).find_map(|p| year_after(sent, p.end)) {
        return Some(y);
    }
    if let Some(c) = TIED_YEAR.captures(sent) {
        if let Ok(y) = c[1].parse::<i32>() {
            return Some(y);
        }
    }
    let base = doc.edition_for(&program.name);
    if PREVIOUS_YEAR.is_match(sent) {
        return base.map(|y| y - 1);
    }
    base
}

/// Programmes that award predicates (Zona Hijau, Nindya): when an article gives one
/// predicate for a programme and edition, its rows without a category take it.
fn share_predicates(rules: &Rules, rows: &mut [Mention]) {
    let predicate_programs: Vec<&str> = rules
        .programs
        .programs
        .iter()
        .filter(|p| p.shared_category)
        .map(|p| p.name.as_str())
        .collect();
    let mut shared: Vec<((String, Option<i32>), Option<String>)> = Vec::new();
    for m in rows.iter().filter(|m| predicate_programs.contains(&m.program.as_str())) {
        let Some(c) = &m.category else { continue };
        if Level::parse(c).is_some() {
            // A level of government ("kabupaten") is not a predicate others share.
            continue;
        }
        let key = (m.program.clone(), m.edition);
        match shared.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) if v.as_deref().map(str::to_lowercase) != Some(c.to_lowercase()) => *v = None,
            Some(_) => {}
            None => shared.push((key, Some(c.clone()))),
        }
    }
    for m in rows.iter_mut().filter(|m| m.category.is_none()) {
        if let Some((_, Some(c))) = shared.iter().find(|(k, _)| k.0 == m.program && k.1 == m.edition) {
            m.category = Some(c.clone());
        }
    }
}

/// Keeps one row per distinct award: rows without a category give way to rows
/// with one for the same recipient and programme; a row without rank, edition
/// or date gives way to the same award with them.
fn dedupe(rows: Vec<Mention>) -> Vec<Mention> {
    // One body named twice in a sentence ("Pemprov Kalsel meraih peringkat 1 ... capaian
    // Pemerintah Provinsi Kalimantan Selatan dalam perencanaan ..."): rank and category meet.
    let mut rows = rows;
    let mut i = 0;
    while i < rows.len() {
        let partner = (0..rows.len()).find(|&j| {
            j != i
                && rows[j].start == rows[i].start
                && rows[j].recipient == rows[i].recipient
                && rows[j].program == rows[i].program
                && rows[i].category.is_none()
                && rows[i].rank.is_some()
                && rows[j].category.is_some()
                && rows[j].rank.is_none()
        });
        match partner {
            Some(j) => {
                let (rank, text) = (rows[i].rank, rows[i].rank_text.clone());
                rows[j].rank = rank;
                rows[j].rank_text = text;
                rows.remove(i);
            }
            None => i += 1,
        }
    }
    let cat_of = |m: &Mention| -> String {
        m.category_key.clone().or_else(|| m.category.clone().map(|c| c.to_lowercase())).unwrap_or_default()
    };
    let mut kept: Vec<Mention> = Vec::new();
    for m in rows.drain(..) {
        let same = kept.iter_mut().find(|k| {
            k.recipient == m.recipient
                && k.program == m.program
                && cat_of(k) == cat_of(&m)
                && (k.edition == m.edition || k.edition.is_none() || m.edition.is_none())
                && (k.rank == m.rank || k.rank.is_none() || m.rank.is_none())
        });
        match same {
            Some(k) => {
                // The fullest wording of the category wins ("Kategori I" < its name).
                if let (Some(kc), Some(mc)) = (&k.category, &m.category) {
                    let numbered = |c: &str| c.to_lowercase().starts_with("kategori") || c.to_lowercase().starts_with("katagori");
                    if (numbered(kc) && !numbered(mc)) || (numbered(kc) == numbered(mc) && mc.len() > kc.len()) {
                        k.category = Some(mc.clone());
                    }
                }
                if k.rank.is_none() && m.rank.is_some() {
                    k.rank = m.rank;
                    k.rank_text = m.rank_text.clone();
                }
                if k.edition.is_none() {
                    k.edition = m.edition;
                }
                if k.award_date.is_none() && m.award_date.is_some() {
                    k.award_date = m.award_date.clone();
                    k.date_text = m.date_text.clone();
                }
            }
            None => kept.push(m),
        }
    }
    let has_category = |k: &Mention, all: &[Mention]| {
        k.category.is_none()
            && all.iter().any(|o| o.recipient == k.recipient && o.program == k.program && o.category.is_some() && (o.edition == k.edition || k.edition.is_none()))
    };
    let snapshot = kept.clone();
    kept.retain(|k| !has_category(k, &snapshot));
    kept.sort_by(|a, b| (a.start, a.end, &a.recipient).cmp(&(b.start, b.end, &b.recipient)));
    kept
}

/// Stable id of a mention: blake3 of article id, span and the award's identity.
pub fn mention_id(article_id: &str, start: i64, end: i64, recipient: &str, category: Option<&str>, rank: Option<i32>) -> String {
    let key = format!("{article_id}\u{1f}{start}\u{1f}{end}\u{1f}{recipient}\u{1f}{}\u{1f}{}", category.unwrap_or(""), rank.unwrap_or(0));
    blake3::hash(key.as_bytes()).to_hex()[..16].to_string()
}

/// The sentences of an article, trimmed.
pub fn sentences_of(text: &str) -> Vec<Sentence> {
    sentences::trimmed(text, sentences::split(text))
}

#[cfg(test)]
mod tests {
    use super::LIST_OPENER;

    proptest::proptest! {
        /// The list-opener search answers as lower-casing the sentence and looking for "berikut" would.
        #[test]
        fn list_opener_is_a_search_of_the_lowercased_sentence(s in "[ .x]{0,3}[bB][eE][rR][iI\u{130}][kK\u{212A}][uU][tT\u{17F}][ .x]{0,3}") {
            proptest::prop_assert_eq!(LIST_OPENER.is_match(&s), s.to_lowercase().contains("berikut"));
        }
    }

    #[test]
    fn list_opener_finds_berikut_in_any_case() {
        for s in ["Berikut daftar pemenangnya:", "BERIKUT INI", "beri\u{212A}ut", "seperti berikut."] {
            assert!(LIST_OPENER.is_match(s), "{s}");
        }
        assert!(!LIST_OPENER.is_match("beri kut"));
    }
}
