//! Normalisers: programmes, recipients, categories, ranks and dates from text to canonical values.

pub mod category;
pub mod date;
pub mod gazetteer;
pub mod program;
pub mod rank;
