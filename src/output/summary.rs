//! The `summary` table: one row per award, deduplicated across the articles
//! (and outlets) that report it.
//!
//! An award is identified by (`recipient`, `region_code`, `recipient_level`,
//! `program`, `edition`, category), where the category is `category_key` when
//! the mention has one and otherwise the category text in lower case with its
//! whitespace collapsed. The table is computed from the mention rows alone, so
//! it does not depend on thread count or on whether the run was incremental.

use super::{date_column, epoch_days, iso_date, set_text, str_col};
use crate::model::Mention;
use polars::prelude::*;
use std::collections::BTreeMap;
use std::hash::BuildHasher;

/// One row of the `summary` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummaryRow {
    /// Canonical programme name.
    pub program: String,
    /// Year label of the award.
    pub edition: Option<i32>,
    /// Canonical recipient name.
    pub recipient: String,
    /// Kemendagri region code of the recipient.
    pub region_code: Option<String>,
    /// Recipient level (`provinsi`, `kabupaten`, ...).
    pub recipient_level: String,
    /// BKN Award category key, as in the mentions.
    pub category_key: Option<String>,
    /// Category text: the most frequent spelling among the mentions (ties: the smallest).
    pub category: Option<String>,
    /// Best (lowest) rank stated by any supporting mention.
    pub best_rank: Option<i32>,
    /// Number of supporting mentions.
    pub mentions: i32,
    /// Number of distinct articles with a supporting mention.
    pub articles: i32,
    /// Earliest `award_date` of the supporting mentions (ISO `YYYY-MM-DD`).
    pub first_award_date: Option<String>,
}

/// Lower-cased category text with whitespace collapsed: the grouping key of a
/// category that has no `category_key`.
pub fn category_text_key(category: &str) -> String {
    let mut key = String::with_capacity(category.len());
    for word in category.split_whitespace() {
        if !key.is_empty() {
            key.push(' ');
        }
        key.push_str(word);
    }
    if key.is_ascii() {
        // The same as `to_lowercase`, without a second string.
        key.make_ascii_lowercase();
        key
    } else {
        key.to_lowercase()
    }
}

/// Grouping key, in the sort order of the table.
type Key = (String, Option<i32>, String, Option<String>, String, Option<String>, Option<String>);

/// The fields of a mention the summary reads.
struct Fields<'a> {
    program: &'a str,
    edition: Option<i32>,
    recipient: &'a str,
    region_code: Option<&'a str>,
    recipient_level: &'a str,
    category_key: Option<&'a str>,
    category: Option<&'a str>,
    rank: Option<i32>,
    article_id: &'a str,
    /// Days since 1970-01-01.
    award_date: Option<i32>,
}

#[derive(Default)]
struct Acc {
    spellings: BTreeMap<String, usize>,
    best_rank: Option<i32>,
    mentions: usize,
    articles: usize,
    last_article: Option<String>,
    /// Earliest award date, days since 1970-01-01.
    first: Option<i32>,
}

/// Aggregates mentions into awards as they come, keeping one small record
/// per award (not the mentions): the `summary` table of a run whose mentions
/// are never all in memory.
///
/// The mentions of one article must be added one after the other (as in
/// table order, sorted by `article_id`): the distinct articles of an award
/// are counted as changes of article id.
#[derive(Default)]
pub struct SummaryBuilder {
    /// Positions in `groups` of the awards, by the hash of their key.
    index: foldhash::HashMap<u64, Vec<usize>>,
    hasher: foldhash::fast::RandomState,
    /// The awards, in order of first mention (sorted by [`SummaryBuilder::rows`]).
    groups: Vec<(Key, Acc)>,
}

impl SummaryBuilder {
    /// Adds one mention.
    pub fn add(&mut self, m: &Mention) {
        self.add_fields(&Fields {
            program: &m.program,
            edition: m.edition,
            recipient: &m.recipient,
            region_code: m.region_code.as_deref(),
            recipient_level: m.recipient_level.as_str(),
            category_key: m.category_key.as_deref(),
            category: m.category.as_deref(),
            rank: m.rank,
            article_id: &m.article_id,
            award_date: m.award_date.as_deref().and_then(epoch_days),
        });
    }

    /// Adds the mentions of a frame of the `mentions` table, row by row (the
    /// columns are walked side by side, not collected).
    pub fn add_frame(&mut self, df: &DataFrame) -> PolarsResult<()> {
        let s = |name: &str| df.column(name).and_then(|c| c.str());
        let i = |name: &str| df.column(name).and_then(|c| c.i32());
        let (program, recipient, region_code, level) = (s("program")?, s("recipient")?, s("region_code")?, s("recipient_level")?);
        let (category_key, category, article_id) = (s("category_key")?, s("category")?, s("article_id")?);
        let (edition, rank) = (i("edition")?, i("rank")?);
        let award_date = df.column("award_date")?.date()?.physical();
        let rows = program
            .iter()
            .zip(recipient.iter())
            .zip(region_code.iter())
            .zip(level.iter())
            .zip(category_key.iter())
            .zip(category.iter())
            .zip(article_id.iter())
            .zip(edition.iter())
            .zip(rank.iter())
            .zip(award_date.iter());
        for (((((((((program, recipient), region_code), level), category_key), category), article_id), edition), rank), award_date) in rows {
            let (Some(program), Some(recipient), Some(recipient_level), Some(article_id)) = (program, recipient, level, article_id) else {
                polars_bail!(ComputeError: "null in a non-null column of the mentions table");
            };
            self.add_fields(&Fields { program, edition, recipient, region_code, recipient_level, category_key, category, rank, article_id, award_date });
        }
        Ok(())
    }

