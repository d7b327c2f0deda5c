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
    patterns: Vec<Regex>,
    years: YearRange,
    /// A full weekday name with no date after it ("di Jakarta, Kamis.").
    weekday_alone: Regex,
}

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
        let patterns = [
            // Kamis (8/6/2023), Senin (25/10), Jum'at (01/10/2021)
            format!(r"\b(?P<wd>{wd})\s*,?\s*\(\s*(?P<d>\d{{1,2}})\s*/\s*(?P<m>\d{{1,2}})(?:\s*/\s*(?P<y>\d{{2,4}}))?\s*\)"),
            // Jumat, 23 Desember 2022 / Sen, 25 Okt 2021 / 16 Februari 2021 / 28 April
            format!(r"(?:\b(?P<wd>{wd})\s*,?\s+)?\b(?P<d>\d{{1,2}})\s+(?P<mn>{mon})\.?(?:\s+(?P<y>\d{{4}}))?\b"),
            // 23-12-2022, 23/12/2022
            r"\b(?P<d>\d{1,2})[-/.](?P<m>\d{1,2})[-/.](?P<y>(?:19|20)\d\d)\b".to_string(),
        ];
        let patterns = patterns.iter().map(|p| compile(file, p)).collect::<Result<Vec<_>, _>>()?;
        if f.years.earliest > f.years.latest {
            return Err(RuleError::syntax(file, "years.earliest is after years.latest"));
        }
        let full_days = alternation(weekdays.keys().filter(|k| k.chars().count() >= 4));
        let weekday_alone = compile(file, &format!(r"\b(?P<wd>{full_days})\b\s*(?:[.,;]|$)"))?;
        Ok(DateRules { months, weekdays, patterns, years: f.years, weekday_alone })
    }

    /// Every date written in `text`, left to right.
    pub fn find_all(&self, text: &str) -> Vec<DateMatch> {
        let mut out: Vec<DateMatch> = Vec::new();
        for re in &self.patterns {
            for c in re.captures_iter(text) {
                let Some(m) = c.get(0) else { continue };
                if out.iter().any(|o| o.start < m.end() && m.start() < o.end) {
                    continue;
                }
                let day = c.name("d").and_then(|d| d.as_str().parse::<u32>().ok());
                let month = c
                    .name("m")
                    .and_then(|x| x.as_str().parse::<u32>().ok())
                    .or_else(|| c.name("mn").and_then(|x| self.months.get(&x.as_str().to_lowercase()).copied()));
                let year = c.name("y").and_then(|y| y.as_str().parse::<i32>().ok()).map(|y| if y < 100 { 2000 + y } else { y });
                let weekday = c.name("wd").and_then(|w| self.weekdays.get(&w.as_str().to_lowercase()).copied());
                let (Some(day), Some(month)) = (day, month) else { continue };
                if !(1..=31).contains(&day) || !(1..=12).contains(&month) {
                    continue;
                }
                out.push(DateMatch { day, month, year, weekday, text: m.as_str().to_string(), start: m.start(), end: m.end() });
            }
        }
        out.sort_by_key(|d| d.start);
        out
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
