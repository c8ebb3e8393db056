//! Learning a spinner's habits from its output.
//!
//! Each spinner has a dictionary: the one behind a content farm always writes "troopers" for
//! soldiers. Given spun texts with their originals, [`Profile::learn`] aligns each pair word by
//! word ([`align`]), takes every stretch where the two differ (one to three words on each side,
//! so a word spelled as a phrase and a phrase collapsed to a word are rules too) as a
//! substitution, and counts them. A [`ProfileChannel`] turns the counts into channel
//! probabilities for the decoder: learned originals are proposed even where no thesaurus links
//! them, and a word the spinner was seen to replace in one way is unlikely to have been replaced
//! in another. Words the profile never saw fall back to the generic channel.
//!
//! ```no_run
//! use unspin::learn::{Profile, ProfileChannel};
//! use unspin::{restore::RestoreOptions, Pack, Restorer};
//! let pack = Pack::open("models/default.unspin".as_ref())?;
//! let profile = Profile::learn([("Six troopers fled.", "Six soldiers fled.")]);
//! let channel = ProfileChannel::new(&pack, &profile, Default::default());
//! let r = Restorer::with_channel(&pack, channel, RestoreOptions::default());
//! println!("{}", r.restore("The troopers fled.").text);
//! # Ok::<(), unspin::PackError>(())
//! ```

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::decode::{Channel, GenericChannel};
use crate::lexicon::{Form, Lexicon};
use crate::lm::Lm;
use crate::text::{normalize, tokenize, TokenKind};
use crate::Pack;

/// The longest stretch, in words on either side, taken as one substitution.
pub const MAX_RULE_WORDS: usize = 3;

/// The profile format this unspin writes: 2 added [`Profile::kept`]; version 1 profiles (no
/// kept counts) are still read.
pub const FORMAT_VERSION: u32 = 2;

/// One aligned stretch of a spun text and its original.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    /// Normalised words of the spun side (empty for a deletion).
    pub spun: Vec<String>,
    /// Normalised words of the original side (empty for an insertion).
    pub original: Vec<String>,
    /// Whether the two sides are the same words.
    pub same: bool,
}

/// The normalised words (and numbers) of a text.
fn words(t: &str) -> Vec<String> {
    tokenize(t)
        .iter()
        .filter(|k| matches!(k.kind, TokenKind::Word | TokenKind::Number))
        .map(|k| normalize(k.text(t)))
        .collect()
}

/// Aligns two texts word by word (longest common subsequence of normalised words) and returns
/// the alternating stretches of equal and differing words, in order.
pub fn align(spun: &str, original: &str) -> Vec<Block> {
    let (a, b) = (words(spun), words(original));
    let (n, m) = (a.len(), b.len());
    // lcs[i][j] = LCS of a[i..] and b[j..], one row at a time from the end would lose the
    // backtrace, so keep the whole table (u32: texts of tens of thousands of words would need
    // gigabytes; callers align article-sized texts).
    let w = m + 1;
    let mut lcs = vec![0u32; (n + 1) * w];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i * w + j] = if a[i] == b[j] {
                lcs[(i + 1) * w + j + 1] + 1
            } else {
                lcs[(i + 1) * w + j].max(lcs[i * w + j + 1])
            };
        }
    }
    let mut blocks: Vec<Block> = Vec::new();
    let push =
        |blocks: &mut Vec<Block>, s: Option<&String>, o: Option<&String>, same: bool| match blocks
            .last_mut()
        {
            Some(last) if last.same == same => {
                last.spun.extend(s.cloned());
                last.original.extend(o.cloned());
            }
            _ => blocks.push(Block {
                spun: s.into_iter().cloned().collect(),
                original: o.into_iter().cloned().collect(),
                same,
            }),
        };
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            push(&mut blocks, Some(&a[i]), Some(&b[j]), true);
            i += 1;
            j += 1;
        } else if j < m && (i == n || lcs[i * w + j + 1] >= lcs[(i + 1) * w + j]) {
            push(&mut blocks, None, Some(&b[j]), false);
            j += 1;
        } else {
            push(&mut blocks, Some(&a[i]), None, false);
            i += 1;
        }
    }
    blocks
}

