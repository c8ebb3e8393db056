//! Matching a fingerprint list against text in one pass.
//!
//! Every atom of every query (each hyphenated variant of a phrase, each word of a proximity
//! phrase) and every allowed term becomes one pattern of a single Aho-Corasick automaton, run
//! with overlapping semantics over the normal form of the text (see [`super::normalize`]). The
//! crate's DFA is copied into a flat table for the scan loop. The text is normalised and scanned
//! in 64 KiB chunks that stay in cache, each chunk as eight interleaved streams (a DFA walk waits
//! on its table loads; eight walks wait together), so nothing proportional to the text is
//! allocated. Matches are kept only on word boundaries (like `rg -w`), mapped back to byte
//! offsets of the original text, and then each query that owns a matched tortured phrase is
//! evaluated over the whole text.

use std::collections::HashMap;

use aho_corasick::automaton::{Automaton, StateID};
use aho_corasick::{dfa, nfa, Anchored, MatchKind, StartKind};

use super::list::FingerprintList;
use super::normalize::{is_word_char, normalize_phrase, phrase_variants, Normalizer, OffsetMap};
use super::query::{Query, Role};

/// Original bytes normalised and scanned at a time.
const CHUNK: usize = 64 * 1024;
/// Automaton walks interleaved over one chunk.
const STREAMS: usize = 8;
/// Above this many pattern bytes the automaton is a contiguous NFA: a DFA would take too much
/// memory for what it saves.
const DFA_MAX_PATTERN_BYTES: usize = 1 << 20;

/// A tortured phrase found in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Hit {
    /// Byte offset in the original text where the match starts.
    pub start: usize,
    /// Byte offset in the original text where the match ends: `text[start..end] == matched`.
    pub end: usize,
    /// The text matched, as it stands in the original (line breaks, hyphens and case included;
    /// for a proximity phrase, from its first word to its last).
    pub matched: String,
    /// The tortured phrase as the list writes it.
    pub tortured: String,
    /// The expected phrase, cleaned; `None` when the list does not know it.
    pub expected: Option<String>,
    /// The expected phrase as the list writes it.
    pub expected_raw: String,
    /// The whole query of the list entry.
    pub query: String,
    /// Index of the entry in [`FingerprintList::entries`].
    pub entry: usize,
}

/// Which automaton to build.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Engine {
    /// A DFA unless the patterns are too many for one (the default).
    #[default]
    Auto,
    /// Always a DFA: fastest, largest.
    Dfa,
    /// Always a contiguous NFA: compact, slower.
    Nfa,
}

enum Aut {
    Dfa(Table),
    Nfa(nfa::contiguous::NFA),
}

/// The automaton's steps, as the scan loop needs them.
trait Walk {
    type State: Copy;
    fn start(&self) -> Self::State;
    fn step(&self, s: Self::State, byte: u8) -> Self::State;
    /// A state where some pattern ends (or, for the NFA, any special state).
    fn special(&self, s: Self::State) -> bool;
    fn match_len(&self, s: Self::State) -> usize;
    fn match_pattern(&self, s: Self::State, i: usize) -> u32;
}

impl Walk for nfa::contiguous::NFA {
    type State = StateID;
    fn start(&self) -> StateID {
        self.start_state(Anchored::No)
            .expect("unanchored search is supported")
    }
    #[inline(always)]
    fn step(&self, s: StateID, byte: u8) -> StateID {
        self.next_state(Anchored::No, s, byte)
    }
    #[inline(always)]
    fn special(&self, s: StateID) -> bool {
        self.is_special(s)
    }
    fn match_len(&self, s: StateID) -> usize {
        if self.is_match(s) {
            Automaton::match_len(self, s)
        } else {
            0
        }
    }
    fn match_pattern(&self, s: StateID, i: usize) -> u32 {
        Automaton::match_pattern(self, s, i).as_u32()
    }
}

/// The aho-corasick DFA copied into a flat table made for the scan loop: byte classes of
/// exactly the bytes the patterns use (the crate rounds a row up to a power of two), state ids
/// premultiplied by the row length, and match states first so that "does a pattern end here"
/// is one comparison. About two thirds of the crate's DFA in memory, so more of it stays in
/// cache.
struct Table {
    trans: Vec<u32>,
    class: [u8; 256],
    start: u32,
    /// States below this (premultiplied) id are match states.
    match_limit: u32,
    stride: u32,
    /// For match state `k` (id `k * stride`): its patterns are `pids[ends[k]..ends[k + 1]]`.
    ends: Vec<u32>,
    pids: Vec<u32>,
}

