//! Tracing against the committed default pack: canonical forms, the index file and its
//! failures, alignment, and recall on Brown passages when the sources are fetched (CI fetches
//! them and sets UNSPIN_REQUIRE_SOURCES=1, so those tests cannot pass vacuously).

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use unspin::canon::Canon;
use unspin::index::eval::{excerpt, spinner};
use unspin::index::{
    align, align_with, EditKind, Index, IndexBuilder, IndexError, Params, Rules, Signer,
    TraceOptions, STREAMS,
};
use unspin::learn::Profile;
use unspin::spin::{spin, Rng};

mod common;
use common::{pack, root};

fn canon() -> &'static Canon<'static> {
    static CANON: std::sync::OnceLock<Canon<'static>> = std::sync::OnceLock::new();
    CANON.get_or_init(|| Canon::new(pack()))
}

/// Brown texts of genre `prefix` cut into passages of about 300 words at paragraph breaks.
fn brown_passages(prefix: &str, files: usize) -> Vec<(String, String)> {
    let Some(dir) = common::brown_dir() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (name, text) in unspin::eval::read_brown(&dir, prefix)
        .unwrap()
        .into_iter()
        .take(files)
    {
        let mut cur = String::new();
        for para in text.split("\n\n") {
            cur.push_str(para.trim());
            cur.push_str("\n\n");
            if cur.split_whitespace().count() >= 300 {
                out.push((format!("{name}#{}", out.len()), std::mem::take(&mut cur)));
            }
        }
    }
    out
}

/// A fresh folder under the system's temporary folder, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("unspin-trace-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn news() -> (String, String) {
    let r = |f: &str| std::fs::read_to_string(root().join("examples").join(f)).unwrap();
    (r("spun-news.original.txt"), r("spun-news.txt"))
}

fn build(docs: &[(String, String)], path: &Path) -> Index {
    let mut b = IndexBuilder::new(canon(), Params::default()).unwrap();
    for (id, text) in docs {
        b.add(id, text);
    }
    b.write(path).unwrap();
    Index::open(path).unwrap()
}

#[test]
fn skeleton_survives_one_for_one_spinning() {
    let docs = brown_passages("ca", 3);
    let c = canon();
    for (i, (_, text)) in docs.iter().enumerate() {
        for config in ["same", "cross"] {
            let spun = spin(pack(), text, &spinner(config, 0.5, i as u64).unwrap());
            assert_ne!(spun.text, *text);
            assert_eq!(c.skeleton(&spun.text), c.skeleton(text), "{config} doc {i}");
        }
    }
}

#[test]
fn the_real_example_traces_to_its_original() {
    let (original, spun) = news();
    let dir = TempDir::new();
    let mut docs = brown_passages("cb", 4);
    docs.push(("news".into(), original.clone()));
    let idx = build(&docs, &dir.path().join("i.idx"));
    let hits = idx.trace(canon(), &spun, &TraceOptions::default()).unwrap();
    assert_eq!(hits.first().map(|h| h.id.as_str()), Some("news"));
    let a = &hits[0].alignment;
    assert!(a.score > 0.9 && a.score <= 1.0, "score {}", a.score);
    let subs: Vec<(&str, &str)> = a
        .edits
        .iter()
        .filter(|e| e.kind == EditKind::Substitution && e.explained)
        .map(|e| (e.source.as_str(), e.spun.as_str()))
        .collect();
    assert!(subs.contains(&("soldiers", "troopers")), "{subs:?}");
    for e in &a.edits {
        assert_eq!(&spun[e.start..e.end], e.spun);
        assert_eq!(&original[e.source_start..e.source_end], e.source);
    }
}

#[test]
fn spun_copies_find_their_source_and_strangers_find_nothing() {
    let docs = brown_passages("ca", 30);
    if docs.is_empty() {
        return;
    }
    let strangers = brown_passages("cg", 6);
    let dir = TempDir::new();
    let idx = build(&docs, &dir.path().join("i.idx"));
    assert_eq!(idx.len(), docs.len());
    let opts = TraceOptions::default();
    let mut rng = Rng::new(6);
    let mut misses = Vec::new();
    for (k, config) in ["same", "phrase", "cross"].iter().enumerate() {
        for rate in [0.1, 0.3, 0.5] {
            for whole in [true, false] {
                let (id, text) = &docs[rng.below(docs.len())];
                let src = if whole {
                    text.clone()
                } else {
                    excerpt(text, 100, &mut rng)
                };
                let q = spin(pack(), &src, &spinner(config, rate, k as u64).unwrap()).text;
                let hits = idx.trace(canon(), &q, &opts).unwrap();
                if hits.first().map(|h| &h.id) != Some(id) {
                    misses.push(format!("{config} {rate} whole={whole}: {hits:?}"));
                }
                for h in &hits {
                    assert!((0.0..=1.0).contains(&h.score));
                }
            }
        }
    }
    assert!(misses.len() <= 1, "{misses:#?}");
    for (id, text) in strangers.iter().take(12) {
        let q = spin(pack(), text, &spinner("same", 0.3, 1).unwrap()).text;
        let hits = idx.trace(canon(), &q, &opts).unwrap();
        assert!(hits.is_empty(), "{id} matched {:?}", hits[0].id);
    }
}

