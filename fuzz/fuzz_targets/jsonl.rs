//! Arbitrary bytes through the JSON Lines reader.
#![no_main]
use anugerah::ingest::{jsonl, FileOutcome, SourceFile};
use anugerah::model::Format;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let file = SourceFile::new("f.jsonl", "f.jsonl", Format::Jsonl);
    let mut out = FileOutcome::default();
    jsonl::read_jsonl(&file, std::io::BufReader::new(data), &mut out);
});
