//! Prints a word's thesaurus neighbours, most frequent first, with relation flags.
//!
//! cargo run --release --example neighbors -- soldiers war
fn main() {
    let pack = unspin::Pack::open("models/default.unspin".as_ref()).unwrap();
    let (lex, lm) = (pack.lexicon(), pack.lm());
    for w in std::env::args().skip(1) {
        let Some(id) = lex.word_id(&w) else {
            println!("{w}: not in the vocabulary");
            continue;
        };
        let mut nodes = vec![(id, unspin::lexicon::Form::Base)];
        nodes.extend(lex.analyses(id));
        for (n, form) in nodes {
            let mut ns: Vec<(f32, String, u8)> = lex
                .neighbors(n)
                .map(|(m, f)| {
                    let ws = lex.node_words(m);
                    (
                        lm.sequence(unspin::lm::NONE, unspin::lm::NONE, ws.as_slice())
                            .0,
                        lex.node_text(m),
                        f,
                    )
                })
                .collect();
            ns.sort_by(|a, b| b.0.total_cmp(&a.0));
            println!("{} ({form:?}, {} neighbours):", lex.node_text(n), ns.len());
            let line: Vec<String> = ns
                .iter()
                .take(25)
                .map(|(p, t, f)| format!("{t}:{f}:{p:.1}"))
                .collect();
            println!("  {}", line.join(", "));
        }
    }
}
