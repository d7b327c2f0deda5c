//! Dates from Indonesian datelines, with the year chosen when it is missing.

use crate::rules::{compile, parse_toml, RuleError};
use chrono::{Datelike, NaiveDate};
use regex::Regex;
use serde::Deserialize;
use std::collections::HashMap;

#[derive(Deserialize)]
struct DateFile {
    months: HashMap<String, u32>,
    weekdays: HashMap<String, u32>,
    years: YearRange,
}

#[derive(Deserialize, Debug, Clone, Copy)]
struct YearRange {
    earliest: i32,
    latest: i32,
}

/// A date written in text; the year may be missing.
#[derive(Debug, Clone, PartialEq)]
pub struct DateMatch {
    /// Day of month.
    pub day: u32,
    /// Month 1-12.
    pub month: u32,
    /// Year when written.
    pub year: Option<i32>,
    /// Weekday when written, 1 = Monday.
    pub weekday: Option<u32>,
    /// As written.
    pub text: String,
    /// Byte offset.
    pub start: usize,
    /// End offset.
    pub end: usize,
}

/// Compiled date patterns.
#[derive(Debug)]
pub struct DateRules {
    months: HashMap<String, u32>,
    weekdays: HashMap<String, u32>,
    /// The [`forms`] of a date as one alternation, their groups suffixed 1 to 3.
    dates: Regex,
    years: YearRange,
    /// A full weekday name with no date after it ("di Jakarta, Kamis.").
    weekday_alone: Regex,
}

/// The written forms of a date, most specific first, with the groups `d`, `m`
/// or `mn`, `y` and `wd` of form k named with `suffix[k]`.
fn forms(mon: &str, wd: &str, suffix: [&str; 3]) -> [String; 3] {
    let [a, b, c] = suffix;
    [
        // Kamis (8/6/2023), Senin (25/10), Jum'at (01/10/2021)
        format!(r"\b(?P<wd{a}>{wd})\s*,?\s*\(\s*(?P<d{a}>\d{{1,2}})\s*/\s*(?P<m{a}>\d{{1,2}})(?:\s*/\s*(?P<y{a}>\d{{2,4}}))?\s*\)"),
        // Jumat, 23 Desember 2022 / Sen, 25 Okt 2021 / 16 Februari 2021 / 28 April
        format!(r"(?:\b(?P<wd{b}>{wd})\s*,?\s+)?\b(?P<d{b}>\d{{1,2}})\s+(?P<mn{b}>{mon})\.?(?:\s+(?P<y{b}>\d{{4}}))?\b"),
        // 23-12-2022, 23/12/2022
        format!(r"\b(?P<d{c}>\d{{1,2}})[-/.](?P<m{c}>\d{{1,2}})[-/.](?P<y{c}>(?:19|20)\d\d)\b"),
    ]
}

/// Group-name suffixes of the forms in [`DateRules::dates`].
const FORM_SUFFIXES: [&str; 3] = ["1", "2", "3"];

fn alternation<'a>(names: impl Iterator<Item = &'a String>) -> String {
    let mut v: Vec<String> = names.map(|n| regex::escape(n)).collect();
    v.sort_by_key(|s| std::cmp::Reverse(s.len()));
    v.join("|")
}

impl DateRules {
    /// Parses `dates.toml`.
    pub fn parse(file: &str, text: &str) -> Result<DateRules, RuleError> {
        let f: DateFile = parse_toml(file, text)?;
        let months: HashMap<String, u32> = f.months.into_iter().map(|(k, v)| (k.to_lowercase(), v)).collect();
        let weekdays: HashMap<String, u32> = f.weekdays.into_iter().map(|(k, v)| (k.to_lowercase(), v)).collect();
        if let Some((k, v)) = months.iter().find(|(_, v)| !(1..=12).contains(*v)) {
            return Err(RuleError::syntax(file, format!("month `{k}` = {v} is not 1-12")));
        }
        let mon = alternation(months.keys());
        let wd = alternation(weekdays.keys());
        let dates = compile(file, &forms(&mon, &wd, FORM_SUFFIXES).map(|f| format!("(?:{f})")).join("|"))?;
        if f.years.earliest > f.years.latest {
            return Err(RuleError::syntax(file, "years.earliest is after years.latest"));
        }
        let full_days = alternation(weekdays.keys().filter(|k| k.chars().count() >= 4));
        let weekday_alone = compile(file, &format!(r"\b(?P<wd>{full_days})\b\s*(?:[.,;]|$)"))?;
        Ok(DateRules { months, weekdays, dates, years: f.years, weekday_alone })
    }

    /// Every date written in `text`, left to right: one search for all the
    /// forms, the leftmost match first and, where several forms match at one
    /// place, the most specific.
    pub fn find_all(&self, text: &str) -> Vec<DateMatch> {
        self.dates
            .captures_iter(text)
            .filter_map(|c| FORM_SUFFIXES.iter().find(|k| c.name(&format!("d{k}")).is_some()).and_then(|k| self.date_of(&c, k)))
            .collect()
    }

