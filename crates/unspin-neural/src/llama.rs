//! The Llama forward pass, returning the hidden state of every position.
//!
//! The weights, the operations and their order are those of
//! `candle_transformers::models::quantized_llama` (RMS norm, interleaved RoPE, grouped-query
//! attention, SiLU-gated MLP, output layer tied to the token embedding). The difference is what
//! the caller gets back: `ModelWeights::forward` returns the logits of the last position only and
//! keeps its KV cache private, so scoring a sentence with it takes one call per token. Here one
//! call takes every token of a batch of rows and yields every position, and the cache is a value
//! the caller can copy to many rows (the shared start of sentence variants). The tests check this
//! pass against `ModelWeights` itself.

use std::cell::OnceCell;
use std::io::{Read, Seek};

use candle_core::quantized::gguf_file::{Content, Value};
use candle_core::quantized::QMatMul;
use candle_core::{DType, Device, Module, Result, Tensor, D};

use crate::int8::{Int8Matrix, Rows};
use crate::Products;

struct Layer {
    attn_norm: Tensor,
    wq: Linear,
    wk: Linear,
    wv: Linear,
    wo: Linear,
    ffn_norm: Tensor,
    gate: Linear,
    up: Linear,
    down: Linear,
}

/// A linear layer's weights `(out, in)`: f32, multiplied through candle's gemm, or 8-bit
/// ([`Int8Matrix`]).
enum Linear {
    F32(QMatMul),
    Int8(Int8Matrix),
}

/// The input of one or more linear layers `(…, in)`, quantized once, when an 8-bit layer first
/// reads it.
struct Input<'a> {
    x: &'a Tensor,
    rows: OnceCell<Rows>,
}

impl<'a> Input<'a> {
    fn new(x: &'a Tensor) -> Input<'a> {
        Input {
            x,
            rows: OnceCell::new(),
        }
    }

    fn rows(&self) -> Result<&Rows> {
        if let Some(rows) = self.rows.get() {
            return Ok(rows);
        }
        let k = self.x.dim(D::Minus1)?;
        let rows = Rows::new(&self.x.flatten_all()?.to_vec1::<f32>()?, k);
        Ok(self.rows.get_or_init(|| rows))
    }
}

impl Linear {
    /// `w` as `products` asks, where the CPU and the shape allow 8 bits.
    fn new(w: Tensor, products: Products) -> Result<Linear> {
        if products == Products::Fast && crate::int8::supported() {
            let (n, k) = w.dims2()?;
            if let Some(q) = Int8Matrix::new(&w.flatten_all()?.to_vec1::<f32>()?, n, k) {
                return Ok(Linear::Int8(q));
            }
        }
        Ok(Linear::F32(QMatMul::Tensor(w)))
    }