impl Table {
    /// `None` if the table would not fit 32-bit ids.
    fn new(dfa: &dfa::DFA, patterns: &[String]) -> Option<Table> {
        let mut class = [0u8; 256];
        let mut used = [false; 256];
        for p in patterns {
            for &b in p.as_bytes() {
                used[b as usize] = true;
            }
        }
        // Class 0 for every byte no pattern uses (if any), then one class per used byte.
        let mut reps: Vec<u8> = Vec::new();
        if used.iter().any(|u| !u) {
            reps.push(used.iter().position(|u| !u)? as u8);
        }
        for b in 0..256usize {
            if used[b] {
                class[b] = reps.len() as u8;
                reps.push(b as u8);
            }
        }
        let stride = reps.len();
        // Every state reachable from the start, breadth first.
        let start = dfa.start_state(Anchored::No).ok()?;
        let mut index: rustc_hash::FxHashMap<StateID, u32> = Default::default();
        let mut states = vec![start];
        index.insert(start, 0);
        let mut next_ids = Vec::new();
        let mut k = 0;
        while k < states.len() {
            let sid = states[k];
            for &rep in &reps {
                let next = dfa.next_state(Anchored::No, sid, rep);
                let n = states.len() as u32;
                let id = *index.entry(next).or_insert(n);
                if id == n {
                    states.push(next);
                }
                next_ids.push(id);
            }
            k += 1;
        }
        // Match states first.
        let mut order: Vec<u32> = (0..states.len() as u32).collect();
        order.sort_by_key(|&i| !dfa.is_match(states[i as usize]));
        let mut new_of = vec![0u32; states.len()];
        for (new, &old) in order.iter().enumerate() {
            new_of[old as usize] = new as u32;
        }
        let total = states.len().checked_mul(stride)?;
        u32::try_from(total).ok()?;
        let premul = |old: u32| new_of[old as usize] * stride as u32;
        let mut trans = vec![0u32; total];
        let mut ends = vec![0u32];
        let mut pids = Vec::new();
        for (new, &old) in order.iter().enumerate() {
            let row = &next_ids[old as usize * stride..(old as usize + 1) * stride];
            for (c, &to) in row.iter().enumerate() {
                trans[new * stride + c] = premul(to);
            }
            let sid = states[old as usize];
            if dfa.is_match(sid) {
                for m in 0..Automaton::match_len(dfa, sid) {
                    pids.push(Automaton::match_pattern(dfa, sid, m).as_u32());
                }
                ends.push(pids.len() as u32);
            }
        }
        Some(Table {
            trans,
            class,
            start: premul(0),
            match_limit: (ends.len() as u32 - 1) * stride as u32,
            stride: stride as u32,
            ends,
            pids,
        })
    }

    fn memory_usage(&self) -> usize {
        (self.trans.len() + self.ends.len() + self.pids.len()) * 4 + 256
    }
}

impl Walk for Table {
    type State = u32;
    fn start(&self) -> u32 {
        self.start
    }
    #[inline(always)]
    fn step(&self, s: u32, byte: u8) -> u32 {
        self.trans[(s + u32::from(self.class[byte as usize])) as usize]
    }
    #[inline(always)]
    fn special(&self, s: u32) -> bool {
        s < self.match_limit
    }
    fn match_len(&self, s: u32) -> usize {
        let k = (s / self.stride) as usize;
        (self.ends[k + 1] - self.ends[k]) as usize
    }
    fn match_pattern(&self, s: u32, i: usize) -> u32 {
        let k = (s / self.stride) as usize;
        self.pids[self.ends[k] as usize + i]
    }
}

#[derive(Clone, Copy, Debug)]
enum RoleRef {
    /// The pattern is (a variant of) phrase atom `atom`.
    Phrase(u32),
    /// The pattern is a word of proximity atom `atom`.
    ProxWord(u32),
    /// The pattern is an allowed term.
    Allow,
}

#[derive(Debug)]
struct Pat {
    len: usize,
    /// Occurrences are recorded (tortured phrase, proximity word or allowed term), not just
    /// presence.
    positions: bool,
    /// Occurrences need their word index.
    tokens: bool,
    roles: std::ops::Range<usize>,
}

#[derive(Debug)]
enum AtomKind {
    Phrase {
        pats: Vec<u32>,
    },
    Prox {
        words: Vec<(u32, u32)>,
        len: u32,
        window: u64,
    },
}

#[derive(Debug)]
struct CAtom {
    entry: u32,
    kind: AtomKind,
    /// Tortured and not an allowed term.
    reportable: bool,
    text: String,
}

#[derive(Debug)]
struct CEntry {
    parsed: Query,
    query: String,
    expected: Option<String>,
    expected_raw: String,
    atom_base: u32,
}

/// The compiled form of a [`FingerprintList`]; build it with [`FingerprintList::matcher`].
///
/// A `Matcher` is immutable and `Sync`: share one between threads, each with its own
/// [`Scratch`].
pub struct Matcher {
    aut: Aut,
    pats: Vec<Pat>,
    roles: Vec<RoleRef>,
    atoms: Vec<CAtom>,
    entries: Vec<CEntry>,
    max_pat_len: usize,
    has_prox: bool,
}

impl std::fmt::Debug for Matcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Matcher")
            .field("engine", &self.engine_name())
            .field("patterns", &self.pats.len())
            .field("entries", &self.entries.len())
            .finish()
    }
}

