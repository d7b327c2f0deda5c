//! Arbitrary bytes through the decoder and the HTML reader.
#![no_main]
use anugerah::ingest::{decode, html, SourceFile};
use anugerah::model::Format;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(d) = decode::decode_bytes(data) {
        let _ = html::flatten_deep(&d.text, 4);
        let file = SourceFile::new("f.html", "f.html", Format::Html);
        let _ = html::article_from_html(&file, d);
    }
});
