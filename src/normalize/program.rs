//! Award programmes: canonical names from their aliases, and editions.

use crate::rules::literals::LiteralGate;
use crate::rules::{compile, parse_toml, RuleError};
use regex::Regex;
use serde::Deserialize;
use std::sync::LazyLock;

#[derive(Deserialize)]
struct ProgramFile {
    program: Vec<ProgramDef>,
}

#[derive(Deserialize)]
struct ProgramDef {
    name: String,
    patterns: Vec<String>,
    #[serde(default)]
    unless: Vec<String>,
    #[serde(default)]
    bkn: bool,
    #[serde(default)]
    level_category: bool,
    #[serde(default)]
    category_terms: Vec<String>,
    #[serde(default = "yes")]
    generic_category: bool,
    #[serde(default)]
    requires: Vec<String>,
    #[serde(default)]
    shared_category: bool,
}

fn yes() -> bool {
    true
}

/// One award programme.
#[derive(Debug)]
pub struct Program {
    /// Canonical name; `{group}` placeholders are filled from the match.
    pub name: String,
    /// Patterns that name the programme.
    pub patterns: Vec<Regex>,
    /// Sentences matching one of these do not name this programme.
    pub unless: Vec<Regex>,
    /// Whether BKN Award category keys apply.
    pub bkn: bool,
    /// Whether the category is the level of government ranked.
    pub level_category: bool,
    /// Category terms (predicates) of this programme; group `term` when present.
    pub category_terms: Vec<Regex>,
    /// Whether any "kategori X" phrase is a category (false: only `category_terms`).
    pub generic_category: bool,
    /// Programmes the article must also name for this one to count.
    pub requires: Vec<String>,
    /// A single category in an article applies to every row of this programme.
    pub shared_category: bool,
}

/// A programme named in a text.
#[derive(Debug, Clone, PartialEq)]
pub struct ProgramMatch {
    /// Index into [`ProgramRules::programs`].
    pub index: usize,
    /// Canonical name with placeholders filled.
    pub name: String,
    /// Byte span of the alias.
    pub start: usize,
    /// End of the alias.
    pub end: usize,
}

/// The programmes a text names, and the matches of each pattern that matched
/// it ([`ProgramRules::naming`]).
#[derive(Debug, Clone, Default)]
pub struct Naming {
    /// Indexes of the programmes named, ascending.
    pub named: Vec<usize>,
    /// The leftmost-first matches of every pattern that matched.
    spans: Vec<PatternMatches>,
}

/// (programme, pattern index within it) and the (start, end) of its matches.
type PatternMatches = ((usize, usize), Vec<(usize, usize)>);

impl Naming {
    /// The matches of pattern `k` of programme `index` (none when it did not match).
    fn spans_of(&self, index: usize, k: usize) -> &[(usize, usize)] {
        self.spans.iter().find(|(key, _)| *key == (index, k)).map(|(_, s)| s.as_slice()).unwrap_or(&[])
    }
}

/// All programmes, in priority order.
#[derive(Debug)]
pub struct ProgramRules {
    /// Programmes, most specific first.
    pub programs: Vec<Program>,
    /// Prefilter over every pattern of every programme, to skip programmes a text does not name.
    gate: LiteralGate,
    /// For each pattern of `gate`, (programme, pattern index within the programme).
    owner: Vec<(usize, usize)>,
    /// Whether every pattern can be searched once per article in place of once
    /// per sentence (see [`crate::extract::scan`]).
    scannable: bool,
}

static YEAR_AFTER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^[^A-Za-z0-9_\n]{0,3}(?:\([^)]{1,20}\)[ \t]*)?(?:(?-i:[A-Z])[a-z]+[ \t]+)?(?:(?:tahun|th\.?|edisi|periode)[ \t]+)?((?:19|20)[0-9][0-9])(?:$|[^\-/0-9])").expect("static regex")
});
static PLACEHOLDER: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\{(\w+)\}").expect("static regex"));

