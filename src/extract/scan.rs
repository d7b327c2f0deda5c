//! One search over a whole article in place of one search per sentence.
//!
//! A regex without anchors and without empty matches that matches inside a
//! sentence also matches the whole text at the same place, as long as the
//! sentence is bounded by white space (or the ends of the text), so that word
//! boundaries read the same both ways. And when the whole text has a match at
//! some place, the leftmost-first matches reported for the whole text include
//! one that overlaps that place. So one pass over the whole text tells, for
//! every sentence, whether the regex certainly matches there (a reported
//! match lies inside it), certainly does not (no reported match touches it),
//! or may (a reported match crosses its edge): only the last kind needs its
//! own search. The results are exactly those of searching every sentence.

use super::sentences::Sentence;
use regex::Regex;

/// Whether a regex can match inside one sentence, as told by a whole-text pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hit {
    /// It does not match there.
    No,
    /// It matches there.
    Yes,
    /// Unknown: search the sentence itself.
    Maybe,
}

impl Hit {
    /// The answer for a sentence: `search` it only when the whole-text pass could not decide.
    pub fn or_search(self, search: impl FnOnce() -> bool) -> bool {
        match self {
            Hit::No => false,
            Hit::Yes => true,
            Hit::Maybe => search(),
        }
    }
}

/// Whether `re` may stand in for per-sentence searches (see the module docs):
/// it has no start or end anchor and cannot match the empty string.
pub fn scannable(re: &Regex) -> bool {
    match regex_syntax::ParserBuilder::new().build().parse(re.as_str()) {
        Ok(hir) => {
            let p = hir.properties();
            !p.look_set().contains_anchor() && p.minimum_len().is_some_and(|n| n > 0)
        }
        Err(_) => false,
    }
}

/// Marks, per sentence, whether the matches `found` (leftmost-first matches of
/// one scannable regex over the whole `text`, in order) decide it. Sentences
/// are sorted and disjoint; `marks` has one entry per sentence, all `No` on the
/// first call, and several regexes can be marked into the same `marks`.
pub fn mark(text: &str, sentences: &[Sentence], found: impl Iterator<Item = (usize, usize)>, marks: &mut [Hit]) {
    for (start, end) in found {
        let first = sentences.partition_point(|s| s.end <= start);
        for (i, s) in sentences.iter().enumerate().skip(first) {
            if s.start >= end {
                break;
            }
            let Some(m) = marks.get_mut(i) else { break };
            if s.start <= start && end <= s.end {
                *m = Hit::Yes;
            } else if *m == Hit::No {
                *m = Hit::Maybe;
            }
        }
    }
    for (s, m) in sentences.iter().zip(marks.iter_mut()) {
        if !bounded_by_space(text, s) {
            *m = Hit::Maybe;
        }
    }
}

/// Whether the sentence starts and ends at white space or at the ends of the text.
fn bounded_by_space(text: &str, s: &Sentence) -> bool {
    let (Some(head), Some(tail)) = (text.get(..s.start), text.get(s.end..)) else { return false };
    head.chars().next_back().is_none_or(char::is_whitespace) && tail.chars().next().is_none_or(char::is_whitespace)
}

