//! anugerah: turns Indonesian news about government awards into tables.
//!
//! The stages are separate modules: [`ingest`] reads the corpus, [`extract`]
//! finds award mentions with the rules of [`rules`], [`normalize`] maps text to
//! canonical values, and [`output`] writes the tables. [`pipeline`] runs them.

pub mod extract;
pub mod ingest;
pub mod model;
pub mod normalize;
pub mod output;
pub mod pipeline;
pub mod report;
pub mod rules;
pub mod shard;
pub mod spill;
pub mod state;
pub mod stream;
