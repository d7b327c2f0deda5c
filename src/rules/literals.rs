//! A multi-pattern prefilter: which of many rule regexes can match a text,
//! from one Aho-Corasick search instead of one regex search per pattern.
//!
//! Every match of a pattern holds one of a set of literals taken from its
//! syntax tree (the prefixes, by `regex_syntax`'s extraction, of one part of
//! it), so a pattern none of whose literals occurs in the text cannot match it. The search ignores ASCII case,
//! like the case-insensitive rule regexes; the two characters outside ASCII
//! that fold to ASCII letters (the Kelvin sign and the long s) make every
//! pattern a candidate. Patterns without a finite set of non-empty ASCII
//! prefixes are always candidates. So the gate only ever says "cannot match"
//! when the regex indeed cannot.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use regex_syntax::hir::literal::{ExtractKind, Extractor};
use regex_syntax::hir::{Hir, HirKind};

/// Candidates among a list of patterns (see the module docs).
#[derive(Debug)]
pub struct LiteralGate {
    /// The prefix literals of every gated pattern.
    ac: Option<AhoCorasick>,
    /// For each literal of `ac`, the patterns it begins.
    owners: Vec<Vec<usize>>,
    /// Patterns that are always candidates.
    always: Vec<usize>,
    /// Number of patterns.
    len: usize,
}

/// Characters outside ASCII that a case-insensitive regex matches for an ASCII letter.
const ASCII_FOLDS: [char; 2] = ['\u{212A}', '\u{17F}'];

/// Whether `text` holds one of [`ASCII_FOLDS`]. One memchr-driven search per
/// character: a search for either of two characters at once would decode
/// every character of the text.
fn has_ascii_fold(text: &str) -> bool {
    ASCII_FOLDS.iter().any(|&c| text.contains(c))
}

impl LiteralGate {
    /// Builds the gate of `patterns` (regex syntax as compiled by [`super::compile`]).
    pub fn new<S: AsRef<str>>(patterns: &[S]) -> LiteralGate {
        let mut literals: Vec<Vec<u8>> = Vec::new();
        let mut owners: Vec<Vec<usize>> = Vec::new();
        let mut always = Vec::new();
        for (i, p) in patterns.iter().enumerate() {
            match required(p.as_ref()) {
                Some(found) => {
                    for lit in found {
                        match literals.iter().position(|l| *l == lit) {
                            Some(k) => owners[k].push(i),
                            None => {
                                literals.push(lit);
                                owners.push(vec![i]);
                            }
                        }
                    }
                }
                None => always.push(i),
            }
        }
        let ac = if literals.is_empty() {
            None
        } else {
            // Leftmost-longest over lower-cased text: the search can use its
            // vector prefilter (see `candidates` for how no literal is missed).
            AhoCorasickBuilder::new().match_kind(MatchKind::LeftmostLongest).kind(Some(AhoCorasickKind::DFA)).build(&literals).ok()
        };
        if ac.is_none() {
            // Could not build the automaton: every pattern is a candidate.
            always = (0..patterns.len()).collect();
            owners.clear();
        }
        // A literal found also stands for the literals it starts with.
        let owners = literals
            .iter()
            .map(|l| {
                let mut all: Vec<usize> =
                    literals.iter().zip(&owners).filter(|(p, _)| l.starts_with(p)).flat_map(|(_, o)| o.iter().copied()).collect();
                all.sort_unstable();
                all.dedup();
                all
            })
            .collect();
        LiteralGate { ac, owners, always, len: patterns.len() }
    }

    /// Whether any pattern may match somewhere in `text`: [`LiteralGate::candidates`]
    /// holds a `true`, found with one search that stops at the first literal.
    pub fn any(&self, text: &str) -> bool {
        if !self.always.is_empty() || has_ascii_fold(text) {
            return true;
        }
        self.ac.as_ref().is_some_and(|ac| ac.is_match(&text.to_ascii_lowercase()))
    }

    /// Per pattern, whether it may match somewhere in `text`.
    pub fn candidates(&self, text: &str) -> Vec<bool> {
        let mut out = vec![false; self.len];
        if has_ascii_fold(text) {
            out.iter_mut().for_each(|c| *c = true);
            return out;
        }
        for i in &self.always {
            if let Some(c) = out.get_mut(*i) {
                *c = true;
            }
        }
        if let Some(ac) = &self.ac {
            // Every position where a literal starts is visited (each search
            // resumes one byte after the last match began); there the longest
            // literal is reported, and the others starting there are its prefixes.
            let lower = text.to_ascii_lowercase();
            let mut from = 0;
            while let Some(m) = ac.find(aho_corasick::Input::new(&lower).range(from..)) {
                for i in self.owners.get(m.pattern().as_usize()).into_iter().flatten() {
                    if let Some(c) = out.get_mut(*i) {
                        *c = true;
                    }
                }
                from = m.start() + 1;
            }
        }
        out
    }
}

