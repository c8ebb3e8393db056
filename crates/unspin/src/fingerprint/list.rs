//! A fingerprint list: imported from a Problematic Paper Screener CSV export, saved and loaded
//! as one checksummed JSON file.
//!
//! # The CSV
//!
//! A header names the columns; `tortured_phrase` is required, `expected_phrase` and
//! `num_papers` are read when present (any order, any case). Fields follow RFC 4180 (`""` is a
//! quote inside a quoted field), except that a record is one line: every row of the PPS export is,
//! and this way an unbalanced quote costs one row instead of swallowing the rest of the file.
//! A malformed row, a query that does not parse (see [`super::query`]) or a `num_papers` that is
//! not a count gives an [`ImportError`] with its 1-based line and column, and the row is
//! skipped; the rest are imported.
//!
//! # The file
//!
//! ```text
//! {"format":"unspin-fingerprints","version":1,"sha256":"<hex>","list":{
//!   "provenance":{"source":…,"sha256":…,"rows_read":…,"imported":…,"skipped":…,"imported_at":…},
//!   "allow":["…"],
//!   "entries":[{"row":2,"query":"…","expected_raw":"…","expected":"…","num_papers":1},…]}}
//! ```
//!
//! `sha256` is the SHA-256 of the bytes of the `list` value exactly as they stand in the file,
//! so a truncated or edited file is refused with an error, never half-loaded. Queries are parsed
//! again on load (about a microsecond each).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::matcher::Matcher;
use super::normalize::{is_word_char, normalize_phrase};
use super::query::{Query, QueryError};

/// The `format` field of a saved list.
pub const FORMAT: &str = "unspin-fingerprints";
/// The file version this build reads and writes.
pub const VERSION: u32 = 1;

/// A row that was not imported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("row {row}, {}column {column}: {message}", field.as_ref().map(|f| format!("{f} ")).unwrap_or_default())]
#[non_exhaustive]
pub struct ImportError {
    /// 1-based line of the CSV file.
    pub row: usize,
    /// 1-based character column: within the field named by `field` when there is one (within
    /// the query for a syntax error), else within the line.
    pub column: usize,
    /// The CSV column the problem is in, if it is in one field.
    pub field: Option<String>,
    /// What is wrong, in lowercase.
    pub message: String,
}

/// Why a saved list could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ListError {
    /// The file could not be read or written.
    #[error("cannot access fingerprint list {path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The bytes are not a saved fingerprint list.
    #[error("not an unspin fingerprint list (no \"format\": \"{FORMAT}\" header)")]
    NotAList,
    /// The file was written by another format version.
    #[error(
        "fingerprint list version {found} is not supported (this build reads version {expected})"
    )]
    WrongVersion {
        /// The version in the file.
        found: u64,
        /// The version this build reads.
        expected: u32,
    },
    /// The file is not well-formed JSON of the expected shape; typically truncated.
    #[error("fingerprint list is truncated or malformed")]
    Malformed(#[source] serde_json::Error),
    /// The content does not match its checksum.
    #[error("fingerprint list is corrupt: checksum mismatch")]
    Corrupt,
    /// A stored query does not parse.
    #[error("fingerprint list entry from row {row} has an invalid query")]
    BadQuery {
        /// The entry's CSV row.
        row: usize,
        /// The parse error.
        #[source]
        source: QueryError,
    },
}

/// Where a list came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[non_exhaustive]
pub struct Provenance {
    /// The name the CSV was imported under (usually its file name).
    pub source: String,
    /// SHA-256 of the CSV bytes, lowercase hex.
    pub sha256: String,
    /// Data rows read (not counting the header and blank lines).
    pub rows_read: usize,
    /// Entries imported.
    pub imported: usize,
    /// Rows skipped for an [`ImportError`].
    pub skipped: usize,
    /// When it was imported, in seconds since the Unix epoch.
    pub imported_at: u64,
}

