//! The project's gazetteer against the official region list in
//! `../shared/reference` (skipped when that folder is absent).

use anugerah::model::Level;
use anugerah::rules::Rules;
use std::collections::BTreeMap;
use std::path::Path;

fn reference(name: &str) -> Option<String> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/reference").join(name);
    std::fs::read_to_string(p).ok()
}

#[test]
fn every_region_matches_the_reference_list() {
    let Some(text) = reference("regions.csv") else {
        eprintln!("../shared/reference/regions.csv absent: skipped");
        return;
    };
    let rules = Rules::embedded();
    let ours: BTreeMap<&str, (&str, Level)> =
        rules.gazetteer.regions.iter().map(|r| (r.code.as_str(), (r.official.as_str(), r.level))).collect();
    let mut rows = 0;
    for line in text.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let cols: Vec<&str> = line.split(',').collect();
        let (code, name, level) = (cols[0], cols[1], Level::parse(cols[2]).expect("level"));
        let official = if level == Level::Provinsi { format!("Provinsi {name}") } else { name.to_string() };
        let (got_name, got_level) = ours.get(code).unwrap_or_else(|| panic!("code {code} ({name}) missing"));
        assert_eq!((*got_name, *got_level), (official.as_str(), level), "code {code}");
        rows += 1;
    }
    assert_eq!(rows, 552);
    assert_eq!(ours.len(), rows, "the gazetteer has regions the reference lacks");
}

#[test]
fn every_reference_province_alias_resolves_to_its_province() {
    let Some(text) = reference("province_aliases.csv") else {
        eprintln!("../shared/reference/province_aliases.csv absent: skipped");
        return;
    };
    let rules = Rules::embedded();
    for line in text.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let (code, alias) = line.split_once(',').expect("code,alias");
        let sentence = format!("Pemprov {alias} meraih penghargaan");
        let hits = rules.gazetteer.find(&sentence);
        let found = hits.iter().flat_map(|h| h.entries.iter()).filter_map(|e| rules.gazetteer.region(*e)).any(|r| r.code == code);
        assert!(found, "alias {alias} does not resolve to {code}");
    }
}