    fn forward(&self, input: &Input) -> Result<Tensor> {
        match self {
            Linear::F32(w) => w.forward(input.x),
            Linear::Int8(w) => shaped_like(w.times(input.rows()?), input.x, w.rows()),
        }
    }
}

/// `out`, `n` outputs of a linear layer for each row of `x`, as a tensor of `x`'s shape with
/// `n` for its last dimension.
fn shaped_like(out: Vec<f32>, x: &Tensor, n: usize) -> Result<Tensor> {
    let mut dims = x.dims().to_vec();
    if let Some(last) = dims.last_mut() {
        *last = n;
    }
    Tensor::from_vec(out, dims, x.device())
}

/// The keys and values of the positions seen so far, per layer: `(batch, kv_heads, len,
/// head_dim)`.
#[derive(Clone)]
pub(crate) struct KvCache {
    layers: Vec<(Tensor, Tensor)>,
    len: usize,
}

impl KvCache {
    /// Positions held.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// A batch-1 cache copied to `rows` rows.
    pub(crate) fn expand(&self, rows: usize) -> Result<KvCache> {
        let layers = self
            .layers
            .iter()
            .map(|(k, v)| {
                let (_, h, t, d) = k.dims4()?;
                Ok((
                    k.broadcast_as((rows, h, t, d))?.contiguous()?,
                    v.broadcast_as((rows, h, t, d))?.contiguous()?,
                ))
            })
            .collect::<Result<_>>()?;
        Ok(KvCache {
            layers,
            len: self.len,
        })
    }
}

pub(crate) struct Llama {
    embedding: Tensor,
    layers: Vec<Layer>,
    norm: Tensor,
    output: Linear,
    eps: f32,
    n_head: usize,
    n_kv_head: usize,
    head_dim: usize,
    /// Most positions (the context length).
    max_len: usize,
    cos: Tensor,
    sin: Tensor,
    neg_inf: Tensor,
    device: Device,
}

fn meta_u32(ct: &Content, key: &str) -> Result<usize> {
    match ct.metadata.get(key) {
        Some(v) => Ok(v.to_u32()? as usize),
        None => candle_core::bail!("missing metadata `{key}`"),
    }
}

impl Llama {
    /// Loads the weights of a llama-architecture GGUF, dequantized to f32 one tensor at a time,
    /// and those of the linear layers then quantized to 8 bits if `products` asks for it.
    pub(crate) fn load<R: Read + Seek>(
        ct: &Content,
        reader: &mut R,
        device: &Device,
        products: Products,
    ) -> Result<Llama> {
        match ct.metadata.get("general.architecture") {
            Some(Value::String(a)) if a == "llama" => {}
            _ => candle_core::bail!("not a llama-architecture model"),
        }
        if meta_u32(ct, "llama.expert_count").unwrap_or(0) > 1 {
            candle_core::bail!("mixture-of-experts models are not supported");
        }
        let n_head = meta_u32(ct, "llama.attention.head_count")?;
        let n_kv_head = meta_u32(ct, "llama.attention.head_count_kv")?;
        let n_layer = meta_u32(ct, "llama.block_count")?;
        let n_embd = meta_u32(ct, "llama.embedding_length")?;
        let rope_dim = meta_u32(ct, "llama.rope.dimension_count")?;
        let max_len = meta_u32(ct, "llama.context_length")?;
        let eps = match ct.metadata.get("llama.attention.layer_norm_rms_epsilon") {
            Some(v) => v.to_f32()?,
            None => candle_core::bail!("missing metadata `llama.attention.layer_norm_rms_epsilon`"),
        };
        let rope_base = ct
            .metadata
            .get("llama.rope.freq_base")
            .map_or(Ok(10000.0), |v| v.to_f32())?;
        if n_head == 0 || n_kv_head == 0 || n_head % n_kv_head != 0 || n_embd % n_head != 0 {
            candle_core::bail!("inconsistent head counts {n_head}/{n_kv_head} for width {n_embd}");
        }
        let head_dim = n_embd / n_head;
        if rope_dim != head_dim {
            candle_core::bail!(
                "partial rotary embeddings ({rope_dim} of {head_dim}) are not supported"
            );
        }

        let mut tensor = |name: &str| ct.tensor(reader, name, device);
        // f32 matrices multiply through gemm; `QMatMul::Tensor` is what candle itself builds
        // under `CANDLE_DEQUANTIZE_ALL=1`.
        let matmul = |q: candle_core::quantized::QTensor| -> Result<Linear> {
            Linear::new(q.dequantize(device)?, products)
        };
        let embedding = tensor("token_embd.weight")?.dequantize(device)?;
        let output = if ct.tensor_infos.contains_key("output.weight") {
            matmul(tensor("output.weight")?)?
        } else {
            // Tied to the embedding (SmolLM2): the f32 copy, or an 8-bit one beside it.
            Linear::new(embedding.clone(), products)?
        };
        let norm = tensor("output_norm.weight")?.dequantize(device)?;
        let mut layers = Vec::with_capacity(n_layer);
        for i in 0..n_layer {
            let p = format!("blk.{i}");
            layers.push(Layer {
                attn_norm: tensor(&format!("{p}.attn_norm.weight"))?.dequantize(device)?,
                wq: matmul(tensor(&format!("{p}.attn_q.weight"))?)?,
                wk: matmul(tensor(&format!("{p}.attn_k.weight"))?)?,
                wv: matmul(tensor(&format!("{p}.attn_v.weight"))?)?,
                wo: matmul(tensor(&format!("{p}.attn_output.weight"))?)?,
                ffn_norm: tensor(&format!("{p}.ffn_norm.weight"))?.dequantize(device)?,
                gate: matmul(tensor(&format!("{p}.ffn_gate.weight"))?)?,
                up: matmul(tensor(&format!("{p}.ffn_up.weight"))?)?,
                down: matmul(tensor(&format!("{p}.ffn_down.weight"))?)?,
            });
        }

        // As quantized_llama's precomput_freqs_cis.
        let theta: Vec<f32> = (0..head_dim)
            .step_by(2)
            .map(|i| 1f32 / rope_base.powf(i as f32 / head_dim as f32))
            .collect();
        let theta = Tensor::new(theta.as_slice(), device)?;
        let angles = Tensor::arange(0, max_len as u32, device)?
            .to_dtype(DType::F32)?
            .reshape((max_len, 1))?
            .matmul(&theta.reshape((1, theta.elem_count()))?)?;
        Ok(Llama {
            embedding,
            layers,
            norm,
            output,
            eps,
            n_head,
            n_kv_head,
            head_dim,
            max_len,
            cos: angles.cos()?,
            sin: angles.sin()?,
            neg_inf: Tensor::new(f32::NEG_INFINITY, device)?,
            device: device.clone(),
        })
    }

