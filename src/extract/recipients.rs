//! Finding the receiving bodies of a sentence: gazetteer names, level words, and filters
//! for locations, givers, datelines and persons' names.

use super::triggers::Triggers;
use crate::model::Level;
use crate::normalize::gazetteer::Gazetteer;
use regex::Regex;
use std::sync::LazyLock;

/// A receiving body found in a sentence (offsets relative to the sentence).
#[derive(Debug, Clone, PartialEq)]
pub struct Recipient {
    /// Canonical name.
    pub official: String,
    /// Level.
    pub level: Level,
    /// Region code for regional governments.
    pub code: Option<String>,
    /// As written, level word included.
    pub raw: String,
    /// Start of the level word or name.
    pub start: usize,
    /// End of the name.
    pub end: usize,
    /// Whether a level word stood before the name.
    pub explicit: bool,
}

impl Recipient {
    /// The same body without a position: the article's recipient carried into
    /// a sentence that names no body itself.
    pub fn carried(&self) -> Recipient {
        Recipient { start: 0, end: 0, ..self.clone() }
    }
}

static LEVEL_PREFIX: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?P<w>pemerintah\s+(?:daerah\s+)?provinsi|pemprov|provinsi|prov\.|gubernur|wakil\s+gubernur|pemerintah\s+(?:daerah\s+)?kabupaten|pemkab|kabupaten|kab\.|bupati|wakil\s+bupati|pemerintah\s+(?:daerah\s+)?kota|pemkot|kota|walikota|wali\s+kota|wakil\s+wali\s*kota|kotamadya|pemda|pemerintah\s+daerah)\s*(?:\([^)]{1,25}\)\s*)?(?:(?:administrasi|adm\.?)\s+)?$",
    )
    .expect("static regex")
});
static LEVEL_WORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?-u:\b)(provinsi|pemprov|gubernur|kabupaten|pemkab|kab\.|bupati|kota|pemkot|wali\s*kota)(?-u:\b)").expect("static regex")
});
/// What follows a name that opens a dateline: a dash, or a comma and a place
/// of at most [`DATELINE_PLACE_CHARS`] characters then a dash ("Kota Palu,
/// Jakarta – ..."), after an optional parenthesis. The place's length is
/// checked in [`dateline_after`]: as a counted repetition of the Unicode `\w`
/// class the regex took 50 M instructions to compile, in every run.
static DATELINE_AFTER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*(?:\([^)]{1,30}\)\s*)?(?:[-–—|/]|,\s*[A-Z0-9](?P<place>[\w. ]*)[-–—])").expect("static regex")
});
/// Most characters of a dateline's place after its first one.
const DATELINE_PLACE_CHARS: usize = 30;
static DASH_AFTER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s*(?:\([^)]{1,30}\)\s*)?[-–—]").expect("static regex"));
static NEXT_WORD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s+([A-Z][A-Za-z'’-]*)").expect("static regex"));
static PREV_WORD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"([A-Z][A-Za-z'’.-]*)\s+$").expect("static regex"));
static AGENCY_PASSIVE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:(?:diraih|dimenangkan|dimenangi|diterima|diperoleh|disabet)(?:\s+antara\s+lain)?(?:\s+oleh)?|disusul|diikuti|yakni|yaitu|adalah|ialah|:|non\s+kementerian)\s*$")
        .expect("static regex")
});
static UNIT_JOIN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(\s+(?:dan|serta)\s+)(?:Kantor|Lembaga|Rumah|Balai|Rutan|Lapas|KPP|Kanwil|Pengadilan|Kejaksaan|Polres|Polda)\s").expect("static regex")
});
static LIST_JOIN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)^\s*(?:\([^)]{1,40}\)\s*)?(?:,\s*)?(?:(?:dan|serta)\s+)?$").expect("static regex"));
static RANK_AFTER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^\s*(?:\([^)]{1,20}\)\s*)?(?:di\s+|pada\s+)?(?:urutan|peringkat|posisi|ranking)\s").expect("static regex")
});
static ORGANISER_BEFORE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)(?-u:\b)(?:oleh|dari|kepada|bersama)\s+$").expect("static regex"));
static LIST_CONTINUES: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s*(?:(?i:dan|serta)(?-u:\b)|,\s*(?:(?i:dan|serta)\s+)?[A-Z])").expect("static regex"));
static AGENCY_ACTIVE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^\s*(?:\([^)]{1,20}\)\s*)?(?:RI\s+)?(?:kembali\s+|juga\s+|berhasil\s+)*(?:raih|meraih|menerima|mendapat|mendapatkan|memperoleh|menyabet|memboyong|dianugerahi|dinobatkan|terima|menempati|menduduki|keluar\s+sebagai)(?-u:\b)")
        .expect("static regex")
});