/// A set of literals one of which every match of `pattern` contains,
/// lower-cased, or `None` when there is no finite set of non-empty ASCII ones.
/// Of the parts of a concatenation, the one whose literals are longest (the
/// rarest, most likely) is chosen: "(?:Kabupaten|Kota)\s+Layak\s+Anak" gives
/// `layak`, not `kota`.
fn required(pattern: &str) -> Option<Vec<Vec<u8>>> {
    let hir = regex_syntax::ParserBuilder::new().build().parse(pattern).ok()?;
    let mut hir = &hir;
    while let HirKind::Capture(c) = hir.kind() {
        hir = &c.sub;
    }
    let parts: Vec<&Hir> = match hir.kind() {
        HirKind::Concat(subs) => subs.iter().collect(),
        _ => vec![hir],
    };
    // Every match of the pattern holds a match of each part, which starts with one of its prefixes.
    parts
        .into_iter()
        .filter_map(prefixes)
        .max_by_key(|lits| (lits.iter().map(Vec::len).min().unwrap_or(0), std::cmp::Reverse(lits.len())))
}

/// The literals every match of `hir` starts with, lower-cased; `None` when
/// there is no finite set of non-empty ASCII ones.
fn prefixes(hir: &Hir) -> Option<Vec<Vec<u8>>> {
    let mut extractor = Extractor::new();
    extractor.kind(ExtractKind::Prefix);
    let seq = extractor.extract(hir);
    let lits = seq.literals()?;
    if lits.is_empty() {
        return None;
    }
    let mut out: Vec<Vec<u8>> = Vec::new();
    for l in lits {
        let b = l.as_bytes();
        if b.is_empty() || !b.is_ascii() {
            return None;
        }
        let lower = b.to_ascii_lowercase();
        if !out.contains(&lower) {
            out.push(lower);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_are_the_patterns_whose_prefixes_occur() {
        let gate = LiteralGate::new(&[r"Adipura(?:\s+Kencana)?", r"(?-i)\bWTP\b", r"\d+\s+penghargaan", r"Swasti\s*Saba"]);
        assert_eq!(gate.candidates("Kota Batu meraih ADIPURA 3 penghargaan."), vec![true, false, true, false]);
        assert_eq!(gate.candidates("Kota Batu meraih ADIPURA."), vec![true, false, false, false]);
        assert_eq!(gate.candidates("opini wtp dan swasti saba"), vec![false, true, false, true]);
        // The long s folds to `s` in a case-insensitive regex: every pattern is a candidate.
        assert_eq!(gate.candidates("ſwasti Saba"), vec![true, true, true, true]);
    }

    use crate::rules::testing::RULES;

    /// Words of the programme, category and rank rules, in mixed case.
    const WORDS: &[&str] = &[
        "Penilaian", "kinerja", "Manajemen", "TALENTA", "perencanaan", "kebutuhan", "pengadaan", "Implementasi", "NSPK",
        "ASN", "sistem", "merit", "Penerapan", "SAPK", "CAT", "pemanfaatan", "data", "informasi", "komitmen",
        "pengawasan", "disiplin", "pengelolaan", "kepegawaian", "terbaik", "peringkat", "ke-2", "kedua", "juara", "I",
        "III", "pertama", "umum", "harapan", "BKN", "Award", "Anugerah", "Meritokrasi", "Adipura", "Kota", "Layak",
        "Anak", "WTP", "Opini", "Kanreg", "IGA", "tiga", ",", ".", "(", ")", "-", "dan", "dalam", "\u{212A}", "ſ",
        // Whole phrases, so that multi-word patterns match now and then.
        "Penilaian Kinerja", "peringkat kedua", "BKN Award", "Anugerah Meritokrasi", "Kota Layak Anak", "juara umum",
        "Manajemen Talenta", "penerapan sistem merit", "Implementasi NSPK Manajemen ASN", "Perencanaan Kebutuhan",
        "Innovative Government Award", "peringkat ke-3", "terbaik I", "Swasti Saba", "Pengelolaan Kinerja Terbaik",
    ];

    proptest::proptest! {
        #![proptest_config(crate::rules::testing::proptest_config())]
        /// No pattern of the programme, category or rank rules is ruled out where it matches.
        #[test]
        fn the_gates_of_the_rules_are_sound(words in proptest::collection::vec(proptest::sample::select(WORDS), 0..60)) {
            let text = words.join(" ");
            let rules = &*RULES;
            let lists: [Vec<&regex::Regex>; 3] = [
                rules.programs.programs.iter().flat_map(|p| &p.patterns).collect(),
                rules.categories.patterns().collect(),
                rules.ranks.patterns().collect(),
            ];
            for list in lists {
                let gate = LiteralGate::new(&list.iter().map(|r| r.as_str()).collect::<Vec<_>>());
                for (re, may) in list.iter().zip(gate.candidates(&text)) {
                    proptest::prop_assert!(may || !re.is_match(&text), "{} hidden in {:?}", re.as_str(), text);
                }
            }
        }
    }

    #[test]
    fn the_gate_never_hides_a_match_of_the_rules() {
        let rules = &*RULES;
        let texts = [
            "Pemkab Sleman meraih BKN Award 2023 kategori Penilaian Kinerja.",
            "Kota Batu juga menerima Innovative Government Award (IGA) dan opini WTP.",
            "Penghargaan Pembangunan Daerah (PPD) 2024 diraih Provinsi Jawa Tengah.",
            "Kabupaten Blora kembali meraih predikat Nindya Kabupaten Layak Anak.",
        ];
        for p in &rules.programs.programs {
            let gate = LiteralGate::new(&p.patterns.iter().map(|r| r.as_str()).collect::<Vec<_>>());
            for t in texts {
                let c = gate.candidates(t);
                for (re, may) in p.patterns.iter().zip(c) {
                    assert!(may || !re.is_match(t), "{} hidden in {t}", re.as_str());
                }
            }
        }
    }
}