    /// Query heads per key head.
    fn rep(&self) -> usize {
        self.n_head / self.n_kv_head
    }

    /// Most positions a row may span (`<|endoftext|>` included).
    pub(crate) fn max_len(&self) -> usize {
        self.max_len
    }

    /// Rows of the output layer (the vocabulary size).
    pub(crate) fn vocab_size(&self) -> Result<usize> {
        self.embedding.dim(0)
    }

    /// Feeds `tokens` (`batch × len`, row-major) after the positions in `cache` (which must have
    /// the same batch). Returns the final hidden states `(batch, len, embd)` (after the output
    /// norm) and the cache extended by `len` positions.
    pub(crate) fn forward(
        &self,
        tokens: &[u32],
        batch: usize,
        cache: Option<&KvCache>,
    ) -> Result<(Tensor, KvCache)> {
        let len = tokens.len() / batch.max(1);
        let pos = cache.map_or(0, KvCache::len);
        let mut x = self.embed(tokens, batch, pos)?;
        let mask = if len > 1 {
            let mask = candle_transformers::utils::build_causal_mask(len, pos, &self.device)?;
            Some(mask.broadcast_as((batch, self.n_kv_head, self.rep(), len, pos + len))?)
        } else {
            None
        };
        let cos = self.cos.narrow(0, pos, len)?;
        let sin = self.sin.narrow(0, pos, len)?;
        let mask = match &mask {
            Some(m) => Some((m, self.neg_inf.broadcast_as(m.shape())?)),
            None => None,
        };
        let mut kv = Vec::with_capacity(self.layers.len());
        for (i, layer) in self.layers.iter().enumerate() {
            let past = cache.map(|c| (&c.layers[i].0, &c.layers[i].1));
            let (next, k, v) = self.block(layer, &x, &cos, &sin, past, mask.as_ref())?;
            kv.push((k, v));
            x = next;
        }
        let hidden = candle_nn::ops::rms_norm(&x, &self.norm, self.eps)?;
        Ok((
            hidden,
            KvCache {
                layers: kv,
                len: pos + len,
            },
        ))
    }