/// Splits "Kantor A dan Kantor B" into its two units.
fn split_units(sentence: &str, start: usize, end: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut from = start;
    for c in UNIT_JOIN.captures_iter(&sentence[start..end]) {
        let Some(m) = c.get(1) else { continue };
        let (a, b) = (start + m.start(), start + m.end());
        if a > from {
            out.push((from, a));
        }
        from = b;
    }
    if end > from {
        out.push((from, end));
    }
    out
}

/// Whether a national body or unit is tied to winning: "diraih (oleh) X", "X meraih",
/// or "X dan Y meraih" (a list that a win verb follows).
fn tied_to_win(cues: &Triggers, before: &str, after: &str) -> bool {
    if AGENCY_PASSIVE.is_match(tail(before, 40)) || AGENCY_ACTIVE.is_match(head(after, 60)) || RANK_AFTER.is_match(head(after, 40)) {
        return true;
    }
    if ORGANISER_BEFORE.is_match(tail(before, 30)) {
        return false;
    }
    LIST_CONTINUES.is_match(after) && {
        let clause = head(after, 160);
        let clause = clause.split(['.', ';']).next().unwrap_or("");
        cues.win.first(clause).is_some_and(|m| AGENCY_ACTIVE.is_match(&clause[m.start()..]))
    }
}

fn level_of_word(w: &str) -> Option<Level> {
    let w = w.to_lowercase();
    if w.contains("prov") || w.contains("gubernur") {
        Some(Level::Provinsi)
    } else if w.contains("kab") || w.contains("bupati") {
        Some(Level::Kabupaten)
    } else if w.contains("kota") || w.contains("pemkot") {
        Some(Level::Kota)
    } else {
        None
    }
}

/// Nearest level word before `pos` in `sentence`: the level a bare name in a list takes.
pub fn level_hint(sentence: &str, pos: usize) -> Option<Level> {
    let before = sentence.get(..pos)?;
    LEVEL_WORD.find_iter(before).last().and_then(|m| level_of_word(m.as_str()))
}

/// Whether `after` (the text after a name) is what follows a dateline's
/// opening name (see [`DATELINE_AFTER`]). The place cannot end before the dash
/// (`[\w. ]` holds no dash), so the longest run is the only candidate.
fn dateline_after(after: &str) -> bool {
    DATELINE_AFTER
        .captures(after)
        .is_some_and(|c| c.name("place").is_none_or(|p| p.as_str().chars().count() <= DATELINE_PLACE_CHARS))
}

fn tail(s: &str, n: usize) -> &str {
    let mut i = s.len().saturating_sub(n);
    while !s.is_char_boundary(i) {
        i += 1;
    }
    &s[i..]
}

fn head(s: &str, n: usize) -> &str {
    let mut i = n.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    &s[..i]
}

