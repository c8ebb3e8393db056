//! Verifying a candidate: a word alignment of the spun text against its source that explains the
//! differences as thesaurus substitutions.
//!
//! The two word sequences are aligned by a banded edit distance (unit costs; the source's
//! beginning and end are free, so an excerpt aligns inside a longer source). Between two matched
//! words, the unmatched words form a *block*: a one-for-one substitution, a phrase written as one
//! word or one word as a phrase, or words only one side has. A block is *explained* when the
//! pack's thesauri relate its two sides (directly, through a lemma, or as a phrase node), which is
//! what a spinner's edits look like and what chance agreement between unrelated texts does not.
//!
//! The score is the share of the spun text's words that are matched or explained, less
//! [`CONFLICT_WEIGHT`] words for every *conflict* — an immutable word (a name, a number) paired
//! with a different immutable word, which no spinner makes — in [0, 1]. A learned spinner profile ([`Rules`]) explains what its spinner does beyond the thesauri.

use rustc_hash::FxHashSet;
use serde::Serialize;

use crate::canon::{Kind, Word};
use crate::learn::Profile;
use crate::lexicon::{fx, Lexicon};

/// A spinner's learned substitutions, as the alignment consults them: a block whose two sides
/// a rule of the profile pairs is explained even where no thesaurus relates them.
#[derive(Clone, Debug, Default)]
pub struct Rules {
    /// (spun phrase, original phrase) hashes, as [`phrase_hash`] makes them.
    pairs: FxHashSet<(u64, u64)>,
}

impl Rules {
    /// The rules of a profile (its phrases of one to three words on each side).
    pub fn from_profile(profile: &Profile) -> Rules {
        let hash = |p: &str| {
            let words: Vec<String> = p.split_whitespace().map(crate::text::normalize).collect();
            (!words.is_empty() && words.len() <= MAX_PHRASE)
                .then(|| phrase_hash(words.iter().map(|w| fx(w.as_str()))))
        };
        let pairs = profile
            .rules
            .iter()
            .filter_map(|r| Some((hash(&r.spun)?, hash(&r.original)?)))
            .collect();
        Rules { pairs }
    }

    /// Rules known.
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    fn pairs_words(&self, spun: &[Word], source: &[Word]) -> bool {
        !self.pairs.is_empty()
            && self.pairs.contains(&(
                phrase_hash(spun.iter().map(|w| w.hash)),
                phrase_hash(source.iter().map(|w| w.hash)),
            ))
    }
}

/// One hash for a phrase from its words' hashes (order matters).
fn phrase_hash(words: impl Iterator<Item = u64>) -> u64 {
    words.fold(0x9e37_79b9_7f4a_7c15, |h, w| {
        (h.rotate_left(23) ^ w).wrapping_mul(0x2545_f491_4f6c_dd1d)
    })
}

/// What an edit did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EditKind {
    /// Source words replaced by spun words (one for one, or a phrase for a word and back).
    Substitution,
    /// Words only the spun text has.
    Insertion,
    /// Source words the spun text leaves out.
    Deletion,
}

/// One difference between the spun text and its source.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Edit {
    /// What kind of difference.
    pub kind: EditKind,
    /// Whether the thesauri relate the two sides (always false for insertions and deletions).
    pub explained: bool,
    /// Byte range in the spun text (`0..0` for a deletion).
    pub start: usize,
    /// End of that range.
    pub end: usize,
    /// Byte range in the source (`0..0` for an insertion).
    pub source_start: usize,
    /// End of that range.
    pub source_end: usize,
    /// The spun words.
    pub spun: String,
    /// The source words.
    pub source: String,
}

/// A word alignment of a spun text against a source.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Alignment {
    /// Share of the spun text's words matched or explained, less [`CONFLICT_WEIGHT`] words per
    /// conflict, in [0, 1].
    pub score: f32,
    /// Words in the spun text.
    pub words: usize,
    /// Words equal on both sides.
    pub matched: usize,
    /// Spun words in explained substitutions.
    pub explained: usize,
    /// Spun words neither matched nor explained.
    pub unexplained: usize,
    /// Immutable words (names, numbers, words no thesaurus relates to anything) that an
    /// unexplained substitution pairs with other immutable words: no spinner does that, while a
    /// sibling text of the same template (a generated manual page, a mail campaign) does it at
    /// every name it fills in.
    pub conflicts: usize,
    /// Byte range of the source that the spun text covers.
    pub source_start: usize,
    /// End of that range.
    pub source_end: usize,
    /// The differences, in order.
    pub edits: Vec<Edit>,
}

