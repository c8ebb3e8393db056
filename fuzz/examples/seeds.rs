//! Writes seed corpora for the targets into `fuzz/corpus/<target>/` (or the folder given):
//! the valid tiny pack for `pack_load`, an empty edit list for `pack_edit`, the tiny CMU models
//! for `cmu_lm`, and a few texts for `tokenize` and `spintax`.
//!
//! `cargo run --manifest-path fuzz/Cargo.toml --example seeds [-- DIR]`

use std::path::PathBuf;

fn main() -> std::io::Result<()> {
    let root = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/corpus")));
    let put = |target: &str, name: &str, bytes: &[u8]| -> std::io::Result<()> {
        let dir = root.join(target);
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join(name), bytes)
    };
    let pack = unspin_fuzz::write_pack(&unspin_fuzz::tiny_pack_sections());
    let loaded = unspin::Pack::from_bytes(pack.clone()).expect("the tiny pack loads");
    unspin_fuzz::exercise_all(&loaded);
    // Show that the tiny pack does restore and spin (so the fuzzed paths are the real ones).
    let r = unspin::Restorer::new(&loaded).restore(unspin_fuzz::TEXTS[0]);
    println!("restore: {:?} -> {:?} ({} spans)", unspin_fuzz::TEXTS[0], r.text, r.spans.len());
    let opts = unspin::spin::SpinOptions { rate: 1.0, phrases: true, ..Default::default() };
    let s = unspin::spin::spin(&loaded, unspin_fuzz::TEXTS[1], &opts);
    println!("spin:    {:?} -> {:?} ({} substitutions)", unspin_fuzz::TEXTS[1], s.text, s.substitutions.len());
    let mut fixed = pack.clone();
    unspin_fuzz::fix_crcs(&mut fixed);
    assert_eq!(fixed, pack, "fix_crcs agrees with PackWriter's checksums");
    put("pack_load", "tiny.unspin", &pack)?;
    for flags in [0u8, 2, 4, 0x82, 0x90] {
        put("pack_edit", &format!("none-{flags:02x}"), &[flags])?;
    }
    for order in 1..=3u8 {
        let compact = unspin_fuzz::tiny_cmu_compact(order);
        let full = unspin_fuzz::expand_cmu(&compact).unwrap_or_else(|| compact.clone());
        let lm = unspin::build::cmu::read_trie_lm(&full).expect("the tiny CMU model parses");
        assert_eq!(lm.words.len(), 5);
        put("cmu_lm", &format!("tiny-order{order}.compact"), &compact)?;
    }
    for (i, t) in unspin_fuzz::TEXTS.iter().enumerate() {
        put("tokenize", &format!("text{i}"), t.as_bytes())?;
    }
    put("tokenize", "mixed", "“Yes,” she said. 1,000.50 m. didn’t 1000’s café naïve\n\n  x".as_bytes())?;
    put("spintax", "nested", b"\0\0\0\0\0\0\0\0{Hello|Hi} {world|{there|here}}, | {a||b}")?;
    let profile = unspin::learn::Profile::learn([("The troopers fled the warfare.", "The soldiers fled the war.")]);
    let mut seed = serde_json::to_vec(&profile).expect("a profile serialises");
    seed.extend_from_slice(b"\xffThe big troopers ran away.\xffThe large soldiers ran away.");
    put("profile", "learned", &seed)?;
    let texts: Vec<&[u8]> = unspin_fuzz::TEXTS.iter().map(|t| t.as_bytes()).collect();
    put("restore_pooled", "texts", &texts.join(&b'\xff'))?;
    put("restore_pooled", "one", unspin_fuzz::TEXTS[0].as_bytes())?;
    println!("seeds written under {}", root.display());
    Ok(())
}
