//! Shared helpers of the integration tests: small corpora written on the fly,
//! running the `anugerah` binary, reading its tables back.
//!
//! Every test crate includes this module with `mod support;`, and no crate
//! uses all of it.
#![allow(dead_code)]

use polars::prelude::*;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A plain-text article with one BKN Award mention (Kabupaten Sleman).
pub const GOOD_TXT: &str = "Pemkab Sleman Raih BKN Award 2023

SLEMAN – Pemerintah Kabupaten Sleman meraih penghargaan BKN Award 2023 kategori Penilaian Kinerja dalam acara yang digelar di Jakarta, Kamis (7/12/2023).

Bupati menyampaikan terima kasih kepada seluruh ASN.
";

/// An HTML page with one Adipura mention (Kota Madiun), a publication date and a URL.
pub const GOOD_HTML: &str = r#"<!DOCTYPE html><html><head><title>Kota Madiun Terima Adipura | Portal</title>
<meta property="og:title" content="Kota Madiun Terima Adipura 2022">
<meta property="og:url" content="https://berita.example/madiun-adipura">
<meta property="article:published_time" content="2023-03-01T09:00:00+07:00"></head>
<body><nav>Beranda</nav><article><h1>Kota Madiun Terima Adipura 2022</h1>
<p>Pemerintah Kota Madiun kembali menerima penghargaan Adipura 2022 dari Kementerian Lingkungan Hidup dan Kehutanan di Jakarta, Selasa (28/2/2023).</p>
<p>Wali kota menyebut kebersihan adalah kerja bersama.</p></article><footer>(c)</footer></body></html>
"#;

/// A JSON Lines record with one mention (Provinsi Jawa Tengah), id `k1`.
pub const GOOD_JSONL_K1: &str = r#"{"id":"k1","url":"https://berita.example/k1","title":"Pemprov Jawa Tengah Raih BKN Award 2022","published":"2022-11-20T08:00:00+07:00","text":"Pemerintah Provinsi Jawa Tengah meraih penghargaan BKN Award 2022 kategori Manajemen Talenta di Jakarta, Jumat (18/11/2022)."}"#;

/// A JSON Lines record without any award (id `k2`): no mentions, null url, `date` field.
pub const GOOD_JSONL_K2: &str = r#"{"id":"k2","title":"Rapat koordinasi kepegawaian","date":"2022-05-02","content":"Rapat koordinasi membahas formasi pegawai tanpa penghargaan apa pun."}"#;

/// Path of the binary under test.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_anugerah"))
}

/// Writes `content` to `root/rel`, creating parent folders.
pub fn write(root: &Path, rel: &str, content: impl AsRef<[u8]>) -> PathBuf {
    let p = root.join(rel);
    if let Some(parent) = p.parent() {
        fs::create_dir_all(parent).expect("create parent folder");
    }
    fs::write(&p, content).expect("write test file");
    p
}

/// A small clean corpus: one txt, one html, one jsonl with two records, and a skipped file.
pub fn write_good_corpus(root: &Path) {
    write(root, "txt/sleman.txt", GOOD_TXT);
    write(root, "html/madiun.html", GOOD_HTML);
    write(root, "kiriman.jsonl", format!("{GOOD_JSONL_K1}\n{GOOD_JSONL_K2}\n"));
    write(root, "catatan.md", "not read");
}

/// Runs `anugerah` with `args`.
pub fn anugerah(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(bin())
        .args(args)
        .env("RUST_LOG", "error")
        .output()
        .expect("start anugerah")
}

/// Runs `anugerah run --corpus CORPUS --out OUT` plus `extra`.
pub fn run(corpus: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args: Vec<&std::ffi::OsStr> =
        vec!["run".as_ref(), "--corpus".as_ref(), corpus.as_os_str(), "--out".as_ref(), out.as_os_str()];
    args.extend(extra.iter().map(|s| std::ffi::OsStr::new(*s)));
    anugerah(&args)
}