    /// The date a match of a form whose groups are suffixed `k` writes, if it is one.
    fn date_of(&self, c: &regex::Captures<'_>, k: &str) -> Option<DateMatch> {
        let group = |name: &str| c.name(&format!("{name}{k}"));
        let m = c.get(0)?;
        let day = group("d").and_then(|d| d.as_str().parse::<u32>().ok())?;
        let month = group("m")
            .and_then(|x| x.as_str().parse::<u32>().ok())
            .or_else(|| group("mn").and_then(|x| self.months.get(&x.as_str().to_lowercase()).copied()))?;
        let year = group("y").and_then(|y| y.as_str().parse::<i32>().ok()).map(|y| if y < 100 { 2000 + y } else { y });
        let weekday = group("wd").and_then(|w| self.weekdays.get(&w.as_str().to_lowercase()).copied());
        if !(1..=31).contains(&day) || !(1..=12).contains(&month) {
            return None;
        }
        Some(DateMatch { day, month, year, weekday, text: m.as_str().to_string(), start: m.start(), end: m.end() })
    }

    /// The calendar date of `m`: with `candidate_years` (most likely first) as in
    /// [`DateMatch::resolve`]; when there are none, a written weekday picks the
    /// latest fitting year of the configured range.
    pub fn resolve(&self, m: &DateMatch, candidate_years: &[i32]) -> Option<NaiveDate> {
        if m.year.is_some() || !candidate_years.is_empty() {
            return m.resolve(candidate_years);
        }
        m.weekday?;
        let range: Vec<i32> = (self.years.earliest..=self.years.latest).rev().collect();
        m.resolve(&range)
    }

    /// The date of a weekday written alone ("Kamis.") in an article published on
    /// `published`: the latest such weekday on or before that day.
    pub fn weekday_before(&self, text: &str, published: NaiveDate) -> Option<(NaiveDate, String)> {
        let c = self.weekday_alone.captures(text)?;
        let m = c.name("wd")?;
        let wd = *self.weekdays.get(&m.as_str().to_lowercase())?;
        (0..7)
            .filter_map(|back| published.checked_sub_days(chrono::Days::new(back)))
            .find(|d| d.weekday().number_from_monday() == wd)
            .map(|d| (d, m.as_str().to_string()))
    }
}

impl DateMatch {
    /// The calendar date: the written year, else the first candidate year whose
    /// weekday fits (or the first candidate when no weekday is written).
    pub fn resolve(&self, candidate_years: &[i32]) -> Option<NaiveDate> {
        if let Some(y) = self.year {
            return NaiveDate::from_ymd_opt(y, self.month, self.day);
        }
        let dates = candidate_years.iter().filter_map(|y| NaiveDate::from_ymd_opt(*y, self.month, self.day));
        match self.weekday {
            Some(wd) => dates.into_iter().find(|d| d.weekday().number_from_monday() == wd),
            None => dates.into_iter().next(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::RULES;

    /// Dates found form by form, as before the forms were one alternation: all
    /// of the first form, then those of the next that overlap none found.
    fn form_by_form(rules: &DateRules, text: &str) -> Vec<DateMatch> {
        let forms = forms(&alternation(rules.months.keys()), &alternation(rules.weekdays.keys()), ["", "", ""]);
        let mut out: Vec<DateMatch> = Vec::new();
        for re in forms.iter().map(|f| compile("dates.toml", f).unwrap()) {
            for c in re.captures_iter(text) {
                let Some(m) = c.get(0) else { continue };
                if out.iter().any(|o| o.start < m.end() && m.start() < o.end) {
                    continue;
                }
                out.extend(rules.date_of(&c, ""));
            }
        }
        out.sort_by_key(|d| d.start);
        out
    }

    const TOKENS: &[&str] = &[
        "Senin", "Sen", "Kamis", "Jum'at", "Minggu", "1", "8", "25", "32", "10", "13", "21", "2021", "2023", "202", "Oktober",
        "Okt", "Desember", "Mei", "Sept", "(", ")", "/", "-", ".", ",", "lalu", "\u{0663}",
    ];

    proptest::proptest! {
        #![proptest_config(crate::rules::testing::proptest_config())]
        /// One search for all forms finds what searching form by form found.
        #[test]
        fn one_search_finds_the_dates_of_each_form(parts in proptest::collection::vec((proptest::sample::select(TOKENS), proptest::sample::select(&["", " ", " "][..])), 0..16)) {
            let text: String = parts.iter().flat_map(|(t, sep)| [*t, *sep]).collect();
            proptest::prop_assert_eq!(RULES.dates.find_all(&text), form_by_form(&RULES.dates, &text), "{:?}", text);
        }
    }

    #[test]
    fn each_form_is_found() {
        let found = RULES.dates.find_all("Kamis (8/6/2023) lalu, Jumat, 23 Desember 2022 dan 23-12-2022.");
        let got: Vec<(u32, u32, Option<i32>, Option<u32>)> = found.iter().map(|d| (d.day, d.month, d.year, d.weekday)).collect();
        assert_eq!(got, vec![(8, 6, Some(2023), Some(4)), (23, 12, Some(2022), Some(5)), (23, 12, Some(2022), None)]);
    }
}
