//! Known tortured phrases: import the Problematic Paper Screener's fingerprint list, store it,
//! and find its phrases in a text in one Aho-Corasick pass.
//!
//! The PPS list (Cabanac, Labbé, Magazinov; CC BY 4.0) pairs a Dimensions search query such as
//! `"genetic calculation" AND "genetic algorithm"` with the phrase a spinner replaced
//! (`genetic algorithm`). [`FingerprintList::import_csv`] parses every query ([`query`]),
//! reports the rows it cannot read with their line and column, and records where the list came
//! from; [`FingerprintList::save`] / [`FingerprintList::load`] keep it as one checksummed file.
//! [`FingerprintList::matcher`] compiles it into a [`Matcher`], whose [`Matcher::find`] returns
//! each [`Hit`] with byte offsets into the original text, after the same [`normalize`]ation of
//! text and patterns (case, PDF hyphenation and line breaks, ligatures, quotes, dashes).
//!
//! ```
//! use unspin::fingerprint::FingerprintList;
//! let csv = "tortured_phrase,expected_phrase,num_papers\n\
//!            \"\"\"liver sickness\"\"\",liver disease,154\n\
//!            \"\"\"separating highlight\"\" NOT specular\",feature extraction (?),12\n";
//! let (list, errors) = FingerprintList::import_csv(csv.as_bytes(), "pps.csv");
//! assert!(errors.is_empty());
//! let m = list.matcher();
//! let text = "Chronic liver sick-\nness and separating highlights.";
//! let hits = m.find(text);
//! assert_eq!(hits.len(), 1);
//! assert_eq!(hits[0].matched, "liver sick-\nness");
//! assert_eq!(hits[0].expected.as_deref(), Some("liver disease"));
//! ```

pub mod list;
pub mod matcher;
pub mod normalize;
pub mod query;

pub use list::{Entry, FingerprintList, ImportError, ListError, Provenance};
pub use matcher::{Engine, Hit, Matcher, Scratch};
pub use query::{Query, QueryError};