/// One fingerprint: a query and what it stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Entry {
    /// 1-based line of the source CSV.
    pub row: usize,
    /// The query as written in the list (after CSV unquoting).
    pub query: String,
    /// The `expected_phrase` field as written.
    pub expected_raw: String,
    /// The expected phrase cleaned for display: `None` when unknown (`???`); parenthesised
    /// abbreviations and doubts, question marks and "see https://…" tails removed.
    pub expected: Option<String>,
    /// Dimensions hits for the query, when given.
    pub num_papers: Option<u64>,
    parsed: Query,
}

impl Entry {
    /// The parsed query.
    pub fn parsed(&self) -> &Query {
        &self.parsed
    }
}

/// An imported fingerprint list plus an allow-list of legitimate terms.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FingerprintList {
    entries: Vec<Entry>,
    allow: Vec<String>,
    provenance: Provenance,
}

#[derive(Serialize, Deserialize)]
struct StoredEntry {
    row: usize,
    query: String,
    expected_raw: String,
    expected: Option<String>,
    num_papers: Option<u64>,
}

#[derive(Serialize, Deserialize)]
struct Stored {
    provenance: Provenance,
    allow: Vec<String>,
    entries: Vec<StoredEntry>,
}

#[derive(Deserialize)]
struct Envelope<'a> {
    format: String,
    version: u64,
    sha256: String,
    #[serde(borrow)]
    list: &'a serde_json::value::RawValue,
}

impl FingerprintList {
    /// Imports a PPS CSV export. `source_name` is recorded in the provenance.
    ///
    /// Returns the list and the rows that could not be imported; see the module docs.
    ///
    /// # Examples
    ///
    /// ```
    /// use unspin::fingerprint::FingerprintList;
    /// let csv = "tortured_phrase,expected_phrase,num_papers\n\
    ///            \"\"\"criticism circle\"\"\",feedback loop (control theory),156\n\
    ///            \"\"\"open\"\" AND\",x,1\n";
    /// let (list, errors) = FingerprintList::import_csv(csv.as_bytes(), "pps.csv");
    /// assert_eq!(list.len(), 1);
    /// assert_eq!(list.entries()[0].expected.as_deref(), Some("feedback loop"));
    /// assert_eq!((errors[0].row, errors[0].column), (3, 11));
    /// ```
    pub fn import_csv(bytes: &[u8], source_name: &str) -> (FingerprintList, Vec<ImportError>) {
        let imported_at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let mut list = FingerprintList {
            entries: Vec::new(),
            allow: Vec::new(),
            provenance: Provenance {
                source: source_name.to_string(),
                sha256: hex(&Sha256::digest(bytes)),
                imported_at,
                ..Provenance::default()
            },
        };
        let mut errors = Vec::new();
        let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let mut header: Option<Header> = None;
        for (k, line) in body.split(|&b| b == b'\n').enumerate() {
            let row = k + 1;
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.iter().all(|b| b.is_ascii_whitespace()) {
                continue;
            }
            let fields = match split_line(line) {
                Ok(f) => f,
                Err((column, message)) => {
                    if header.is_some() {
                        list.provenance.rows_read += 1;
                        list.provenance.skipped += 1;
                    }
                    errors.push(ImportError {
                        row,
                        column,
                        field: None,
                        message,
                    });
                    if header.is_none() {
                        return (list, errors);
                    }
                    continue;
                }
            };
            let Some(h) = &header else {
                match Header::new(&fields) {
                    Ok(h) => header = Some(h),
                    Err(message) => {
                        errors.push(ImportError {
                            row,
                            column: 1,
                            field: None,
                            message,
                        });
                        return (list, errors);
                    }
                }
                continue;
            };
            list.provenance.rows_read += 1;
            match h.entry(row, fields) {
                Ok(e) => list.entries.push(e),
                Err(e) => {
                    list.provenance.skipped += 1;
                    errors.push(e);
                }
            }
        }
        list.provenance.imported = list.entries.len();
        (list, errors)
    }

