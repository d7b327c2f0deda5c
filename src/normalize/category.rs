//! BKN Award category keys from category names and numbers.

use crate::rules::literals::LiteralGate;
use crate::rules::{compile, parse_toml, RuleError};
use regex::Regex;
use serde::Deserialize;
use std::sync::LazyLock;

#[derive(Deserialize)]
struct CategoryFile {
    category: Vec<CategoryDef>,
    #[serde(default)]
    numbered: Vec<NumberedDef>,
}

#[derive(Deserialize)]
struct CategoryDef {
    key: String,
    patterns: Vec<String>,
}

#[derive(Deserialize, Debug)]
struct NumberedDef {
    from: i32,
    to: i32,
    keys: Vec<String>,
}

/// A category found in text.
#[derive(Debug, Clone, PartialEq)]
pub struct CategoryMatch {
    /// Stable key (`perencanaan`, ...), `lainnya` for an unknown named category.
    pub key: String,
    /// The category as written.
    pub text: String,
    /// Byte offset of the match.
    pub start: usize,
    /// End of the match.
    pub end: usize,
}

/// Compiled category table.
#[derive(Debug)]
pub struct CategoryRules {
    keys: Vec<(String, Vec<Regex>)>,
    numbered: Vec<NumberedDef>,
    /// Every named-category pattern in one alternation, when all can be searched
    /// once per article in place of once per sentence (see [`crate::extract::scan`]).
    any: Option<Regex>,
    /// Prefilter over the patterns of `keys`, in order.
    gate: LiteralGate,
}

static NUMBERED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?-u:\b)(?:kategori|katagori|ketegori)\s+(?:ke\s*-?\s*)?(V|IV|I{1,3}|[1-5]|pertama|kedua|ketiga|keempat|kelima)(?-u:\b)")
        .expect("static regex")
});

impl CategoryRules {
    /// Parses `categories.toml`.
    pub fn parse(file: &str, text: &str) -> Result<CategoryRules, RuleError> {
        let f: CategoryFile = parse_toml(file, text)?;
        let mut keys = Vec::new();
        for c in f.category {
            let res = c.patterns.iter().map(|p| compile(file, p)).collect::<Result<Vec<_>, _>>()?;
            keys.push((c.key, res));
        }
        for n in &f.numbered {
            if let Some(k) = n.keys.iter().find(|k| !keys.iter().any(|(key, _)| key == *k)) {
                return Err(RuleError::syntax(file, format!("numbered categories name unknown key `{k}`")));
            }
        }
        let patterns: Vec<&Regex> = keys.iter().flat_map(|(_, res)| res).collect();
        let any = if patterns.iter().all(|re| crate::extract::scan::scannable(re)) {
            let joined = patterns.iter().map(|re| format!("(?:{})", re.as_str())).collect::<Vec<_>>().join("|");
            Some(compile(file, &joined)?)
        } else {
            None
        };
        let mut rules = CategoryRules { keys, numbered: f.numbered, any, gate: LiteralGate::new::<&str>(&[]) };
        rules.gate = LiteralGate::new(&rules.patterns().map(Regex::as_str).collect::<Vec<_>>());
        Ok(rules)
    }

    /// False when no sentence of `text` can name a category (one search of the
    /// whole text); true when one may.
    pub fn may_imply_program(&self, text: &str) -> bool {
        self.any.as_ref().is_none_or(|re| re.is_match(text))
    }

    /// Named BKN categories in `text`, left to right, longest first where they overlap.
    pub fn find_named(&self, text: &str) -> Vec<CategoryMatch> {
        let mut all: Vec<CategoryMatch> = Vec::new();
        let mut may = self.gate.candidates(text).into_iter();
        for (key, res) in &self.keys {
            for re in res {
                if may.next() == Some(false) {
                    continue;
                }
                for m in re.find_iter(text) {
                    all.push(CategoryMatch { key: key.clone(), text: m.as_str().to_string(), start: m.start(), end: m.end() });
                }
            }
        }
        all.sort_by_key(|m| (std::cmp::Reverse(m.end - m.start), m.start));
        let mut kept: Vec<CategoryMatch> = Vec::new();
        for m in all {
            if !kept.iter().any(|k| k.start < m.end && m.start < k.end) {
                kept.push(m);
            }
        }
        kept.sort_by_key(|m| m.start);
        kept
    }

    /// Every named-category pattern, in the order of the prefilter.
    pub fn patterns(&self) -> impl Iterator<Item = &Regex> {
        self.keys.iter().flat_map(|(_, res)| res)
    }

    /// Whether `text` writes a numbered category at all (then [`CategoryRules::find_numbered`] may find one).
    pub fn may_number(&self, text: &str) -> bool {
        NUMBERED.is_match(text)
    }

    /// Numbered categories ("Kategori III", "kategori kedua") mapped by the edition's numbering.
    pub fn find_numbered(&self, text: &str, year: Option<i32>) -> Vec<CategoryMatch> {
        let Some(year) = year else { return vec![] };
        let Some(table) = self.numbered.iter().find(|n| n.from <= year && year <= n.to) else { return vec![] };
        NUMBERED
            .captures_iter(text)
            .filter_map(|c| {
                let m = c.get(0)?;
                let n = number_of(&c[1])?;
                let key = table.keys.get(n.checked_sub(1)?)?;
                Some(CategoryMatch { key: key.clone(), text: m.as_str().to_string(), start: m.start(), end: m.end() })
            })
            .collect()
    }

    /// Key of the first named category in `text`.
    pub fn key_of(&self, text: &str) -> Option<String> {
        self.find_named(text).into_iter().next().map(|m| m.key)
    }
}

fn number_of(s: &str) -> Option<usize> {
    Some(match s.to_lowercase().as_str() {
        "i" | "1" | "pertama" => 1,
        "ii" | "2" | "kedua" => 2,
        "iii" | "3" | "ketiga" => 3,
        "iv" | "4" | "keempat" => 4,
        "v" | "5" | "kelima" => 5,
        _ => return None,
    })
}