#[test]
fn tracing_texts_together_answers_as_tracing_them_one_by_one() {
    let docs = brown_passages("ca", 12);
    assert!(
        !docs.is_empty(),
        "Brown texts are needed (scripts/fetch-sources.sh)"
    );
    let dir = TempDir::new();
    let idx = build(&docs, &dir.path().join("i.idx"));
    let mut rng = Rng::new(3);
    // More texts than are planned ahead, with sources, without, and empty ones between.
    let mut texts: Vec<String> = Vec::new();
    for (i, (_, text)) in docs.iter().enumerate() {
        let src = if i % 2 == 0 {
            text.clone()
        } else {
            excerpt(text, 100, &mut rng)
        };
        texts.push(spin(pack(), &src, &spinner("phrase", 0.3, i as u64).unwrap()).text);
        if i % 5 == 0 {
            texts.push(String::new());
        }
    }
    for (_, text) in brown_passages("cg", 3) {
        texts.push(spin(pack(), &text, &spinner("same", 0.3, 9).unwrap()).text);
    }
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let opts = TraceOptions::default();
    let together = idx.trace_all(canon(), &refs, &opts, None);
    assert_eq!(together.len(), texts.len());
    let mut found = 0;
    for (t, got) in refs.iter().zip(together) {
        let alone = idx.trace(canon(), t, &opts).unwrap();
        found += usize::from(!alone.is_empty());
        assert_eq!(got.unwrap(), alone);
    }
    assert!(found >= docs.len() - 1, "{found} of {} found", docs.len());
    assert!(idx.trace_all(canon(), &[], &opts, None).is_empty());
}

#[test]
fn add_keeps_old_documents_and_finds_new_ones() {
    let (original, spun) = news();
    let dir = TempDir::new();
    let path = dir.path().join("i.idx");
    let mut b = IndexBuilder::new(canon(), Params::default()).unwrap();
    b.add(
        "one",
        "Nothing of the kind happened in Paris on Tuesday, said Mr. Dubois.",
    );
    b.write(&path).unwrap();
    let old = Index::open(&path).unwrap();
    let mut b = IndexBuilder::from_index(canon(), &old).unwrap();
    b.add("news", &original);
    b.write(&path).unwrap();
    // The old map stays usable after the rename.
    assert_eq!(old.doc_id(0).unwrap(), "one");
    let idx = Index::open(&path).unwrap();
    assert_eq!(idx.len(), 2);
    assert_eq!(idx.doc_id(0).unwrap(), "one");
    assert_eq!(idx.doc_text(1).unwrap(), original);
    let hits = idx.trace(canon(), &spun, &TraceOptions::default()).unwrap();
    assert_eq!(hits[0].id, "news");
    let s = idx.stats();
    assert_eq!(s.meta.docs, 2);
    assert_eq!(s.bytes, std::fs::metadata(&path).unwrap().len());
}

#[test]
fn a_build_within_a_memory_budget_writes_the_same_index() {
    let mut docs = brown_passages("ca", 12);
    let (original, _) = news();
    docs.push(("news".into(), original));
    let dir = TempDir::new();
    let whole = std::fs::read({
        let p = dir.path().join("whole.idx");
        build(&docs, &p);
        p
    })
    .unwrap();
    let spill = dir.path().join("spill");
    std::fs::create_dir(&spill).unwrap();
    // 64 KiB: 128 band entries per band in memory, a run every few documents.
    let small = dir.path().join("small.idx");
    let mut b = IndexBuilder::new(canon(), Params::default())
        .unwrap()
        .memory_budget(&spill, 1 << 16);
    for (id, text) in &docs {
        b.add(id, text);
    }
    if docs.len() > 10 {
        assert!(b.spilled_runs() >= 2, "{} runs", b.spilled_runs());
    }
    b.write(&small).unwrap();
    assert!(
        std::fs::read(&small).unwrap() == whole,
        "spilled build differs"
    );
    // Adding within the budget: the old index's tables become the first run.
    let half = docs.len() / 2;
    let added = dir.path().join("added.idx");
    build(&docs[..half], &added);
    let old = Index::open(&added).unwrap();
    let mut b = IndexBuilder::from_index_within(canon(), &old, &spill, 1 << 16).unwrap();
    assert_eq!(b.spilled_runs(), 1);
    for (id, text) in &docs[half..] {
        b.add(id, text);
    }
    b.write(&added).unwrap();
    assert!(
        std::fs::read(&added).unwrap() == whole,
        "spilled add differs"
    );
    // The temporary files are anonymous: nothing is left behind.
    assert_eq!(std::fs::read_dir(&spill).unwrap().count(), 0);
}

