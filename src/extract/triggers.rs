//! Sentence cues from `triggers.toml`: award words, winning, plans, aggregates, giving.

use crate::rules::literals::LiteralGate;
use crate::rules::{compile, parse_toml, RuleError};
use regex::Regex;
use std::collections::BTreeMap;
use serde::Deserialize;

#[derive(Deserialize)]
struct TriggerFile {
    cues: CueDefs,
    syntax: BTreeMap<String, Vec<String>>,
}

/// Names of the `[syntax]` entries the extractor relies on.
pub const SYNTAX: &[&str] = &[
    "passive_end",
    "followed_by",
    "in_order",
    "respectively",
    "continuation",
    "carries_category",
    "same_category",
    "except_before",
    "not_a_category",
    "moved_to",
    "moved_from",
    "table_recipient",
    "table_category",
    "table_rank",
];

/// A cue family that matches nothing.
static NO_CUES: Cues = Cues { any: None, scannable: false, gate: None };

#[derive(Deserialize)]
struct CueDefs {
    article: Vec<String>,
    award: Vec<String>,
    win: Vec<String>,
    #[serde(default)]
    not_yet: Vec<String>,
    #[serde(default)]
    aggregate: Vec<String>,
    #[serde(default)]
    giving: Vec<String>,
    #[serde(default)]
    location: Vec<String>,
    #[serde(default)]
    location_bare: Vec<String>,
    #[serde(default)]
    person: Vec<String>,
    #[serde(default)]
    pronoun: Vec<String>,
    #[serde(default)]
    listing: Vec<String>,
    #[serde(default)]
    speaker: Vec<String>,
    #[serde(default)]
    unit: Vec<String>,
    #[serde(default)]
    related: Vec<String>,
    #[serde(default)]
    not_award: Vec<String>,
}

/// One family of cues, compiled into one alternation (leftmost match wins).
#[derive(Debug)]
pub struct Cues {
    any: Option<Regex>,
    /// Whether one search of a whole article can stand in for per-sentence searches.
    scannable: bool,
    /// For a family searched in whole articles: the literals one of which every
    /// match holds, so that most articles are answered by one Aho-Corasick search.
    gate: Option<LiteralGate>,
}

impl Cues {
    fn new(file: &str, patterns: &[String]) -> Result<Cues, RuleError> {
        if patterns.is_empty() {
            return Ok(Cues { any: None, scannable: false, gate: None });
        }
        let joined = patterns.iter().map(|p| format!("(?:{p})")).collect::<Vec<_>>().join("|");
        match compile(file, &joined) {
            Ok(re) => Ok(Cues { scannable: super::scan::scannable(&re), any: Some(re), gate: None }),
            Err(joined_error) => {
                // Name the pattern at fault rather than the whole alternation.
                for p in patterns {
                    compile(file, p)?;
                }
                Err(joined_error)
            }
        }
    }

    /// [`Cues::new`] with a literal gate before the regex, for a family searched
    /// in whole articles (the case-insensitive alternation's own prefilter
    /// is slow there: many case variants of short prefixes).
    fn gated(file: &str, patterns: &[String]) -> Result<Cues, RuleError> {
        Ok(Cues { gate: Some(LiteralGate::new(patterns)), ..Cues::new(file, patterns)? })
    }

    /// Whether any cue matches.
    pub fn any(&self, text: &str) -> bool {
        self.gate.as_ref().is_none_or(|g| g.any(text)) && self.any.as_ref().is_some_and(|r| r.is_match(text))
    }

    /// Per sentence of `text`, whether a cue matches there, from one search of
    /// the whole text where it can decide (see [`super::scan`]).
    pub fn hits(&self, text: &str, sentences: &[super::sentences::Sentence]) -> Vec<super::scan::Hit> {
        match &self.any {
            Some(re) => super::scan::hits(re, self.scannable, text, sentences),
            None => vec![super::scan::Hit::No; sentences.len()],
        }
    }

    /// Every cue match, left to right, non-overlapping.
    pub fn all<'t>(&self, text: &'t str) -> Vec<regex::Match<'t>> {
        self.any.as_ref().map(|r| r.find_iter(text).collect()).unwrap_or_default()
    }

    /// The leftmost cue match.
    pub fn first<'t>(&self, text: &'t str) -> Option<regex::Match<'t>> {
        self.any.as_ref()?.find(text)
    }
}

