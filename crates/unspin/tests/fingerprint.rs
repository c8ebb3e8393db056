//! The fingerprint module on a slice of the real Problematic Paper Screener list
//! (`tests/data/pps_sample.csv`, CC BY 4.0, see the README beside it).

use std::path::PathBuf;

use proptest::prelude::*;
use sha2::{Digest, Sha256};
use unspin::fingerprint::normalize::normalize;
use unspin::fingerprint::query::{parse, Role};
use unspin::fingerprint::{Engine, FingerprintList, Hit, ListError, Matcher, Scratch};

fn sample_bytes() -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/pps_sample.csv");
    std::fs::read(path).expect("tests/data/pps_sample.csv")
}

fn sample() -> FingerprintList {
    FingerprintList::import_csv(&sample_bytes(), "pps_sample.csv").0
}

/// The sample and its matcher, built once for the property tests.
fn shared() -> &'static (FingerprintList, Matcher) {
    static SHARED: std::sync::OnceLock<(FingerprintList, Matcher)> = std::sync::OnceLock::new();
    SHARED.get_or_init(|| {
        let list = sample();
        let m = list.matcher();
        (list, m)
    })
}

fn both_engines(list: &FingerprintList) -> [Matcher; 2] {
    [
        Matcher::with_engine(list, Engine::Dfa),
        Matcher::with_engine(list, Engine::Nfa),
    ]
}

/// Hits as (matched text, tortured phrase), after checking that each slices the text exactly.
fn hits(m: &Matcher, text: &str) -> Vec<(String, String)> {
    let found = m.find(text);
    check_offsets(text, &found);
    found.into_iter().map(|h| (h.matched, h.tortured)).collect()
}

fn check_offsets(text: &str, found: &[Hit]) {
    for w in found.windows(2) {
        assert!(
            (w[0].start, w[0].end) < (w[1].start, w[1].end),
            "hits out of order or repeated: {found:?}"
        );
    }
    for h in found {
        assert!(text.is_char_boundary(h.start) && text.is_char_boundary(h.end));
        assert_eq!(&text[h.start..h.end], h.matched);
    }
}

