//! Example sentences carried by the rule files, run as checks (`anugerah rules check`, `cargo test`).

use super::{parse_toml, RuleError, RuleTexts, Rules};
use crate::model::Article;
use serde::Deserialize;

#[derive(Deserialize, Default)]
struct ExampleFile {
    #[serde(default)]
    example: Vec<Example>,
}

#[derive(Deserialize, Default, Clone)]
struct Example {
    text: String,
    program: Option<String>,
    key: Option<String>,
    rank: Option<i32>,
    date: Option<String>,
    #[serde(default)]
    years: Vec<i32>,
    mentions: Option<Vec<ExpectedMention>>,
}

#[derive(Deserialize, Default, Clone, Debug, PartialEq)]
struct ExpectedMention {
    recipient: String,
    program: Option<String>,
    category_key: Option<String>,
    rank: Option<i32>,
    edition: Option<i32>,
}

/// One example that did not give what its rule file expects.
#[derive(Debug, Clone, PartialEq)]
pub struct ExampleFailure {
    /// Rule file.
    pub file: String,
    /// The example sentence.
    pub text: String,
    /// Expected vs found.
    pub message: String,
}

/// Runs every example in every TOML rule file; returns (examples run, failures).
pub fn run_examples(texts: &RuleTexts, rules: &Rules) -> Result<(usize, Vec<ExampleFailure>), RuleError> {
    let mut n = 0;
    let mut failures = Vec::new();
    for (file, text) in &texts.files {
        if !file.ends_with(".toml") {
            continue;
        }
        let f: ExampleFile = parse_toml(file, text)?;
        for ex in f.example {
            n += 1;
            if let Some(msg) = check(file, &ex, rules) {
                failures.push(ExampleFailure { file: file.clone(), text: ex.text.clone(), message: msg });
            }
        }
    }
    Ok((n, failures))
}

fn check(file: &str, ex: &Example, rules: &Rules) -> Option<String> {
    match file {
        "programs.toml" => {
            let got = rules.programs.detect(&ex.text).map(|p| p.name);
            (got != ex.program).then(|| format!("expected programme {:?}, found {:?}", ex.program, got))
        }
        "categories.toml" => {
            let got = rules.categories.find_named(&ex.text).into_iter().next().map(|c| c.key).or_else(|| {
                rules.categories.find_numbered(&ex.text, Some(2021)).into_iter().next().map(|c| c.key)
            });
            (got != ex.key).then(|| format!("expected key {:?}, found {:?}", ex.key, got))
        }
        "ranks.toml" => {
            let got = rules.ranks.find_all(&ex.text).first().map(|r| r.rank);
            (got != ex.rank).then(|| format!("expected rank {:?}, found {:?}", ex.rank, got))
        }
        "dates.toml" => {
            let got = rules
                .dates
                .find_all(&ex.text)
                .first()
                .and_then(|d| rules.dates.resolve(d, &ex.years))
                .map(|d| d.format("%Y-%m-%d").to_string());
            (got != ex.date).then(|| format!("expected date {:?}, found {:?}", ex.date, got))
        }
        _ => {
            let expected = ex.mentions.clone().unwrap_or_default();
            let article = Article::plain("example", ex.text.clone());
            let got: Vec<ExpectedMention> = crate::extract::extract(rules, &article)
                .into_iter()
                .map(|m| ExpectedMention {
                    recipient: m.recipient,
                    program: Some(m.program),
                    category_key: m.category_key,
                    rank: m.rank,
                    edition: m.edition,
                })
                .collect();
            let matches = got.len() == expected.len()
                && expected.iter().zip(&got).all(|(e, g)| {
                    e.recipient == g.recipient
                        && (e.program.is_none() || e.program == g.program)
                        && e.category_key == g.category_key
                        && e.rank == g.rank
                        && (e.edition.is_none() || e.edition == g.edition)
                });
            (!matches).then(|| format!("expected {expected:?}, found {got:?}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_example_holds() {
        let texts = RuleTexts::load(None).unwrap();
        let rules = Rules::compile(&texts).unwrap();
        let (n, failures) = run_examples(&texts, &rules).unwrap();
        assert!(n >= 30, "only {n} examples");
        assert!(failures.is_empty(), "{failures:#?}");
    }
}