/// Builds a [`Profile`] from what one spinner was seen doing: spun texts with their originals,
/// or copies already aligned with their sources (what `unspin trace --json` prints).
#[derive(Debug, Default)]
pub struct Learner {
    profile: Profile,
    counts: BTreeMap<(String, String), u32>,
}

impl Learner {
    /// A spun text and its original, aligned word by word ([`align`]).
    pub fn pair(&mut self, spun: &str, original: &str) {
        self.profile.pairs += 1;
        for b in align(spun, original) {
            self.profile.words += b.original.len();
            if b.same {
                for w in b.spun {
                    *self.profile.kept.entry(w).or_default() += 1;
                }
            } else {
                self.stretch(&b.spun, &b.original);
            }
        }
    }

    /// A copy whose alignment is known: `matched` words equal on both sides (which ones is not
    /// known, so nothing is added to [`Profile::kept`]) and the differing stretches as (spun,
    /// original) texts, either side possibly empty.
    pub fn aligned<'a>(
        &mut self,
        matched: usize,
        differences: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) {
        self.profile.pairs += 1;
        self.profile.words = self.profile.words.saturating_add(matched);
        for (spun, original) in differences {
            let (s, o) = (words(spun), words(original));
            self.profile.words = self.profile.words.saturating_add(o.len());
            if s != o {
                self.stretch(&s, &o);
            }
        }
    }

    fn stretch(&mut self, spun: &[String], original: &[String]) {
        self.profile.substitutions += 1;
        let ok = (1..=MAX_RULE_WORDS).contains(&spun.len())
            && (1..=MAX_RULE_WORDS).contains(&original.len());
        if !ok {
            self.profile.skipped += 1;
            return;
        }
        *self
            .counts
            .entry((spun.join(" "), original.join(" ")))
            .or_default() += 1;
    }

    /// The profile learned.
    pub fn finish(self) -> Profile {
        let mut p = Profile {
            format: "unspin-profile".into(),
            version: FORMAT_VERSION,
            rules: rules_from(self.counts),
            ..self.profile
        };
        p.sort();
        p
    }
}

/// A learned substitution: the spinner wrote `spun` for `original`, `count` times.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    /// What the spinner wrote (normalised words, space-separated).
    pub spun: String,
    /// What it replaced.
    pub original: String,
    /// How often it was seen.
    pub count: u32,
}

/// A spinner's habits: its substitutions with counts, learned from spun/original pairs.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// Always "unspin-profile".
    pub format: String,
    /// Format version ([`FORMAT_VERSION`]; 1 is read too).
    pub version: u32,
    /// Pairs learned from.
    pub pairs: usize,
    /// Words of the originals.
    pub words: usize,
    /// Substitutions seen (stretches that differed).
    pub substitutions: usize,
    /// Differing stretches too long to be rules.
    pub skipped: usize,
    /// The rules, most frequent first.
    pub rules: Vec<Rule>,
    /// How often each word stood in a spun text unchanged (normalised words; format 2). With
    /// the rules' counts it says how often a word the spinner writes is its own original, and
    /// which words the spinner, seen many times, never replaced.
    #[serde(default)]
    pub kept: BTreeMap<String, u32>,
}

/// Why a profile could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProfileError {
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a profile, or is damaged.
    #[error("{path}: not an unspin profile: {message}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

impl Profile {
    /// Learns a profile from (spun, original) pairs.
    pub fn learn<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Profile {
        let mut l = Learner::default();
        for (spun, original) in pairs {
            l.pair(spun, original);
        }
        l.finish()
    }

    fn sort(&mut self) {
        self.rules.sort_by(|a, b| {
            b.count
                .cmp(&a.count)
                .then_with(|| a.spun.cmp(&b.spun))
                .then_with(|| a.original.cmp(&b.original))
        });
    }

