//! Scoring: tokenise, batch rows, run the forward pass, sum the log-probabilities.
//!
//! A row is fed as `<|endoftext|>, t0, …, t(n-2)` with targets `t0, …, t(n-1)`: the hidden state
//! after each input predicts the next token. Independent sentences are the rows of one batch,
//! right-padded (a causal model never looks at the padding after a row's last token). Long rows
//! go through in windows of positions that extend the KV cache, so the attention matrices and
//! logits stay bounded whatever the sentence length.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use candle_core::quantized::gguf_file::Content;
use candle_core::{Device, Tensor};

use crate::llama::{KvCache, Llama};
use crate::tokenizer::GgufTokenizer;
use crate::{NeuralError, Products};

/// Positions of one row fed per forward call.
const WINDOW: usize = 256;
/// Padded positions (rows × window) per forward call: bounds activations and attention.
const BATCH_POSITIONS: usize = 1024;
/// Rows × keys per call of [`Engine::score_groups`] (each row attends to the sentence's keys and
/// its own): bounds the copies of the sentence's keys and values when the sentence is long.
const KEY_POSITIONS: usize = 16_384;
/// Positions whose logits are materialised at once (each takes a vocabulary of f32s, twice).
const LOGIT_ROWS: usize = 256;

pub(crate) struct Engine {
    model: Llama,
    tokenizer: GgufTokenizer,
    /// `<|endoftext|>`: the context every sentence starts after.
    start: u32,
    /// The last shared prefix [`Engine::score_variants`] computed: its tokens, their summed
    /// ln P, and the cache after them. Precise mode scores a sentence's positions left to
    /// right, so the next prefix usually extends this one and only the extension is run.
    memo: Option<(Vec<u32>, f64, KvCache)>,
}

/// One variant's continuation in [`Engine::score_groups`]: which group and variant it scores,
/// the position of its first input (the sentence's keys before it are its prefix), and its
/// inputs and targets. Its first token is not among them when the sentence's own pass scored it.
struct Row {
    group: usize,
    variant: usize,
    start: usize,
    inputs: Vec<u32>,
    targets: Vec<u32>,
}

/// Leaves out of `rows` (token rows that agree on their first `shared` tokens) the tokens that
/// every row ends with beyond `window` tokens past the last one where they differ: the shared
/// tail is scored in no row, which keeps their ranking and saves a forward pass per token per
/// row. A single row is left whole.
fn cut_shared_tail(rows: &mut [Vec<u32>], shared: usize, window: usize) {
    let Some((first, others)) = rows.split_first() else {
        return;
    };
    if others.is_empty() {
        return;
    }
    let mut same_end = first.len() - shared;
    for row in others {
        let n = row[shared..]
            .iter()
            .rev()
            .zip(first[shared..].iter().rev())
            .take_while(|(a, b)| a == b)
            .count();
        same_end = same_end.min(n);
    }
    let cut = same_end.saturating_sub(window);
    for row in rows {
        row.truncate(row.len() - cut);
    }
}

/// The inputs that predict `targets`: the token before them, then all of them but the last
/// (empty for no targets).
fn shifted(before: u32, targets: &[u32]) -> Vec<u32> {
    match targets.split_last() {
        Some((_, init)) => std::iter::once(before)
            .chain(init.iter().copied())
            .collect(),
        None => Vec::new(),
    }
}

fn run_err(e: candle_core::Error) -> NeuralError {
    NeuralError::Run(e.to_string())
}

impl Engine {
    pub(crate) fn open(path: &Path, products: Products) -> Result<Engine, NeuralError> {
        let bad = |message: String| NeuralError::Model {
            path: path.to_path_buf(),
            message,
        };
        let file = File::open(path).map_err(|source| NeuralError::Open {
            path: path.to_path_buf(),
            source,
        })?;
        let mut reader = BufReader::new(file);
        let ct = Content::read(&mut reader).map_err(|e| bad(e.to_string()))?;
        let tokenizer = GgufTokenizer::from_gguf(&ct).map_err(bad)?;
        let start = tokenizer
            .token_id("<|endoftext|>")
            .ok_or_else(|| bad("no `<|endoftext|>` token".into()))?;
        let model = Llama::load(&ct, &mut reader, &Device::Cpu, products)
            .map_err(|e| bad(e.to_string()))?;
        let rows = model.vocab_size().map_err(|e| bad(e.to_string()))?;
        if rows != tokenizer.vocab_size() {
            return Err(bad(format!(
                "{rows} embedding rows for {} vocabulary tokens",
                tokenizer.vocab_size()
            )));
        }
        Ok(Engine {
            model,
            tokenizer,
            start,
            memo: None,
        })
    }