/// Cells the alignment may always use: a text this short is aligned without a band.
const MIN_CELLS: usize = 1 << 16;

const DIAG: u8 = 0;
const UP: u8 = 1;
const LEFT: u8 = 2;

/// Aligns `spun` (whose words are `sw`) against `source` (words `tw`), looking for the spun
/// text's first word near source word `hint` (a band of ±`band` words around that diagonal).
/// Pass `band` ≥ the longer length for an unbanded alignment.
pub fn align(
    lex: &Lexicon<'_>,
    spun: &str,
    sw: &[Word],
    source: &str,
    tw: &[Word],
    hint: isize,
    band: usize,
) -> Alignment {
    align_with(lex, spun, sw, source, tw, hint, band, None)
}

/// [`align`], with a learned spinner's rules explaining what they pair besides the thesauri.
#[allow(clippy::too_many_arguments)]
pub fn align_with(
    lex: &Lexicon<'_>,
    spun: &str,
    sw: &[Word],
    source: &str,
    tw: &[Word],
    hint: isize,
    band: usize,
    rules: Option<&Rules>,
) -> Alignment {
    let (n, m) = (sw.len(), tw.len());
    let empty = Alignment {
        score: if n == 0 { 1.0 } else { 0.0 },
        words: n,
        matched: 0,
        explained: 0,
        unexplained: n,
        conflicts: 0,
        source_start: 0,
        source_end: 0,
        edits: Vec::new(),
    };
    if n == 0 || m == 0 {
        return empty;
    }
    let hint = diagonal(sw, tw).unwrap_or(hint);
    // A band of at least ±`band` words, wider while the matrix stays small.
    let band = band.max(MIN_CELLS / n / 2);
    let b = band as isize;
    let width = (2 * band + 1).min(m + 1);
    // Column range of row i: j in [lo(i), lo(i) + width), clipped to [0, m].
    let lo = |i: usize| -> usize {
        let c = i as isize + hint - b;
        c.clamp(0, (m + 1 - width) as isize) as usize
    };
    const INF: u32 = u32::MAX / 2;
    let mut cost = vec![INF; (n + 1) * width];
    let mut dir = vec![DIAG; (n + 1) * width];
    // Row 0: the source's beginning is free.
    cost[..width].fill(0);
    dir[..width].fill(LEFT);
    for i in 1..=n {
        let (li, lp) = (lo(i), lo(i - 1));
        let row = i * width;
        let prow = (i - 1) * width;
        for k in 0..width {
            let j = li + k;
            let mut best = INF;
            let mut d = UP;
            // Up: spun word i-1 unmatched.
            if j >= lp && j < lp + width {
                best = cost[prow + j - lp] + 1;
            }
            if j >= 1 {
                // Diagonal.
                if j > lp && j - 1 < lp + width {
                    let sub = u32::from(sw[i - 1].hash != tw[j - 1].hash);
                    let c = cost[prow + j - 1 - lp] + sub;
                    if c <= best {
                        best = c;
                        d = DIAG;
                    }
                }
                // Left: source word j-1 skipped.
                if k >= 1 {
                    let c = cost[row + k - 1] + 1;
                    if c < best {
                        best = c;
                        d = LEFT;
                    }
                }
            }
            cost[row + k] = best;
            dir[row + k] = d;
        }
    }
    // Free end in the source: the best column of the last row.
    let ln = lo(n);
    let (mut k_end, mut best) = (0, INF);
    for k in 0..width {
        if cost[n * width + k] < best {
            best = cost[n * width + k];
            k_end = k;
        }
    }
    if best >= INF {
        return empty;
    }
    // Trace back: pairs (spun index or none, source index or none), in reverse.
    let mut ops: Vec<(Option<usize>, Option<usize>)> = Vec::with_capacity(n + m / 4);
    let (mut i, mut j) = (n, ln + k_end);
    let j_end = j;
    while i > 0 {
        let k = j - lo(i);
        match dir[i * width + k] {
            DIAG => {
                ops.push((Some(i - 1), Some(j - 1)));
                i -= 1;
                j -= 1;
            }
            UP => {
                ops.push((Some(i - 1), None));
                i -= 1;
            }
            _ => {
                ops.push((None, Some(j - 1)));
                j -= 1;
            }
        }
    }
    let j_start = j;
    ops.reverse();

    let mut out = Alignment {
        score: 0.0,
        words: n,
        matched: 0,
        explained: 0,
        unexplained: 0,
        conflicts: 0,
        source_start: tw[j_start.min(m - 1)].start,
        source_end: tw[j_end.max(1) - 1].end,
        edits: Vec::new(),
    };
    let mut at = 0;
    while at < ops.len() {
        if let (Some(a), Some(b)) = ops[at] {
            if sw[a].hash == tw[b].hash {
                out.matched += 1;
                at += 1;
                continue;
            }
        }
        let mut end = at;
        while end < ops.len() {
            if let (Some(a), Some(b)) = ops[end] {
                if sw[a].hash == tw[b].hash {
                    break;
                }
            }
            end += 1;
        }
        let qs: Vec<usize> = ops[at..end].iter().filter_map(|o| o.0).collect();
        let ts: Vec<usize> = ops[at..end].iter().filter_map(|o| o.1).collect();
        explain_block(lex, rules, spun, sw, source, tw, &qs, &ts, &mut out);
        at = end;
    }
    out.score = ((out.matched + out.explained) as f32 - CONFLICT_WEIGHT * out.conflicts as f32)
        .max(0.0)
        / n as f32;
    out
}