/// A budgeted build spills its texts into the index file to be (a named temporary file in the
/// spill folder): dropped unwritten, it leaves nothing behind; written with the spill folder on
/// another file system than the index (tmpfs), the file is copied across and is the same.
#[test]
fn texts_spilled_into_the_index_file_leave_nothing_behind_and_cross_file_systems() {
    let mut docs = brown_passages("ca", 6);
    docs.push(("news".into(), news().0));
    let dir = TempDir::new();
    let whole = dir.path().join("whole.idx");
    build(&docs, &whole);
    let whole = std::fs::read(&whole).unwrap();
    let shm = Path::new("/dev/shm");
    let spill_root = if shm.is_dir() {
        shm.to_path_buf()
    } else {
        dir.path().to_path_buf()
    };
    let spill = spill_root.join(format!("unspin-spill-{}", std::process::id()));
    std::fs::create_dir_all(&spill).unwrap();
    let budgeted = || {
        let mut b = IndexBuilder::new(canon(), Params::default())
            .unwrap()
            .memory_budget(&spill, 1 << 16);
        for (id, text) in &docs {
            b.add(id, text);
        }
        b
    };
    let b = budgeted();
    assert!(
        std::fs::read_dir(&spill).unwrap().count() > 0,
        "nothing spilled"
    );
    drop(b);
    assert_eq!(std::fs::read_dir(&spill).unwrap().count(), 0);
    let out = dir.path().join("spilled.idx");
    budgeted().write(&out).unwrap();
    let written = std::fs::read(&out).unwrap();
    let _ = std::fs::remove_dir_all(&spill);
    assert!(written == whole, "spilled build differs");
    assert!(!dir.path().join("spilled.idx.tmp").exists());
}

#[test]
fn a_failed_write_leaves_the_previous_index() {
    let (original, spun) = news();
    let dir = TempDir::new();
    let path = dir.path().join("i.idx");
    let mut b = IndexBuilder::new(canon(), Params::default()).unwrap();
    b.add("news", &original);
    b.write(&path).unwrap();
    let before = std::fs::read(&path).unwrap();
    // The temporary file cannot be created: the write fails before touching the index.
    std::fs::create_dir(dir.path().join("i.idx.tmp")).unwrap();
    let mut b = IndexBuilder::from_index(canon(), &Index::open(&path).unwrap()).unwrap();
    b.add("other", "Something else entirely.");
    assert!(matches!(b.write(&path), Err(IndexError::Io { .. })));
    assert_eq!(std::fs::read(&path).unwrap(), before);
    std::fs::remove_dir(dir.path().join("i.idx.tmp")).unwrap();
    // A torn temporary file left by a crash is not the index either.
    std::fs::write(dir.path().join("i.idx.tmp"), &before[..before.len() / 2]).unwrap();
    let idx = Index::open(&path).unwrap();
    assert_eq!(
        idx.trace(canon(), &spun, &TraceOptions::default()).unwrap()[0].id,
        "news"
    );
}

