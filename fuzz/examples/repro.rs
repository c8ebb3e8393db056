//! Replays a `pack_edit` input outside the fuzzer: decodes it into a pack, writes that pack to a
//! file if asked (so it can be tried with the CLI), loads it and uses it like the target does,
//! every text and both spinner modes. A panic here is the bug, with a plain backtrace.
//!
//! `UNSPIN_FUZZ_KNOWN_BUGS=1 cargo run --manifest-path fuzz/Cargo.toml --example repro -- INPUT [OUT.unspin]`

fn main() {
    let mut args = std::env::args_os().skip(1);
    let Some(input) = args.next() else {
        eprintln!("usage: repro PACK_EDIT_INPUT [OUT.unspin]");
        std::process::exit(2);
    };
    let data = std::fs::read(&input).expect("read the input");
    let (bytes, _) = unspin_fuzz::pack_from_edits(&data);
    if let Some(out) = args.next() {
        std::fs::write(&out, &bytes).expect("write the pack");
        eprintln!("pack written to {}", out.to_string_lossy());
    }
    match unspin::Pack::from_bytes(bytes) {
        Err(e) => println!("refused on load: {e}"),
        Ok(pack) => {
            println!("loaded; known bug: {:?}", unspin_fuzz::known_bug(&pack));
            unspin_fuzz::exercise_all(&pack);
            println!("used without a panic");
        }
    }
}