    fn add_fields(&mut self, m: &Fields<'_>) {
        let text_key = if m.category_key.is_some() { None } else { m.category.map(category_text_key) };
        let text_key = text_key.as_deref();
        let hash = self.hasher.hash_one((m.program, m.edition, m.recipient, m.region_code, m.recipient_level, m.category_key, text_key));
        let same = |k: &Key| {
            k.0 == m.program
                && k.1 == m.edition
                && k.2 == m.recipient
                && k.3.as_deref() == m.region_code
                && k.4 == m.recipient_level
                && k.5.as_deref() == m.category_key
                && k.6.as_deref() == text_key
        };
        let found = self.index.get(&hash).and_then(|at| at.iter().copied().find(|&i| self.groups.get(i).is_some_and(|(k, _)| same(k))));
        let at = match found {
            Some(at) => at,
            None => {
                let key: Key = (
                    m.program.to_string(),
                    m.edition,
                    m.recipient.to_string(),
                    m.region_code.map(str::to_string),
                    m.recipient_level.to_string(),
                    m.category_key.map(str::to_string),
                    text_key.map(str::to_string),
                );
                self.index.entry(hash).or_default().push(self.groups.len());
                self.groups.push((key, Acc::default()));
                self.groups.len() - 1
            }
        };
        let Some((_, acc)) = self.groups.get_mut(at) else { return };
        if let Some(c) = m.category {
            match acc.spellings.get_mut(c) {
                Some(n) => *n += 1,
                None => {
                    acc.spellings.insert(c.to_string(), 1);
                }
            }
        }
        acc.best_rank = match (acc.best_rank, m.rank) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        acc.mentions += 1;
        if acc.last_article.as_deref() != Some(m.article_id) {
            acc.articles += 1;
            set_text(&mut acc.last_article, m.article_id);
        }
        if let Some(d) = m.award_date {
            if acc.first.is_none_or(|f| d < f) {
                acc.first = Some(d);
            }
        }
    }

    /// Number of awards so far.
    pub fn len(&self) -> usize {
        self.groups.len()
    }

    /// Whether no mention was added.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// The summary rows, sorted as the table is.
    pub fn rows(self) -> Vec<SummaryRow> {
        let mut groups = self.groups;
        groups.sort_by(|a, b| a.0.cmp(&b.0));
        groups
            .into_iter()
            .map(|((program, edition, recipient, region_code, recipient_level, category_key, _), acc)| {
                // Most frequent spelling; BTreeMap order makes the smallest win ties.
                let category = acc
                    .spellings
                    .into_iter()
                    .fold(None::<(String, usize)>, |best, (s, n)| match best {
                        Some((_, bn)) if bn >= n => best,
                        _ => Some((s, n)),
                    })
                    .map(|(s, _)| s);
                SummaryRow {
                    program,
                    edition,
                    recipient,
                    region_code,
                    recipient_level,
                    category_key,
                    category,
                    best_rank: acc.best_rank,
                    mentions: i32::try_from(acc.mentions).unwrap_or(i32::MAX),
                    articles: i32::try_from(acc.articles).unwrap_or(i32::MAX),
                    first_award_date: acc.first.and_then(iso_date),
                }
            })
            .collect()
    }
}

/// Groups mentions into awards. Rows are sorted by program, edition (nulls
/// first), recipient, region_code, recipient_level, category_key and the
/// lower-cased category text (nulls first). The mentions may come in any order.
pub fn summary_rows(mentions: &[Mention]) -> Vec<SummaryRow> {
    let mut order: Vec<&Mention> = mentions.iter().collect();
    order.sort_by(|a, b| a.article_id.cmp(&b.article_id));
    let mut b = SummaryBuilder::default();
    for m in order {
        b.add(m);
    }
    b.rows()
}

/// The `summary` table.
pub fn summary_frame(rows: &[SummaryRow]) -> Result<DataFrame, PolarsError> {
    let s = |f: fn(&SummaryRow) -> Option<String>| rows.iter().map(f).collect::<Vec<_>>();
    let cols = vec![
        str_col("recipient", s(|r| Some(r.recipient.clone()))),
        str_col("region_code", s(|r| r.region_code.clone())),
        str_col("recipient_level", s(|r| Some(r.recipient_level.clone()))),
        str_col("program", s(|r| Some(r.program.clone()))),
        Column::new("edition".into(), rows.iter().map(|r| r.edition).collect::<Vec<_>>()),
        str_col("category_key", s(|r| r.category_key.clone())),
        str_col("category", s(|r| r.category.clone())),
        Column::new("best_rank".into(), rows.iter().map(|r| r.best_rank).collect::<Vec<_>>()),
        Column::new("mentions".into(), rows.iter().map(|r| Some(r.mentions)).collect::<Vec<_>>()),
        Column::new("articles".into(), rows.iter().map(|r| Some(r.articles)).collect::<Vec<_>>()),
        date_column("first_award_date", rows.iter().map(|r| r.first_award_date.as_deref().and_then(epoch_days)).collect())?,
    ];
    DataFrame::new(rows.len(), cols)
}

#[cfg(test)]
mod tests {
    use super::category_text_key;

    proptest::proptest! {
        /// The key is the words of the category joined by single spaces, lower-cased.
        #[test]
        fn category_text_key_joins_lowercased_words(s in "[ aB\\t\\n\\u{0B}\\u{A0}\\u{3000}ÉΣ.x]{0,16}") {
            proptest::prop_assert_eq!(category_text_key(&s), s.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase());
        }
    }
}