    /// Reads a whole CSV from `reader` and imports it; see [`FingerprintList::import_csv`].
    ///
    /// # Errors
    ///
    /// [`ListError::Io`] (with `source_name` as the path) if reading fails.
    pub fn import_csv_reader(
        mut reader: impl std::io::Read,
        source_name: &str,
    ) -> Result<(FingerprintList, Vec<ImportError>), ListError> {
        let mut bytes = Vec::new();
        reader
            .read_to_end(&mut bytes)
            .map_err(|source| ListError::Io {
                path: source_name.into(),
                source,
            })?;
        Ok(Self::import_csv(&bytes, source_name))
    }

    /// The entries, in CSV order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The entries that are one plain phrase: a quoted tortured phrase alone (no context
    /// terms, no proximity) with a known expected form, as `(phrase, expected)`, in CSV order.
    /// What phrase restoration is measured on.
    pub fn plain_phrases(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.entries
            .iter()
            .filter(|e| e.parsed().atoms().len() == 1)
            .filter_map(substitution)
    }

    /// What the list shows its spinners writing for what: the entries whose query has one
    /// tortured phrase (quoted, no proximity) and a known expected form, whatever context or
    /// NOT terms it adds, as `(phrase, expected)`, in CSV order. Learning from these
    /// (`unspin learn --from-list`) gives a profile of the paper mills' dictionary: its word
    /// substitutions recur in tortured phrases that no list has yet. A superset of
    /// [`FingerprintList::plain_phrases`].
    pub fn substitution_pairs(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.entries.iter().filter_map(substitution)
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the list has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Where the list came from.
    pub fn provenance(&self) -> &Provenance {
        &self.provenance
    }

    /// Adds legitimate terms to the allow-list (terms with no letter or digit, and repeats, are
    /// ignored). A hit that lies inside an occurrence of an allowed term, or whose tortured
    /// phrase is an allowed term, is not reported.
    pub fn allow<I, S>(&mut self, terms: I)
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        for t in terms {
            let t = t.as_ref().trim();
            if t.chars().any(is_word_char)
                && normalize_phrase(t).chars().any(is_word_char)
                && !self.allow.iter().any(|a| a == t)
            {
                self.allow.push(t.to_string());
            }
        }
    }

    /// The allow-list.
    pub fn allowed(&self) -> &[String] {
        &self.allow
    }

    /// Builds the matcher: one Aho-Corasick automaton over every atom and allowed term.
    pub fn matcher(&self) -> Matcher {
        Matcher::new(self)
    }

    /// Serialises the list (see the module docs for the format).
    pub fn to_bytes(&self) -> Vec<u8> {
        let stored = Stored {
            provenance: self.provenance.clone(),
            allow: self.allow.clone(),
            entries: self
                .entries
                .iter()
                .map(|e| StoredEntry {
                    row: e.row,
                    query: e.query.clone(),
                    expected_raw: e.expected_raw.clone(),
                    expected: e.expected.clone(),
                    num_papers: e.num_papers,
                })
                .collect(),
        };
        let body = serde_json::to_string(&stored).expect("a list serialises");
        let sha = hex(&Sha256::digest(body.as_bytes()));
        format!("{{\"format\":\"{FORMAT}\",\"version\":{VERSION},\"sha256\":\"{sha}\",\"list\":{body}}}\n")
            .into_bytes()
    }