#[test]
fn damaged_indexes_are_refused() {
    let (original, _) = news();
    let dir = TempDir::new();
    let path = dir.path().join("i.idx");
    let mut b = IndexBuilder::new(canon(), Params::default()).unwrap();
    b.add("news", &original);
    b.add("two", "Six Russian soldiers fled the war in Ukraine.");
    b.write(&path).unwrap();
    let good = std::fs::read(&path).unwrap();
    assert!(Index::from_bytes(&good).is_ok());
    for cut in [0, 7, 8, 23, 24, 100, good.len() / 2, good.len() - 1] {
        let err = Index::from_bytes(&good[..cut])
            .err()
            .expect("truncation refused");
        assert!(
            matches!(err, IndexError::BadMagic | IndexError::Truncated(_)),
            "cut {cut}: {err}"
        );
        std::fs::write(&path, &good[..cut]).unwrap();
        assert!(Index::open(&path).is_err(), "cut {cut}");
    }
    // A flipped bit anywhere is caught by a checksum (or the header checks).
    for at in (0..good.len()).step_by(good.len() / 97 + 1) {
        let mut bad = good.clone();
        bad[at] ^= 0x10;
        assert!(Index::from_bytes(&bad).is_err(), "flip at {at}");
        std::fs::write(&path, &bad).unwrap();
        let err = Index::open(&path).err().expect("flip refused");
        assert!(!err.to_string().is_empty());
    }
    let mut v = good.clone();
    v[8] = 9;
    assert!(matches!(
        Index::from_bytes(&v),
        Err(IndexError::WrongVersion { found: 9, .. })
    ));
    assert!(Index::open(&dir.path().join("missing.idx")).is_err());
}

