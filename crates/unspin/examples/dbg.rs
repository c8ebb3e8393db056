fn main() {
    let p = unspin::Pack::open("models/default.unspin".as_ref()).unwrap();
    let lex = p.lexicon();
    for w in std::env::args().skip(1) {
        let id = lex.word_id(&w);
        println!("{w}: id {id:?} class {:?}", id.map(|i| lex.class(i)));
        if let Some(i) = id {
            println!("  analyses {:?}", lex.analyses(i).map(|(l, f)| (lex.word(l), f)).collect::<Vec<_>>());
            for f in [unspin::lexicon::Form::S, unspin::lexicon::Form::Ed, unspin::lexicon::Form::Ing] {
                println!("  inflect {f:?} {:?}", lex.inflect(i, f).map(|x| lex.word(x)).collect::<Vec<_>>());
            }
            println!("  neighbors {}", lex.neighbors(i).take(30).map(|(n, f)| format!("{}:{f}", lex.node_text(n))).collect::<Vec<_>>().join(", "));
        }
    }
}