    pub(crate) fn tokenizer(&self) -> &GgufTokenizer {
        &self.tokenizer
    }

    fn encode(&self, text: &str) -> Result<Vec<u32>, NeuralError> {
        let ids = self.tokenizer.encode(text).map_err(NeuralError::Run)?;
        // `<|endoftext|>` and all but the last token take one position each.
        let limit = self.model.max_len();
        if ids.len() > limit {
            return Err(NeuralError::TooLong {
                tokens: ids.len(),
                limit,
            });
        }
        Ok(ids)
    }

    /// Feeds each row's `inputs` after `cache` (batch-1, copied to every row) and returns, per
    /// row, the summed ln P(target | everything before), and the cache after the rows (meaningful
    /// for a single row). `inputs[r]` and `targets[r]` have equal lengths; rows may differ.
    fn run(
        &self,
        inputs: &[Vec<u32>],
        targets: &[Vec<u32>],
        cache: Option<&KvCache>,
    ) -> Result<(Vec<f64>, Option<KvCache>), NeuralError> {
        let batch = inputs.len();
        let longest = inputs.iter().map(Vec::len).max().unwrap_or(0);
        let mut totals = vec![0f64; batch];
        if longest == 0 {
            return Ok((totals, cache.cloned()));
        }
        let mut cache = match cache {
            Some(c) if batch > 1 => Some(c.expand(batch).map_err(run_err)?),
            Some(c) => Some(c.clone()),
            None => None,
        };
        let mut from = 0;
        while from < longest {
            let to = (from + WINDOW).min(longest);
            let len = to - from;
            let mut flat = Vec::with_capacity(batch * len);
            for row in inputs {
                flat.extend((from..to).map(|i| row.get(i).copied().unwrap_or(self.start)));
            }
            let (hidden, next) = self
                .model
                .forward(&flat, batch, cache.as_ref())
                .map_err(run_err)?;
            cache = Some(next);
            // Only the positions with a target go through the output layer.
            let mut picks = Vec::new();
            let mut wanted = Vec::new();
            for (r, row) in targets.iter().enumerate() {
                for (i, &t) in row.iter().enumerate().take(to).skip(from) {
                    picks.push((r * len + i - from) as u32);
                    wanted.push((r, t));
                }
            }
            let hidden = hidden.reshape((batch * len, ())).map_err(run_err)?;
            for (lp, (r, _)) in self
                .picked_log_probs(&hidden, &picks, &wanted)?
                .iter()
                .zip(&wanted)
            {
                totals[*r] += *lp as f64;
            }
            from = to;
        }
        Ok((totals, cache))
    }

    /// ln P of `wanted[j].1` at hidden state `picks[j]` (rows of `hidden`, `(n, embd)`), the
    /// output layer run on those rows only, `LOGIT_ROWS` at a time.
    fn picked_log_probs(
        &self,
        hidden: &Tensor,
        picks: &[u32],
        wanted: &[(usize, u32)],
    ) -> Result<Vec<f32>, NeuralError> {
        let mut out = Vec::with_capacity(picks.len());
        for (chunk, want) in picks.chunks(LOGIT_ROWS).zip(wanted.chunks(LOGIT_ROWS)) {
            let idx = Tensor::from_slice(chunk, chunk.len(), hidden.device()).map_err(run_err)?;
            let states = hidden.index_select(&idx, 0).map_err(run_err)?;
            let ids: Vec<u32> = want.iter().map(|w| w.1).collect();
            out.extend(self.model.log_probs(&states, &ids).map_err(run_err)?);
        }
        Ok(out)
    }

    /// Groups row indices (sorted by length) so each batch stays within `BATCH_POSITIONS`.
    fn batches(lens: &[usize]) -> Vec<Vec<usize>> {
        let mut order: Vec<usize> = (0..lens.len()).collect();
        order.sort_by_key(|&i| lens[i]);
        let mut out: Vec<Vec<usize>> = Vec::new();
        let mut current: Vec<usize> = Vec::new();
        for i in order {
            let width = lens[i].clamp(1, WINDOW);
            if !current.is_empty() && (current.len() + 1) * width > BATCH_POSITIONS {
                out.push(std::mem::take(&mut current));
            }
            current.push(i);
        }
        if !current.is_empty() {
            out.push(current);
        }
        out
    }

