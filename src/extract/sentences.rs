//! Sentence splitting with byte offsets, aware of Indonesian abbreviations and list items.

use regex::Regex;
use std::sync::LazyLock;

/// A sentence: byte span into the article text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sentence {
    /// Start offset (first non-space byte).
    pub start: usize,
    /// End offset (exclusive, trailing space trimmed).
    pub end: usize,
    /// Whether the sentence is an item of a numbered or bulleted list.
    pub list_item: bool,
}

/// Words that end with a dot without ending the sentence.
const ABBREVIATIONS: &[&str] = &[
    "kab", "kec", "kel", "prov", "drs", "dr", "h", "hj", "ir", "prof", "no", "st", "jl", "jln", "tbk", "rp", "sh", "m.si",
    "s.h", "m.h", "mh", "msi", "s.sos", "s.e", "se", "mm", "dll", "dsb", "dkk", "a.md", "s.kom", "s.pd", "m.pd", "m.hum",
    "hum", "kh", "ny", "sdr", "bpk", "tn", "mr", "mrs", "ttg", "vol", "hal", "pt", "cv", "d.i", "dki", "u", "s.ip", "m.ap",
    "ap", "m.m", "sp", "s.t", "m.t", "ak", "sos", "kom", "ip", "si", "pd", "adm", "kep", "kel", "kec", "pj", "plt", "plh",
];

static LIST_ITEM: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(?:\d{1,3}[.)]|[-•*·–]|[a-z][.)])\s+").expect("static regex"));

/// Splits `text` into sentences: at line breaks, and at `.`, `!` or `?` followed by
/// white space and a capital letter, digit or quote, unless the dot ends an abbreviation.
pub fn split(text: &str) -> Vec<Sentence> {
    let mut out = Vec::new();
    let mut line_start = 0;
    for line in text.split_inclusive('\n') {
        split_line(text, line_start, line_start + line.len(), &mut out);
        line_start += line.len();
    }
    out
}

fn split_line(text: &str, start: usize, end: usize, out: &mut Vec<Sentence>) {
    let line = &text[start..end];
    let list_item = LIST_ITEM.is_match(line.trim_start());
    let mut s = 0;
    // Only `.`, `!` and `?` can end a sentence: look at the two characters after each.
    // The three are ASCII, so a byte search finds them (never inside a multi-byte character).
    let bytes = line.as_bytes();
    let ends = memchr::memchr3_iter(b'.', b'!', b'?', bytes).filter_map(|i| bytes.get(i).map(|&b| (i, char::from(b))));
    for (i, c) in ends {
        let mut rest = line[i + c.len_utf8()..].chars();
        let next = rest.next();
        let after = rest.next();
        let boundary = next.is_some_and(char::is_whitespace)
            && after.is_some_and(|a| a.is_uppercase() || a.is_ascii_digit() || matches!(a, '"' | '“' | '‘' | '\'' | '('));
        if !boundary || i < s || (c == '.' && ends_with_abbreviation(&line[s..i])) {
            continue;
        }
        push(start + s, start + i + c.len_utf8(), list_item && s == 0, out);
        s = i + c.len_utf8();
    }
    push(start + s, end, list_item && s == 0, out);
}

fn push(start: usize, end: usize, list_item: bool, out: &mut Vec<Sentence>) {
    out.push(Sentence { start, end, list_item });
}

fn ends_with_abbreviation(before: &str) -> bool {
    let word = before.rsplit(|c: char| c.is_whitespace() || c == '(').next().unwrap_or("");
    if word.is_empty() {
        return false;
    }
    if word.chars().all(|c| c.is_ascii_digit()) {
        // "1." opening a list item, not "nilai 93."
        return before.trim() == word;
    }
    if word.is_ascii() {
        // No allocation for the common case: ASCII words compared ignoring case.
        return (word.len() == 1 && word.bytes().all(|b| b.is_ascii_alphabetic())) || ABBREVIATIONS.iter().any(|a| a.eq_ignore_ascii_case(word));
    }
    let w = word.to_lowercase();
    (w.chars().count() == 1 && w.chars().all(char::is_alphabetic)) || ABBREVIATIONS.contains(&w.as_str())
}

/// Trims white space from a sentence span; empty sentences are dropped.
pub fn trimmed(text: &str, sentences: Vec<Sentence>) -> Vec<Sentence> {
    sentences
        .into_iter()
        .filter_map(|s| {
            let slice = text.get(s.start..s.end)?;
            let lead = slice.len() - slice.trim_start().len();
            let trail = slice.len() - slice.trim_end().len();
            let (a, b) = (s.start + lead, s.end - trail);
            (a < b).then_some(Sentence { start: a, end: b, list_item: s.list_item })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(t: &str) -> Vec<&str> {
        trimmed(t, split(t)).iter().map(|s| &t[s.start..s.end]).collect()
    }

    #[test]
    fn splits_on_sentence_ends_not_abbreviations() {
        let t = "Kab. Lingga meraih penghargaan. Bupati Drs. H. Ahmad hadir! Nilai 93,14. Pemprov juga.";
        assert_eq!(texts(t), vec!["Kab. Lingga meraih penghargaan.", "Bupati Drs. H. Ahmad hadir!", "Nilai 93,14.", "Pemprov juga."]);
    }

    #[test]
    fn list_items_stay_whole() {
        let t = "Pemenang antara lain:\n1. Kota Malang, Kategori I.\n  2. Kota Batu.\n";
        let s = trimmed(t, split(t));
        assert_eq!(s.len(), 3);
        assert!(!s[0].list_item);
        assert!(s[1].list_item && s[2].list_item);
        assert_eq!(&t[s[1].start..s[1].end], "1. Kota Malang, Kategori I.");
    }
}
