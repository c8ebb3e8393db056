//! Measuring tracing: spun copies of indexed documents (whole, or an excerpt) and documents that
//! are not indexed, as labelled queries; recall@1 per configuration and the false-match rate.

use serde::{Deserialize, Serialize};

use crate::lexicon::flags;
use crate::spin::{spin, Rng, SpinOptions};
use crate::Pack;

/// A labelled query.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EvalQuery {
    /// The query's id.
    pub id: String,
    /// The spun text.
    pub text: String,
    /// The id of the indexed document it was spun from; `None` for a document that is not
    /// indexed (any match is false).
    pub source: Option<String>,
    /// Spinner configuration: "same", "phrase", "cross", or "none" for an unspun held-out text.
    pub config: String,
    /// Spin rate.
    pub rate: f64,
    /// Whether the query is an excerpt of its source rather than all of it.
    pub excerpt: bool,
}

/// Spinner options of a named configuration: "same" (MyThes + WordNet + Moby, one for one),
/// "phrase" (the same plus phrase rewrites), "cross" (Moby only).
pub fn spinner(config: &str, rate: f64, seed: u64) -> Option<SpinOptions> {
    let all = flags::MYTHES | flags::WORDNET | flags::MOBY;
    let (mask, phrases) = match config {
        "same" => (all, false),
        "phrase" => (all, true),
        "cross" => (flags::MOBY, false),
        _ => return None,
    };
    Some(SpinOptions {
        seed,
        rate,
        mask,
        phrases,
        ..Default::default()
    })
}

/// An excerpt of about `words` words of `text`, starting at a sentence start chosen with `rng`
/// (whole sentences, so that a spinner sees what it would see in a real excerpt).
pub fn excerpt(text: &str, words: usize, rng: &mut Rng) -> String {
    let starts: Vec<usize> = std::iter::once(0)
        .chain(text.match_indices(['.', '!', '?']).filter_map(|(i, _)| {
            let rest = &text[i + 1..];
            let ws = rest.len() - rest.trim_start().len();
            (ws > 0 && i + 1 + ws < text.len()).then_some(i + 1 + ws)
        }))
        .collect();
    let total = text.split_whitespace().count();
    // Only starts that leave enough words after them.
    let ok: Vec<usize> = starts
        .iter()
        .copied()
        .filter(|&s| text[s..].split_whitespace().count() >= words.min(total))
        .collect();
    let s = if ok.is_empty() {
        0
    } else {
        ok[rng.below(ok.len())]
    };
    let mut n = 0;
    let mut end = text.len();
    for (i, _) in text[s..].match_indices(char::is_whitespace) {
        if i > 0 && !text[s..s + i].ends_with(char::is_whitespace) {
            n += 1;
        }
        if n >= words {
            end = s + i;
            break;
        }
    }
    text[s..end].trim().to_string()
}

/// Makes queries: for each configuration and rate, `per_cell` spun copies of documents drawn
/// from `indexed` (whole, and `excerpt_words`-word excerpts if that is not 0), plus
/// `held_out.len()` documents that are not indexed, spun by the first configuration at the first
/// rate. Deterministic for a seed.
#[allow(clippy::too_many_arguments)] // one call site per tool; a struct would only rename them
pub fn make_queries(
    pack: &Pack,
    indexed: &[(String, String)],
    held_out: &[(String, String)],
    configs: &[String],
    rates: &[f64],
    per_cell: usize,
    excerpt_words: usize,
    seed: u64,
) -> Vec<EvalQuery> {
    let mut rng = Rng::new(seed);
    let mut out = Vec::new();
    if indexed.is_empty() {
        return out;
    }
    for config in configs {
        for &rate in rates {
            for excerpt_query in [false, true] {
                if excerpt_query && excerpt_words == 0 {
                    continue;
                }
                for k in 0..per_cell {
                    let (id, text) = &indexed[rng.below(indexed.len())];
                    let s = rng.next_u64();
                    let Some(opts) = spinner(config, rate, s) else {
                        continue;
                    };
                    let src = if excerpt_query {
                        excerpt(text, excerpt_words, &mut rng)
                    } else {
                        text.clone()
                    };
                    out.push(EvalQuery {
                        id: format!(
                            "{config}-{rate}-{}-{k}",
                            if excerpt_query { "excerpt" } else { "whole" }
                        ),
                        text: spin(pack, &src, &opts).text,
                        source: Some(id.clone()),
                        config: config.clone(),
                        rate,
                        excerpt: excerpt_query,
                    });
                }
            }
        }
    }
    let (config, rate) = (
        configs.first().cloned().unwrap_or_else(|| "same".into()),
        rates.first().copied().unwrap_or(0.3),
    );
    for (k, (_, text)) in held_out.iter().enumerate() {
        let opts = spinner(&config, rate, rng.next_u64()).unwrap_or_default();
        out.push(EvalQuery {
            id: format!("unindexed-{k}"),
            text: spin(pack, text, &opts).text,
            source: None,
            config: config.clone(),
            rate,
            excerpt: false,
        });
    }
    out
}

/// Results of one cell (configuration, rate, whole or excerpt).
#[derive(Clone, Debug, Default, Serialize)]
pub struct Cell {
    /// Spinner configuration.
    pub config: String,
    /// Spin rate.
    pub rate: f64,
    /// Excerpt or whole.
    pub excerpt: bool,
    /// Queries.
    pub queries: usize,
    /// Queries whose first match is their source.
    pub top1: usize,
    /// Queries whose source is among the matches.
    pub found: usize,
    /// Queries whose first match is another document.
    pub wrong: usize,
}

/// Tallies results: recall@1 per cell and false matches among queries without an indexed source.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Tally {
    /// Cells in the order first seen.
    pub cells: Vec<Cell>,
    /// Queries whose source is not indexed.
    pub unindexed: usize,
    /// Of those, how many got any match.
    pub false_matches: usize,
}

impl Tally {
    /// Adds one query's result: the ids of its matches, best first.
    pub fn add(&mut self, q: &EvalQuery, matches: &[String]) {
        let Some(source) = &q.source else {
            self.unindexed += 1;
            self.false_matches += usize::from(!matches.is_empty());
            return;
        };
        let i = match self
            .cells
            .iter()
            .position(|c| c.config == q.config && c.rate == q.rate && c.excerpt == q.excerpt)
        {
            Some(i) => i,
            None => {
                self.cells.push(Cell {
                    config: q.config.clone(),
                    rate: q.rate,
                    excerpt: q.excerpt,
                    ..Cell::default()
                });
                self.cells.len() - 1
            }
        };
        let c = &mut self.cells[i];
        c.queries += 1;
        match matches.first() {
            Some(m) if m == source => c.top1 += 1,
            Some(_) => c.wrong += 1,
            None => {}
        }
        c.found += usize::from(matches.contains(source));
    }
}