impl ProgramRules {
    /// Parses `programs.toml`.
    pub fn parse(file: &str, text: &str) -> Result<ProgramRules, RuleError> {
        let f: ProgramFile = parse_toml(file, text)?;
        let mut programs = Vec::new();
        for d in f.program {
            let all = |v: &[String]| v.iter().map(|p| compile(file, p)).collect::<Result<Vec<_>, _>>();
            if d.patterns.is_empty() {
                return Err(RuleError::syntax(file, format!("programme `{}` has no patterns", d.name)));
            }
            programs.push(Program {
                patterns: all(&d.patterns)?,
                unless: all(&d.unless)?,
                category_terms: all(&d.category_terms)?,
                name: d.name,
                bkn: d.bkn,
                level_category: d.level_category,
                generic_category: d.generic_category,
                requires: d.requires,
                shared_category: d.shared_category,
            });
        }
        for p in &programs {
            if let Some(r) = p.requires.iter().find(|r| !programs.iter().any(|q| &q.name == *r)) {
                return Err(RuleError::syntax(file, format!("programme `{}` requires unknown programme `{r}`", p.name)));
            }
        }
        let mut all_patterns = Vec::new();
        let mut owner = Vec::new();
        for (i, p) in programs.iter().enumerate() {
            for (k, re) in p.patterns.iter().enumerate() {
                all_patterns.push(re.as_str());
                owner.push((i, k));
            }
        }
        let gate = LiteralGate::new(&all_patterns);
        let scannable = programs.iter().flat_map(|p| &p.patterns).all(crate::extract::scan::scannable);
        Ok(ProgramRules { programs, gate, owner, scannable })
    }

    /// Whether any programme is named in `text`.
    pub fn names_any(&self, text: &str) -> bool {
        self.matching(text).next().is_some()
    }

    /// Indexes of the programmes whose patterns match somewhere in `text`.
    pub fn named_in(&self, text: &str) -> Vec<usize> {
        let mut named: Vec<usize> = self.matching(text).collect();
        named.dedup();
        named
    }

    /// The programmes named in `text` and where their patterns match it: one
    /// search of the whole text per pattern the prefilter lets through, kept
    /// for [`ProgramRules::hits`] and [`ProgramRules::find_in`].
    pub fn naming(&self, text: &str) -> Naming {
        let mut naming = Naming::default();
        for (may, &(i, k)) in self.gate.candidates(text).into_iter().zip(&self.owner) {
            let Some(re) = self.programs.get(i).and_then(|p| p.patterns.get(k)).filter(|_| may) else { continue };
            let spans: Vec<(usize, usize)> = re.find_iter(text).map(|m| (m.start(), m.end())).collect();
            if !spans.is_empty() {
                if naming.named.last() != Some(&i) {
                    naming.named.push(i);
                }
                naming.spans.push(((i, k), spans));
            }
        }
        naming
    }

    /// The programme of every pattern that matches somewhere in `text`, in pattern order.
    fn matching<'a>(&'a self, text: &'a str) -> impl Iterator<Item = usize> + 'a {
        self.gate.candidates(text).into_iter().zip(&self.owner).filter_map(move |(may, &(i, k))| {
            let re = self.programs.get(i)?.patterns.get(k)?;
            (may && re.is_match(text)).then_some(i)
        })
    }

    /// Every programme alias in `text`, left to right; where two overlap the
    /// higher-priority programme is kept.
    pub fn find_all(&self, text: &str) -> Vec<ProgramMatch> {
        self.find_among(text, &self.named_in(text))
    }

    /// Per sentence of `text`, whether a programme named in it (`naming`, of
    /// the same text) may be named there: `No` where
    /// [`ProgramRules::find_among`] on the sentence certainly finds nothing.
    pub fn hits(&self, text: &str, sentences: &[crate::extract::sentences::Sentence], naming: &Naming) -> Vec<crate::extract::scan::Hit> {
        use crate::extract::scan::{mark, Hit};
        if !self.scannable {
            return vec![Hit::Maybe; sentences.len()];
        }
        let mut marks = vec![Hit::No; sentences.len()];
        for (_, spans) in &naming.spans {
            mark(text, sentences, spans.iter().copied(), &mut marks);
        }
        marks
    }

    /// [`ProgramRules::find_among`] over the whole `text` that `naming` was made of, reusing its matches.
    pub fn find_in(&self, text: &str, naming: &Naming) -> Vec<ProgramMatch> {
        self.collect(text, &naming.named, |index, k, _| naming.spans_of(index, k).to_vec())
    }

