//! The fingerprint module on arbitrary input: `query::parse` on any string, `import_csv` on any
//! bytes, and the matcher of both on any text. The input is split at 0xFF bytes (never in UTF-8)
//! into a query, CSV bytes and a text; byte 0 of the text part picks a chunk size.
//!
//! What must hold: nothing panics; a query error points into the query; a query that parses
//! has a tortured phrase and its canonical form parses back to the same query; import accounts
//! for every row and a saved list loads back equal; hits are sorted, distinct, on char
//! boundaries, slice the text to `matched`; scanning in small chunks, or in pieces on threads,
//! finds the same hits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use unspin::fingerprint::query::parse;
use unspin::fingerprint::{FingerprintList, Matcher};

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(3, |&b| b == 0xFF);
    let query = parts.next().unwrap_or_default();
    let csv = parts.next().unwrap_or_default();
    let text = parts.next().unwrap_or_default();

    let mut lists = Vec::new();
    if let Ok(q) = std::str::from_utf8(query) {
        check_query(q);
        // The query as the one row of a list, quoted the CSV way.
        let row = format!(
            "tortured_phrase,expected_phrase\n\"{}\",expected (x)\n",
            q.replace('"', "\"\"")
        );
        lists.push(import(row.as_bytes()));
    }
    lists.push(import(csv));

    let (chunk, text) = match text.split_first() {
        Some((&c, rest)) => (1 + usize::from(c) * 23, rest),
        None => (1, text),
    };
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    for mut list in lists {
        if let Some(first) = text.split_whitespace().next() {
            list.allow([first]);
        }
        let m = list.matcher();
        let hits = m.find(text);
        for w in hits.windows(2) {
            assert!((w[0].start, w[0].end) < (w[1].start, w[1].end));
        }
        for h in &hits {
            assert!(text.is_char_boundary(h.start) && text.is_char_boundary(h.end));
            assert_eq!(&text[h.start..h.end], h.matched);
            assert!(h.entry < list.len());
        }
        assert_eq!(m.find_chunked(text, chunk), hits, "chunk {chunk}");
        assert_eq!(
            m.find_pieces(text, 1 + chunk % 5),
            hits,
            "{} pieces",
            1 + chunk % 5
        );
        let nfa = Matcher::with_engine(&list, unspin::fingerprint::Engine::Nfa);
        assert_eq!(nfa.find(text), hits);
    }
});

fn check_query(q: &str) {
    match parse(q) {
        Err(e) => assert!(e.column >= 1 && e.column <= q.chars().count() + 1, "{e}"),
        Ok(parsed) => {
            assert!(parsed.tortured().next().is_some());
            let canonical = parsed.to_string();
            let again = parse(&canonical).unwrap_or_else(|e| panic!("{canonical:?}: {e}"));
            assert_eq!(again.expr(), parsed.expr(), "{canonical:?}");
            let shape = |q: &unspin::fingerprint::Query| {
                q.atoms()
                    .iter()
                    .map(|a| (a.text.clone(), a.role, a.proximity, a.normalized.clone()))
                    .collect::<Vec<_>>()
            };
            assert_eq!(shape(&again), shape(&parsed), "{canonical:?}");
        }
    }
}

fn import(csv: &[u8]) -> FingerprintList {
    let (list, errors) = FingerprintList::import_csv(csv, "fuzz.csv");
    let p = list.provenance();
    assert_eq!(p.imported, list.len());
    assert_eq!(p.skipped, p.rows_read - p.imported);
    let lines = csv.split(|&b| b == b'\n').count();
    for e in &errors {
        assert!(e.row >= 1 && e.row <= lines && e.column >= 1, "{e}");
    }
    let again = FingerprintList::from_bytes(&list.to_bytes()).expect("a saved list loads");
    assert_eq!(again, list);
    list
}