    pub(crate) fn score(&mut self, sentences: &[&str]) -> Result<Vec<f32>, NeuralError> {
        let rows = sentences
            .iter()
            .map(|s| self.encode(s))
            .collect::<Result<Vec<_>, _>>()?;
        let mut out = vec![0f32; rows.len()];
        let lens: Vec<usize> = rows.iter().map(Vec::len).collect();
        for group in Self::batches(&lens) {
            let targets: Vec<Vec<u32>> = group.iter().map(|&i| rows[i].clone()).collect();
            let inputs: Vec<Vec<u32>> = targets.iter().map(|t| shifted(self.start, t)).collect();
            let (totals, _) = self.run(&inputs, &targets, None)?;
            for (&i, total) in group.iter().zip(totals) {
                out[i] = total as f32;
            }
        }
        Ok(out)
    }

    /// ln P of `prefix + variants[i]` for each variant; with `window`, only the tokens up to
    /// `window` past the last token where the variants differ are scored (the rest of the
    /// sentence, the same tokens in every variant, is left out), so the scores compare the
    /// variants with one another but are no longer whole-sentence probabilities.
    pub(crate) fn score_variants(
        &mut self,
        prefix: &str,
        variants: &[&str],
        window: Option<usize>,
    ) -> Result<Vec<f32>, NeuralError> {
        if variants.is_empty() {
            return Ok(Vec::new());
        }
        // Tokenise whole sentences, as `score` does, and share their longest common token prefix
        // (the text prefix alone could tokenise differently at its end).
        let mut rows = variants
            .iter()
            .map(|v| self.encode(&format!("{prefix}{v}")))
            .collect::<Result<Vec<_>, _>>()?;
        let mut shared = rows[0].len();
        for row in &rows[1..] {
            shared = shared.min(row.iter().zip(&rows[0]).take_while(|(a, b)| a == b).count());
        }
        if let Some(w) = window {
            cut_shared_tail(&mut rows, shared, w);
        }
        let (head, cache) = self.prefix(&rows[0][..shared])?;
        // Each continuation starts from the last shared token (or `<|endoftext|>`).
        let first = if shared > 0 {
            rows[0][shared - 1]
        } else {
            self.start
        };
        let targets: Vec<Vec<u32>> = rows.iter().map(|r| r[shared..].to_vec()).collect();
        let inputs: Vec<Vec<u32>> = targets.iter().map(|t| shifted(first, t)).collect();
        let mut out = vec![head as f32; rows.len()];
        let lens: Vec<usize> = targets.iter().map(Vec::len).collect();
        for group in Self::batches(&lens) {
            let ins: Vec<Vec<u32>> = group.iter().map(|&i| inputs[i].clone()).collect();
            let tgs: Vec<Vec<u32>> = group.iter().map(|&i| targets[i].clone()).collect();
            let (totals, _) = self.run(&ins, &tgs, cache.as_ref())?;
            for (&i, tail) in group.iter().zip(totals) {
                out[i] = (head + tail) as f32;
            }
        }
        Ok(out)
    }