    /// Reads a list written by [`FingerprintList::to_bytes`].
    ///
    /// # Errors
    ///
    /// [`ListError::NotAList`], [`ListError::WrongVersion`], [`ListError::Malformed`] (e.g.
    /// truncated), [`ListError::Corrupt`] (checksum mismatch) or [`ListError::BadQuery`].
    pub fn from_bytes(bytes: &[u8]) -> Result<FingerprintList, ListError> {
        let head = &bytes[..bytes.len().min(256)];
        let tag = format!("\"{FORMAT}\"");
        if !head.windows(tag.len()).any(|w| w == tag.as_bytes()) {
            return Err(ListError::NotAList);
        }
        let env: Envelope = serde_json::from_slice(bytes).map_err(ListError::Malformed)?;
        if env.format != FORMAT {
            return Err(ListError::NotAList);
        }
        if env.version != u64::from(VERSION) {
            return Err(ListError::WrongVersion {
                found: env.version,
                expected: VERSION,
            });
        }
        if hex(&Sha256::digest(env.list.get().as_bytes())) != env.sha256 {
            return Err(ListError::Corrupt);
        }
        let stored: Stored = serde_json::from_str(env.list.get()).map_err(ListError::Malformed)?;
        let mut entries = Vec::with_capacity(stored.entries.len());
        for e in stored.entries {
            let parsed = Query::parse(&e.query)
                .map_err(|source| ListError::BadQuery { row: e.row, source })?;
            entries.push(Entry {
                row: e.row,
                query: e.query,
                expected_raw: e.expected_raw,
                expected: e.expected,
                num_papers: e.num_papers,
                parsed,
            });
        }
        Ok(FingerprintList {
            entries,
            allow: stored.allow,
            provenance: stored.provenance,
        })
    }