    /// Feeds rows that each continue a different prefix of one shared sequence: row `r`'s
    /// `len` tokens (`tokens` is `batch × len`, row-major) sit at positions `starts[r]..` and
    /// see the first `starts[r]` positions of `shared` (a batch-1 cache) and their own tokens
    /// before them, nothing else. So the variants at every position of a sentence run as one
    /// batch after one pass over the sentence. Returns the final hidden states `(batch, len,
    /// embd)`; a row's states past its own last token are padding.
    pub(crate) fn forward_rows(
        &self,
        tokens: &[u32],
        batch: usize,
        starts: &[usize],
        shared: &KvCache,
    ) -> Result<Tensor> {
        let len = tokens.len() / batch.max(1);
        let t = shared.len;
        if starts.len() != batch || starts.iter().any(|&p| p > t) {
            candle_core::bail!("row starts {starts:?} beyond the {t} shared positions");
        }
        let mut x = self.embed(tokens, batch, starts.iter().copied().max().unwrap_or(0))?;
        // Each row's own positions for the rotary embedding.
        let at: Vec<u32> = starts
            .iter()
            .flat_map(|&p| (p..p + len).map(|i| i as u32))
            .collect();
        let at = Tensor::from_slice(&at, (batch * len,), &self.device)?;
        let half = self.head_dim / 2;
        let cos = self.cos.index_select(&at, 0)?.reshape((batch, len, half))?;
        let sin = self.sin.index_select(&at, 0)?.reshape((batch, len, half))?;
        // 1 = hidden: shared positions from the row's start on, and its own later tokens.
        let mask: Vec<u8> = starts
            .iter()
            .flat_map(|&p| {
                (0..len).flat_map(move |i| {
                    (0..t + len).map(move |j| u8::from(if j < t { j >= p } else { j - t > i }))
                })
            })
            .collect();
        let mask = Tensor::from_slice(&mask, (batch, 1, 1, len, t + len), &self.device)?
            .broadcast_as((batch, self.n_kv_head, self.rep(), len, t + len))?;
        let mask = (&mask, self.neg_inf.broadcast_as(mask.shape())?);
        let shape = (batch, self.n_kv_head, t, self.head_dim);
        for (i, layer) in self.layers.iter().enumerate() {
            // One layer's copy at a time (not `KvCache::expand`, which copies every layer at
            // once): the rows × keys of a call times 30 layers would be held together.
            let (ck, cv) = &shared.layers[i];
            let (ck, cv) = (
                ck.broadcast_as(shape)?.contiguous()?,
                cv.broadcast_as(shape)?.contiguous()?,
            );
            x = self
                .block(layer, &x, &cos, &sin, Some((&ck, &cv)), Some(&mask))?
                .0;
        }
        candle_nn::ops::rms_norm(&x, &self.norm, self.eps)
    }

    /// The embeddings `(batch, len, embd)` of `tokens` (`batch × len`, row-major), whose rows
    /// start at most at position `start`: an error past the context length.
    fn embed(&self, tokens: &[u32], batch: usize, start: usize) -> Result<Tensor> {
        let len = tokens.len() / batch.max(1);
        if start + len > self.max_len {
            candle_core::bail!(
                "{} positions exceed the context of {}",
                start + len,
                self.max_len
            );
        }
        let ids = Tensor::from_slice(tokens, (batch * len,), &self.device)?;
        self.embedding
            .index_select(&ids, 0)?
            .reshape((batch, len, self.embedding.dim(1)?))
    }