#[derive(Clone, Copy, Debug)]
struct Occ {
    pid: u32,
    start: usize,
    end: usize,
    tok: u64,
}

/// Reusable buffers for [`Matcher::find_into`]: one per thread, reused across texts, so a scan
/// allocates nothing once they have grown.
#[derive(Debug, Default)]
pub struct Scratch {
    buf: Vec<u8>,
    map: OffsetMap,
    seen: Vec<u32>,
    gen: u32,
    occ: Vec<Occ>,
    pending: Vec<(u32, usize, usize)>,
    counted_pos: usize,
    counted: u64,
    todo: Vec<usize>,
    /// Normal-form offset from which matches belong to the next piece ([`Matcher::find_par`]).
    start_limit: usize,
    /// Spaces in the normal form before `start_limit`.
    piece_spaces: u64,
    /// The scan starts inside a word.
    after_word: bool,
    entry_mark: Vec<u32>,
    candidates: Vec<u32>,
    atom_state: Vec<(u32, bool, u32, u32)>,
    windows: Vec<(usize, usize)>,
    merged: Vec<(u64, usize, usize, u32)>,
    report: Vec<usize>,
    raw_hits: Vec<(usize, usize, u32, u32)>,
    allow_spans: Vec<(usize, usize)>,
}

impl Scratch {
    /// Empty buffers.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Matcher {
    pub(crate) fn new(list: &FingerprintList) -> Matcher {
        Self::with_engine(list, Engine::Auto)
    }

    /// Builds a matcher with a chosen automaton (see [`Engine`]); [`FingerprintList::matcher`]
    /// uses [`Engine::Auto`].
    ///
    /// # Panics
    ///
    /// If the automaton cannot be built, which takes more than 2³¹ states (lists of hundreds of
    /// megabytes).
    pub fn with_engine(list: &FingerprintList, engine: Engine) -> Matcher {
        let mut b = Builder::default();
        let allowed: Vec<String> = list.allowed().iter().map(|t| normalize_phrase(t)).collect();
        let allowed_set: std::collections::HashSet<&str> =
            allowed.iter().map(String::as_str).collect();
        let mut atoms = Vec::new();
        let mut entries = Vec::with_capacity(list.len());
        for (ei, e) in list.entries().iter().enumerate() {
            let atom_base = atoms.len() as u32;
            for a in e.parsed().atoms() {
                let id = atoms.len() as u32;
                let tortured = a.role == Role::Tortured;
                let kind = match a.proximity {
                    None => {
                        let pats = phrase_variants(&a.text)
                            .into_iter()
                            .map(|v| b.add(v, RoleRef::Phrase(id), tortured, false))
                            .collect();
                        AtomKind::Phrase { pats }
                    }
                    Some(n) => {
                        let mut words: Vec<(u32, u32)> = Vec::new();
                        let mut len = 0;
                        for w in a.normalized.split(' ') {
                            len += 1;
                            let pid = b.add(w.to_string(), RoleRef::ProxWord(id), true, true);
                            match words.iter_mut().find(|(p, _)| *p == pid) {
                                Some((_, need)) => *need += 1,
                                None => words.push((pid, 1)),
                            }
                        }
                        AtomKind::Prox {
                            words,
                            len,
                            window: u64::from(len) + u64::from(n),
                        }
                    }
                };
                atoms.push(CAtom {
                    entry: ei as u32,
                    kind,
                    reportable: tortured && !allowed_set.contains(a.normalized.as_str()),
                    text: a.text.clone(),
                });
            }
            entries.push(CEntry {
                parsed: e.parsed().clone(),
                query: e.query.clone(),
                expected: e.expected.clone(),
                expected_raw: e.expected_raw.clone(),
                atom_base,
            });
        }
        for t in &allowed {
            b.add(t.clone(), RoleRef::Allow, true, false);
        }
        let (pats, roles, patterns) = b.finish();
        let total: usize = patterns.iter().map(String::len).sum();
        let use_dfa = match engine {
            Engine::Dfa => true,
            Engine::Nfa => false,
            Engine::Auto => total <= DFA_MAX_PATTERN_BYTES,
        };
        let nfa = || {
            Aut::Nfa(
                nfa::contiguous::NFA::builder()
                    .match_kind(MatchKind::Standard)
                    .prefilter(false)
                    .build(&patterns)
                    .expect("fingerprint NFA builds"),
            )
        };
        let aut = if use_dfa {
            dfa::DFA::builder()
                .match_kind(MatchKind::Standard)
                .start_kind(StartKind::Unanchored)
                .prefilter(false)
                .build(&patterns)
                .ok()
                .and_then(|d| Table::new(&d, &patterns))
                .map_or_else(nfa, Aut::Dfa)
        } else {
            nfa()
        };
        let max_pat_len = patterns.iter().map(String::len).max().unwrap_or(0);
        Matcher {
            aut,
            has_prox: pats.iter().any(|p| p.tokens),
            pats,
            roles,
            atoms,
            entries,
            max_pat_len,
        }
    }