    /// Writes the list to `path`.
    ///
    /// # Errors
    ///
    /// [`ListError::Io`] if the file cannot be written.
    pub fn save(&self, path: &Path) -> Result<(), ListError> {
        std::fs::write(path, self.to_bytes()).map_err(|source| ListError::Io {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Reads a list saved with [`FingerprintList::save`].
    ///
    /// # Errors
    ///
    /// [`ListError::Io`] if the file cannot be read, else as [`FingerprintList::from_bytes`].
    pub fn load(path: &Path) -> Result<FingerprintList, ListError> {
        let bytes = std::fs::read(path).map_err(|source| ListError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_bytes(&bytes)
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// A field: its unquoted bytes and its 1-based character column in the line.
type Field = (Vec<u8>, usize);

/// Splits one CSV line into fields. On error: the 1-based character column and a message.
fn split_line(line: &[u8]) -> Result<Vec<Field>, (usize, String)> {
    let column = |at: usize| line[..at].iter().filter(|&&b| b & 0xC0 != 0x80).count() + 1;
    let mut fields = Vec::new();
    let mut p = 0;
    loop {
        let start = p;
        let mut value = Vec::new();
        if line.get(p) == Some(&b'"') {
            p += 1;
            loop {
                let Some(q) = line[p..].iter().position(|&b| b == b'"') else {
                    return Err((column(start), "unterminated quoted field".into()));
                };
                value.extend_from_slice(&line[p..p + q]);
                p += q + 1;
                if line.get(p) == Some(&b'"') {
                    value.push(b'"');
                    p += 1;
                } else {
                    break;
                }
            }
            if p < line.len() && line[p] != b',' {
                return Err((
                    column(p),
                    "unexpected character after a closing quote (a quote inside a quoted field is written \"\")".into(),
                ));
            }
        } else {
            let len = line[p..]
                .iter()
                .position(|&b| b == b',')
                .unwrap_or(line.len() - p);
            if let Some(q) = line[p..p + len].iter().position(|&b| b == b'"') {
                return Err((
                    column(p + q),
                    "quote inside an unquoted field (quote the whole field)".into(),
                ));
            }
            value.extend_from_slice(&line[p..p + len]);
            p += len;
        }
        fields.push((value, column(start)));
        if p < line.len() {
            // A comma.
            p += 1;
        } else {
            return Ok(fields);
        }
    }
}

struct Header {
    width: usize,
    tortured: usize,
    expected: Option<usize>,
    papers: Option<usize>,
}

impl Header {
    fn new(fields: &[Field]) -> Result<Header, String> {
        let find = |name: &str| {
            fields
                .iter()
                .position(|(f, _)| String::from_utf8_lossy(f).trim().eq_ignore_ascii_case(name))
        };
        let tortured = find("tortured_phrase")
            .ok_or_else(|| "missing column `tortured_phrase` in the header".to_string())?;
        Ok(Header {
            width: fields.len(),
            tortured,
            expected: find("expected_phrase"),
            papers: find("num_papers"),
        })
    }

    fn entry(&self, row: usize, fields: Vec<Field>) -> Result<Entry, ImportError> {
        let err = |column, field: Option<&str>, message: String| ImportError {
            row,
            column,
            field: field.map(str::to_string),
            message,
        };
        if fields.len() != self.width {
            let column = fields.get(self.width).map_or(1, |f| f.1);
            return Err(err(
                column,
                None,
                format!("expected {} fields, found {}", self.width, fields.len()),
            ));
        }
        let text = |i: usize, name: &str| {
            String::from_utf8(fields[i].0.clone())
                .map_err(|_| err(fields[i].1, None, format!("{name} is not valid UTF-8")))
        };
        let query = text(self.tortured, "tortured_phrase")?.trim().to_string();
        let parsed =
            Query::parse(&query).map_err(|e| err(e.column, Some("tortured_phrase"), e.message))?;
        let expected_raw = match self.expected {
            Some(i) => text(i, "expected_phrase")?.trim().to_string(),
            None => String::new(),
        };
        let num_papers = match self.papers {
            Some(i) => {
                parse_count(&text(i, "num_papers")?).map_err(|m| err(1, Some("num_papers"), m))?
            }
            None => None,
        };
        Ok(Entry {
            row,
            expected: clean_expected(&expected_raw),
            query,
            expected_raw,
            num_papers,
            parsed,
        })
    }
}

/// `1,251` → 1251; empty → None.
fn parse_count(s: &str) -> Result<Option<u64>, String> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let groups: Vec<&str> = s.split(',').collect();
    let well_formed = groups[0].len() <= 3 || groups.len() == 1;
    let digits_ok = groups.iter().enumerate().all(|(k, g)| {
        !g.is_empty() && g.bytes().all(|b| b.is_ascii_digit()) && (k == 0 || g.len() == 3)
    });
    if !(well_formed && digits_ok) {
        return Err(format!("`{s}` is not a count"));
    }
    groups
        .concat()
        .parse()
        .map(Some)
        .map_err(|_| format!("`{s}` is too large"))
}

/// An entry's one tortured phrase (quoted, no proximity) and its known expected form, if it
/// has both, whatever context or NOT terms the query adds.
fn substitution(e: &Entry) -> Option<(&str, &str)> {
    let expected = e.expected.as_deref()?;
    let mut tortured = e
        .parsed()
        .atoms()
        .iter()
        .filter(|a| a.role == super::query::Role::Tortured);
    match (tortured.next(), tortured.next()) {
        (Some(atom), None) if atom.proximity.is_none() && atom.quoted => {
            Some((atom.text.as_str(), expected))
        }
        _ => None,
    }
}

/// The display form of an expected phrase; see [`Entry::expected`].
pub(crate) fn clean_expected(raw: &str) -> Option<String> {
    let mut s = raw.replace("\\\"", "\"");
    // ASCII lowercasing keeps byte offsets.
    if let Some(i) = s.to_ascii_lowercase().find("see http") {
        s.truncate(i);
    }
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '(' || c == '[' {
            let close_of = if c == '(' { ')' } else { ']' };
            // Find the matching close, counting nesting.
            let mut depth = 0;
            let mut end = None;
            for (j, &d) in chars.iter().enumerate().skip(i) {
                if d == c {
                    depth += 1;
                } else if d == close_of {
                    depth -= 1;
                    if depth == 0 {
                        end = Some(j);
                        break;
                    }
                }
            }
            let end = end.unwrap_or(chars.len());
            let inner: String = chars[i + 1..end.min(chars.len())].iter().collect();
            let attached = i > 0 && chars[i - 1].is_alphanumeric();
            let keep = if c == '[' {
                // `[speech]` is a word the tortured form left out; `[...]` a gap.
                inner.chars().any(char::is_alphanumeric)
            } else {
                // `autist(ic)` spells the word out; `(CAT)` and `(?)` are asides.
                attached && !inner.is_empty() && inner.chars().all(char::is_alphabetic)
            };
            if keep {
                out.push_str(&inner);
            }
            i = end + 1;
            continue;
        }
        out.push(c);
        i += 1;
    }
    let collapsed = out.split_whitespace().collect::<Vec<_>>().join(" ");
    let trimmed = collapsed.trim_end_matches(|c: char| {
        c == '?' || c == ',' || c == ';' || c == ':' || c.is_whitespace()
    });
    let trimmed = trimmed.trim();
    trimmed
        .chars()
        .any(char::is_alphanumeric)
        .then(|| trimmed.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_forms() {
        for (raw, want) in [
            ("liver disease", Some("liver disease")),
            ("???", None),
            ("", None),
            ("(?)", None),
            (
                "computerized axial tomography (CAT)",
                Some("computerized axial tomography"),
            ),
            (
                "Agency for Healthcare Research and Quality (AHRQ) (US healthcare)",
                Some("Agency for Healthcare Research and Quality"),
            ),
            ("feedback loop (control theory)", Some("feedback loop")),
            ("noisy data (?)", Some("noisy data")),
            ("accuracy ?", Some("accuracy")),
            (
                "Integrated Control System (ICS) ?",
                Some("Integrated Control System"),
            ),
            ("autist(ic)", Some("autistic")),
            (
                "articulatory [speech] synthesis",
                Some("articulatory speech synthesis"),
            ),
            ("extracting [...] features", Some("extracting features")),
            (
                "performance expectancy, see https://en.wikipedia.org/wiki/UTAUT",
                Some("performance expectancy"),
            ),
            ("??? (found in 10.1155/2022/8280468)", None),
            ("?? (\\\"predict object(?) values\\\"?)", None),
            (
                "associate degree (via \\\"Associate in Nursing\\\") (= an)",
                Some("associate degree"),
            ),
            ("AUC (area under curve) value", Some("AUC value")),
            ("morbidity, mortality", Some("morbidity, mortality")),
            ("congenital heart (defects...", Some("congenital heart")),
        ] {
            assert_eq!(clean_expected(raw).as_deref(), want, "{raw:?}");
        }
    }

    #[test]
    fn counts() {
        assert_eq!(parse_count("1,251"), Ok(Some(1251)));
        assert_eq!(parse_count("12,345,678"), Ok(Some(12_345_678)));
        assert_eq!(parse_count("7"), Ok(Some(7)));
        assert_eq!(parse_count(""), Ok(None));
        assert!(parse_count("1,2").is_err());
        assert!(parse_count("1234,567").is_err());
        assert!(parse_count("n/a").is_err());
        assert!(parse_count("99999999999999999999999").is_err());
    }

    #[test]
    fn lines() {
        let f = split_line(br#""""a"" AND ""b""",x y,"1,2""#).unwrap();
        let texts: Vec<String> = f
            .iter()
            .map(|(v, _)| String::from_utf8(v.clone()).unwrap())
            .collect();
        assert_eq!(texts, [r#""a" AND "b""#, "x y", "1,2"]);
        assert_eq!(f[1].1, 19);
        assert_eq!(split_line(br#"a,"b"#).unwrap_err().0, 3);
        assert_eq!(split_line(br#"a,"b"c"#).unwrap_err().0, 6);
        assert_eq!(split_line(br#"a,b"c"#).unwrap_err().0, 4);
        assert_eq!(split_line(b"a,,").unwrap().len(), 3);
    }
}
