//! The `summary` table: one row per award, deduplicated across the articles
//! (and outlets) that report it.
//!
//! An award is identified by (`recipient`, `region_code`, `recipient_level`,
//! `program`, `edition`, category), where the category is `category_key` when
//! the mention has one and otherwise the category text in lower case with its
//! whitespace collapsed. The table is computed from the mention rows alone, so
//! it does not depend on thread count or on whether the run was incremental.

use super::{date_column, epoch_days, str_col};
use crate::model::Mention;
use polars::prelude::*;
use std::collections::BTreeMap;

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
    category.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

/// Grouping key, in the sort order of the table.
type Key = (String, Option<i32>, String, Option<String>, String, Option<String>, Option<String>);

#[derive(Default)]
struct Acc {
    spellings: BTreeMap<String, usize>,
    best_rank: Option<i32>,
    mentions: usize,
    articles: usize,
    last_article: Option<String>,
    first: Option<String>,
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
    groups: BTreeMap<Key, Acc>,
}

impl SummaryBuilder {
    /// Adds one mention.
    pub fn add(&mut self, m: &Mention) {
        let text_key = if m.category_key.is_some() { None } else { m.category.as_deref().map(category_text_key) };
        let key: Key = (
            m.program.clone(),
            m.edition,
            m.recipient.clone(),
            m.region_code.clone(),
            m.recipient_level.as_str().to_string(),
            m.category_key.clone(),
            text_key,
        );
        let acc = self.groups.entry(key).or_default();
        if let Some(c) = m.category.as_deref() {
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
        if acc.last_article.as_deref() != Some(m.article_id.as_str()) {
            acc.articles += 1;
            acc.last_article = Some(m.article_id.clone());
        }
        if let Some(d) = m.award_date.as_deref() {
            if acc.first.as_deref().is_none_or(|f| d < f) {
                acc.first = Some(d.to_string());
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
        self.groups
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
                    first_award_date: acc.first,
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