    /// `"dfa"` or `"nfa"`: the automaton built.
    pub fn engine_name(&self) -> &'static str {
        match self.aut {
            Aut::Dfa(_) => "dfa",
            Aut::Nfa(_) => "nfa",
        }
    }

    /// Number of distinct patterns in the automaton.
    pub fn patterns_len(&self) -> usize {
        self.pats.len()
    }

    /// Heap memory of the automaton, in bytes.
    pub fn automaton_bytes(&self) -> usize {
        match &self.aut {
            Aut::Dfa(a) => a.memory_usage(),
            Aut::Nfa(a) => a.memory_usage(),
        }
    }

    /// Every tortured phrase of `text` whose query holds for `text`, in text order, one hit per
    /// span (the first entry of the list wins when two report the same span).
    ///
    /// # Examples
    ///
    /// ```
    /// use unspin::fingerprint::FingerprintList;
    /// let csv = "tortured_phrase,expected_phrase,num_papers\n\
    ///            \"\"\"genetic calculation\"\" AND \"\"genetic algorithm\"\"\",genetic algorithm,538\n";
    /// let (list, _) = FingerprintList::import_csv(csv.as_bytes(), "pps.csv");
    /// let m = list.matcher();
    /// let text = "A Genetic calcu-\nlation (GA) differs from a genetic algorithm.";
    /// let hits = m.find(text);
    /// assert_eq!(hits.len(), 1);
    /// assert_eq!(&text[hits[0].start..hits[0].end], "Genetic calcu-\nlation");
    /// assert!(m.find("a genetic calculation alone").is_empty());
    /// ```
    pub fn find(&self, text: &str) -> Vec<Hit> {
        let mut hits = Vec::new();
        self.find_into(text, &mut Scratch::new(), &mut hits);
        hits
    }

    /// [`Matcher::find`] with reusable buffers: clears `hits`, then fills it.
    pub fn find_into(&self, text: &str, scratch: &mut Scratch, hits: &mut Vec<Hit>) {
        self.find_chunked_into(text, None, scratch, hits);
    }

    /// [`Matcher::find`] normalising and scanning `chunk` bytes of the text at a time instead
    /// of the default 64 KiB: the hits must not change. For tests and fuzzing of the chunk and
    /// stream boundaries.
    #[doc(hidden)]
    pub fn find_chunked(&self, text: &str, chunk: usize) -> Vec<Hit> {
        let mut hits = Vec::new();
        self.find_chunked_into(text, Some(chunk.max(1)), &mut Scratch::new(), &mut hits);
        hits
    }

    fn find_chunked_into(
        &self,
        text: &str,
        chunk: Option<usize>,
        scratch: &mut Scratch,
        hits: &mut Vec<Hit>,
    ) {
        hits.clear();
        let chunk = chunk.unwrap_or(CHUNK.max(16 * self.max_pat_len));
        match &self.aut {
            Aut::Dfa(a) => self.scan(a, text, (0, text.len()), chunk, scratch),
            Aut::Nfa(a) => self.scan(a, text, (0, text.len()), chunk, scratch),
        }
        self.report(text, scratch, hits);
    }

    /// [`Matcher::find`] on `threads` threads: the text is cut into as many pieces (inside
    /// words, so that no pattern and no normalisation step spans a cut unseen), each piece is
    /// scanned on its own thread, and the queries are evaluated once over what all of them
    /// found. The hits are exactly those of [`Matcher::find`]. Texts under 4 MiB are scanned
    /// on the calling thread.
    pub fn find_par(&self, text: &str, threads: usize) -> Vec<Hit> {
        let pieces = threads.min(text.len() / (1 << 20)).max(1);
        if pieces == 1 || text.len() < 4 << 20 {
            return self.find(text);
        }
        self.find_pieces(text, pieces)
    }

    /// [`Matcher::find_par`] without its minimum size: cuts `text` into up to `pieces` pieces
    /// whatever its length. For tests and fuzzing of the cuts.
    #[doc(hidden)]
    pub fn find_pieces(&self, text: &str, pieces: usize) -> Vec<Hit> {
        let mut cuts = vec![0];
        for k in 1..pieces.max(1) {
            let target = (text.len() / pieces * k).max(cuts[cuts.len() - 1] + 1);
            if let Some(c) = clean_cut(text, target) {
                cuts.push(c);
            }
        }
        cuts.push(text.len());
        let chunk = CHUNK.max(16 * self.max_pat_len);
        let parts: Vec<Scratch> = std::thread::scope(|scope| {
            let handles: Vec<_> = cuts
                .windows(2)
                .map(|w| {
                    let (from, cut) = (w[0], w[1]);
                    scope.spawn(move || {
                        let mut s = Scratch::new();
                        match &self.aut {
                            Aut::Dfa(a) => self.scan(a, text, (from, cut), chunk, &mut s),
                            Aut::Nfa(a) => self.scan(a, text, (from, cut), chunk, &mut s),
                        }
                        s
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("a scan thread does not panic"))
                .collect()
        });
        let mut merged = Scratch::new();
        merged.gen = 1;
        merged.seen = vec![0; self.pats.len()];
        let mut spaces = 0;
        for part in &parts {
            for (m, &g) in merged.seen.iter_mut().zip(&part.seen) {
                if g == part.gen {
                    *m = 1;
                }
            }
            merged.occ.extend(part.occ.iter().map(|o| Occ {
                tok: o.tok + spaces,
                ..*o
            }));
            spaces += part.piece_spaces;
        }
        let mut hits = Vec::new();
        self.report(text, &mut merged, &mut hits);
        hits
    }

    /// Scans `text[from..]` for matches that start before `cut`. `from` is 0 or a position
    /// inside a word (see [`clean_cut`]), so the normal form of `text[from..cut]` is exactly the
    /// part of the whole text's normal form that it stands for; after `cut` the scan goes on
    /// only as far as a match starting before it can reach.
    fn scan<A: Walk>(
        &self,
        aut: &A,
        text: &str,
        (from, cut): (usize, usize),
        chunk: usize,
        s: &mut Scratch,
    ) {
        s.gen = s.gen.wrapping_add(1);
        if s.seen.len() != self.pats.len() || s.gen == 0 {
            // Generation marks restart: forget every mark of earlier scans.
            s.seen = vec![0; self.pats.len()];
            s.entry_mark.clear();
            s.atom_state.clear();
            s.gen = 1;
        }
        s.buf.clear();
        s.map.points.clear();
        s.occ.clear();
        s.pending.clear();
        s.counted_pos = 0;
        s.counted = 0;
        s.start_limit = usize::MAX;
        s.piece_spaces = 0;
        // Inside a word, the first position cannot start a whole-word match.
        s.after_word = from > 0;
        let mut normer = Normalizer::new();
        let start = aut.start();
        // Enough of the previous chunk to see a whole pattern and the char before it.
        let keep = self.max_pat_len + 8;
        let mut base = 0;
        let mut i = from;
        loop {
            let carry = s.buf.len();
            let mut buf = std::mem::take(&mut s.buf);
            // Up to the cut, the normaliser must not look past it (it cannot need to: the cut is
            // inside a word); after it, it reads on.
            i = if i < cut {
                let limit = i.saturating_add(chunk).min(cut);
                normer.run(&text[..cut], i, limit, &mut buf, base, &mut s.map)
            } else {
                let limit = i.saturating_add(chunk);
                normer.run(text, i, limit, &mut buf, base, &mut s.map)
            };
            let reached_cut = s.start_limit == usize::MAX && i >= cut;
            let done = s.start_limit != usize::MAX
                && base + buf.len() > s.start_limit + self.max_pat_len + 8;
            let last = i >= text.len() || done;
            let first_occ = s.occ.len();
            // Matches that ended where the previous chunk did: is a word char next?
            let mut pending = std::mem::take(&mut s.pending);
            pending.retain(|&(pid, start, end)| {
                if end - base == buf.len() && !last {
                    // Nothing came out of this chunk (all of it dropped): still undecided.
                    return true;
                }
                if !word_at(&buf, end - base) {
                    self.accept(s, pid, start, end);
                }
                false
            });
            s.pending = pending;
            self.scan_chunk(aut, start, s, &buf, base, carry, last);
            if self.has_prox {
                self.count_tokens(s, &buf, base, first_occ);
            }
            if reached_cut {
                // This buffer ends exactly at the cut.
                s.start_limit = base + buf.len();
                s.piece_spaces = s.counted;
            }
            if last {
                s.buf = buf;
                break;
            }
            let mut drop = buf.len().saturating_sub(keep);
            while drop > 0 && buf[drop] & 0xC0 == 0x80 {
                drop -= 1;
            }
            buf.drain(..drop);
            base += drop;
            s.map.forget_before(base);
            s.buf = buf;
        }
    }

    /// Runs the automaton over `buf[carry..]` as [`STREAMS`] interleaved streams, so that as many
    /// transition lookups are in flight at once instead of one: a DFA walk is bound by the
    /// latency of its table loads. Each stream starts `max_pat_len` bytes early, from the start
    /// state, without reporting: after that many bytes its state is exact.
    // The streams advance in lockstep: one index into each of them.
    #[allow(clippy::too_many_arguments, clippy::needless_range_loop)]
    fn scan_chunk<A: Walk>(
        &self,
        aut: &A,
        start: A::State,
        s: &mut Scratch,
        buf: &[u8],
        base: usize,
        carry: usize,
        last: bool,
    ) {
        let warm = self.max_pat_len;
        let len = buf.len();
        let part = (len - carry) / STREAMS;
        let seg = |j: usize| if j == STREAMS { len } else { carry + j * part };
        if part <= 4 * warm {
            let from = carry.saturating_sub(warm);
            self.scan_stream(aut, start, s, buf, base, from, carry, len, last);
            return;
        }
        let from: [usize; STREAMS] = std::array::from_fn(|j| {
            if j == 0 {
                carry.saturating_sub(warm)
            } else {
                seg(j) - warm
            }
        });
        let n = (0..STREAMS)
            .map(|j| seg(j + 1) - from[j])
            .min()
            .unwrap_or(0);
        let hay: [&[u8]; STREAMS] = std::array::from_fn(|j| &buf[from[j]..from[j] + n]);
        let mut st = [start; STREAMS];
        for t in 0..n {
            let mut special = false;
            for j in 0..STREAMS {
                st[j] = aut.step(st[j], hay[j][t]);
                special |= aut.special(st[j]);
            }
            if special {
                for j in 0..STREAMS {
                    let at = from[j] + t;
                    if aut.special(st[j]) && at >= seg(j) {
                        self.on_match(aut, st[j], s, buf, base, at + 1, last);
                    }
                }
            }
        }
        for j in 0..STREAMS {
            self.continue_stream(
                aut,
                st[j],
                s,
                buf,
                base,
                from[j] + n,
                seg(j),
                seg(j + 1),
                last,
            );
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn scan_stream<A: Walk>(
        &self,
        aut: &A,
        start: A::State,
        s: &mut Scratch,
        buf: &[u8],
        base: usize,
        from: usize,
        report_from: usize,
        to: usize,
        last: bool,
    ) {
        self.continue_stream(aut, start, s, buf, base, from, report_from, to, last);
    }

    /// Walks `buf[from..to]` from state `sid`, reporting matches that end after `report_from`.
    #[allow(clippy::too_many_arguments)]
    fn continue_stream<A: Walk>(
        &self,
        aut: &A,
        mut sid: A::State,
        s: &mut Scratch,
        buf: &[u8],
        base: usize,
        from: usize,
        report_from: usize,
        to: usize,
        last: bool,
    ) {
        for (k, &byte) in buf[from..to].iter().enumerate() {
            sid = aut.step(sid, byte);
            if aut.special(sid) && from + k >= report_from {
                self.on_match(aut, sid, s, buf, base, from + k + 1, last);
            }
        }
    }

    /// Replaces the normal-form start kept in `tok` by the word index (spaces before it) for
    /// the occurrences recorded since `first` that need one.
    fn count_tokens(&self, s: &mut Scratch, buf: &[u8], base: usize, first: usize) {
        let mut todo = std::mem::take(&mut s.todo);
        todo.clear();
        todo.extend((first..s.occ.len()).filter(|&k| self.pats[s.occ[k].pid as usize].tokens));
        todo.sort_unstable_by_key(|&k| s.occ[k].tok);
        for &k in &todo {
            let at = s.occ[k].tok as usize;
            s.occ[k].tok = if at >= s.counted_pos {
                s.counted += count_spaces(&buf[s.counted_pos - base..at - base]);
                s.counted_pos = at;
                s.counted
            } else {
                s.counted - count_spaces(&buf[at - base..s.counted_pos - base])
            };
        }
        s.todo = todo;
        // Count the rest of the chunk, so that the next one starts where this one ends.
        let end = base + buf.len();
        s.counted += count_spaces(&buf[s.counted_pos - base..]);
        s.counted_pos = end;
    }

    #[inline(never)]
    #[allow(clippy::too_many_arguments)]
    fn on_match<A: Walk>(
        &self,
        aut: &A,
        sid: A::State,
        s: &mut Scratch,
        buf: &[u8],
        base: usize,
        end: usize,
        last: bool,
    ) {
        for m in 0..aut.match_len(sid) {
            let pid = aut.match_pattern(sid, m);
            let start = end - self.pats[pid as usize].len;
            if word_before(buf, start) {
                continue;
            }
            if end == buf.len() && !last {
                s.pending.push((pid, base + start, base + end));
                continue;
            }
            if word_at(buf, end) {
                continue;
            }
            self.accept(s, pid, base + start, base + end);
        }
    }

    /// Records a whole-word match of pattern `pid` at normal-form `start..end`.
    fn accept(&self, s: &mut Scratch, pid: u32, start: usize, end: usize) {
        if start >= s.start_limit || (start == 0 && s.after_word) {
            // Another piece's match, or one that starts inside a word.
            return;
        }
        let p = &self.pats[pid as usize];
        s.seen[pid as usize] = s.gen;
        if !p.positions {
            return;
        }
        let (Some(ostart), Some(oend)) = (s.map.start(start), s.map.end(end)) else {
            // The match starts or ends inside what one original character became.
            return;
        };
        s.occ.push(Occ {
            pid,
            start: ostart,
            end: oend,
            // The normal-form start until `count_tokens` turns it into a word index.
            tok: start as u64,
        });
    }

    fn report(&self, text: &str, s: &mut Scratch, hits: &mut Vec<Hit>) {
        if s.occ.is_empty() {
            return;
        }
        s.occ.sort_unstable_by_key(|o| (o.pid, o.start, o.end));
        if s.entry_mark.len() != self.entries.len() {
            s.entry_mark = vec![0; self.entries.len()];
        }
        if s.atom_state.len() != self.atoms.len() {
            s.atom_state = vec![(0, false, 0, 0); self.atoms.len()];
        }
        let gen = s.gen;
        s.candidates.clear();
        let mut last_pid = u32::MAX;
        for o in &s.occ {
            if o.pid == last_pid {
                continue;
            }
            last_pid = o.pid;
            for r in &self.roles[self.pats[o.pid as usize].roles.clone()] {
                let a = match *r {
                    RoleRef::Phrase(a) | RoleRef::ProxWord(a) => a,
                    RoleRef::Allow => continue,
                };
                let atom = &self.atoms[a as usize];
                if atom.reportable && s.entry_mark[atom.entry as usize] != gen {
                    s.entry_mark[atom.entry as usize] = gen;
                    s.candidates.push(atom.entry);
                }
            }
        }
        s.candidates.sort_unstable();
        s.windows.clear();
        s.raw_hits.clear();
        let candidates = std::mem::take(&mut s.candidates);
        for &e in &candidates {
            let entry = &self.entries[e as usize];
            let base = entry.atom_base as usize;
            let mut report = std::mem::take(&mut s.report);
            report.clear();
            entry
                .parsed
                .reportable(&mut |i| self.atom_true(s, base + i), &mut report);
            for &i in &report {
                let a = base + i;
                if !self.atoms[a].reportable {
                    continue;
                }
                match &self.atoms[a].kind {
                    AtomKind::Phrase { pats } => {
                        for &pid in pats {
                            for o in occurrences(&s.occ, pid) {
                                s.raw_hits.push((o.start, o.end, e, a as u32));
                            }
                        }
                    }
                    AtomKind::Prox { .. } => {
                        let (_, _, from, to) = s.atom_state[a];
                        for k in from..to {
                            let (start, end) = s.windows[k as usize];
                            s.raw_hits.push((start, end, e, a as u32));
                        }
                    }
                }
            }
            s.report = report;
        }
        s.candidates = candidates;
        if s.raw_hits.is_empty() {
            return;
        }
        // Occurrences of allowed terms, by start, with the furthest end so far.
        s.allow_spans.clear();
        for o in &s.occ {
            let roles = &self.roles[self.pats[o.pid as usize].roles.clone()];
            if roles.iter().any(|r| matches!(r, RoleRef::Allow)) {
                s.allow_spans.push((o.start, o.end));
            }
        }
        s.allow_spans.sort_unstable();
        let mut furthest = 0;
        for span in &mut s.allow_spans {
            furthest = furthest.max(span.1);
            span.1 = furthest;
        }
        s.raw_hits.sort_unstable();
        let mut prev = None;
        for &(start, end, e, a) in &s.raw_hits {
            if prev == Some((start, end)) {
                continue;
            }
            let k = s.allow_spans.partition_point(|sp| sp.0 <= start);
            if k > 0 && s.allow_spans[k - 1].1 >= end {
                continue;
            }
            prev = Some((start, end));
            let entry = &self.entries[e as usize];
            hits.push(Hit {
                start,
                end,
                matched: text[start..end].to_string(),
                tortured: self.atoms[a as usize].text.clone(),
                expected: entry.expected.clone(),
                expected_raw: entry.expected_raw.clone(),
                query: entry.query.clone(),
                entry: e as usize,
            });
        }
    }

    /// Whether atom `a` holds in the scanned text (memoised per scan; proximity windows are
    /// stored in `s.windows`).
    fn atom_true(&self, s: &mut Scratch, a: usize) -> bool {
        let gen = s.gen;
        if s.atom_state[a].0 == gen {
            return s.atom_state[a].1;
        }
        let truth = match &self.atoms[a].kind {
            AtomKind::Phrase { pats } => pats.iter().any(|&p| s.seen[p as usize] == gen),
            AtomKind::Prox { words, len, window } => {
                let from = s.windows.len() as u32;
                if words.iter().all(|&(p, _)| s.seen[p as usize] == gen) {
                    proximity_windows(s, words, *len, *window);
                }
                let to = s.windows.len() as u32;
                s.atom_state[a] = (gen, to > from, from, to);
                return to > from;
            }
        };
        s.atom_state[a] = (gen, truth, 0, 0);
        truth
    }
}

/// The first position at or after `at` between two ASCII letters or digits (so inside a word:
/// nothing the normaliser does spans it, and no whole-word match starts there), if one comes
/// within 1 MiB.
fn clean_cut(text: &str, at: usize) -> Option<usize> {
    let b = text.as_bytes();
    let end = b.len().min(at.saturating_add(1 << 20));
    (at.max(1)..end).find(|&p| b[p - 1].is_ascii_alphanumeric() && b[p].is_ascii_alphanumeric())
}

/// Finds the windows where every word of a proximity atom occurs (as often as the phrase has
/// it) within `window` words; appends them, leftmost first and not overlapping, to `s.windows`.
fn proximity_windows(s: &mut Scratch, words: &[(u32, u32)], len: u32, window: u64) {
    s.merged.clear();
    for (w, &(pid, _)) in words.iter().enumerate() {
        for o in occurrences(&s.occ, pid) {
            s.merged.push((o.tok, o.start, o.end, w as u32));
        }
    }
    s.merged.sort_unstable();
    let mut have = vec![0u32; words.len()];
    let mut missing = len;
    let mut left = 0;
    let mut right = 0;
    while right < s.merged.len() {
        let w = s.merged[right].3 as usize;
        if have[w] < words[w].1 {
            missing -= 1;
        }
        have[w] += 1;
        right += 1;
        while missing == 0 {
            // Drop occurrences the window does not need from its left.
            loop {
                let wl = s.merged[left].3 as usize;
                if have[wl] > words[wl].1 {
                    have[wl] -= 1;
                    left += 1;
                } else {
                    break;
                }
            }
            let (tok_l, start, _, wl) = s.merged[left];
            let (tok_r, _, _, _) = s.merged[right - 1];
            if tok_r - tok_l < window {
                let end = s.merged[left..right]
                    .iter()
                    .map(|m| m.2)
                    .max()
                    .unwrap_or(start);
                s.windows.push((start, end));
                have.iter_mut().for_each(|h| *h = 0);
                missing = len;
                left = right;
                break;
            }
            let wl = wl as usize;
            have[wl] -= 1;
            if have[wl] < words[wl].1 {
                missing += 1;
            }
            left += 1;
        }
    }
}

/// The occurrences of pattern `pid` (`occ` is sorted by pattern).
fn occurrences(occ: &[Occ], pid: u32) -> &[Occ] {
    let from = occ.partition_point(|o| o.pid < pid);
    let to = from + occ[from..].partition_point(|o| o.pid == pid);
    &occ[from..to]
}

fn count_spaces(b: &[u8]) -> u64 {
    // Byte-sized counters over blocks of 255 vectorise well.
    b.chunks(255)
        .map(|c| u64::from(c.iter().fold(0u8, |n, &x| n + u8::from(x == b' '))))
        .sum()
}

/// Is the char that ends right before `at` a word char?
#[inline]
fn word_before(buf: &[u8], at: usize) -> bool {
    if at == 0 {
        return false;
    }
    let b = buf[at - 1];
    if b < 0x80 {
        return b.is_ascii_alphanumeric() || b == b'_';
    }
    let mut from = at - 1;
    while from > 0 && buf[from] & 0xC0 == 0x80 {
        from -= 1;
    }
    std::str::from_utf8(&buf[from..at])
        .ok()
        .and_then(|s| s.chars().next())
        .is_some_and(is_word_char)
}

/// Is the char that starts at `at` a word char?
#[inline]
fn word_at(buf: &[u8], at: usize) -> bool {
    let Some(&b) = buf.get(at) else {
        return false;
    };
    if b < 0x80 {
        return b.is_ascii_alphanumeric() || b == b'_';
    }
    let len = match b {
        0xF0.. => 4,
        0xE0.. => 3,
        _ => 2,
    };
    std::str::from_utf8(&buf[at..(at + len).min(buf.len())])
        .ok()
        .and_then(|s| s.chars().next())
        .is_some_and(is_word_char)
}

#[derive(Default)]
struct Builder {
    ids: HashMap<String, u32>,
    patterns: Vec<String>,
    roles: Vec<Vec<RoleRef>>,
    positions: Vec<bool>,
    tokens: Vec<bool>,
}

impl Builder {
    fn add(&mut self, pattern: String, role: RoleRef, positions: bool, tokens: bool) -> u32 {
        let id = match self.ids.get(&pattern) {
            Some(&id) => id,
            None => {
                let id = self.patterns.len() as u32;
                self.ids.insert(pattern.clone(), id);
                self.patterns.push(pattern);
                self.roles.push(Vec::new());
                self.positions.push(false);
                self.tokens.push(false);
                id
            }
        };
        let i = id as usize;
        self.roles[i].push(role);
        self.positions[i] |= positions;
        self.tokens[i] |= tokens;
        id
    }

    fn finish(self) -> (Vec<Pat>, Vec<RoleRef>, Vec<String>) {
        let mut flat = Vec::new();
        let mut pats = Vec::with_capacity(self.patterns.len());
        for (i, p) in self.patterns.iter().enumerate() {
            let from = flat.len();
            flat.extend_from_slice(&self.roles[i]);
            pats.push(Pat {
                len: p.len(),
                positions: self.positions[i],
                tokens: self.tokens[i],
                roles: from..flat.len(),
            });
        }
        (pats, flat, self.patterns)
    }
}