/// Spun words' worth of score that a conflict costs. Measured on 43.7 k indexed documents and
/// 12,000 queries (BENCHMARKS.md, "Trace"): 5 removes five of seven templated near copies from
/// the false matches and no true source (10 removes a true phrase-spun excerpt).
pub const CONFLICT_WEIGHT: f32 = 5.0;

/// Longest phrase, in words, that one side of an explained substitution may have.
const MAX_PHRASE: usize = 3;

/// Largest block (spun words × source words) explained by the dynamic programme; a larger one
/// is paired word for word.
const MAX_BLOCK_CELLS: usize = 400;

/// The most common offset (source position − spun position) between equal words that are not
/// free, which a spinner keeps: where the spun text sits in its source.
fn diagonal(sw: &[Word], tw: &[Word]) -> Option<isize> {
    let mut at: rustc_hash::FxHashMap<u64, Vec<u32>> = Default::default();
    for (j, w) in tw.iter().enumerate() {
        if w.kind != Kind::Free {
            at.entry(w.hash).or_default().push(j as u32);
        }
    }
    let mut votes: rustc_hash::FxHashMap<isize, u32> = Default::default();
    for (i, w) in sw.iter().enumerate() {
        if let Some(js) = at.get(&w.hash) {
            // A word seen many times in the source votes for nothing in particular.
            if js.len() <= 2 {
                for &j in js {
                    // Offsets are pooled in buckets of 8 words, so that drift from phrase
                    // rewrites does not split the vote.
                    *votes
                        .entry((j as isize - i as isize).div_euclid(8))
                        .or_insert(0) += 1;
                }
            }
        }
    }
    let (&bucket, &n) = votes
        .iter()
        .max_by_key(|(&k, &v)| (v, std::cmp::Reverse(k.abs())))?;
    (n >= 3).then_some(bucket * 8 + 4)
}

