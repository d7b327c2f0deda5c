//! Plain-text articles: the first non-empty line is the title.

use super::decode::Decoded;
use super::SourceFile;
use crate::model::{Article, Format};

/// Builds an article from a decoded `.txt` file.
pub fn article_from_text(file: &SourceFile, decoded: Decoded) -> Article {
    let title = decoded
        .text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(str::to_string);
    Article {
        article_id: file.rel_path.clone(),
        source_path: file.rel_path.clone(),
        format: Format::Txt,
        url: None,
        title,
        published: None,
        text: decoded.text,
        decode_note: decoded.note,
    }
}