#[test]
fn unrelated_texts_align_poorly() {
    let docs = brown_passages("cf", 6);
    let c = canon();
    for pair in docs.windows(2).take(8) {
        let (a, b) = (&pair[0].1, &pair[1].1);
        let (wa, wb) = (c.words(a), c.words(b));
        let al = align(c.lexicon(), a, &wa, b, &wb, 0, 16);
        assert!(al.score < 0.45, "score {}", al.score);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn alignment_is_well_formed(
        a in proptest::collection::vec(0usize..12, 0..40),
        b in proptest::collection::vec(0usize..12, 0..40),
        hint in -10isize..10,
    ) {
        const W: [&str; 12] = ["the", "soldiers", "troopers", "war", "warfare", "fled", "Paris",
            "in", "on account of", "because", "12", "nation"];
        let sa: String = a.iter().map(|&i| W[i]).collect::<Vec<_>>().join(" ");
        let sb: String = b.iter().map(|&i| W[i]).collect::<Vec<_>>().join(" ");
        let c = canon();
        let (wa, wb) = (c.words(&sa), c.words(&sb));
        let al = align(c.lexicon(), &sa, &wa, &sb, &wb, hint, 4);
        prop_assert!((0.0..=1.0).contains(&al.score));
        prop_assert!(al.matched + al.explained + al.unexplained == wa.len());
        for e in &al.edits {
            prop_assert_eq!(&sa[e.start..e.end], e.spun.as_str());
            prop_assert_eq!(&sb[e.source_start..e.source_end], e.source.as_str());
        }
        if sa == sb {
            prop_assert!((al.score - 1.0).abs() < 1e-6 || wa.is_empty());
        }
    }
}

#[test]
fn a_profile_explains_what_its_spinner_does_beyond_the_thesauri() {
    let c = canon();
    let source =
        "The council will discuss the new budget with twelve residents of Elmwood on Tuesday.";
    let spun = "The council will wibble wobble the new budget with twelve residents of Elmwood on Tuesday.";
    let (ws, wt) = (c.words(spun), c.words(source));
    let plain = align(c.lexicon(), spun, &ws, source, &wt, 0, 16);
    let profile = Profile::learn([(spun, source)]);
    let rules = Rules::from_profile(&profile);
    assert!(!rules.is_empty());
    let learned = align_with(c.lexicon(), spun, &ws, source, &wt, 0, 16, Some(&rules));
    // No thesaurus relates the nonsense phrase to "discuss"; the learned rule does.
    assert_eq!(plain.unexplained, 2, "{plain:?}");
    assert_eq!(learned.unexplained, 0, "{learned:?}");
    assert_eq!(learned.explained, 2);
    assert!(learned.score > plain.score);
    let e = learned.edits.iter().find(|e| e.explained).unwrap();
    assert_eq!(
        (e.spun.as_str(), e.source.as_str()),
        ("wibble wobble", "discuss")
    );
    // Rules of another spinner explain nothing here.
    let other = Rules::from_profile(&Profile::learn([("a gaggle of", "a group of")]));
    let al = align_with(c.lexicon(), spun, &ws, source, &wt, 0, 16, Some(&other));
    assert_eq!(al, plain);
}

#[test]
fn words_inside_thesaurus_phrases_are_marked() {
    let c = canon();
    let phrased = |t: &str| -> Vec<String> {
        c.words(t)
            .iter()
            .filter(|w| w.phrase)
            .map(|w| t[w.start..w.end].to_string())
            .collect()
    };
    // What the content farm of DESIGN.md writes for "now" and "and".
    assert_eq!(
        phrased("They left at this moment for Paris"),
        ["at", "this", "moment"]
    );
    assert_eq!(phrased("Jim walk off with Ann"), ["walk", "off", "with"]);
    // A phrase does not run across punctuation, and names are never part of one.
    assert!(phrased("They left at this, moment by moment").len() < 3);
    assert!(phrased("Ms Moment left").is_empty());
    // Phrase marks change only which stream a word joins, never its kind or hash.
    let (a, b) = (c.words("at this moment"), c.words("at this, moment"));
    for (x, y) in a.iter().zip(&b) {
        assert_eq!((x.kind, x.hash), (y.kind, y.hash));
    }
}

#[test]
fn the_phrase_free_stream_survives_phrase_spinning_best() {
    // A phrase spinner writes function words out as phrases ("and" → "walk off with"): the
    // phrase-free skeleton's bands agree with the original's more often than the skeleton's.
    let docs = brown_passages("ca", 8);
    if docs.is_empty() {
        return;
    }
    let c = canon();
    let signer = Signer::new(Params::default());
    let params = Params::default();
    let mut agree = [0usize; STREAMS];
    for (i, (_, text)) in docs.iter().enumerate().take(30) {
        let spun = spin(pack(), text, &spinner("phrase", 0.3, i as u64).unwrap()).text;
        let a = signer.passages(c, &c.words(text), 1000);
        let b = signer.passages(c, &c.words(&spun), 1000);
        for (s, n) in agree.iter_mut().enumerate() {
            let band = params.band_range(s);
            *n += a[0].keys[band.clone()]
                .iter()
                .zip(&b[0].keys[band])
                .filter(|(x, y)| x.is_some() && x == y)
                .count();
        }
    }
    assert!(agree[1] > agree[2] + agree[2] / 4, "{agree:?}");
}

#[test]
fn names_that_differ_are_conflicts_and_cost_the_score() {
    let c = canon();
    let source = "The committee met John Smith in Boston on 12 May to discuss the harbour budget.";
    let sibling =
        "The committee met Maria Jones in Denver on 3 June to discuss the harbour budget.";
    let spun = "The panel met John Smith in Boston on 12 May to talk about the harbour budget.";
    let (wt, wq, ws) = (c.words(source), c.words(sibling), c.words(spun));
    let other = align(c.lexicon(), sibling, &wq, source, &wt, 0, 16);
    // Five names and numbers filled in differently: no spinner does that.
    assert_eq!(other.conflicts, 5, "{other:?}");
    let plain = (other.matched + other.explained) as f32 / other.words as f32;
    assert!(other.score < plain - 0.5, "{} vs {plain}", other.score);
    assert!(other.score < TraceOptions::default().min_score);
    // A spun copy keeps its names: no conflict, no cost.
    let copy = align(c.lexicon(), spun, &ws, source, &wt, 0, 16);
    assert_eq!(copy.conflicts, 0, "{copy:?}");
    assert_eq!(
        copy.score,
        (copy.matched + copy.explained) as f32 / copy.words as f32
    );
}

#[test]
fn the_content_stream_survives_phrase_spinning_where_the_skeletons_fail() {
    // Skills-and-hobbies and fiction passages hold few names or numbers, and a phrase spinner
    // rewrites the function words the skeletons are made of; the free words it left alone are
    // still there in pairs, and each content band is one MinHash value.
    let mut docs = brown_passages("ce", 4);
    docs.extend(brown_passages("ck", 4));
    if docs.is_empty() {
        return;
    }
    let c = canon();
    let params = Params::default();
    let signer = Signer::new(params.clone());
    // Passages in which each stream shares at least one band with the original.
    let mut found = [0usize; STREAMS];
    let mut n = 0;
    for (i, (_, text)) in docs.iter().enumerate().take(40) {
        let words: Vec<&str> = text.split_whitespace().take(100).collect();
        let text = words.join(" ");
        let spun = spin(pack(), &text, &spinner("phrase", 0.3, i as u64).unwrap()).text;
        let a = signer.passages(c, &c.words(&text), 1000);
        let b = signer.passages(c, &c.words(&spun), 1000);
        n += 1;
        for (s, f) in found.iter_mut().enumerate() {
            let band = params.band_range(s);
            *f += usize::from(
                a[0].keys[band.clone()]
                    .iter()
                    .zip(&b[0].keys[band])
                    .any(|(x, y)| x.is_some() && x == y),
            );
        }
    }
    eprintln!("{found:?} of {n}");
    assert!(
        found[3] > found[..3].iter().copied().max().unwrap(),
        "{found:?}"
    );
    assert!(found[3] * 10 >= n * 8, "{found:?} of {n}");
}