    /// One transformer block over `x` `(batch, len, embd)` at the rotary angles `cos`/`sin`,
    /// attending to the keys and values `past` (each `(batch, kv_heads, t, head_dim)`) before its
    /// own, under `mask` (1 = hidden; `(batch, kv_heads, query heads per kv head, len, keys)`,
    /// with `-inf` of its shape). Returns the block's output and the keys and values of `past`
    /// and `x` together.
    fn block(
        &self,
        layer: &Layer,
        x: &Tensor,
        cos: &Tensor,
        sin: &Tensor,
        past: Option<(&Tensor, &Tensor)>,
        mask: Option<&(&Tensor, Tensor)>,
    ) -> Result<(Tensor, Tensor, Tensor)> {
        let (batch, len, _) = x.dims3()?;
        let h = candle_nn::ops::rms_norm(x, &layer.attn_norm, self.eps)?;
        let h = Input::new(&h);
        let heads = |w: &Linear, n: usize| -> Result<Tensor> {
            w.forward(&h)?
                .reshape((batch, len, n, self.head_dim))?
                .transpose(1, 2)?
                .contiguous()
        };
        let q = candle_nn::rotary_emb::rope_i(&heads(&layer.wq, self.n_head)?, cos, sin)?;
        let k = candle_nn::rotary_emb::rope_i(&heads(&layer.wk, self.n_kv_head)?, cos, sin)?;
        let v = heads(&layer.wv, self.n_kv_head)?;
        let (k, v) = match past {
            Some((pk, pv)) => (Tensor::cat(&[pk, &k], 2)?, Tensor::cat(&[pv, &v], 2)?),
            None => (k, v),
        };
        // Grouped-query attention without copying keys and values per query head: the `rep`
        // query heads that share a key head are stacked as `rep × len` rows against it (head
        // `h` reads key head `h / rep`, as candle's `repeat_kv` lays them out).
        let (rep, t) = (self.rep(), k.dim(2)?);
        let q = q.reshape((batch, self.n_kv_head, rep * len, self.head_dim))?;
        let att = (q.matmul(&k.t()?)? / (self.head_dim as f64).sqrt())?;
        let att = match mask {
            Some((m, neg_inf)) => {
                m.where_cond(neg_inf, &att.reshape((batch, self.n_kv_head, rep, len, t))?)?
            }
            None => att,
        };
        let att = candle_nn::ops::softmax_last_dim(&att)?.reshape((
            batch,
            self.n_kv_head,
            rep * len,
            t,
        ))?;
        let y = att
            .matmul(&v)?
            .reshape((batch, self.n_head, len, self.head_dim))?
            .transpose(1, 2)?
            .reshape((batch, len, self.n_head * self.head_dim))?;
        let x1 = (layer.wo.forward(&Input::new(&y))? + x)?;
        let h = candle_nn::ops::rms_norm(&x1, &layer.ffn_norm, self.eps)?;
        Ok(((self.mlp(layer, &h)? + &x1)?, k, v))
    }

    /// ln softmax(logits) over the whole vocabulary for one hidden state `(embd,)`.
    pub(crate) fn log_softmax(&self, hidden: &Tensor) -> Result<Vec<f32>> {
        let hidden = hidden.unsqueeze(0)?.contiguous()?;
        let logits = self.output.forward(&Input::new(&hidden))?;
        candle_nn::ops::log_softmax(&logits, D::Minus1)?
            .flatten_all()?
            .to_vec1()
    }

    /// The gated MLP `down(silu(gate(h)) · up(h))`; with 8-bit layers, computed on plain vectors
    /// (the gated unit quantized for `down` straight away).
    fn mlp(&self, layer: &Layer, h: &Tensor) -> Result<Tensor> {
        let input = Input::new(h);
        if let (Linear::Int8(gate), Linear::Int8(up), Linear::Int8(down)) =
            (&layer.gate, &layer.up, &layer.down)
        {
            let rows = input.rows()?;
            let (mut g, u) = (gate.times(rows), up.times(rows));
            crate::int8::silu_times(&mut g, &u);
            let out = down.times(&Rows::new(&g, gate.rows()));
            return shaped_like(out, h, down.rows());
        }
        let gated =
            (candle_nn::ops::silu(&layer.gate.forward(&input)?)? * layer.up.forward(&input)?)?;
        layer.down.forward(&Input::new(&gated))
    }

    /// ln softmax(logits)[target] for hidden states `(n, embd)` and one target each.
    pub(crate) fn log_probs(&self, hidden: &Tensor, targets: &[u32]) -> Result<Vec<f32>> {
        let hidden = hidden.contiguous()?;
        if let Linear::Int8(output) = &self.output {
            let logits = output.times(Input::new(&hidden).rows()?);
            let vocab = output.rows();
            return Ok(logits
                .chunks_exact(vocab)
                .zip(targets)
                .map(|(row, &t)| row[t as usize] - crate::int8::ln_sum_exp(row))
                .collect());
        }
        let logits = self.output.forward(&Input::new(&hidden))?;
        let lsm = candle_nn::ops::log_softmax(&logits, D::Minus1)?;
        let idx = Tensor::from_slice(targets, (targets.len(), 1), &self.device)?;
        lsm.gather(&idx, 1)?.flatten_all()?.to_vec1()
    }
}
