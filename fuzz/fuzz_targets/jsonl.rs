//! Arbitrary bytes through the JSON Lines reader.
#![no_main]
use anugerah::ingest::{jsonl, FileOutcome, SourceFile};
use anugerah::model::Format;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let file = SourceFile { rel_path: "f.jsonl".into(), path: "f.jsonl".into(), format: Format::Jsonl, size: 0, mtime_ns: 0 };
    let mut out = FileOutcome::default();
    jsonl::read_jsonl(&file, std::io::BufReader::new(data), &mut out);
});
