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
//! The score is the share of the spun text's words that are matched or explained, in [0, 1].

use serde::Serialize;

use crate::canon::Word;
use crate::lexicon::Lexicon;

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
    /// Share of the spun text's words matched or explained, in [0, 1].
    pub score: f32,
    /// Words in the spun text.
    pub words: usize,
    /// Words equal on both sides.
    pub matched: usize,
    /// Spun words in explained substitutions.
    pub explained: usize,
    /// Spun words neither matched nor explained.
    pub unexplained: usize,
    /// Byte range of the source that the spun text covers.
    pub source_start: usize,
    /// End of that range.
    pub source_end: usize,
    /// The differences, in order.
    pub edits: Vec<Edit>,
}

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
    let (n, m) = (sw.len(), tw.len());
    let empty = Alignment {
        score: if n == 0 { 1.0 } else { 0.0 },
        words: n,
        matched: 0,
        explained: 0,
        unexplained: n,
        source_start: 0,
        source_end: 0,
        edits: Vec::new(),
    };
    if n == 0 || m == 0 {
        return empty;
    }
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
        explain_block(lex, spun, sw, source, tw, &qs, &ts, &mut out);
        at = end;
    }
    out.score = (out.matched + out.explained) as f32 / n as f32;
    out
}

/// Explains the block of spun words `qs` against source words `ts` (both contiguous, in order).
#[allow(clippy::too_many_arguments)]
fn explain_block(
    lex: &Lexicon<'_>,
    spun: &str,
    sw: &[Word],
    source: &str,
    tw: &[Word],
    qs: &[usize],
    ts: &[usize],
    out: &mut Alignment,
) {
    let span = |ws: &[Word], idx: &[usize]| -> (usize, usize) {
        (ws[idx[0]].start, ws[*idx.last().expect("non-empty")].end)
    };
    let edit = |kind, explained, q: &[usize], t: &[usize]| -> Edit {
        let (start, end) = if q.is_empty() { (0, 0) } else { span(sw, q) };
        let (source_start, source_end) = if t.is_empty() { (0, 0) } else { span(tw, t) };
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
    match (qs.len(), ts.len()) {
        (0, 0) => {}
        (0, _) => out.edits.push(edit(EditKind::Deletion, false, qs, ts)),
        (_, 0) => {
            out.unexplained += qs.len();
            out.edits.push(edit(EditKind::Insertion, false, qs, ts));
        }
        (a, b) if a == b => {
            for (&q, &t) in qs.iter().zip(ts) {
                let ok = related_words(lex, &[sw[q]], &[tw[t]]);
                if ok {
                    out.explained += 1;
                } else {
                    out.unexplained += 1;
                }
                out.edits.push(edit(EditKind::Substitution, ok, &[q], &[t]));
            }
        }
        (a, b) => {
            let qw: Vec<Word> = qs.iter().map(|&i| sw[i]).collect();
            let tw_: Vec<Word> = ts.iter().map(|&i| tw[i]).collect();
            if a <= 3 && b <= 3 && related_words(lex, &qw, &tw_) {
                out.explained += a;
                out.edits.push(edit(EditKind::Substitution, true, qs, ts));
                return;
            }
            // Pair what can be paired, word for word; the rest stands alone.
            let k = a.min(b);
            for x in 0..k {
                let ok = related_words(lex, &[qw[x]], &[tw_[x]]);
                if ok {
                    out.explained += 1;
                } else {
                    out.unexplained += 1;
                }
                out.edits
                    .push(edit(EditKind::Substitution, ok, &qs[x..=x], &ts[x..=x]));
            }
            if a > k {
                out.unexplained += a - k;
                out.edits
                    .push(edit(EditKind::Insertion, false, &qs[k..], &[]));
            } else if b > k {
                out.edits
                    .push(edit(EditKind::Deletion, false, &[], &ts[k..]));
            }
        }
    }
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
    let (na, nb) = (nodes(lex, a), nodes(lex, b));
    if na.is_empty() || nb.is_empty() {
        return false;
    }
    if na.iter().any(|x| nb.contains(x)) {
        return true;
    }
    // Scan the shorter neighbour lists.
    na.iter().any(|&x| {
        nb.iter().any(|&y| {
            let (s, t) = if lex.degree(x) <= lex.degree(y) {
                (x, y)
            } else {
                (y, x)
            };
            lex.neighbors(s).any(|(o, _)| o == t)
        })
    })
}
