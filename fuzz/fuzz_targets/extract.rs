//! Arbitrary text through the extractor with the embedded rules.
#![no_main]
use anugerah::extract;
use anugerah::model::Article;
use anugerah::rules::Rules;
use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;

static RULES: LazyLock<Rules> = LazyLock::new(Rules::embedded);

fuzz_target!(|text: &str| {
    let a = Article::plain("f.txt", text);
    let mentions = extract::extract(&RULES, &a);
    // The article gate of `extract` gives what the full reading gives.
    assert_eq!(mentions, extract::extract_traced(&RULES, &a).mentions);
    for m in mentions {
        assert!(a.text.get(m.start as usize..m.end as usize).is_some());
    }
});