/// Explains the block of spun words `qs` against source words `ts` (both contiguous, in order):
/// a small dynamic programme cuts both sides into pieces of one to three words and pairs pieces
/// the thesauri relate, explaining as many spun words as it can; spun words left over are
/// insertions, source words left over deletions.
#[allow(clippy::too_many_arguments)]
fn explain_block(
    lex: &Lexicon<'_>,
    rules: Option<&Rules>,
    spun: &str,
    sw: &[Word],
    source: &str,
    tw: &[Word],
    qs: &[usize],
    ts: &[usize],
    out: &mut Alignment,
) {
    let edit = |kind, explained, q: &[usize], t: &[usize]| -> Edit {
        let (start, end) = match (q.first(), q.last()) {
            (Some(&f), Some(&l)) => (sw[f].start, sw[l].end),
            _ => (0, 0),
        };
        let (source_start, source_end) = match (t.first(), t.last()) {
            (Some(&f), Some(&l)) => (tw[f].start, tw[l].end),
            _ => (0, 0),
        };
        Edit {
            kind,
            explained,
            start,
            end,
            source_start,
            source_end,
            spun: spun[start..end].to_string(),
            source: source[source_start..source_end].to_string(),
        }
    };
    let (a, b) = (qs.len(), ts.len());
    if a == 0 && b == 0 {
        return;
    }
    if a == 0 {
        out.edits.push(edit(EditKind::Deletion, false, qs, ts));
        return;
    }
    if b == 0 {
        out.unexplained += a;
        out.edits.push(edit(EditKind::Insertion, false, qs, ts));
        return;
    }
    let qw: Vec<Word> = qs.iter().map(|&i| sw[i]).collect();
    let tv: Vec<Word> = ts.iter().map(|&i| tw[i]).collect();
    // Long blocks (a rewritten passage, or no relation at all) are paired word for word.
    let (a_dp, b_dp) = if a * b > MAX_BLOCK_CELLS {
        (0, 0)
    } else {
        (a, b)
    };
    // Nodes of every piece of one to three words on each side, computed once per block.
    let pieces = |ws: &[Word], n: usize| -> Vec<[Vec<u32>; MAX_PHRASE]> {
        (0..n)
            .map(|x| {
                std::array::from_fn(|l| {
                    if x + l < n {
                        nodes(lex, &ws[x..=x + l])
                    } else {
                        Vec::new()
                    }
                })
            })
            .collect()
    };
    let qn = pieces(&qw, a_dp);
    let tn = pieces(&tv, b_dp);
    let rel = |x: usize, lq: usize, y: usize, ls: usize| -> bool {
        related_nodes(lex, &qn[x][lq - 1], &tn[y][ls - 1])
            || rules.is_some_and(|r| r.pairs_words(&qw[x..x + lq], &tv[y..y + ls]))
    };
    // best[x][y]: most spun words explained in qw[x..] against tv[y..]; step[x][y] = (lq, ls).
    let w = b_dp + 1;
    let mut best = vec![0u32; (a_dp + 1) * w];
    let mut step = vec![(0u8, 0u8); (a_dp + 1) * w];
    for x in (0..=a_dp).rev() {
        for y in (0..=b_dp).rev() {
            if x == a_dp && y == b_dp {
                continue;
            }
            let mut v = 0u32;
            let mut st = (0u8, 0u8);
            if x < a_dp {
                // Spun word x unexplained.
                v = best[(x + 1) * w + y];
                st = (1, 0);
            }
            if y < b_dp && best[x * w + y + 1] > v || x == a_dp {
                v = best[x * w + y + 1];
                st = (0, 1);
            }
            for lq in 1..=MAX_PHRASE.min(a_dp - x) {
                for ls in 1..=MAX_PHRASE.min(b_dp - y) {
                    let gain = lq as u32 + best[(x + lq) * w + y + ls];
                    if gain > v && rel(x, lq, y, ls) {
                        v = gain;
                        st = (lq as u8, ls as u8);
                    }
                }
            }
            best[x * w + y] = v;
            step[x * w + y] = st;
        }
    }
    let (mut x, mut y) = (0, 0);
    let mut ins: Vec<usize> = Vec::new();
    let mut del: Vec<usize> = Vec::new();
    let flush = |ins: &mut Vec<usize>, del: &mut Vec<usize>, out: &mut Alignment| {
        if !ins.is_empty() || !del.is_empty() {
            // Unexplained spun words against unexplained source words: a substitution no
            // thesaurus explains, else an insertion or a deletion.
            let kind = match (ins.is_empty(), del.is_empty()) {
                (false, false) => EditKind::Substitution,
                (false, true) => EditKind::Insertion,
                _ => EditKind::Deletion,
            };
            out.unexplained += ins.len();
            let immutables = |ws: &[Word], at: &[usize]| {
                at.iter()
                    .filter(|&&i| ws[i].kind == Kind::Immutable)
                    .count()
            };
            out.conflicts += immutables(sw, ins).min(immutables(tw, del));
            out.edits.push(edit(kind, false, ins, del));
            ins.clear();
            del.clear();
        }
    };
    if a_dp == 0 {
        for k in 0..a.min(b) {
            let ok = related_words(lex, &qw[k..=k], &tv[k..=k])
                || rules.is_some_and(|r| r.pairs_words(&qw[k..=k], &tv[k..=k]));
            if ok {
                out.explained += 1;
                out.edits
                    .push(edit(EditKind::Substitution, true, &qs[k..=k], &ts[k..=k]));
            } else {
                ins.push(qs[k]);
                del.push(ts[k]);
                flush(&mut ins, &mut del, out);
            }
        }
        ins.extend(&qs[a.min(b)..]);
        del.extend(&ts[a.min(b)..]);
        flush(&mut ins, &mut del, out);
        return;
    }
    while x < a || y < b {
        let (lq, ls) = step[x * w + y];
        let (lq, ls) = (lq as usize, ls as usize);
        match (lq, ls) {
            (1, 0) => ins.push(qs[x]),
            (0, 1) => del.push(ts[y]),
            _ => {
                flush(&mut ins, &mut del, out);
                out.explained += lq;
                out.edits.push(edit(
                    EditKind::Substitution,
                    true,
                    &qs[x..x + lq],
                    &ts[y..y + ls],
                ));
            }
        }
        x += lq;
        y += ls;
    }
    flush(&mut ins, &mut del, out);
}