    /// Adds another profile's counts to this one (profiles of the same spinner).
    pub fn merge(&mut self, other: &Profile) {
        let mut counts: BTreeMap<(String, String), u32> = BTreeMap::new();
        // Counts saturate: a profile is read from a file, so they may be anything.
        for r in self.rules.iter().chain(&other.rules) {
            let c = counts
                .entry((r.spun.clone(), r.original.clone()))
                .or_default();
            *c = c.saturating_add(r.count);
        }
        self.pairs = self.pairs.saturating_add(other.pairs);
        self.words = self.words.saturating_add(other.words);
        self.substitutions = self.substitutions.saturating_add(other.substitutions);
        self.skipped = self.skipped.saturating_add(other.skipped);
        for (w, n) in &other.kept {
            let k = self.kept.entry(w.clone()).or_default();
            *k = k.saturating_add(*n);
        }
        self.version = FORMAT_VERSION;
        self.rules = rules_from(counts);
        self.sort();
    }

    /// Writes the profile as JSON.
    ///
    /// # Errors
    /// The file cannot be written.
    pub fn save(&self, path: &Path) -> Result<(), ProfileError> {
        let json = serde_json::to_vec_pretty(self).expect("a profile serialises");
        std::fs::write(path, json).map_err(|source| ProfileError::Io {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Reads a profile written by [`Profile::save`].
    ///
    /// # Errors
    /// The file cannot be read, is not JSON of a profile, or has another format or version.
    pub fn load(path: &Path) -> Result<Profile, ProfileError> {
        let bytes = std::fs::read(path).map_err(|source| ProfileError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let bad = |message: String| ProfileError::Format {
            path: path.to_path_buf(),
            message,
        };
        let p: Profile = serde_json::from_slice(&bytes).map_err(|e| bad(e.to_string()))?;
        if p.format != "unspin-profile" {
            return Err(bad(format!("format is {:?}", p.format)));
        }
        if !(1..=FORMAT_VERSION).contains(&p.version) {
            return Err(bad(format!(
                "version {} (this unspin reads 1 to {FORMAT_VERSION})",
                p.version
            )));
        }
        Ok(p)
    }
}

/// A substitution found in a spinner's output alone: the restorer undid it in several
/// documents. See [`Discovery`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Proposal {
    /// What the spinner wrote (lowercase).
    pub spun: String,
    /// The likely original (lowercase).
    pub original: String,
    /// Documents it was found in.
    pub docs: usize,
    /// Times it was found.
    pub count: usize,
    /// Mean log10 odds of the original over the spun words where it was found.
    pub mean_log_odds: f32,
    /// A few contexts it was found in.
    pub examples: Vec<String>,
}

/// What [`Discovery`] saw of one substitution: (last document, documents, summed log-odds,
/// examples).
type Seen = (usize, usize, f32, Vec<String>);

/// Finds a spinner's signature substitutions without pairs: restore each of its texts, and
/// keep the substitutions that recur across documents. One document's restoration is weak
/// evidence; the same unlikely phrase undone the same way in many of them is a habit.
#[derive(Debug, Default)]
pub struct Discovery {
    /// (spun, original) → what was seen of it.
    seen: HashMap<(String, String), Seen>,
    occurrences: HashMap<(String, String), usize>,
    docs: usize,
}

impl Discovery {
    /// Contexts kept per proposal.
    pub const EXAMPLES: usize = 3;

    /// Adds one document's restoration (`text` is the spun input it was made from).
    pub fn add(&mut self, text: &str, r: &crate::Restoration) {
        self.docs += 1;
        let doc = self.docs;
        for s in r.spans.iter().filter(|s| s.log_odds > 0.0) {
            let key = (s.spun.to_lowercase(), s.restored.to_lowercase());
            *self.occurrences.entry(key.clone()).or_default() += 1;
            let e = self.seen.entry(key).or_insert((0, 0, 0.0, Vec::new()));
            if e.0 < doc {
                e.0 = doc;
                e.1 += 1;
            }
            e.2 += s.log_odds;
            if e.3.len() < Self::EXAMPLES {
                e.3.push(context(text, s.start, s.end));
            }
        }
    }

    /// Forgets what was found for spun words that `profile` has rules for: what is left is what
    /// the spinner does beyond what the profile knows.
    pub fn forget_known(&mut self, profile: &Profile) {
        let known: std::collections::HashSet<&str> =
            profile.rules.iter().map(|r| r.spun.as_str()).collect();
        // Rules hold their spun side as `Learner` wrote it: `words`, joined by spaces.
        let is_known = |spun: &str| known.contains(words(spun).join(" ").as_str());
        self.seen.retain(|(spun, _), _| !is_known(spun));
        self.occurrences.retain(|(spun, _), _| !is_known(spun));
    }

    /// The proposals found in at least `min_docs` documents, strongest first (documents times
    /// mean log-odds).
    pub fn proposals(&self, min_docs: usize) -> Vec<Proposal> {
        let mut v: Vec<Proposal> = self
            .seen
            .iter()
            .filter(|(_, e)| e.1 >= min_docs)
            .map(|((spun, original), e)| {
                let count = self
                    .occurrences
                    .get(&(spun.clone(), original.clone()))
                    .copied()
                    .unwrap_or(0);
                Proposal {
                    spun: spun.clone(),
                    original: original.clone(),
                    docs: e.1,
                    count,
                    mean_log_odds: e.2 / count.max(1) as f32,
                    examples: e.3.clone(),
                }
            })
            .collect();
        let strength = |p: &Proposal| p.docs as f32 * p.mean_log_odds;
        v.sort_by(|a, b| {
            strength(b)
                .total_cmp(&strength(a))
                .then_with(|| a.spun.cmp(&b.spun))
                .then_with(|| a.original.cmp(&b.original))
        });
        v
    }

    /// The proposals as a profile (each counted once per document it was found in), to use
    /// with [`ProfileChannel`] like a profile learned from pairs.
    pub fn profile(&self, min_docs: usize) -> Profile {
        let mut p = Profile {
            format: "unspin-profile".into(),
            version: FORMAT_VERSION,
            ..Profile::default()
        };
        p.rules = self
            .proposals(min_docs)
            .into_iter()
            .map(|x| Rule {
                spun: x.spun,
                original: x.original,
                count: x.docs as u32,
            })
            .collect();
        p.substitutions = p.rules.iter().map(|r| r.count as usize).sum();
        p.sort();
        p
    }
}

/// Up to forty characters either side of `start..end`, on one line.
fn context(text: &str, start: usize, end: usize) -> String {
    let a = text[..start]
        .char_indices()
        .rev()
        .nth(39)
        .map_or(0, |(i, _)| i);
    let b = text[end..]
        .char_indices()
        .nth(40)
        .map_or(text.len(), |(i, _)| end + i);
    text[a..b].split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Rules from (spun, original) → count.
fn rules_from(counts: BTreeMap<(String, String), u32>) -> Vec<Rule> {
    counts
        .into_iter()
        .map(|((spun, original), count)| Rule {
            spun,
            original,
            count,
        })
        .collect()
}

/// Settings of a [`ProfileChannel`].
#[derive(Clone, Debug)]
pub struct ProfileOptions {
    /// Log10 factor on the generic channel for a substitution the profile never saw from an
    /// original it saw replaced: the spinner's dictionary had another word for it.
    pub unseen_penalty: f32,
    /// Pseudo-count added to every original's substitution counts (smoothing).
    pub smoothing: f32,
    /// How many observations the model's own odds for a rule count as when a profile's kept
    /// counts say how often the rule's spun word was really spun (the observed odds are shrunk
    /// toward the model's by this weight).
    pub prior_weight: f32,
    /// The decoder's log10 odds of a free word being spun in a spun text, which a rule's
    /// observed odds are translated through.
    pub spin_odds: f32,
}

impl Default for ProfileOptions {
    fn default() -> Self {
        ProfileOptions {
            unseen_penalty: -2.0,
            smoothing: 0.5,
            prior_weight: 5.0,
            spin_odds: (0.25f32 / 0.75).log10(),
        }
    }
}

/// A channel learned from a [`Profile`], backed by the generic channel for what the profile
/// never saw.
///
/// With a profile's kept counts (format 2) it also uses what the pairs say directly:
/// - how often a rule's spun word was spun rather than its own original (`troopers` nearly
///   always is; `woman`, which the spinner writes for `man`, often is not), as odds that
///   replace the model's unigram-level guess while the language model keeps its say on
///   context.
pub struct ProfileChannel {
    generic: GenericChannel,
    /// Spun word ids → (original word ids, log10 P(spun | original)).
    proposals: HashMap<Vec<u32>, Vec<(Vec<u32>, f32)>>,
    /// Original ids → the spun ids the profile saw for it.
    seen: HashMap<Vec<u32>, Vec<Vec<u32>>>,
    opts: ProfileOptions,
}

impl ProfileChannel {
    /// Builds the channel for `pack`'s vocabulary; rules with words outside it are dropped.
    pub fn new(pack: &Pack, profile: &Profile, opts: ProfileOptions) -> ProfileChannel {
        Self::with_generic(pack, profile, GenericChannel::default(), opts)
    }

    /// As [`ProfileChannel::new`], with a given fall-back channel.
    pub fn with_generic(
        pack: &Pack,
        profile: &Profile,
        generic: GenericChannel,
        opts: ProfileOptions,
    ) -> ProfileChannel {
        let lex = pack.lexicon();
        let lm = pack.lm();
        let ids = |s: &str| -> Option<Vec<u32>> { s.split(' ').map(|w| lex.word_id(w)).collect() };
        let mut totals: HashMap<Vec<u32>, f32> = HashMap::new();
        let mut rules: Vec<(Vec<u32>, Vec<u32>, f32)> = Vec::new();
        let mut have: std::collections::HashSet<(Vec<u32>, Vec<u32>)> = Default::default();
        for r in &profile.rules {
            let (Some(s), Some(o)) = (ids(&r.spun), ids(&r.original)) else {
                continue;
            };
            have.insert((s.clone(), o.clone()));
            rules.push((s, o, r.count as f32));
        }
        // A spinner that writes "troopers" for soldiers writes "trooper" for soldier: one-word
        // rules carry over to the other inflections of the same lemmas, at half weight.
        let forms = [
            Form::Base,
            Form::S,
            Form::Ed,
            Form::Ing,
            Form::Er,
            Form::Est,
        ];
        let lemmas = |w: u32| -> Vec<(u32, Form)> {
            let mut v: Vec<(u32, Form)> = lex.analyses(w).collect();
            if v.is_empty() {
                v.push((w, Form::Base));
            }
            v
        };
        let mut derived = Vec::new();
        // Two or three neighbouring words replaced at once form one stretch ("distant
        // detecting" for remote sensing); word for word, each content word is a substitution
        // the spinner makes elsewhere too, at half weight. (Function words in a stretch of
        // equal length are a phrase rewritten as a whole, "so as to" for "in order to".)
        let content = |w: u32| !lex.is_function(w);
        for (s, o, c) in &rules {
            if s.len() == o.len() && s.len() > 1 {
                for (&a, &b) in s.iter().zip(o) {
                    if a != b && content(a) && content(b) && have.insert((vec![a], vec![b])) {
                        derived.push((vec![a], vec![b], c * 0.5));
                    }
                }
            }
        }
        rules.append(&mut derived);
        for (s, o, c) in &rules {
            let ([s], [o]) = (s.as_slice(), o.as_slice()) else {
                continue;
            };
            for (ls, fs) in lemmas(*s) {
                for (lo, fo) in lemmas(*o) {
                    if fs != fo {
                        continue;
                    }
                    for f in forms {
                        if f == fs {
                            continue;
                        }
                        for s2 in lex.inflect(ls, f) {
                            for o2 in lex.inflect(lo, f) {
                                if have.insert((vec![s2], vec![o2])) {
                                    derived.push((vec![s2], vec![o2], c * 0.5));
                                }
                            }
                        }
                    }
                }
            }
        }
        rules.extend(derived);
        for (_, o, c) in &rules {
            *totals.entry(o.clone()).or_default() += c;
        }
        // Kept counts by word id; a profile without them (format 1, or proposals found
        // without pairs) says nothing of how often a spun word was its own original.
        let mut kept: HashMap<u32, f32> = HashMap::new();
        for (w, &n) in &profile.kept {
            if let Some(id) = lex.word_id(w) {
                *kept.entry(id).or_default() += n as f32;
            }
        }
        let informed = !kept.is_empty();
        let mut proposals: HashMap<Vec<u32>, Vec<(Vec<u32>, f32)>> = HashMap::new();
        let mut seen: HashMap<Vec<u32>, Vec<Vec<u32>>> = HashMap::new();
        for (s, o, count) in rules {
            let total = totals[&o] + opts.smoothing;
            let mut p = (count / total).log10();
            if let ([sw], [ow], true) = (s.as_slice(), o.as_slice(), informed) {
                // The odds that an occurrence of the spun word was this original, observed,
                // against the model's: spin odds, channel and how common each word is.
                let (uo, us) = (lm.unigram(*ow), lm.unigram(*sw));
                let k = kept.get(sw).copied().unwrap_or(0.0);
                let model = opts.spin_odds + p + uo - us;
                let observed = ((count + 0.5) / (k + 0.5)).log10();
                let n = count + k;
                let odds = (n * observed + opts.prior_weight * model) / (n + opts.prior_weight);
                p = odds - opts.spin_odds - uo + us;
            }
            proposals.entry(s.clone()).or_default().push((o.clone(), p));
            seen.entry(o).or_default().push(s);
        }
        ProfileChannel {
            generic,
            proposals,
            seen,
            opts,
        }
    }

    /// Number of rules in use.
    pub fn rules(&self) -> usize {
        self.proposals.values().map(Vec::len).sum()
    }
}

impl Channel for ProfileChannel {
    fn substitute(&self, lex: &Lexicon<'_>, lm: &Lm<'_>, orig: u32, spun: u32, flags: u8) -> f32 {
        let g = self.generic.substitute(lex, lm, orig, spun, flags);
        let o = lex.node_words(orig).as_slice().to_vec();
        // Every rule's original is in `seen`: the spun side is looked up only for those.
        match self.seen.get(&o) {
            Some(outs) => {
                let s = lex.node_words(spun).as_slice().to_vec();
                if let Some((_, p)) = self
                    .proposals
                    .get(&s)
                    .and_then(|v| v.iter().find(|(x, _)| *x == o))
                {
                    *p
                } else if outs.is_empty() {
                    g
                } else {
                    g + self.opts.unseen_penalty
                }
            }
            None => g,
        }
    }

    fn mask(&self) -> u8 {
        self.generic.mask
    }

    fn propose(&self, spun: &[u32]) -> Vec<(Vec<u32>, f32)> {
        self.proposals.get(spun).cloned().unwrap_or_default()
    }

    fn learned(&self, spun: &[u32]) -> bool {
        self.proposals.contains_key(spun)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alignment_finds_word_and_phrase_substitutions() {
        let b = align(
            "Six Russian troopers fled the warfare in the region of Kyiv.",
            "Six Russian soldiers fled the war near Kyiv.",
        );
        let diffs: Vec<(String, String)> = b
            .iter()
            .filter(|b| !b.same)
            .map(|b| (b.spun.join(" "), b.original.join(" ")))
            .collect();
        assert_eq!(
            diffs,
            vec![
                ("troopers".to_string(), "soldiers".to_string()),
                (
                    "warfare in the region of".to_string(),
                    "war near".to_string()
                ),
            ]
        );
        assert!(align("", "").is_empty());
        assert_eq!(align("a b", "").len(), 1);
    }

    #[test]
    fn learning_counts_rules_and_merging_adds_them() {
        let p = Profile::learn([
            ("The troopers fled.", "The soldiers fled."),
            ("Two troopers and a gaggle.", "Two soldiers and a group."),
        ]);
        assert_eq!(p.pairs, 2);
        assert_eq!(p.rules[0].spun, "troopers");
        assert_eq!(p.rules[0].original, "soldiers");
        assert_eq!(p.rules[0].count, 2);
        let mut q = p.clone();
        q.merge(&p);
        assert_eq!(q.pairs, 4);
        assert_eq!(q.rules[0].count, 4);
        assert_eq!(q.rules.len(), p.rules.len());
    }
}