    /// [`Engine::score_variants`] for many positions of one sentence at once: `groups[g]` is a
    /// position's `(prefix, variants)`, and `prefix + variant` reads as `sentence` up to where
    /// the variants start. One pass over `sentence` gives every group its prefix (the summed
    /// ln P up to where the group's rows differ, and the cache there), and the rows of all
    /// groups then run together, each row seeing only its own prefix of the sentence: two
    /// forward calls or a few for a sentence, instead of two for each of its positions. Each
    /// group's scores equal what `score_variants` gives for it alone (up to rounding).
    pub(crate) fn score_groups(
        &mut self,
        sentence: &str,
        groups: &[(&str, Vec<&str>)],
        window: Option<usize>,
    ) -> Result<Vec<Vec<f32>>, NeuralError> {
        let spine = self.encode(sentence)?;
        if spine.is_empty() {
            return groups
                .iter()
                .map(|(prefix, vs)| self.score_variants(prefix, vs, window))
                .collect();
        }
        // The sentence's own pass: the cache after all its tokens, and the state at each
        // position, which gives ln P of the sentence's own token there and of each row's first.
        let inputs = shifted(self.start, &spine);
        let (hidden, cache) = self.model.forward(&inputs, 1, None).map_err(run_err)?;
        let hidden = hidden.reshape((spine.len(), ())).map_err(run_err)?;
        let mut picks: Vec<u32> = (0..spine.len() as u32).collect();
        let mut wanted: Vec<(usize, u32)> = spine.iter().copied().enumerate().collect();
        // Every row: its group, where it starts, its inputs and targets.
        let mut out: Vec<Vec<f64>> = Vec::with_capacity(groups.len());
        let mut rows: Vec<Row> = Vec::new();
        // (group, variant) of each row whose first token the sentence's pass scores, in the
        // order of `wanted` after the sentence's own tokens.
        let mut firsts: Vec<(usize, usize)> = Vec::new();
        // Where each group's variants part from the sentence.
        let mut parts: Vec<usize> = Vec::with_capacity(groups.len());
        for (g, (prefix, variants)) in groups.iter().enumerate() {
            let mut toks = variants
                .iter()
                .map(|v| self.encode(&format!("{prefix}{v}")))
                .collect::<Result<Vec<_>, _>>()?;
            if toks.is_empty() {
                out.push(Vec::new());
                parts.push(0);
                continue;
            }
            let shared = toks
                .iter()
                .map(|row| row.iter().zip(&spine).take_while(|(a, b)| a == b).count())
                .min()
                .unwrap_or(0);
            if let Some(w) = window {
                cut_shared_tail(&mut toks, shared, w);
            }
            for (r, row) in toks.iter().enumerate() {
                let mut targets = row[shared..].to_vec();
                // The state before a row's first token is the sentence's at `shared` (the same
                // tokens before it): read its ln P there instead of running that position again.
                let (start, before) = if shared < spine.len() && !targets.is_empty() {
                    picks.push(shared as u32);
                    wanted.push((spine.len() + firsts.len(), targets[0]));
                    firsts.push((g, r));
                    let first = targets.remove(0);
                    (shared + 1, first)
                } else if shared > 0 {
                    (shared, spine[shared - 1])
                } else {
                    (0, self.start)
                };
                rows.push(Row {
                    group: g,
                    variant: r,
                    start,
                    inputs: shifted(before, &targets),
                    targets,
                });
            }
            out.push(vec![0.0; toks.len()]);
            parts.push(shared);
        }
        let mut cum = vec![0f64; spine.len() + 1];
        for (i, lp) in self
            .picked_log_probs(&hidden, &picks, &wanted)?
            .into_iter()
            .enumerate()
        {
            match i.checked_sub(spine.len()) {
                None => cum[i + 1] = cum[i] + lp as f64,
                Some(f) => {
                    let (g, r) = firsts[f];
                    out[g][r] += lp as f64;
                }
            }
        }
        // Each variant starts from the sentence's ln P up to where its group's variants part.
        for (g, &shared) in parts.iter().enumerate() {
            for x in &mut out[g] {
                *x += cum[shared];
            }
        }
        let lens: Vec<usize> = rows.iter().map(|r| r.targets.len()).collect();
        // Every row attends to the whole sentence's keys (masked beyond its prefix): in a long
        // sentence, fewer rows per call keep those copies bounded.
        let batches = Self::batches(&lens).into_iter().flat_map(|batch| {
            let len = batch.iter().map(|&i| lens[i]).max().unwrap_or(0);
            let rows = (KEY_POSITIONS / (spine.len() + len).max(1)).max(1);
            batch
                .chunks(rows)
                .map(<[usize]>::to_vec)
                .collect::<Vec<_>>()
        });
        for batch in batches {
            let len = batch.iter().map(|&i| lens[i]).max().unwrap_or(0);
            if len == 0 {
                continue;
            }
            let mut flat = Vec::with_capacity(batch.len() * len);
            let mut starts = Vec::with_capacity(batch.len());
            for &i in &batch {
                let row = &rows[i];
                flat.extend((0..len).map(|j| row.inputs.get(j).copied().unwrap_or(self.start)));
                starts.push(row.start);
            }
            let hidden = self
                .model
                .forward_rows(&flat, batch.len(), &starts, &cache)
                .map_err(run_err)?;
            let hidden = hidden.reshape((batch.len() * len, ())).map_err(run_err)?;
            let mut picks = Vec::new();
            let mut wanted = Vec::new();
            for (b, &i) in batch.iter().enumerate() {
                for (j, &t) in rows[i].targets.iter().enumerate() {
                    picks.push((b * len + j) as u32);
                    wanted.push((i, t));
                }
            }
            for (lp, &(i, _)) in self
                .picked_log_probs(&hidden, &picks, &wanted)?
                .iter()
                .zip(&wanted)
            {
                out[rows[i].group][rows[i].variant] += *lp as f64;
            }
        }
        Ok(out
            .into_iter()
            .map(|g| g.into_iter().map(|x| x as f32).collect())
            .collect())
    }

