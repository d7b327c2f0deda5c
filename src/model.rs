//! Plain data types shared by every stage of the pipeline.

use serde::{Deserialize, Serialize};

/// Input format an article was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Plain text, title on the first non-empty line.
    Txt,
    /// An HTML news page.
    Html,
    /// One record of a JSON Lines dump.
    Jsonl,
}

impl Format {
    /// Lower-case name as written in the `articles.format` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Txt => "txt",
            Format::Html => "html",
            Format::Jsonl => "jsonl",
        }
    }
}

/// One article as read from the corpus, before extraction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Article {
    /// Path relative to the corpus root (`/`-separated), `#<id>` for JSONL records.
    pub article_id: String,
    /// Path of the file relative to the corpus root.
    pub source_path: String,
    /// Input format.
    pub format: Format,
    /// Canonical URL, when the source gives one.
    pub url: Option<String>,
    /// Headline.
    pub title: Option<String>,
    /// Publication date as ISO `YYYY-MM-DD`, when known.
    pub published: Option<String>,
    /// Main text the extractor reads (title first when the source has one apart).
    pub text: String,
    /// Decoding notes ("lossy utf-8", "utf-16le", ...), empty when clean.
    pub decode_note: Option<String>,
}

impl Article {
    /// A plain-text article `id` with no title, URL or date (rule examples, tests).
    pub fn plain(id: &str, text: impl Into<String>) -> Article {
        Article {
            article_id: id.to_string(),
            source_path: id.to_string(),
            format: Format::Txt,
            url: None,
            title: None,
            published: None,
            text: text.into(),
            decode_note: None,
        }
    }
}

/// Level of a receiving government body, as in the spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Provincial government.
    Provinsi,
    /// Regency government.
    Kabupaten,
    /// City government.
    Kota,
    /// A ministry.
    Kementerian,
    /// A national agency.
    Lembaga,
    /// A unit that is itself the recipient (Kanwil, hospital, ...).
    Unit,
    /// Anything else.
    Lainnya,
}

impl Level {
    /// Name as written in the `recipient_level` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Provinsi => "provinsi",
            Level::Kabupaten => "kabupaten",
            Level::Kota => "kota",
            Level::Kementerian => "kementerian",
            Level::Lembaga => "lembaga",
            Level::Unit => "unit",
            Level::Lainnya => "lainnya",
        }
    }

    /// Parses a level name (`provinsi`, `kabupaten`, ...).
    pub fn parse(s: &str) -> Option<Level> {
        Some(match s.trim().to_lowercase().as_str() {
            "provinsi" => Level::Provinsi,
            "kabupaten" => Level::Kabupaten,
            "kota" => Level::Kota,
            "kementerian" => Level::Kementerian,
            "lembaga" => Level::Lembaga,
            "unit" => Level::Unit,
            "lainnya" => Level::Lainnya,
            _ => return None,
        })
    }
}

/// One award mention: a row of the `mentions` table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mention {
    /// Stable hash of article id and span.
    pub mention_id: String,
    /// Article the mention comes from.
    pub article_id: String,
    /// Canonical programme name.
    pub program: String,
    /// Year label of the award.
    pub edition: Option<i32>,
    /// Canonical recipient name.
    pub recipient: String,
    /// Recipient as written in the text.
    pub recipient_raw: String,
    /// Level of the recipient.
    pub recipient_level: Level,
    /// Kemendagri region code.
    pub region_code: Option<String>,
    /// Category as written, minimal.
    pub category: Option<String>,
    /// BKN Award category key.
    pub category_key: Option<String>,
    /// Size group ("Tipe A").
    pub group: Option<String>,
    /// Place, when stated.
    pub rank: Option<i32>,
    /// Rank as written.
    pub rank_text: Option<String>,
    /// ISO date of the ceremony or announcement.
    pub award_date: Option<String>,
    /// Date as written.
    pub date_text: Option<String>,
    /// The sentence the mention comes from.
    pub evidence: String,
    /// Byte offset of the evidence start in the article text.
    pub start: i64,
    /// Byte offset of the evidence end in the article text.
    pub end: i64,
    /// Id of the rule that produced the mention.
    pub rule: String,
}

/// The order of a table's rows: articles by `article_id`; mentions by
/// `article_id`, then `start`, `end` and `mention_id`; errors by all their
/// fields. Rows that tie keep
/// the order they came in (the sorts and merges that use it are stable).
pub trait TableOrder {
    /// How `self` and `other` are ordered in their table.
    fn table_cmp(&self, other: &Self) -> std::cmp::Ordering;
}

impl TableOrder for Mention {
    fn table_cmp(&self, other: &Self) -> std::cmp::Ordering {
        (&self.article_id, self.start, self.end, &self.mention_id).cmp(&(&other.article_id, other.start, other.end, &other.mention_id))
    }
}

/// Processing status of an article.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Read and extracted.
    Ok,
    /// Read with a lossy decode; extracted.
    Decoded,
    /// Could not be read or extracted.
    Error,
}

impl Status {
    /// Name as written in the `articles.status` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Decoded => "decoded",
            Status::Error => "error",
        }
    }
}

/// One row of the `articles` table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArticleRow {
    /// Article id.
    pub article_id: String,
    /// Source file relative to the corpus root.
    pub source_path: String,
    /// Input format.
    pub format: Format,
    /// Canonical URL.
    pub url: Option<String>,
    /// Headline.
    pub title: Option<String>,
    /// Publication date (ISO).
    pub published: Option<String>,
    /// Characters in the extracted text.
    pub chars: i64,
    /// blake3 hash of the extracted text.
    pub content_hash: String,
    /// Mentions found.
    pub mentions: i32,
    /// Processing status.
    pub status: Status,
}

impl TableOrder for ArticleRow {
    fn table_cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.article_id.cmp(&other.article_id)
    }
}

/// One row of the `errors` table.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ErrorRow {
    /// Source file relative to the corpus root.
    pub source_path: String,
    /// Article id, when the error concerns one article.
    pub article_id: Option<String>,
    /// Stage that failed (`read`, `decode`, `parse`, `extract`).
    pub stage: String,
    /// Human-readable message.
    pub message: String,
}

impl TableOrder for ErrorRow {
    fn table_cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.cmp(other)
    }
}

impl ErrorRow {
    /// The row of a panic caught while processing `source_path` (article `article_id`).
    pub fn internal(source_path: &str, article_id: &str) -> ErrorRow {
        ErrorRow {
            source_path: source_path.to_string(),
            article_id: Some(article_id.to_string()),
            stage: "extract".into(),
            message: "internal error while processing this file (please report it)".into(),
        }
    }

    /// The row that reports the lossy or unusual decode of `article`, if it had one.
    pub fn decode(article: &Article) -> Option<ErrorRow> {
        article.decode_note.as_ref().map(|note| ErrorRow {
            source_path: article.source_path.clone(),
            article_id: Some(article.article_id.clone()),
            stage: "decode".into(),
            message: note.clone(),
        })
    }
}