/// The receiving bodies named in `sentence`, skipping spans in `excluded`
/// (programme names), locations, givers, datelines and parts of longer names.
pub fn find(gaz: &Gazetteer, cues: &Triggers, sentence: &str, excluded: &[(usize, usize)]) -> Vec<Recipient> {
    let mut out: Vec<Recipient> = Vec::new();
    let units: Vec<(usize, usize)> = cues
        .unit
        .all(sentence)
        .into_iter()
        .filter(|m| !excluded.iter().any(|(s, e)| *s < m.end() && m.start() < *e))
        .flat_map(|m| split_units(sentence, m.start(), m.end()))
        .collect();
    for &(start, end) in &units {
        let follows_tied = out.last().is_some_and(|l| l.end <= start && LIST_JOIN.is_match(&sentence[l.end..start]));
        if follows_tied || tied_to_win(cues, &sentence[..start], &sentence[end..]) {
            out.push(Recipient {
                official: sentence[start..end].to_string(),
                level: Level::Unit,
                code: None,
                raw: sentence[start..end].to_string(),
                start,
                end,
                explicit: true,
            });
        }
    }
    let mut blocked: Vec<(usize, usize)> = excluded.to_vec();
    blocked.extend(units.iter().copied());
    let hits = gaz.find(sentence);
    let mut last_location: Option<usize> = None;
    let name_starts: Vec<usize> = hits.iter().map(|h| h.start).collect();
    let name_ends: Vec<usize> = hits.iter().map(|h| h.end).collect();
    for hit in hits.iter().cloned() {
        if blocked.iter().any(|(s, e)| *s < hit.end && hit.start < *e) {
            continue;
        }
        let name = &sentence[hit.start..hit.end];
        let before = &sentence[..hit.start];
        let after = &sentence[hit.end..];
        let prefix = LEVEL_PREFIX.captures(tail(before, 70));
        let (explicit_level, start) = match &prefix {
            Some(c) => {
                let m = c.get(0).map(|m| m.start()).unwrap_or(0);
                let abs = before.len() - tail(before, 70).len() + m;
                (c.name("w").and_then(|w| level_of_word(w.as_str())), abs)
            }
            None => (None, hit.start),
        };
        let explicit = prefix.is_some();
        // "(Sumut)", "(Pemprov Kalteng)": a restatement of the name before it.
        if sentence[..start].trim_end().ends_with('(') {
            continue;
        }
        let after_location = last_location.is_some_and(|e: usize| e <= start && LIST_JOIN.is_match(&sentence[e..start]));
        if after_location || cues.location.any(tail(&sentence[..start], 40)) || (!explicit && cues.location_bare.any(tail(&sentence[..start], 90))) {
            // "di Jatim dan Bengkulu": the whole list is a place.
            last_location = Some(hit.end);
            continue;
        }
        if !explicit && start < 60 && DASH_AFTER.is_match(after) {
            // "Diksi.net, Jakarta – Kota Palu ...": a dateline.
            continue;
        }
        if cues.giving.any(head(after, 60)) {
            continue;
        }
        if hit.start < 3 && dateline_after(after) {
            continue;
        }
        let shouting = name.len() > 4 && name.chars().all(|c| !c.is_lowercase());
        if shouting && (dateline_after(after) || name.contains(' ')) {
            continue;
        }
        let regions: Vec<_> = hit.entries.iter().filter_map(|e| gaz.region(*e)).collect();
        let agencies: Vec<_> = hit.entries.iter().filter_map(|e| gaz.agency(*e)).collect();
        if !explicit {
            // "Bima Haria", "Universitas Brawijaya Malang": part of a longer proper name.
            // A neighbour that is itself a gazetteer name is a list without commas ("Sinjai Wajo").
            let next_is_name = NEXT_WORD.captures(after).is_some_and(|c| {
                let at = c.get(1).map(|m| hit.end + m.start()).unwrap_or(0);
                !name_starts.contains(&at) && !cues.win.any(&c[1]) && !matches!(c[1].to_lowercase().as_str(), "dan" | "serta")
            });
            let prev_is_name = PREV_WORD.captures(before).is_some_and(|c| {
                let prev_end = c.get(1).map(|m| m.end()).unwrap_or(0);
                if name_ends.contains(&prev_end) {
                    return false;
                }
                let w = c[1].to_lowercase();
                let acronym = c[1].len() <= 7
                    && c[1].chars().all(|ch| ch.is_uppercase())
                    && !c[1].chars().all(|ch| matches!(ch, 'I' | 'V' | 'X' | 'L'));
                !acronym && !cues.win.any(&w) && !matches!(w.as_str(), "dan" | "serta" | "dki" | "kepada" | "bagi" | "oleh" | "sekda" | "pemda" | "diraih")
                    && !before.trim_end().ends_with([',', ':', '(', '.'])
            });
            if regions.is_empty() {
                // Agencies only when the sentence ties them to winning.
                let follows_tied = out
                    .iter()
                    .rev()
                    .find(|l| l.end <= start)
                    .is_some_and(|l| matches!(l.level, Level::Kementerian | Level::Lembaga | Level::Unit) && LIST_JOIN.is_match(&sentence[l.end..start]));
                let tied = follows_tied || tied_to_win(cues, before, after);
                if let (true, Some(a)) = (tied, agencies.first()) {
                    out.push(Recipient {
                        official: a.official.clone(),
                        level: a.level,
                        code: None,
                        raw: name.to_string(),
                        start,
                        end: hit.end,
                        explicit: false,
                    });
                }
                continue;
            }
            if next_is_name && !name.contains(' ') || (prev_is_name && !name.contains(' ')) || cues.speaker.any(head(after, 40)) {
                continue;
            }
        }
        let want = explicit_level.or_else(|| level_hint(sentence, start));
        let pick = regions
            .iter()
            .find(|r| Some(r.level) == want)
            .or_else(|| if explicit_level.is_some() { None } else { regions.iter().find(|r| r.level == Level::Provinsi) })
            .or_else(|| if explicit_level.is_some() { None } else { regions.iter().find(|r| r.level == Level::Kota) })
            .or_else(|| if explicit_level.is_some() { None } else { regions.first() });
        let Some(region) = pick else { continue };
        out.push(Recipient {
            official: region.official.clone(),
            level: region.level,
            code: Some(region.code.clone()),
            raw: sentence[start..hit.end].to_string(),
            start,
            end: hit.end,
            explicit,
        });
    }
    // Units are found before gazetteer names: restore text order, drop overlaps.
    out.sort_by_key(|r| (r.start, std::cmp::Reverse(r.end)));
    out.dedup_by(|b, a| b.start < a.end);
    // The same body written twice in a row ("Provinsi Jawa Timur (Jatim)") counts once.
    out.dedup_by(|b, a| {
        a.official == b.official && sentence.get(a.end..b.start).is_some_and(|g| g.trim_matches(|c: char| c.is_whitespace() || c == '(').is_empty())
    });
    out
}