/// Per sentence, whether `re` matches there: `Yes`/`No` where one pass over
/// `text` decides it, `Maybe` elsewhere (all `Maybe` when `re` is not
/// `scannable`, which the caller tells).
pub fn hits(re: &Regex, scannable: bool, text: &str, sentences: &[Sentence]) -> Vec<Hit> {
    if !scannable {
        return vec![Hit::Maybe; sentences.len()];
    }
    let mut marks = vec![Hit::No; sentences.len()];
    mark(text, sentences, re.find_iter(text).map(|m| (m.start(), m.end())), &mut marks);
    marks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sentences(text: &str) -> Vec<Sentence> {
        super::super::sentences_of(text)
    }

    /// The scan agrees with searching each sentence, wherever it decides.
    fn agrees(pattern: &str, text: &str) -> Vec<Hit> {
        let re = crate::rules::compile("test", pattern).expect("pattern");
        let ss = sentences(text);
        let marks = hits(&re, scannable(&re), text, &ss);
        for (s, m) in ss.iter().zip(&marks) {
            let own = re.is_match(&text[s.start..s.end]);
            match m {
                Hit::Yes => assert!(own, "{pattern}: said yes for {:?}", &text[s.start..s.end]),
                Hit::No => assert!(!own, "{pattern}: said no for {:?}", &text[s.start..s.end]),
                Hit::Maybe => {}
            }
        }
        marks
    }

    #[test]
    fn decides_sentences_a_match_lies_in_or_misses() {
        let t = "Pemkab Lingga meraih penghargaan. Hujan turun sore ini. Kota Batu juga meraih award.";
        assert_eq!(agrees(r"penghargaan|award", t), vec![Hit::Yes, Hit::No, Hit::Yes]);
    }

    #[test]
    fn a_match_across_sentences_leaves_both_undecided() {
        // "zona hijau" written across a sentence end: the whole text matches, neither sentence does.
        let t = "Daerah itu masuk zona.\nHijau adalah warna.";
        let marks = agrees(r"zona\W+hijau", t);
        assert_eq!(marks, vec![Hit::Maybe, Hit::Maybe]);
    }

    #[test]
    fn anchors_and_empty_matches_are_not_scanned() {
        for p in [r"^Pemkab", r"meraih$", r"x*", r"(?m)^\d+\."] {
            let re = crate::rules::compile("test", p).expect("pattern");
            assert!(!scannable(&re), "{p}");
        }
        for p in [r"\bmeraih\b", r"zona\s+hijau", r"\b(?:me)?raih\b.{0,10}?\bkepada\b"] {
            let re = crate::rules::compile("test", p).expect("pattern");
            assert!(scannable(&re), "{p}");
        }
        let t = "Pemkab Lingga meraih penghargaan. Pemkab Batu juga.";
        assert_eq!(agrees(r"^Pemkab", t), vec![Hit::Maybe, Hit::Maybe]);
    }

    /// Words of award news and sentence ends, so random texts hit cues across sentences.
    const WORDS: &[&str] = &[
        "Pemkab", "Sleman", "meraih", "penghargaan", "BKN", "Award", "2023", "kategori", "Penilaian", "Kinerja",
        "zona", "hijau", "Baca", "juga:", "WTP", "opini", "Wajar", "Tanpa", "Pengecualian", "Kota", "Layak", "Anak",
        "juara", ".", "!", "?", "\n", "\n1.", " ", ",", "(", ")", "terbaik", "dari", "kepada", "diserahkan", "é", "_",
        "ADIPURA", "Kabupaten", "Kota", "layak", "ANAK", "KLA", "kla", "Innovative", "government", "IGA", "Swasti", "Saba",
        "Swaſti", "\u{212A}abupaten", "Kanreg", "III", "BKN", "Badan", "Kepegawaian", "Negara", "Top", "45", "Inovasi",
    ];

    use crate::rules::testing::RULES;

    proptest::proptest! {
        #![proptest_config(crate::rules::testing::proptest_config())]
        #[test]
        fn scan_agrees_with_searching_each_sentence(words in proptest::collection::vec(proptest::sample::select(WORDS), 0..80)) {
            let text = words.join(" ");
            let rules = &*RULES;
            let ss = sentences(&text);
            let t = &rules.triggers;
            for cues in [&t.award, &t.related, &t.win, &t.not_yet] {
                for (s, m) in ss.iter().zip(cues.hits(&text, &ss)) {
                    let own = cues.any(&text[s.start..s.end]);
                    proptest::prop_assert!(m == Hit::Maybe || (m == Hit::Yes) == own, "{m:?} for {:?}", &text[s.start..s.end]);
                }
            }
            let naming = rules.programs.naming(&text);
            // The prefilter hides no programme: the same as trying every pattern.
            let every: Vec<usize> = rules.programs.programs.iter().enumerate()
                .filter(|(_, p)| p.patterns.iter().any(|re| re.is_match(&text))).map(|(i, _)| i).collect();
            proptest::prop_assert_eq!(&naming.named, &every);
            proptest::prop_assert_eq!(rules.programs.find_in(&text, &naming), rules.programs.find_among(&text, &naming.named));
            for (s, m) in ss.iter().zip(rules.programs.hits(&text, &ss, &naming)) {
                let found = rules.programs.find_among(&text[s.start..s.end], &naming.named);
                proptest::prop_assert!(m != Hit::No || found.is_empty(), "said no for {:?}", &text[s.start..s.end]);
            }
        }
    }

    #[test]
    fn word_boundaries_at_a_sentence_without_space_are_rechecked() {
        // Sentences that do not start after white space cannot be decided.
        let t = "abc meraih";
        let ss = vec![Sentence { start: 1, end: 10, list_item: false }];
        let re = crate::rules::compile("test", r"\bbc\b").expect("pattern");
        assert_eq!(hits(&re, true, t, &ss), vec![Hit::Maybe]);
    }
}
