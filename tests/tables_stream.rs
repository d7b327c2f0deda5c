//! Tables written a row group at a time (`output::TablesWriter`) are the
//! files `output::write_tables` writes for the same rows, whatever the batch
//! sizes, and tables larger than a row group read back whole.

use anugerah::model::{ArticleRow, ErrorRow, Format, Level, Mention, Status};
use anugerah::output::{summary_rows, write_tables, TablesWriter, ROW_GROUP_ROWS, TABLE_FILES};
use polars::prelude::*;

fn mention(i: usize) -> Mention {
    Mention {
        mention_id: format!("{i:016x}"),
        article_id: format!("a/{:07}.txt", i / 3),
        program: ["BKN Award", "Adipura"][i % 2].into(),
        edition: Some(2020 + (i % 5) as i32),
        recipient: format!("Kabupaten {}", i % 7),
        recipient_raw: format!("Pemkab {}", i % 7),
        recipient_level: Level::Kabupaten,
        region_code: Some(format!("35.{:02}", i % 7)),
        category: (i % 3 != 0).then(|| ["Penilaian Kinerja", "penilaian  kinerja"][i % 2].to_string()),
        category_key: None,
        group: None,
        rank: (i % 4 != 0).then_some((i % 4) as i32),
        rank_text: None,
        award_date: Some(format!("2023-12-{:02}", 1 + i % 28)),
        date_text: None,
        evidence: format!("Kalimat bukti nomor {i}, dengan \"kutipan\" dan koma."),
        start: (i % 3 * 100) as i64,
        end: (i % 3 * 100 + 50) as i64,
        rule: "sentence".into(),
    }
}

fn article(i: usize) -> ArticleRow {
    ArticleRow {
        article_id: format!("a/{i:07}.txt"),
        source_path: format!("a/{i:07}.txt"),
        format: Format::Txt,
        url: (i % 2 == 0).then(|| format!("https://x.example/{i}")),
        title: Some(format!("Judul {i}")),
        published: (i % 3 == 0).then(|| "2023-12-08".to_string()),
        chars: i as i64,
        content_hash: format!("{i:064x}"),
        mentions: 3,
        status: Status::Ok,
    }
}

#[test]
fn streamed_tables_match_whole_tables_across_row_groups() {
    let n = ROW_GROUP_ROWS * 2 + 123;
    let mentions: Vec<Mention> = (0..n).map(mention).collect();
    let articles: Vec<ArticleRow> = (0..n / 3 + 1).map(article).collect();
    let errors: Vec<ErrorRow> = (0..5)
        .map(|i| ErrorRow { source_path: format!("b/{i}.txt"), article_id: None, stage: "read".into(), message: "empty file".into() })
        .collect();
    let tmp = tempfile::tempdir().unwrap();
    let (whole, streamed) = (tmp.path().join("whole"), tmp.path().join("streamed"));
    std::fs::create_dir_all(&whole).unwrap();
    std::fs::create_dir_all(&streamed).unwrap();
    write_tables(&whole, &mentions, &articles, &errors).unwrap();

    let mut w = TablesWriter::create(&streamed).unwrap();
    let (mut m, mut a) = (mentions.as_slice(), articles.as_slice());
    let mut step = 1;
    while !m.is_empty() || !a.is_empty() {
        let (mh, mt) = m.split_at(step.min(m.len()));
        let (ah, at) = a.split_at((step / 2).min(a.len()));
        w.push_mentions(mh.to_vec()).unwrap();
        w.push_articles(ah.to_vec()).unwrap();
        (m, a) = (mt, at);
        step = step * 3 + 1;
    }
    w.push_errors(errors.clone()).unwrap();
    let counts = w.finish().unwrap().counts;
    assert_eq!((counts.mentions, counts.articles, counts.errors), (n, articles.len(), 5));

    for f in TABLE_FILES {
        let (x, y) = (std::fs::read(whole.join(f)).unwrap(), std::fs::read(streamed.join(f)).unwrap());
        assert!(x == y, "{f} differs between write_tables and TablesWriter");
    }
    // Written again over the same files: the same bytes, and the replaced
    // files (kept under a second name while renaming) are gone.
    write_tables(&whole, &mentions, &articles, &errors).unwrap();
    for f in TABLE_FILES {
        assert!(std::fs::read(whole.join(f)).unwrap() == std::fs::read(streamed.join(f)).unwrap(), "{f} rewritten differs");
    }
    let left: Vec<String> = std::fs::read_dir(&whole).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).filter(|n| n.starts_with('.')).collect();
    assert!(left.is_empty(), "left behind: {left:?}");
    let df = ParquetReader::new(std::fs::File::open(streamed.join("mentions.parquet")).unwrap()).finish().unwrap();
    assert_eq!(df.height(), n);
    let ev = df.column("evidence").unwrap().str().unwrap().get(n - 1).map(str::to_string);
    assert_eq!(ev, Some(mentions[n - 1].evidence.clone()));
    let csv_lines = std::fs::read_to_string(streamed.join("mentions.csv")).unwrap().lines().count();
    assert_eq!(csv_lines, n + 1, "one header and one line per mention");
    let s = ParquetReader::new(std::fs::File::open(streamed.join("summary.parquet")).unwrap()).finish().unwrap();
    assert_eq!(s.height(), summary_rows(&mentions).len());
}
