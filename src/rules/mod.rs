//! Rule files: embedded defaults, run-time overrides, compilation and examples.

pub mod examples;
pub mod literals;

use crate::extract::triggers::Triggers;
use crate::normalize::category::CategoryRules;
use crate::normalize::date::DateRules;
use crate::normalize::gazetteer::Gazetteer;
use crate::normalize::program::ProgramRules;
use crate::normalize::rank::RankRules;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// The rule files, by name, with their embedded default content.
pub const RULE_FILES: [(&str, &str); 7] = [
    ("programs.toml", include_str!("../../rules/programs.toml")),
    ("categories.toml", include_str!("../../rules/categories.toml")),
    ("ranks.toml", include_str!("../../rules/ranks.toml")),
    ("dates.toml", include_str!("../../rules/dates.toml")),
    ("triggers.toml", include_str!("../../rules/triggers.toml")),
    ("gazetteer/regions.csv", include_str!("../../rules/gazetteer/regions.csv")),
    ("gazetteer/agencies.csv", include_str!("../../rules/gazetteer/agencies.csv")),
];

/// A rule file that cannot be used.
#[derive(Debug, Error)]
pub enum RuleError {
    /// The override folder or a file in it could not be read.
    #[error("{path}: {source}")]
    Io {
        /// File or folder.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// A TOML file does not parse or does not have the expected shape.
    #[error("{file}: {message}")]
    Syntax {
        /// Rule file name.
        file: String,
        /// What is wrong.
        message: String,
    },
    /// A pattern is not a valid regex.
    #[error("{file}: bad pattern `{pattern}`: {message}")]
    Pattern {
        /// Rule file name.
        file: String,
        /// The pattern.
        pattern: String,
        /// Regex compiler message.
        message: String,
    },
}

impl RuleError {
    /// Builds a syntax error for `file`.
    pub fn syntax(file: &str, message: impl std::fmt::Display) -> Self {
        RuleError::Syntax { file: file.to_string(), message: message.to_string() }
    }
}

/// A pattern with ASCII word boundaries: `\b` becomes `(?-u:\b)`, which keeps the
/// fast DFA engines usable on text with non-ASCII characters (Indonesian words are ASCII).
pub fn ascii_boundaries(pattern: &str) -> String {
    pattern.replace(r"\b", r"(?-u:\b)")
}

/// Compiles a case-insensitive pattern from a rule file.
pub fn compile(file: &str, pattern: &str) -> Result<regex::Regex, RuleError> {
    regex::RegexBuilder::new(&ascii_boundaries(pattern))
        .case_insensitive(true)
        .size_limit(64 << 20)
        .build()
        .map_err(|e| RuleError::Pattern { file: file.to_string(), pattern: pattern.to_string(), message: e.to_string() })
}

/// Parses TOML text of a rule file into `T`.
pub fn parse_toml<T: serde::de::DeserializeOwned>(file: &str, text: &str) -> Result<T, RuleError> {
    toml::from_str(text).map_err(|e| RuleError::syntax(file, e))
}

/// The text of every rule file after overrides.
#[derive(Debug, Clone)]
pub struct RuleTexts {
    /// (file name, content) in `RULE_FILES` order.
    pub files: Vec<(String, String)>,
    /// Files that came from the override folder.
    pub overridden: Vec<String>,
}

impl RuleTexts {
    /// The embedded rule files, overridden file by file from `dir` when given.
    pub fn load(dir: Option<&Path>) -> Result<RuleTexts, RuleError> {
        if let Some(d) = dir {
            if !d.is_dir() {
                return Err(RuleError::Io {
                    path: d.to_path_buf(),
                    source: std::io::Error::new(std::io::ErrorKind::NotFound, "rules folder not found"),
                });
            }
        }
        let mut files = Vec::new();
        let mut overridden = Vec::new();
        for (name, embedded) in RULE_FILES {
            let text = match dir.map(|d| d.join(name)) {
                Some(p) if p.is_file() => {
                    overridden.push(name.to_string());
                    std::fs::read_to_string(&p).map_err(|e| RuleError::Io { path: p, source: e })?
                }
                _ => embedded.to_string(),
            };
            files.push((name.to_string(), text));
        }
        Ok(RuleTexts { files, overridden })
    }

