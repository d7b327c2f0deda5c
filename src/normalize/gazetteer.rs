//! Regions (Kemendagri codes) and national bodies: names and aliases to canonical recipients.

use crate::model::Level;
use crate::rules::RuleError;
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use std::collections::HashMap;

/// A province, regency or city.
#[derive(Debug, Clone, PartialEq)]
pub struct Region {
    /// Kemendagri code ("35", "35.15").
    pub code: String,
    /// provinsi, kabupaten or kota.
    pub level: Level,
    /// Canonical recipient name ("Provinsi Jawa Timur", "Kota Malang").
    pub official: String,
    /// Bare name ("Jawa Timur", "Malang").
    pub name: String,
}

/// A ministry or national agency.
#[derive(Debug, Clone, PartialEq)]
pub struct Agency {
    /// Official full name.
    pub official: String,
    /// kementerian or lembaga.
    pub level: Level,
}

/// What a surface form can refer to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    /// Index into [`Gazetteer::regions`].
    Region(usize),
    /// Index into [`Gazetteer::agencies`].
    Agency(usize),
}

/// A name found in text, with every body it may refer to.
#[derive(Debug, Clone, PartialEq)]
pub struct NameHit {
    /// Byte offset.
    pub start: usize,
    /// End offset.
    pub end: usize,
    /// Candidate bodies.
    pub entries: Vec<Entry>,
}

/// The gazetteer with its name matcher.
#[derive(Debug)]
pub struct Gazetteer {
    /// All regions, in code order.
    pub regions: Vec<Region>,
    /// All ministries and agencies.
    pub agencies: Vec<Agency>,
    surfaces: Vec<Surface>,
    matcher: AhoCorasick,
}

#[derive(Debug)]
struct Surface {
    text: String,
    /// All letters upper case: match only with exact case (acronyms).
    exact_case: bool,
    entries: Vec<Entry>,
}

const REGIONS_FILE: &str = "gazetteer/regions.csv";
const AGENCIES_FILE: &str = "gazetteer/agencies.csv";

fn csv_rows(file: &str, text: &str) -> Result<Vec<csv::StringRecord>, RuleError> {
    let mut r = csv::ReaderBuilder::new().has_headers(true).from_reader(text.as_bytes());
    r.records().collect::<Result<Vec<_>, _>>().map_err(|e| RuleError::syntax(file, e))
}

fn aliases(field: Option<&str>) -> impl Iterator<Item = &str> {
    field.unwrap_or("").split('|').map(str::trim).filter(|a| !a.is_empty())
}

impl Gazetteer {
    /// Parses the regions and agencies CSV files.
    pub fn parse(regions_csv: &str, agencies_csv: &str) -> Result<Gazetteer, RuleError> {
        let mut regions = Vec::new();
        let mut by_surface: HashMap<String, Surface> = HashMap::new();
        let mut add = |s: &str, e: Entry| {
            let key = s.to_lowercase();
            let exact_case = s.chars().filter(|c| c.is_alphabetic()).all(char::is_uppercase) && s.len() <= 6;
            let entry = by_surface.entry(key).or_insert_with(|| Surface { text: s.to_string(), exact_case, entries: vec![] });
            if !entry.entries.contains(&e) {
                entry.entries.push(e);
            }
        };
        for (i, row) in csv_rows(REGIONS_FILE, regions_csv)?.iter().enumerate() {
            let level = row.get(1).and_then(Level::parse).filter(|l| matches!(l, Level::Provinsi | Level::Kabupaten | Level::Kota));
            let (Some(code), Some(level), Some(official), Some(name)) = (row.get(0), level, row.get(2), row.get(3)) else {
                return Err(RuleError::syntax(REGIONS_FILE, format!("row {}: expected code,level,official,name,aliases", i + 2)));
            };
            let idx = regions.len();
            regions.push(Region { code: code.to_string(), level, official: official.to_string(), name: name.to_string() });
            add(name, Entry::Region(idx));
            for a in aliases(row.get(4)) {
                add(a, Entry::Region(idx));
            }
        }
        let mut agencies = Vec::new();
        for (i, row) in csv_rows(AGENCIES_FILE, agencies_csv)?.iter().enumerate() {
            let level = row.get(1).and_then(Level::parse).filter(|l| matches!(l, Level::Kementerian | Level::Lembaga));
            let (Some(official), Some(level)) = (row.get(0), level) else {
                return Err(RuleError::syntax(AGENCIES_FILE, format!("row {}: expected official,level,aliases", i + 2)));
            };
            let idx = agencies.len();
            agencies.push(Agency { official: official.to_string(), level });
            add(official, Entry::Agency(idx));
            for a in aliases(row.get(2)) {
                add(a, Entry::Agency(idx));
            }
        }
        let mut surfaces: Vec<Surface> = by_surface.into_values().collect();
        surfaces.sort_by(|a, b| a.text.to_lowercase().cmp(&b.text.to_lowercase()));
        // A contiguous NFA: built in a third of the time of a DFA (every run
        // builds it; it was the largest part of compiling the rules) and, with
        // its prefilter, searched as fast in this workload.
        let matcher = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .kind(Some(aho_corasick::AhoCorasickKind::ContiguousNFA))
            .match_kind(MatchKind::LeftmostLongest)
            .build(surfaces.iter().map(|s| s.text.as_str()))
            .map_err(|e| RuleError::syntax(REGIONS_FILE, e))?;
        Ok(Gazetteer { regions, agencies, surfaces, matcher })
    }

    /// Names of regions and agencies in `text`: whole words, starting with a
    /// capital letter, acronyms in their exact case.
    pub fn find(&self, text: &str) -> Vec<NameHit> {
        let mut out = Vec::new();
        for m in self.matcher.find_iter(text) {
            let Some(s) = self.surfaces.get(m.pattern().as_usize()) else { continue };
            let (start, end) = (m.start(), m.end());
            let before_ok = !text[..start].chars().next_back().is_some_and(char::is_alphanumeric);
            let after_ok = !text[end..].chars().next().is_some_and(char::is_alphanumeric);
            let found = &text[start..end];
            let capital = found.chars().next().is_some_and(char::is_uppercase);
            let case_ok = if s.exact_case { found == s.text } else { capital };
            if before_ok && after_ok && case_ok {
                out.push(NameHit { start, end, entries: s.entries.clone() });
            }
        }
        out
    }

    /// Region of an entry, if it is one.
    pub fn region(&self, e: Entry) -> Option<&Region> {
        match e {
            Entry::Region(i) => self.regions.get(i),
            Entry::Agency(_) => None,
        }
    }

    /// Agency of an entry, if it is one.
    pub fn agency(&self, e: Entry) -> Option<&Agency> {
        match e {
            Entry::Agency(i) => self.agencies.get(i),
            Entry::Region(_) => None,
        }
    }

    /// The province a region belongs to.
    pub fn province_of(&self, r: &Region) -> Option<&Region> {
        let code = r.code.split('.').next()?;
        self.regions.iter().find(|p| p.code == code)
    }
}