    /// [`ProgramRules::find_all`] restricted to the programmes in `named`
    /// (those named somewhere in the article `text` comes from).
    pub fn find_among(&self, text: &str, named: &[usize]) -> Vec<ProgramMatch> {
        self.collect(text, named, |_, _, re| re.find_iter(text).map(|m| (m.start(), m.end())).collect())
    }

    /// [`ProgramRules::find_among`] with the matches of pattern `k` of
    /// programme `index` (`re`) given by `matches` (those of `re.find_iter`).
    fn collect(&self, text: &str, named: &[usize], matches: impl Fn(usize, usize, &Regex) -> Vec<(usize, usize)>) -> Vec<ProgramMatch> {
        let mut hits: Vec<ProgramMatch> = Vec::new();
        if named.is_empty() {
            return hits;
        }
        for (index, p) in self.programs.iter().enumerate() {
            let required_missing = p.requires.iter().any(|r| !named.iter().any(|n| self.programs.get(*n).is_some_and(|q| &q.name == r)));
            if !named.contains(&index) || required_missing || p.unless.iter().any(|u| u.is_match(text)) {
                continue;
            }
            let templated = p.name.contains('{');
            for (k, re) in p.patterns.iter().enumerate() {
                if !templated {
                    // No placeholder to fill: plain matches are much cheaper than captures.
                    for (start, end) in matches(index, k, re) {
                        if !hits.iter().any(|h| h.start < end && start < h.end) {
                            hits.push(ProgramMatch { index, name: p.name.clone(), start, end });
                        }
                    }
                    continue;
                }
                for c in re.captures_iter(text) {
                    let Some(m) = c.get(0) else { continue };
                    if hits.iter().any(|h| h.start < m.end() && m.start() < h.end) {
                        continue;
                    }
                    let name = PLACEHOLDER
                        .replace_all(&p.name, |cap: &regex::Captures| {
                            c.name(&cap[1]).map(|g| g.as_str().to_uppercase()).unwrap_or_default()
                        })
                        .into_owned();
                    hits.push(ProgramMatch { index, name, start: m.start(), end: m.end() });
                }
            }
        }
        hits.sort_by_key(|h| (h.start, h.index));
        hits
    }

    /// The highest-priority programme named in `text`.
    pub fn detect(&self, text: &str) -> Option<ProgramMatch> {
        self.find_all(text).into_iter().min_by_key(|h| (h.index, h.start))
    }

    /// The BKN programme when a sentence names a BKN Award category but no programme
    /// (articles that only say "Kategori Perencanaan Kebutuhan ...").
    pub fn implied_by_categories(&self, categories: &super::category::CategoryRules, text: &str) -> Option<ProgramMatch> {
        let found = categories.find_named(text);
        let first = found.iter().find(|c| c.key != "sistem_merit" && c.key != "manajemen_talenta")?;
        let index = self.programs.iter().position(|p| p.bkn)?;
        let name = self.programs.get(index)?.name.clone();
        Some(ProgramMatch { index, name, start: first.start, end: first.start })
    }

    /// The programme definition of a match.
    pub fn get(&self, m: &ProgramMatch) -> Option<&Program> {
        self.programs.get(m.index)
    }
}

/// Year written right after a programme alias ("BKN Award 2023", "IGA) 2022", "PPD Tahun 2025").
pub fn year_after(text: &str, end: usize) -> Option<i32> {
    let rest = text.get(end..)?;
    YEAR_AFTER.captures(rest).and_then(|c| c[1].parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn year_after_alias() {
        assert_eq!(year_after("BKN Award 2023 kategori", 9), Some(2023));
        assert_eq!(year_after("Innovative Government Award (IGA) 2022,", 27), Some(2022));
        assert_eq!(year_after("PPD Tahun 2025 Kategori", 3), Some(2025));
        assert_eq!(year_after("BKN Award kategori 2023", 9), None);
        assert_eq!(year_after("Swasti Saba Wistara 2023 dalam", 11), Some(2023));
        assert_eq!(year_after("Piala Adipura\n2024-03-05 10:00", 13), None);
    }
}
