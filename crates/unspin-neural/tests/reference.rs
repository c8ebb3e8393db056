//! The crate's forward pass against candle's own `quantized_llama::ModelWeights` (feature
//! `candle`; skipped like the model tests when the model file is absent).
//!
//! `ModelWeights::forward` returns the last position's logits only, so the reference steps one
//! token per call through its KV cache. Its weights are dequantized with `CANDLE_DEQUANTIZE_ALL`,
//! as the scorer's are: this test file runs alone in its own process, and sets the variable
//! before anything reads it.
#![cfg(feature = "candle")]

use candle_core::quantized::gguf_file::Content;
use candle_core::{Device, Tensor};
use candle_transformers::models::quantized_llama::ModelWeights;
use unspin_neural::{NeuralScorer, Products};

fn reference_score(model: &mut ModelWeights, ids: &[u32]) -> f64 {
    model.clear_kv_cache();
    let mut input = 0u32; // <|endoftext|>
    let mut total = 0f64;
    for (pos, &target) in ids.iter().enumerate() {
        let x = Tensor::from_slice(&[input], (1, 1), &Device::Cpu).unwrap();
        let logits: Vec<f32> = model
            .forward(&x, pos)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        let max = logits.iter().fold(f32::NEG_INFINITY, |m, &x| m.max(x)) as f64;
        let sum: f64 = logits.iter().map(|&x| (x as f64 - max).exp()).sum();
        total += logits[target as usize] as f64 - max - sum.ln();
        input = target;
    }
    total
}

#[test]
fn forward_pass_matches_quantized_llama_model_weights() {
    let path = NeuralScorer::default_path();
    if !path.is_file() {
        if std::env::var("UNSPIN_REQUIRE_NEURAL").as_deref() == Ok("1") {
            panic!(
                "UNSPIN_REQUIRE_NEURAL=1 but the model {} is missing",
                path.display()
            );
        }
        eprintln!(
            "note: skipped, no model at {} (run scripts/fetch-neural.sh)",
            path.display()
        );
        return;
    }
    // The only test in this binary: nothing else reads the environment concurrently.
    std::env::set_var("CANDLE_DEQUANTIZE_ALL", "1");
    let mut file = std::fs::File::open(&path).unwrap();
    let ct = Content::read(&mut file).unwrap();
    let mut reference = ModelWeights::from_gguf(ct, &mut file, &Device::Cpu).unwrap();
    let mut scorer = NeuralScorer::open_with(&path, Products::Exact).unwrap();
    let texts = [
        "the first major case of a group of deserters",
        "Six Russian troopers who fled the warfare in Ukraine have been granted momentary visas.",
    ];
    let ours = scorer.score(&texts).unwrap();
    for (text, ours) in texts.iter().zip(ours) {
        let ids = scorer.tokenize(text).unwrap();
        let theirs = reference_score(&mut reference, &ids);
        eprintln!("{ours:.4} vs ModelWeights {theirs:.4}: {text}");
        assert!(
            (ours as f64 - theirs).abs() <= 1e-3 * theirs.abs(),
            "{text:?}: {ours} vs {theirs}"
        );
    }
}