/// All sentence cues.
#[derive(Debug)]
pub struct Triggers {
    /// Article prefilter: without one of these (or a programme name) an article is skipped.
    pub article: Cues,
    /// Award words that make a sentence worth reading.
    pub award: Cues,
    /// Winning or receiving.
    pub win: Cues,
    /// Plans and hopes.
    pub not_yet: Cues,
    /// Aggregates without a category.
    pub aggregate: Cues,
    /// Giving (checked right after a body's name).
    pub giving: Cues,
    /// Location words (checked right before a place name).
    pub location: Cues,
    /// Wider location context, checked before a place name without a level word.
    pub location_bare: Cues,
    /// Awards to persons or companies.
    pub person: Cues,
    /// Pronoun subjects that point to the article's recipient.
    pub pronoun: Cues,
    /// Descriptions of the categories of a programme, not of a win.
    pub listing: Cues,
    /// Words after a bare place name that make it a person's name.
    pub speaker: Cues,
    /// Names of units that are recipients themselves (Kanwil, Lapas, RSUD ...).
    pub unit: Cues,
    /// Related-link lines, skipped whole.
    pub related: Cues,
    /// Said of a recipient that did not get the award (WDP opinion, nominee).
    pub not_award: Cues,
    /// Sentence-structure phrases by name (see [`SYNTAX`]).
    syntax: BTreeMap<String, Cues>,
}

impl Triggers {
    /// The `[syntax]` entry `name` (one of [`SYNTAX`], all checked when parsed).
    pub fn syntax(&self, name: &str) -> &Cues {
        self.syntax.get(name).unwrap_or(&NO_CUES)
    }

    /// Parses `triggers.toml`.
    pub fn parse(file: &str, text: &str) -> Result<Triggers, RuleError> {
        let f: TriggerFile = parse_toml(file, text)?;
        let c = f.cues;
        if let Some(missing) = SYNTAX.iter().find(|n| !f.syntax.contains_key(**n)) {
            return Err(RuleError::syntax(file, format!("[syntax] lacks `{missing}`")));
        }
        let syntax = f
            .syntax
            .iter()
            .map(|(name, patterns)| Ok((name.clone(), Cues::new(file, patterns)?)))
            .collect::<Result<BTreeMap<_, _>, RuleError>>()?;
        Ok(Triggers {
            syntax,
            article: Cues::gated(file, &c.article)?,
            award: Cues::new(file, &c.award)?,
            win: Cues::new(file, &c.win)?,
            not_yet: Cues::new(file, &c.not_yet)?,
            aggregate: Cues::new(file, &c.aggregate)?,
            giving: Cues::new(file, &c.giving)?,
            location: Cues::new(file, &c.location)?,
            location_bare: Cues::new(file, &c.location_bare)?,
            person: Cues::new(file, &c.person)?,
            pronoun: Cues::new(file, &c.pronoun)?,
            listing: Cues::new(file, &c.listing)?,
            speaker: Cues::new(file, &c.speaker)?,
            unit: Cues::new(file, &c.unit)?,
            related: Cues::new(file, &c.related)?,
            not_award: Cues::new(file, &c.not_award)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::RULES;

    const WORDS: &[&str] = &[
        "Pemkab", "Sleman", "meraih", "Penghargaan", "penghargaan", "AWARD", "Anugerah", "predikat", "predi\u{212A}at",
        "trofi", "Piagam", "piala", "juara", "terbaik", "kategori", "pengharga", "an", "award-", "Kota", "Batu", ".", ",",
    ];

    proptest::proptest! {
        #![proptest_config(crate::rules::testing::proptest_config())]
        /// The literal gate of the article cues changes no answer of their regex.
        #[test]
        fn the_article_gate_keeps_the_answers_of_the_regex(words in proptest::collection::vec(proptest::sample::select(WORDS), 0..12)) {
            let text = words.join(" ");
            let cues = &RULES.triggers.article;
            let regex = cues.any.as_ref().is_some_and(|r| r.is_match(&text));
            proptest::prop_assert!(cues.gate.is_some());
            proptest::prop_assert_eq!(cues.any(&text), regex, "{:?}", text);
        }
    }
}