#[cfg(test)]
mod tests {
    use super::dateline_after;

    /// The dateline pattern with the place's length in the regex, as it was written first.
    static DATELINE_BY_REGEX: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"^\s*(?:\([^)]{1,30}\)\s*)?(?:[-–—|/]|,\s*[A-Z0-9][\w. ]{0,30}?[-–—])").unwrap()
    });

    fn dateline_after_by_regex(after: &str) -> bool {
        DATELINE_BY_REGEX.is_match(after)
    }

    proptest::proptest! {
        #![proptest_config(crate::rules::testing::proptest_config())]
        /// Checking the place's length in code answers as the counted repetition did.
        #[test]
        fn dateline_place_length_is_checked_as_the_regex_did(
            head in "[ ]{0,2}(\\([a-z)]{0,33}\\)[ ]?)?[-,|/x]?[ ]{0,2}[A9b]?",
            place in "[aé. 9_]{0,34}",
            end in "[-–—x)]{0,2}",
        ) {
            let after = format!("{head}{place}{end}");
            proptest::prop_assert_eq!(dateline_after(&after), dateline_after_by_regex(&after), "{:?}", after);
        }
    }

    #[test]
    fn datelines_are_recognised() {
        assert!(dateline_after(" – Pemerintah Kota Palu meraih"));
        assert!(dateline_after(", Jakarta – Kota Palu meraih"));
        assert!(dateline_after(" (Antara), Kota Palu Sulawesi Tengah – Pemkot"));
        assert!(!dateline_after(", Jakarta Selatan Daerah Khusus Ibukota Jakarta – Pemkot"));
        assert!(!dateline_after(" meraih penghargaan"));
        // The place: its first character, then at most 30.
        assert!(dateline_after(&format!(", J{} – Pemkot", "a".repeat(29))));
        assert!(!dateline_after(&format!(", J{} – Pemkot", "a".repeat(30))));
    }
}