/// Like [`run`] but panics with the captured output unless the run exited 0.
pub fn run_ok(corpus: &Path, out: &Path, extra: &[&str]) -> Output {
    let o = run(corpus, out, extra);
    assert!(o.status.success(), "anugerah run failed: {}\nstdout: {}\nstderr: {}", o.status, text(&o.stdout), text(&o.stderr));
    o
}

/// Bytes as lossy text, for messages.
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Reads a Parquet table with polars.
pub fn read_parquet(path: &Path) -> DataFrame {
    let f = fs::File::open(path).unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
    ParquetReader::new(f).finish().unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// Reads a CSV table as header + rows of strings (null = empty string).
pub fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
    let header = r.headers().expect("csv header").iter().map(str::to_string).collect();
    let rows = r
        .records()
        .map(|rec| rec.expect("csv record").iter().map(str::to_string).collect())
        .collect();
    (header, rows)
}

/// CSV rows as maps from column name to value.
pub fn csv_maps(path: &Path) -> Vec<std::collections::BTreeMap<String, String>> {
    let (header, rows) = read_csv(path);
    rows.into_iter().map(|r| header.iter().cloned().zip(r).collect()).collect()
}

/// The six table files a run writes.
pub const TABLE_FILES: [&str; 6] =
    ["mentions.parquet", "mentions.csv", "articles.parquet", "articles.csv", "errors.parquet", "errors.csv"];

/// True when file permissions are not enforced for this process (root, or
/// CAP_DAC_OVERRIDE): a `chmod 000` file can still be opened.
pub fn permissions_ignored(scratch: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let p = scratch.join(".perm-probe");
    fs::write(&p, "x").expect("write probe");
    fs::set_permissions(&p, fs::Permissions::from_mode(0o000)).expect("chmod probe");
    let readable = fs::File::open(&p).is_ok();
    let _ = fs::set_permissions(&p, fs::Permissions::from_mode(0o600));
    let _ = fs::remove_file(&p);
    readable
}

