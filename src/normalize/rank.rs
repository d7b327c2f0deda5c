//! Integer ranks from digits, Roman numerals and Indonesian ordinal words.

use crate::rules::literals::LiteralGate;
use crate::rules::{compile, parse_toml, RuleError};
use regex::Regex;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::LazyLock;

static RANK_CONTINUES: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^(?:\s*,\s*|\s+(?:dan|serta)\s+|\s+(?P<to>hingga|sampai|s/d)\s+)(?:ke\s*-?\s*)?(?P<n>\d{1,2}|[IVX]{1,4}|kedua|ketiga|keempat|kelima|keenam|ketujuh|kedelapan|kesembilan|kesepuluh)(?-u:\b)")
        .expect("static regex")
});

#[derive(Deserialize)]
struct RankFile {
    words: HashMap<String, i32>,
    rules: RankDefs,
}

#[derive(Deserialize)]
struct RankDefs {
    cues: Vec<String>,
    #[serde(default)]
    first: Vec<String>,
    #[serde(default)]
    not_rank: Vec<String>,
}

/// A rank found in text.
#[derive(Debug, Clone, PartialEq)]
pub struct RankMatch {
    /// The place.
    pub rank: i32,
    /// As written.
    pub text: String,
    /// Byte offset.
    pub start: usize,
    /// End offset.
    pub end: usize,
}

/// Compiled rank rules.
#[derive(Debug)]
pub struct RankRules {
    words: HashMap<String, i32>,
    cues: Vec<Regex>,
    first: Vec<Regex>,
    not_rank: Vec<Regex>,
    /// Prefilter over `cues` then `first`.
    gate: LiteralGate,
}

impl RankRules {
    /// Parses `ranks.toml`.
    pub fn parse(file: &str, text: &str) -> Result<RankRules, RuleError> {
        let f: RankFile = parse_toml(file, text)?;
        let all = |v: &[String]| v.iter().map(|p| compile(file, p)).collect::<Result<Vec<_>, _>>();
        let cues = all(&f.rules.cues)?;
        if let Some(bad) = cues.iter().find(|c| !c.capture_names().any(|n| n == Some("n"))) {
            return Err(RuleError::syntax(file, format!("rank cue `{}` has no group `n`", bad.as_str())));
        }
        let first = all(&f.rules.first)?;
        let mut rules = RankRules {
            words: f.words.into_iter().map(|(k, v)| (k.to_lowercase(), v)).collect(),
            cues,
            first,
            not_rank: all(&f.rules.not_rank)?,
            gate: LiteralGate::new::<&str>(&[]),
        };
        rules.gate = LiteralGate::new(&rules.patterns().map(Regex::as_str).collect::<Vec<_>>());
        Ok(rules)
    }

    /// A number from digits, a Roman numeral or an ordinal word.
    pub fn number(&self, token: &str) -> Option<i32> {
        let t = token.trim().to_lowercase();
        if let Ok(n) = t.parse::<i32>() {
            return (n > 0).then_some(n);
        }
        if let Some(n) = self.words.get(&t) {
            return Some(*n);
        }
        roman(&t)
    }

    /// Every rank in `text`, left to right.
    /// The rank patterns, in the order of the prefilter (cues, then first-place words).
    pub fn patterns(&self) -> impl Iterator<Item = &Regex> {
        self.cues.iter().chain(&self.first)
    }

    /// Every rank written in `text`, left to right: a cue with its number or
    /// ordinal, a first-place word, and the ranks a list goes on with
    /// ("peringkat kedua dan ketiga"); none inside the `not_rank` spans.
    pub fn find_all(&self, text: &str) -> Vec<RankMatch> {
        let may = self.gate.candidates(text);
        let (may_cue, may_first) = may.split_at(self.cues.len().min(may.len()));
        if !may.iter().any(|m| *m) {
            return Vec::new();
        }
        let blocked: Vec<(usize, usize)> =
            self.not_rank.iter().flat_map(|r| r.find_iter(text).map(|m| (m.start(), m.end()))).collect();
        let free = |s: usize, e: usize| !blocked.iter().any(|(bs, be)| *bs < e && s < *be);
        let mut out: Vec<RankMatch> = Vec::new();
        for re in self.cues.iter().zip(may_cue).filter(|(_, m)| **m).map(|(re, _)| re) {
            for c in re.captures_iter(text) {
                let (Some(m), Some(n)) = (c.get(0), c.name("n")) else { continue };
                if !free(m.start(), m.end()) {
                    continue;
                }
                if let Some(rank) = self.number(n.as_str()) {
                    out.push(RankMatch { rank, text: m.as_str().to_string(), start: m.start(), end: m.end() });
                }
            }
        }
        for re in self.first.iter().zip(may_first).filter(|(_, m)| **m).map(|(re, _)| re) {
            for m in re.find_iter(text) {
                if free(m.start(), m.end()) {
                    out.push(RankMatch { rank: 1, text: m.as_str().to_string(), start: m.start(), end: m.end() });
                }
            }
        }
        out.sort_by_key(|r| r.start);
        out.dedup_by(|b, a| b.start < a.end);
        // "peringkat kedua dan ketiga", "terbaik I hingga III": the ranks that follow.
        let mut more = Vec::new();
        for r in &out {
            let mut end = r.end;
            let mut last = r.rank;
            while let Some(c) = text.get(end..).and_then(|rest| RANK_CONTINUES.captures(rest)) {
                let (Some(m), Some(n)) = (c.get(0), c.name("n")) else { break };
                let Some(next) = self.number(n.as_str()) else { break };
                let range = c.name("to").is_some();
                if range && next > last && next - last <= 20 {
                    more.extend((last + 1..=next).map(|k| RankMatch { rank: k, text: m.as_str().trim().to_string(), start: end, end: end + m.end() }));
                } else if !range {
                    more.push(RankMatch { rank: next, text: m.as_str().trim().to_string(), start: end + m.start(), end: end + m.end() });
                }
                last = next;
                end += m.end();
            }
        }
        out.extend(more);
        out.sort_by_key(|r| (r.start, r.rank));
        out
    }
}

/// Value of a Roman numeral up to 39.
fn roman(s: &str) -> Option<i32> {
    if s.is_empty() || s.len() > 6 || !s.chars().all(|c| matches!(c, 'i' | 'v' | 'x')) {
        return None;
    }
    let val = |c| match c {
        'i' => 1,
        'v' => 5,
        _ => 10,
    };
    let chars: Vec<i32> = s.chars().map(val).collect();
    let mut total = 0;
    for (i, v) in chars.iter().enumerate() {
        if chars.get(i + 1).is_some_and(|n| n > v) {
            total -= v;
        } else {
            total += v;
        }
    }
    (total > 0).then_some(total)
}

#[cfg(test)]
mod tests {
    use super::roman;

    #[test]
    fn roman_numerals() {
        assert_eq!(roman("iv"), Some(4));
        assert_eq!(roman("xii"), Some(12));
        assert_eq!(roman("ix"), Some(9));
        assert_eq!(roman("abc"), None);
    }
}
