//! Arbitrary bytes through the decoder and the plain-text reader.
#![no_main]
use anugerah::ingest::{decode, text, SourceFile};
use anugerah::model::Format;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(d) = decode::decode_bytes(data) {
        assert!(!d.text.contains('\0'));
        let file = SourceFile::new("f.txt", "f.txt", Format::Txt);
        let _ = text::article_from_text(&file, d);
    }
});