#[test]
fn sample_imports_with_its_one_bad_row() {
    let bytes = sample_bytes();
    let (list, errors) = FingerprintList::import_csv(&bytes, "pps_sample.csv");
    assert_eq!(errors.len(), 1, "{errors:?}");
    let e = &errors[0];
    assert_eq!((e.row, e.column), (30, 29));
    assert_eq!(e.field.as_deref(), Some("tortured_phrase"));
    assert!(e.message.contains("`ADN` is not an operator"), "{e}");
    assert_eq!(
        e.to_string(),
        "row 30, tortured_phrase column 29: `ADN` is not an operator: write AND, or quote it as a term"
    );
    let p = list.provenance();
    assert_eq!(p.source, "pps_sample.csv");
    assert_eq!(p.sha256, format!("{:x}", Sha256::digest(&bytes)));
    assert_eq!((p.rows_read, p.imported, p.skipped), (51, 50, 1));
    assert!(p.imported_at > 1_700_000_000);
    assert_eq!(list.len(), 50);

    let by_query = |q: &str| {
        list.entries()
            .iter()
            .find(|e| e.query == q)
            .unwrap_or_else(|| panic!("no entry {q}"))
    };
    for (query, row, expected, papers) in [
        (
            r#""reckoned axial tomography""#,
            2,
            Some("computerized axial tomography"),
            Some(1),
        ),
        (r#""manually deciding""#, 10, None, Some(245)),
        (
            r#""continuous neural network""#,
            13,
            Some("recurrent neural network"),
            Some(1560),
        ),
        (
            r#""artic ulatory blend""#,
            19,
            Some("articulatory speech synthesis"),
            Some(1),
        ),
        (
            r#""presentation hope UTAUT"~10"#,
            22,
            Some("performance expectancy"),
            Some(1),
        ),
        (r#""anticipate protest esteems""#, 31, None, Some(1)),
        (
            r#""sidekick degree""#,
            35,
            Some("associate degree"),
            Some(2),
        ),
        (
            r#""extricating highlights"~20 NOT specular"#,
            37,
            Some("extracting features"),
            Some(304),
        ),
        (r#""residents’ living and workplaces""#, 21, None, Some(1)),
        (
            r#""Cross-boundary Participation (CBC)""#,
            14,
            Some("Cross-border Cooperation"),
            Some(0),
        ),
    ] {
        let e = by_query(query);
        assert_eq!(e.row, row, "{query}");
        assert_eq!(e.expected.as_deref(), expected, "{query}");
        assert_eq!(e.num_papers, papers, "{query}");
    }
    assert_eq!(
        by_query(r#""sidekick degree""#).expected_raw,
        r#"associate degree (via \"Associate in Nursing\") (= an)"#
    );
}

/// (query, tortured, context, negated)
type RolesCase = (
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
    &'static [&'static str],
);
/// (name, text, hits as (matched, tortured))
type MatchCase = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

#[test]
fn tortured_context_and_negated_atoms() {
    // (query, tortured, context, negated)
    let table: &[RolesCase] = &[
        (r#""criticism circle""#, &["criticism circle"], &[], &[]),
        (
            r#""genetic calculation" AND "genetic algorithm""#,
            &["genetic calculation"],
            &["genetic algorithm"],
            &[],
        ),
        (
            r#""approval information" AND ("validation test" OR "validation dataset")"#,
            &["approval information"],
            &["validation test", "validation dataset"],
            &[],
        ),
        (
            r#""separating highlight" NOT specular"#,
            &["separating highlight"],
            &[],
            &["specular"],
        ),
        (
            r#""cement disappointment"~2"#,
            &["cement disappointment"],
            &[],
            &[],
        ),
        (
            r#""extricating highlights"~20 NOT specular"#,
            &["extricating highlights"],
            &[],
            &["specular"],
        ),
        (
            r#""social detachment" AND COVID"#,
            &["social detachment"],
            &["COVID"],
            &[],
        ),
        (
            r#"("a b" OR "c d") AND "e" NOT ("f" OR g)"#,
            &["a b", "c d"],
            &["e"],
            &["f", "g"],
        ),
        (r#"NOT "x" AND "y" "z""#, &["y"], &["z"], &["x"]),
        (r#""a" and "b" or "c""#, &["a", "c"], &["b"], &[]),
    ];
    for &(q, tortured, context, negated) in table {
        let parsed = parse(q).unwrap_or_else(|e| panic!("{q}: {e}"));
        let with = |role| -> Vec<&str> {
            parsed
                .atoms()
                .iter()
                .filter(|a| a.role == role)
                .map(|a| a.text.as_str())
                .collect()
        };
        assert_eq!(with(Role::Tortured), tortured, "{q}");
        assert_eq!(with(Role::Context), context, "{q}");
        assert_eq!(with(Role::Negated), negated, "{q}");
        let proximity: Vec<Option<u32>> = parsed.atoms().iter().map(|a| a.proximity).collect();
        if q.ends_with("~2") {
            assert_eq!(proximity, [Some(2)]);
        }
        // The canonical form parses back to the same query.
        let again = parse(&parsed.to_string()).unwrap();
        assert_eq!(again.expr(), parsed.expr(), "{q} → {parsed}");
        let shape = |q: &unspin::fingerprint::Query| -> Vec<(String, Role, Option<u32>)> {
            q.atoms()
                .iter()
                .map(|a| (a.text.clone(), a.role, a.proximity))
                .collect()
        };
        assert_eq!(shape(&again), shape(&parsed), "{q} → {parsed}");
    }
}

#[test]
fn syntax_errors_have_columns() {
    for (q, column, message) in [
        (r#""criticism circle"#, 1, "unterminated quoted phrase"),
        (r#""a" AND ("b" OR "c""#, 9, "missing `)`"),
        (r#""a" AND "b")"#, 12, "unmatched `)`"),
        (r#""a" AND"#, 8, "found the end of the query"),
        (r#"AND "a""#, 1, "expected a phrase, found AND"),
        (r#""a"~x"#, 4, "expected a number after `~`"),
        (r#""a" b~3"#, 6, "`~` must follow a closing quote"),
        (r#""a"~99999"#, 4, "too large"),
        (r#""a" ADN "b""#, 5, "write AND"),
        (r#""a" AND gen*"#, 12, "wildcards"),
        (r#""a" -b"#, 5, "leading `-`"),
        (r#""a" [b]"#, 5, "unexpected character '['"),
        (r#""a" AND """#, 9, "empty phrase"),
        ("\"a\" AND \"\"\"", 11, "unterminated quoted phrase"),
        (r#""a" AND ()"#, 9, "empty parentheses"),
        (r#"NOT "a""#, 1, "every phrase is negated"),
        ("", 1, "empty query"),
        ("\"é\" AND ⟨", 9, "no letters or digits"),
    ] {
        let e = parse(q).expect_err(q);
        assert_eq!(e.column, column, "{q}: {e}");
        assert!(e.message.contains(message), "{q}: {e}");
    }
}

#[test]
fn matches_on_pdf_style_text() {
    let list = sample();
    // (name, text, hits as (matched, tortured))
    let table: &[MatchCase] = &[
        (
            "plain",
            "Chronic liver sickness.",
            &[("liver sickness", "liver sickness")],
        ),
        (
            "case",
            "LIVER Sickness",
            &[("LIVER Sickness", "liver sickness")],
        ),
        (
            "line break",
            "a criticism\ncircle here",
            &[("criticism\ncircle", "criticism circle")],
        ),
        (
            "crlf and spaces",
            "a criticism \r\n   circle",
            &[("criticism \r\n   circle", "criticism circle")],
        ),
        (
            "pdf hyphenation",
            "liver sick-\nness",
            &[("liver sick-\nness", "liver sickness")],
        ),
        (
            "hyphen, spaces, crlf",
            "liver sick- \r\n ness",
            &[("liver sick- \r\n ness", "liver sickness")],
        ),
        (
            "soft hyphen",
            "liver sick\u{AD}ness",
            &[("liver sick\u{AD}ness", "liver sickness")],
        ),
        (
            "soft hyphen at line end",
            "liver sick\u{AD}\nness",
            &[("liver sick\u{AD}\nness", "liver sickness")],
        ),
        ("blank line is not hyphenation", "liver sick-\n\nness", &[]),
        ("ligature", "a ﬂeecy set", &[("ﬂeecy set", "fleecy set")]),
        (
            "capitals",
            "the IEEE Exchanges on",
            &[("IEEE Exchanges on", "IEEE Exchanges on")],
        ),
        (
            "curly apostrophe in text",
            "residents’ living and workplaces",
            &[(
                "residents’ living and workplaces",
                "residents’ living and workplaces",
            )],
        ),
        (
            "straight apostrophe in text",
            "residents' living and workplaces",
            &[(
                "residents' living and workplaces",
                "residents’ living and workplaces",
            )],
        ),
        (
            "hyphen in pattern, space in text",
            "an open name pilot",
            &[("open name pilot", "open-name pilot")],
        ),
        (
            "hyphen in pattern and text",
            "an open-name pilot",
            &[("open-name pilot", "open-name pilot")],
        ),
        (
            "en dash counts as a hyphen",
            "an open–name pilot",
            &[("open–name pilot", "open-name pilot")],
        ),
        (
            "compound split at a line end",
            "an open-\nname pilot",
            &[("open-\nname pilot", "open-name pilot")],
        ),
        (
            "slash",
            "a grasp/slave link",
            &[("grasp/slave", "grasp/slave")],
        ),
        (
            "parentheses in the pattern",
            "Cross boundary participation (CBC).",
            &[(
                "Cross boundary participation (CBC)",
                "Cross-boundary Participation (CBC)",
            )],
        ),
        (
            "whole words only",
            "deliver sickness; sack of wordsmiths; liver sicknesses",
            &[],
        ),
        (
            "overlapping phrases",
            "a continuous neural network and sack of words",
            &[
                ("continuous neural network", "continuous neural network"),
                ("sack of words", "sack of words"),
            ],
        ),
        (
            "context present",
            "A genetic calculation. Later: genetic algorithm.",
            &[("genetic calculation", "genetic calculation")],
        ),
        ("context absent", "A genetic calculation alone.", &[]),
        ("context alone is not a hit", "a genetic algorithm", &[]),
        (
            "context anywhere in the text",
            "genetic algorithm first, then the genetic calculation",
            &[("genetic calculation", "genetic calculation")],
        ),
        (
            "or context, second branch",
            "approval information and a validation dataset",
            &[("approval information", "approval information")],
        ),
        (
            "or context, first branch",
            "approval information and a validation test",
            &[("approval information", "approval information")],
        ),
        (
            "or context, absent",
            "approval information and a validation",
            &[],
        ),
        (
            "two-branch or",
            "synthetic response, on the off chance",
            &[("synthetic response", "synthetic response")],
        ),
        (
            "bare context term",
            "social detachment during COVID-19",
            &[("social detachment", "social detachment")],
        ),
        (
            "bare context term, other case",
            "social detachment during covid",
            &[("social detachment", "social detachment")],
        ),
        (
            "bare context term, whole word",
            "social detachment during COVIDS",
            &[],
        ),
        (
            "hyphenated context",
            "a semi-identifier is a quasi-identifier",
            &[("semi-identifier", "semi-identifier")],
        ),
        (
            "not, absent",
            "separating highlight values",
            &[("separating highlight", "separating highlight")],
        ),
        (
            "not, present",
            "separating highlight and specular reflection",
            &[],
        ),
        (
            "not, quoted",
            "a backward probability of a Markov chain",
            &[],
        ),
        (
            "not, quoted, absent",
            "a backward probability",
            &[("backward probability", "backward probability")],
        ),
        (
            "not, longer phrase",
            "randomized controlled preliminary study",
            &[(
                "randomized controlled preliminary",
                "randomized controlled preliminary",
            )],
        ),
        (
            "not, longer phrase present",
            "randomized controlled preliminary study, a randomized controlled preliminary trial",
            &[],
        ),
        (
            "proximity, in order",
            "cement disappointment",
            &[("cement disappointment", "cement disappointment")],
        ),
        (
            "proximity, reversed within window",
            "disappointment of the cement",
            &[("disappointment of the cement", "cement disappointment")],
        ),
        (
            "proximity, at the window's edge",
            "cement is a disappointment",
            &[("cement is a disappointment", "cement disappointment")],
        ),
        (
            "proximity, outside the window",
            "cement was a big disappointment",
            &[],
        ),
        (
            "proximity across a line break",
            "the cement\nwas a disappointment",
            &[("cement\nwas a disappointment", "cement disappointment")],
        ),
        (
            "proximity, three words",
            "bogus results, negative again: FN",
            &[("bogus results, negative again: FN", "bogus negative FN")],
        ),
        (
            "proximity, two windows",
            "GB of Slam and then Slam GB",
            &[("GB of Slam", "GB Slam"), ("Slam GB", "GB Slam")],
        ),
        (
            "proximity with not",
            "extricating some highlights",
            &[("extricating some highlights", "extricating highlights")],
        ),
        (
            "proximity with not, present",
            "extricating some highlights, not specular ones",
            &[],
        ),
        (
            "skipped row never matches",
            "total national production and GDP",
            &[],
        ),
        (
            "same phrase in two entries reported once",
            "differential condition of 4th request and non-homogeneous request",
            &[("differential condition", "differential condition")],
        ),
        (
            "apostrophe phrase",
            "deep today's methods and deep learning",
            &[("deep today's", "deep today's")],
        ),
        (
            "curly apostrophe against straight pattern",
            "deep today’s methods and deep learning",
            &[("deep today’s", "deep today's")],
        ),
    ];
    for m in both_engines(&list) {
        for &(name, text, want) in table {
            let got = hits(&m, text);
            let want: Vec<(String, String)> = want
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect();
            assert_eq!(got, want, "{name} ({})", m.engine_name());
        }
    }
}

#[test]
fn hits_carry_the_entry() {
    let list = sample();
    let m = list.matcher();
    let text = "We used a continuous neural network.";
    let found = m.find(text);
    assert_eq!(found.len(), 1);
    let h = &found[0];
    assert_eq!((h.start, h.end), (10, 35));
    assert_eq!(h.expected.as_deref(), Some("recurrent neural network"));
    assert_eq!(h.expected_raw, "recurrent neural network");
    assert_eq!(h.query, r#""continuous neural network""#);
    assert_eq!(list.entries()[h.entry].query, h.query);
}

#[test]
fn allow_list_silences_known_false_alarms() {
    let mut list = sample();
    list.allow(["distant detecting station", "Kuznets bend", "  ", "---"]);
    assert_eq!(
        list.allowed(),
        ["distant detecting station", "Kuznets bend"]
    );
    for m in both_engines(&list) {
        // Inside an allowed term: silenced; elsewhere: reported.
        assert_eq!(
            hits(&m, "the Distant Detecting Station and distant detecting"),
            [(
                "distant detecting".to_string(),
                "distant detecting".to_string()
            )]
        );
        // The tortured phrase is itself allowed: never reported.
        assert!(hits(&m, "a Kuznets bend").is_empty());
        assert_eq!(hits(&m, "liver sickness").len(), 1);
    }
    // The allow-list is saved with the list.
    let again = FingerprintList::from_bytes(&list.to_bytes()).unwrap();
    assert_eq!(again.allowed(), list.allowed());
}

#[test]
fn malformed_rows_are_reported_and_the_rest_imported() {
    let csv = concat!(
        "\u{FEFF}num_papers,tortured_phrase,expected_phrase\n",
        "1,\"\"\"liver sickness\"\"\",liver disease\n",
        "2,\"\"\"open\",x\n",
        "3,\"\"\"a\"\" AND\",x\n",
        "4,\"\"\"a\"\"\",x,extra\n",
        "5,bad\"quote,x\n",
        "\n",
        "n/a,\"\"\"sack of words\"\"\",bag of words\n",
        "6,\"\"\"b\"\"\"x,y\n",
        "\"1,234\",\"\"\"fleecy set\"\"\",fuzzy set\r\n",
        "7,,x\n",
        "8,\"\"\"a\"\" ADN \"\"b\"\"\",x\n",
    );
    let (list, errors) = FingerprintList::import_csv(csv.as_bytes(), "bad.csv");
    let got: Vec<(usize, usize, Option<&str>)> = errors
        .iter()
        .map(|e| (e.row, e.column, e.field.as_deref()))
        .collect();
    assert_eq!(
        got,
        [
            (3, 1, Some("tortured_phrase")),
            (4, 8, Some("tortured_phrase")),
            (5, 13, None),
            (6, 6, None),
            (8, 1, Some("num_papers")),
            (9, 10, None),
            (11, 1, Some("tortured_phrase")),
            (12, 5, Some("tortured_phrase")),
        ],
        "{errors:#?}"
    );
    assert!(errors[0].message.contains("unterminated quoted phrase"));
    assert!(errors[2].message.contains("expected 3 fields, found 4"));
    assert!(errors[3].message.contains("quote inside an unquoted field"));
    assert!(errors[4].message.contains("`n/a` is not a count"));
    assert!(errors[5].message.contains("after a closing quote"));
    assert!(errors[6].message.contains("empty query"));
    let queries: Vec<&str> = list.entries().iter().map(|e| e.query.as_str()).collect();
    assert_eq!(queries, [r#""liver sickness""#, r#""fleecy set""#]);
    assert_eq!(list.entries()[1].num_papers, Some(1234));
    let p = list.provenance();
    assert_eq!((p.rows_read, p.imported, p.skipped), (10, 2, 8));
}

#[test]
fn a_header_without_the_query_column_is_an_error() {
    let (list, errors) = FingerprintList::import_csv(b"phrase,expected\n\"a\",b\n", "x.csv");
    assert!(list.is_empty());
    assert_eq!(errors.len(), 1);
    assert_eq!((errors[0].row, errors[0].column), (1, 1));
    assert!(errors[0]
        .message
        .contains("missing column `tortured_phrase`"));
    let (list, errors) = FingerprintList::import_csv(b"", "empty.csv");
    assert!(list.is_empty() && errors.is_empty());
}

#[test]
fn saved_lists_load_back_and_damage_is_an_error() {
    let list = sample();
    let bytes = list.to_bytes();
    assert!(bytes.starts_with(br#"{"format":"unspin-fingerprints","version":1,"sha256":""#));
    let again = FingerprintList::from_bytes(&bytes).unwrap();
    assert_eq!(again, list);

    let dir = std::env::temp_dir().join(format!("unspin-fp-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("list.json");
    list.save(&path).unwrap();
    assert_eq!(FingerprintList::load(&path).unwrap(), list);
    assert!(matches!(
        FingerprintList::load(&dir.join("missing.json")),
        Err(ListError::Io { .. })
    ));
    std::fs::remove_dir_all(&dir).unwrap();

    // One changed byte inside the content: checksum mismatch.
    let text = String::from_utf8(bytes.clone()).unwrap();
    let corrupt = text.replacen("liver sickness", "liver sicknesz", 1);
    assert!(matches!(
        FingerprintList::from_bytes(corrupt.as_bytes()),
        Err(ListError::Corrupt)
    ));
    // Truncated anywhere: malformed (or not a list at all, if the header went too).
    for cut in [bytes.len() - 2, bytes.len() / 2, 60, 10, 0] {
        let r = FingerprintList::from_bytes(&bytes[..cut]);
        assert!(
            matches!(r, Err(ListError::Malformed(_) | ListError::NotAList)),
            "cut at {cut}: {r:?}"
        );
    }
    let v2 = text.replacen("\"version\":1", "\"version\":2", 1);
    assert!(matches!(
        FingerprintList::from_bytes(v2.as_bytes()),
        Err(ListError::WrongVersion {
            found: 2,
            expected: 1
        })
    ));
    assert!(matches!(
        FingerprintList::from_bytes(b"\x00\xFFgarbage"),
        Err(ListError::NotAList)
    ));
    assert!(matches!(
        FingerprintList::from_bytes(b"{}"),
        Err(ListError::NotAList)
    ));
    let err = FingerprintList::from_bytes(corrupt.as_bytes()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "fingerprint list is corrupt: checksum mismatch"
    );
}

/// A long text, so that hits fall on every kind of chunk and stream boundary: filler words
/// (that match nothing) with phrases inserted at known places, some split across lines.
#[test]
fn long_texts_find_every_inserted_phrase() {
    let list = sample();
    let filler = [
        "the", "of", "and", "results", "were", "measured", "in", "samples", "é", "ẞig",
    ];
    let inserts = [
        ("liver sickness", "liver sickness"),
        ("Liver sick-\nness", "liver sickness"),
        ("criticism\r\ncircle", "criticism circle"),
        ("ﬂeecy set", "fleecy set"),
        ("disappointment of the cement", "cement disappointment"),
        ("continuous  neural   network", "continuous neural network"),
    ];
    let mut text = String::new();
    let mut want = Vec::new();
    let mut seed = 7u64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    while text.len() < 600_000 {
        let r = next();
        if r % 41 == 0 {
            let (ins, tortured) = inserts[(r / 41) as usize % inserts.len()];
            text.push(' ');
            want.push((text.len(), ins.to_string(), tortured.to_string()));
            text.push_str(ins);
            text.push(' ');
        } else {
            text.push_str(filler[(r % 10) as usize]);
            text.push(if r % 7 == 0 { '\n' } else { ' ' });
        }
    }
    assert!(want.len() > 1000);
    let mut scratch = Scratch::new();
    let mut found = Vec::new();
    for m in both_engines(&list) {
        for _ in 0..2 {
            m.find_into(&text, &mut scratch, &mut found);
            check_offsets(&text, &found);
            let got: Vec<(usize, String, String)> = found
                .iter()
                .map(|h| (h.start, h.matched.clone(), h.tortured.clone()))
                .collect();
            assert_eq!(got.len(), want.len(), "{}", m.engine_name());
            assert_eq!(got, want, "{}", m.engine_name());
        }
        // Smaller chunks: more chunk and stream boundaries, the same hits.
        for chunk in [3000, 5001, 20000] {
            assert_eq!(m.find_chunked(&text, chunk), found, "chunk {chunk}");
        }
        // Cut into pieces scanned on their own threads: the same hits.
        for pieces in [2, 3, 7] {
            assert_eq!(m.find_pieces(&text, pieces), found, "{pieces} pieces");
        }
    }
}

#[test]
fn scratch_reuse_does_not_leak_between_texts() {
    let list = sample();
    let m = list.matcher();
    let mut scratch = Scratch::new();
    let mut found = Vec::new();
    m.find_into(
        "genetic calculation and genetic algorithm",
        &mut scratch,
        &mut found,
    );
    assert_eq!(found.len(), 1);
    m.find_into("genetic calculation alone", &mut scratch, &mut found);
    assert!(found.is_empty());
    m.find_into("", &mut scratch, &mut found);
    assert!(found.is_empty());
}

const PIECES: &[&str] = &[
    "liver",
    "sickness",
    "sick-\nness",
    "criticism",
    "circle",
    "cement",
    "disappointment",
    "GB",
    "Slam",
    "fleecy",
    "ﬂeecy",
    "set",
    "open-name",
    "pilot",
    "open",
    "name",
    "genetic",
    "calculation",
    "algorithm",
    "specular",
    "separating",
    "highlight",
    "-",
    "—",
    "\u{AD}",
    " ",
    " ",
    "  ",
    "\n",
    "\r\n",
    "-\n",
    "\t",
    "’",
    "'",
    "(",
    ")",
    ".",
    ",",
    "é",
    "İ",
    "ẞ",
    "Ω",
    "ﬁ",
    "x",
    "\u{200B}",
    "\u{A0}",
    "LIVER",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// For any text: hits are in order, on char boundaries, slice the text to `matched`, and
    /// `matched` normalises to the tortured phrase (up to the spaces a line-end hyphen removes;
    /// proximity hits contain each word).
    #[test]
    fn hits_slice_the_text_and_normalise_to_the_pattern(
        parts in prop::collection::vec(prop::sample::select(PIECES), 0..60),
        sep in prop::sample::select(&[" ", "", "\n", "-"][..]),
    ) {
        let text = parts.join(sep);
        let (list, m) = shared();
        let found = m.find(&text);
        check_offsets(&text, &found);
        for h in &found {
            let entry = &list.entries()[h.entry];
            let atom = entry.parsed().tortured().find(|a| a.text == h.tortured).unwrap();
            let got = normalize(&h.matched);
            let want = normalize(&h.tortured);
            if atom.proximity.is_none() {
                prop_assert_eq!(got.replace(' ', ""), want.replace(' ', ""), "{:?}", h);
                prop_assert!(got == want || h.tortured.contains('-') || h.matched.contains('\n')
                    || h.matched.contains('\u{AD}'), "{:?}", h);
            } else {
                for w in want.split(' ') {
                    prop_assert!(got.split(|c: char| !c.is_alphanumeric()).any(|g| g == w), "{:?}", h);
                }
            }
        }
    }

    /// Chunk and stream boundaries change nothing: scanning a few bytes at a time finds what
    /// one pass does.
    #[test]
    fn chunking_changes_nothing(
        parts in prop::collection::vec(prop::sample::select(PIECES), 0..300),
        chunk in prop::sample::select(&[1usize, 2, 5, 16, 61, 300, 4096][..]),
    ) {
        let text = parts.join(" ");
        let (_, m) = shared();
        prop_assert_eq!(m.find_chunked(&text, chunk), m.find(&text));
    }

    /// Cutting the text into pieces scanned on their own threads changes nothing.
    #[test]
    fn pieces_change_nothing(
        parts in prop::collection::vec(prop::sample::select(PIECES), 0..200),
        pieces in 2usize..6,
    ) {
        let text = parts.join(" ");
        let (_, m) = shared();
        prop_assert_eq!(m.find_pieces(&text, pieces), m.find(&text));
    }

    /// Plain phrases: the matcher finds exactly the whole-word occurrences in the normal form.
    #[test]
    fn plain_phrases_match_a_naive_search(
        parts in prop::collection::vec(prop::sample::select(PIECES), 0..40),
    ) {
        let text = parts.join(" ");
        let csv = "tortured_phrase\n\"\"\"liver sickness\"\"\"\n\"\"\"fleecy set\"\"\"\n\"\"\"set\"\"\"\n\"\"\"GB Slam\"\"\"\n";
        let (list, errors) = FingerprintList::import_csv(csv.as_bytes(), "t.csv");
        prop_assert!(errors.is_empty());
        let norm = normalize(&text);
        let mut want = 0;
        for p in ["liver sickness", "fleecy set", "set", "gb slam"] {
            let bytes = norm.as_bytes();
            for (i, _) in norm.match_indices(p) {
                let before = norm[..i].chars().next_back().is_some_and(|c| c.is_alphanumeric() || c == '_');
                let after = norm[i + p.len()..].chars().next().is_some_and(|c| c.is_alphanumeric() || c == '_');
                if !before && !after && bytes.len() >= i + p.len() {
                    want += 1;
                }
            }
        }
        for m in both_engines(&list) {
            prop_assert_eq!(m.find(&text).len(), want, "{:?} → {:?}", text, norm);
        }
    }
}

#[test]
fn plain_phrases_are_lone_quoted_tortured_phrases_with_an_expected_form() {
    let csv = "tortured_phrase,expected_phrase,num_papers\n\
        \"\"\"profound learning\"\"\",deep learning,10\n\
        \"\"\"flag to clamor\"\" AND \"\"signal\"\"\",signal to noise,3\n\
        \"\"\"irregular woodland\"\"\",???,2\n\
        \"\"\"sack words\"\"~3\",bag of words,1\n\
        \"\"\"counterfeit consciousness\"\"\",artificial intelligence (AI),7\n";
    let (list, errors) = FingerprintList::import_csv(csv.as_bytes(), "plain.csv");
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(list.len(), 5);
    let plain: Vec<(&str, &str)> = list.plain_phrases().collect();
    assert_eq!(
        plain,
        [
            ("profound learning", "deep learning"),
            ("counterfeit consciousness", "artificial intelligence"),
        ]
    );
    // For learning, context terms do not matter: the tortured phrase still stands for the
    // expected form. Proximity queries and unknown forms still say nothing word for word.
    let pairs: Vec<(&str, &str)> = list.substitution_pairs().collect();
    assert_eq!(
        pairs,
        [
            ("profound learning", "deep learning"),
            ("flag to clamor", "signal to noise"),
            ("counterfeit consciousness", "artificial intelligence"),
        ]
    );
}