/// Graph nodes a word sequence may stand for: the phrase or word itself and, for its first and
/// last word, its lemmas in their place (the spinner inflects a phrase's head).
fn nodes(lex: &Lexicon<'_>, ws: &[Word]) -> Vec<u32> {
    let Some(ids) = ws.iter().map(|w| w.id).collect::<Option<Vec<u32>>>() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut push = |v: &[u32]| {
        if let Some(n) = lex.node_of(v) {
            if !out.contains(&n) {
                out.push(n);
            }
        }
    };
    push(&ids);
    let last = ids.len() - 1;
    for h in if last == 0 { vec![0] } else { vec![0, last] } {
        for (lemma, _) in lex.analyses(ids[h]) {
            let mut v = ids.clone();
            v[h] = lemma;
            push(&v);
        }
    }
    out
}

/// Whether the thesauri relate two word sequences (equal lemmas count).
fn related_words(lex: &Lexicon<'_>, a: &[Word], b: &[Word]) -> bool {
    related_nodes(lex, &nodes(lex, a), &nodes(lex, b))
}

/// Whether any node of `na` is any node of `nb` or one of its neighbours.
fn related_nodes(lex: &Lexicon<'_>, na: &[u32], nb: &[u32]) -> bool {
    if na.is_empty() || nb.is_empty() {
        return false;
    }
    na.iter()
        .any(|&x| nb.iter().any(|&y| x == y || adjacent(lex, x, y)))
}

/// Whether `x` and `y` are neighbours: a binary search in the shorter neighbour list (the pack
/// builder sorts them; an unsorted list could only hide a relation, never invent one).
fn adjacent(lex: &Lexicon<'_>, x: u32, y: u32) -> bool {
    let (s, t) = if lex.degree(x) <= lex.degree(y) {
        (x, y)
    } else {
        (y, x)
    };
    let (a, b) = (
        lex.syn_off[s as usize] as usize,
        lex.syn_off[s as usize + 1] as usize,
    );
    let list = &lex.syn[a..b];
    list.binary_search_by(|&e| (e >> 8).cmp(&t)).is_ok()
}