    /// The summed ln P of `tokens` (each given those before, after `<|endoftext|>`) and the
    /// cache after them; from the memo when it holds a prefix of them.
    fn prefix(&mut self, tokens: &[u32]) -> Result<(f64, Option<KvCache>), NeuralError> {
        if tokens.is_empty() {
            return Ok((0.0, None));
        }
        let (from, base, cache) = match self.memo.take() {
            Some((t, total, cache)) if t.len() <= tokens.len() && tokens[..t.len()] == t[..] => {
                (t.len(), total, Some(cache))
            }
            _ => (0, 0.0, None),
        };
        let (total, cache) = if from == tokens.len() {
            (base, cache)
        } else {
            let before = if from == 0 {
                self.start
            } else {
                tokens[from - 1]
            };
            let targets = tokens[from..].to_vec();
            let inputs = shifted(before, &targets);
            let (totals, cache) = self.run(&[inputs], &[targets], cache.as_ref())?;
            (base + totals[0], cache)
        };
        if let Some(c) = &cache {
            self.memo = Some((tokens.to_vec(), total, c.clone()));
        }
        Ok((total, cache))
    }

    /// What the model expects at byte offsets `at` of `sentence` (where words start), from one
    /// forward pass over the sentence: for each offset, ln P of the first token that is there
    /// and up to `k` (lower-cased word, ln P of its first token), likeliest first, given the
    /// text before it. A word is a
    /// vocabulary token that starts a new word (`Ġ` and letters; letters alone at offset 0).
    /// An offset where the text before does not tokenise as a prefix of the sentence gets none.
    pub(crate) fn next_words(
        &mut self,
        sentence: &str,
        at: &[usize],
        k: usize,
    ) -> Result<Vec<unspin::restore::Expected>, NeuralError> {
        let ids = self.encode(sentence)?;
        let mut inputs = vec![self.start];
        inputs.extend_from_slice(&ids);
        if inputs.len() > self.model.max_len() {
            return Err(NeuralError::TooLong {
                tokens: ids.len(),
                limit: self.model.max_len(),
            });
        }
        let (hidden, _) = self.model.forward(&inputs, 1, None).map_err(run_err)?;
        let hidden = hidden.get(0).map_err(run_err)?;
        let mut out = Vec::with_capacity(at.len());
        for &offset in at {
            let head = sentence.get(..offset).unwrap_or("").trim_end();
            let pids = self.encode(head)?;
            if pids.len() >= ids.len() || ids[..pids.len()] != pids[..] {
                out.push(unspin::restore::Expected::default());
                continue;
            }
            let row = hidden.get(pids.len()).map_err(run_err)?;
            let lps = self.model.log_softmax(&row).map_err(run_err)?;
            out.push(unspin::restore::Expected {
                observed: lps[ids[pids.len()] as usize],
                words: self.top_words(&lps, k, head.is_empty()),
            });
        }
        Ok(out)
    }

    /// The `k` likeliest whole-word tokens of a distribution.
    fn top_words(&self, lps: &[f32], k: usize, sentence_start: bool) -> Vec<(String, f32)> {
        // Words are a minority of tokens: look at the best few hundred, then widen if needed.
        let mut order: Vec<u32> = (0..lps.len() as u32).collect();
        let by_lp = |a: &u32, b: &u32| lps[*b as usize].total_cmp(&lps[*a as usize]);
        let head = (k * 20).min(order.len());
        if head < order.len() {
            order.select_nth_unstable_by(head, by_lp);
            order.truncate(head);
        }
        order.sort_unstable_by(by_lp);
        let mut words = Vec::with_capacity(k);
        for id in order {
            if words.len() == k {
                break;
            }
            let Some(tok) = self.tokenizer.token(id) else {
                continue;
            };
            let word = match tok.strip_prefix('Ġ') {
                Some(w) => w,
                None if sentence_start => tok.as_str(),
                None => continue,
            };
            if word.len() > 1 && word.bytes().all(|b| b.is_ascii_alphabetic()) {
                words.push((word.to_ascii_lowercase(), lps[id as usize]));
            }
        }
        words
    }
}
