//! Timing of the neural scorer: `cargo run --release -p unspin-neural --features candle
//! --example measure`. Prints load time, ms per 40-token sentence, ms per variant
//! with `score_variants`, and peak RSS.

use std::time::Instant;

use unspin_neural::NeuralScorer;

const SENTENCE: &str = "Six Russian soldiers who fled the war in Ukraine have been granted \
temporary visas as they apply for political asylum in France, in what human rights activists \
describe as the first major case of a group of deserters being admitted to a EU country.";

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = NeuralScorer::default_path();
    let t = Instant::now();
    let mut s = NeuralScorer::open(&path)?;
    println!(
        "load: {:.0} ms (rss {:.0} MiB)",
        t.elapsed().as_secs_f64() * 1e3,
        peak_rss_mib()
    );

    // A 40-token sentence: cut the test sentence at 40 tokens.
    let ids = s.tokenize(SENTENCE)?;
    let forty = s.detokenize(&ids[..40])?;
    assert_eq!(s.tokenize(&forty)?.len(), 40);
    s.score(&[&forty])?; // warm-up
    let reps = 3;
    let t = Instant::now();
    for _ in 0..reps {
        s.score(&[&forty])?;
    }
    println!(
        "score, 1 sentence of 40 tokens: {:.0} ms",
        t.elapsed().as_secs_f64() * 1e3 / reps as f64
    );
    let batch = vec![forty.as_str(); 8];
    let t = Instant::now();
    s.score(&batch)?;
    println!(
        "score, batch of 8 such sentences: {:.0} ms per sentence",
        t.elapsed().as_secs_f64() * 1e3 / 8.0
    );

    // Variants: 20 candidates at token 20 of the 40-token sentence (shared prefix ~20 tokens).
    let words = [
        "primary",
        "main",
        "chief",
        "principal",
        "foremost",
        "leading",
        "initial",
        "earliest",
        "prime",
        "premier",
        "top",
        "key",
        "major",
        "big",
        "great",
        "notable",
        "significant",
        "serious",
        "real",
        "true",
    ];
    let cut = forty
        .find("first")
        .expect("the 40-token sentence has `first`");
    let (prefix, rest) = forty.split_at(cut);
    let variants: Vec<String> = words.iter().map(|w| rest.replacen("first", w, 1)).collect();
    let variants: Vec<&str> = variants.iter().map(String::as_str).collect();
    let prefix_tokens = s.tokenize(prefix)?.len();
    let t = Instant::now();
    let scores = s.score_variants(prefix, &variants)?;
    let ms = t.elapsed().as_secs_f64() * 1e3;
    println!(
        "score_variants, {} variants after a {prefix_tokens}-token prefix: {:.0} ms total, {:.0} ms per variant",
        variants.len(),
        ms,
        ms / variants.len() as f64
    );
    let whole: Vec<String> = variants.iter().map(|v| format!("{prefix}{v}")).collect();
    let whole: Vec<&str> = whole.iter().map(String::as_str).collect();
    let t = Instant::now();
    let separate = s.score(&whole)?;
    println!(
        "score, the same {} sentences as one batch: {:.0} ms per sentence",
        whole.len(),
        t.elapsed().as_secs_f64() * 1e3 / whole.len() as f64
    );
    let worst = scores
        .iter()
        .zip(&separate)
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max);
    println!("largest |score_variants - score|: {worst:.5}");
    let mut ranked: Vec<(f32, &str)> = scores.iter().cloned().zip(words).collect();
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
    println!("ranking: {ranked:?}");
    println!("peak rss: {:.0} MiB", peak_rss_mib());
    Ok(())
}