    /// Content of one file.
    pub fn get(&self, name: &str) -> &str {
        self.files.iter().find(|(n, _)| n == name).map(|(_, t)| t.as_str()).unwrap_or("")
    }

    /// blake3 over every file name and content, with the tool version.
    pub fn fingerprint(&self) -> String {
        let mut h = blake3::Hasher::new();
        h.update(env!("CARGO_PKG_VERSION").as_bytes());
        for (n, t) in &self.files {
            h.update(n.as_bytes());
            h.update(&(t.len() as u64).to_le_bytes());
            h.update(t.as_bytes());
        }
        h.finalize().to_hex().to_string()
    }
}

/// Every rule, compiled and ready for extraction.
#[derive(Debug)]
pub struct Rules {
    /// Programmes and their aliases.
    pub programs: ProgramRules,
    /// BKN Award category keys.
    pub categories: CategoryRules,
    /// Rank cues and words.
    pub ranks: RankRules,
    /// Month and weekday names.
    pub dates: DateRules,
    /// Sentence cues.
    pub triggers: Triggers,
    /// Regions and agencies.
    pub gazetteer: Gazetteer,
    /// Fingerprint of the rule texts and tool version.
    pub fingerprint: String,
}

impl Rules {
    /// Compiles all rule files.
    /// The files are compiled on threads of their own (compiling the regexes
    /// is most of a small run's start-up); errors are reported in file order.
    pub fn compile(texts: &RuleTexts) -> Result<Rules, RuleError> {
        fn join<T>(h: std::thread::ScopedJoinHandle<'_, T>) -> T {
            h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        }
        std::thread::scope(|s| {
            let programs = s.spawn(|| ProgramRules::parse("programs.toml", texts.get("programs.toml")));
            let categories = s.spawn(|| CategoryRules::parse("categories.toml", texts.get("categories.toml")));
            let triggers = s.spawn(|| Triggers::parse("triggers.toml", texts.get("triggers.toml")));
            let gazetteer = s.spawn(|| Gazetteer::parse(texts.get("gazetteer/regions.csv"), texts.get("gazetteer/agencies.csv")));
            let ranks = RankRules::parse("ranks.toml", texts.get("ranks.toml"));
            let dates = DateRules::parse("dates.toml", texts.get("dates.toml"));
            Ok(Rules {
                programs: join(programs)?,
                categories: join(categories)?,
                ranks: ranks?,
                dates: dates?,
                triggers: join(triggers)?,
                gazetteer: join(gazetteer)?,
                fingerprint: texts.fingerprint(),
            })
        })
    }

    /// Loads and compiles the embedded rules, overridden from `dir`.
    pub fn load(dir: Option<&Path>) -> Result<Rules, RuleError> {
        Rules::compile(&RuleTexts::load(dir)?)
    }

    /// The embedded rules. Panics only if the shipped rule files are broken,
    /// which the test suite rules out.
    pub fn embedded() -> Rules {
        Rules::load(None).expect("embedded rules compile")
    }
}

/// What the unit tests of the rule-driven modules share.
#[cfg(test)]
pub(crate) mod testing {
    /// The embedded rules, compiled once for all tests.
    pub static RULES: std::sync::LazyLock<super::Rules> = std::sync::LazyLock::new(super::Rules::embedded);

    /// Property-test settings: 300 cases, or `PROPTEST_CASES` for a longer soak.
    pub fn proptest_config() -> proptest::prelude::ProptestConfig {
        let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(300);
        proptest::prelude::ProptestConfig { cases, ..Default::default() }
    }
}