/// What a bad input must give.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// No article row; an errors row for the file (or record) with this stage.
    Error(&'static str),
    /// An article row with status `decoded` and an errors row with stage `decode`.
    Decoded,
    /// An article row with status `decoded` or `ok` that still has its mentions.
    ReadWithMentions,
    /// An article row (any status); nothing else asserted.
    Read,
    /// An errors row with this stage, whether or not the article was read.
    Noted(&'static str),
}

/// One generated bad input.
#[derive(Debug, Clone)]
pub struct BadCase {
    /// Article id (or source path for walk errors) it is expected under.
    pub id: String,
    /// What the run must give for it.
    pub expect: Expect,
    /// Text that the errors message must contain, when any.
    pub message: Option<&'static str>,
}

fn case(id: &str, expect: Expect, message: Option<&'static str>) -> BadCase {
    BadCase { id: id.to_string(), expect, message }
}

/// UTF-16 bytes of `s` with a byte order mark.
pub fn utf16(s: &str, big_endian: bool) -> Vec<u8> {
    let mut out = if big_endian { vec![0xFE, 0xFF] } else { vec![0xFF, 0xFE] };
    for u in s.encode_utf16() {
        out.extend_from_slice(&if big_endian { u.to_be_bytes() } else { u.to_le_bytes() });
    }
    out
}

/// Deterministic pseudo-random bytes (xorshift), for binary files.
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.max(1);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// Writes the issue-5 bad-input corpus into `root` beside good articles and
/// returns the expectations. Cases that cannot be made here (permissions as
/// root) are left out and named in the second value.
pub fn write_bad_corpus(root: &Path) -> (Vec<BadCase>, Vec<&'static str>) {
    use std::os::unix::ffi::OsStrExt;
    let mut cases = Vec::new();
    let mut skipped = Vec::new();
    write_good_corpus(root);

    // Decoding.
    let mut invalid = GOOD_TXT.as_bytes().to_vec();
    invalid.extend_from_slice(b"\nBaris rusak: \xff\xfe\xc3\x28 \xe2\x82 selesai.\n");
    write(root, "bad/invalid-utf8.txt", invalid);
    cases.push(case("bad/invalid-utf8.txt", Expect::Decoded, Some("windows-1252")));

    write(root, "bad/utf16le.txt", utf16(GOOD_TXT, false));
    cases.push(case("bad/utf16le.txt", Expect::ReadWithMentions, None));
    cases.push(case("bad/utf16le.txt", Expect::Decoded, Some("utf-16le")));
    write(root, "bad/utf16be.html", utf16(GOOD_HTML, true));
    cases.push(case("bad/utf16be.html", Expect::ReadWithMentions, None));
    cases.push(case("bad/utf16be.html", Expect::Decoded, Some("utf-16be")));

    let mut bom = vec![0xEF, 0xBB, 0xBF];
    bom.extend_from_slice(GOOD_TXT.as_bytes());
    write(root, "bad/utf8-bom.txt", bom);
    cases.push(case("bad/utf8-bom.txt", Expect::ReadWithMentions, None));

    let cp1252 = encoding_rs::WINDOWS_1252.encode(&GOOD_TXT.replace("Bupati", "Bupati “Sleman” – Jum’at")).0.into_owned();
    assert!(std::str::from_utf8(&cp1252).is_err(), "the windows-1252 sample must not be valid UTF-8");
    write(root, "bad/cp1252.txt", cp1252);
    cases.push(case("bad/cp1252.txt", Expect::Decoded, Some("windows-1252")));
    cases.push(case("bad/cp1252.txt", Expect::ReadWithMentions, None));

    write(root, "bad/nul.txt", GOOD_TXT.replace("Kamis", "Ka\0mis\0"));
    cases.push(case("bad/nul.txt", Expect::Decoded, Some("nul")));

    write(root, "bad/crlf.txt", GOOD_TXT.replace('\n', "\r\n"));
    cases.push(case("bad/crlf.txt", Expect::ReadWithMentions, None));

    // Not text at all.
    write(root, "bad/binary.txt", noise(4096, 7));
    cases.push(case("bad/binary.txt", Expect::Error("read"), Some("binary")));
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    png.extend(noise(2048, 11));
    write(root, "bad/image.html", png);
    cases.push(case("bad/image.html", Expect::Error("read"), Some("binary")));
    write(root, "bad/empty.txt", b"");
    cases.push(case("bad/empty.txt", Expect::Error("read"), Some("empty")));
    write(root, "bad/blank.html", b" \n\t\r\n ");
    cases.push(case("bad/blank.html", Expect::Error("read"), Some("empty")));

    // A 200 MB file: sparse, so it costs no disk; refused by size.
    let big = root.join("bad/huge.txt");
    fs::File::create(&big).and_then(|f| f.set_len(200_000_000)).expect("sparse file");
    cases.push(case("bad/huge.txt", Expect::Error("read"), Some("limit")));

    // JSON Lines.
    let jsonl = [
        GOOD_JSONL_K1,
        r#"{"id":"t1","title":"Terpotong","text":"Pemerintah Kota Batam meraih"#,
        "this is not json",
        r#"{"id":"w1","title":"Tipe salah","text":42}"#,
        r#"{"id":"w2","title":["bukan","teks"],"text":"isi"}"#,
        r#"{"id":"w3","text":"isi","url":{"href":"x"}}"#,
        r#"{"id":"n1","title":"Tanpa teks"}"#,
        "[1, 2, 3]",
        "\"string\"",
        "",
        r#"{"id":"ok2","title":"Judul","text":"Berita biasa tanpa penghargaan.","published":"bukan tanggal"}"#,
    ]
    .join("\n");
    let mut jsonl = jsonl.into_bytes();
    jsonl.extend_from_slice(b"\n{\"id\":\"lossy\",\"text\":\"Kota \xff Batam\"}\n{\"id\":\"last\",\"text\":\"tanpa akhir baris");
    write(root, "bad/records.jsonl", jsonl);
    cases.push(case("bad/records.jsonl#k1", Expect::ReadWithMentions, None));
    cases.push(case("bad/records.jsonl#2", Expect::Error("read"), Some("malformed JSON")));
    cases.push(case("bad/records.jsonl#3", Expect::Error("read"), Some("malformed JSON")));
    cases.push(case("bad/records.jsonl#w1", Expect::Error("read"), Some("should be a string")));
    cases.push(case("bad/records.jsonl#w2", Expect::Error("read"), Some("should be a string")));
    cases.push(case("bad/records.jsonl#w3", Expect::Error("read"), Some("should be a string")));
    cases.push(case("bad/records.jsonl#n1", Expect::Error("read"), Some("no `text`")));
    cases.push(case("bad/records.jsonl#8", Expect::Error("read"), Some("not a JSON object")));
    cases.push(case("bad/records.jsonl#9", Expect::Error("read"), Some("not a JSON object")));
    cases.push(case("bad/records.jsonl#ok2", Expect::Read, None));
    cases.push(case("bad/records.jsonl#lossy", Expect::Decoded, None));
    cases.push(case("bad/records.jsonl#13", Expect::Error("read"), Some("malformed JSON")));

    write(root, "bad/utf16.jsonl", utf16(&format!("{GOOD_JSONL_K1}\n{GOOD_JSONL_K2}\n"), false));
    cases.push(case("bad/utf16.jsonl", Expect::Error("read"), None));
    write(root, "bad/empty.jsonl", b"");

    // HTML shapes.
    write(
        root,
        "bad/no-body.html",
        "<title>Kota Madiun Terima Adipura</title><p>Pemerintah Kota Madiun kembali menerima penghargaan Adipura 2022 dari Kementerian Lingkungan Hidup dan Kehutanan.</p>",
    );
    cases.push(case("bad/no-body.html", Expect::ReadWithMentions, None));
    let deep = format!(
        "<html><body>{}<p>Pemerintah Kota Madiun kembali menerima penghargaan Adipura 2022 dari Kementerian Lingkungan Hidup dan Kehutanan.</p>{}</body></html>",
        "<div>".repeat(100_000),
        "</div>".repeat(100_000)
    );
    write(root, "bad/deep.html", deep);
    cases.push(case("bad/deep.html", Expect::ReadWithMentions, None));
    cases.push(case("bad/deep.html", Expect::Decoded, Some("flattened")));
    write(root, "bad/unclosed.html", "<html><body><article><p>Pemerintah Kota Madiun <b><i>menerima <a href='");
    cases.push(case("bad/unclosed.html", Expect::Read, None));

    // File system oddities.
    std::os::unix::fs::symlink("..", root.join("bad/loop")).expect("symlink loop");
    cases.push(case("bad/loop", Expect::Error("walk"), Some("loop")));
    std::os::unix::fs::symlink("self.txt", root.join("bad/self.txt")).expect("self symlink");
    cases.push(case("bad/self.txt", Expect::Error("walk"), None));
    std::os::unix::fs::symlink("missing.txt", root.join("bad/dangling.txt")).expect("dangling symlink");
    cases.push(case("bad/dangling.txt", Expect::Error("walk"), None));

    let name = std::ffi::OsStr::from_bytes(b"bad/nama-\xff\xfe.txt");
    fs::write(root.join(name), GOOD_TXT).expect("non-UTF-8 file name");
    cases.push(case("bad/nama-\u{FFFD}\u{FFFD}.txt", Expect::ReadWithMentions, None));
    cases.push(case("bad/nama-\u{FFFD}\u{FFFD}.txt", Expect::Noted("walk"), Some("UTF-8")));

    if permissions_ignored(root) {
        skipped.push("unreadable file (chmod 000): permissions are not enforced for this user (root)");
    } else {
        use std::os::unix::fs::PermissionsExt;
        let p = write(root, "bad/locked.txt", GOOD_TXT);
        fs::set_permissions(&p, fs::Permissions::from_mode(0o000)).expect("chmod 000");
        cases.push(case("bad/locked.txt", Expect::Error("read"), Some("cannot read")));
        let d = root.join("bad/locked-dir");
        fs::create_dir_all(&d).expect("mkdir");
        write(&d, "inside.txt", GOOD_TXT);
        fs::set_permissions(&d, fs::Permissions::from_mode(0o000)).expect("chmod 000 dir");
        cases.push(case("bad/locked-dir", Expect::Error("walk"), None));
    }
    (cases, skipped)
}
