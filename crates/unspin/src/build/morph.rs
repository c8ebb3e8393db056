//! English inflection for the pack builder: WordNet's exception lists plus its detachment rules,
//! with every lemma checked against WordNet's index of that part of speech.

use std::collections::{HashMap, HashSet};

use crate::lexicon::Form;

/// Lemma lists per part of speech and the inflected → lemma exceptions.
#[derive(Default)]
pub struct Morphology {
    /// Lemmas of WordNet's `index.noun`, `index.verb`, `index.adj` (spaces for underscores).
    pub nouns: HashSet<String>,
    /// See `nouns`.
    pub verbs: HashSet<String>,
    /// See `nouns`.
    pub adjs: HashSet<String>,
    /// See `nouns`.
    pub advs: HashSet<String>,
    /// Exceptions: inflected form → (lemma, form).
    pub exceptions: HashMap<String, Vec<(String, Form)>>,
}

/// Reads the lemma column of a WordNet `index.*` file.
pub fn read_index(text: &str) -> HashSet<String> {
    text.lines()
        .filter(|l| !l.starts_with("  "))
        .filter_map(|l| l.split(' ').next())
        .map(|w| w.replace('_', " "))
        .collect()
}

const NOUN_RULES: &[(&str, &str)] = &[
    ("s", ""),
    ("ses", "s"),
    ("xes", "x"),
    ("zes", "z"),
    ("ches", "ch"),
    ("shes", "sh"),
    ("men", "man"),
    ("ies", "y"),
];
const VERB_S_RULES: &[(&str, &str)] = &[("s", ""), ("ies", "y"), ("es", "e"), ("es", "")];
const VERB_ED_RULES: &[(&str, &str)] = &[("ed", "e"), ("ed", ""), ("ied", "y")];
const VERB_ING_RULES: &[(&str, &str)] = &[("ing", "e"), ("ing", ""), ("ying", "ie")];
const ADJ_ER_RULES: &[(&str, &str)] = &[("er", ""), ("er", "e"), ("ier", "y")];
const ADJ_EST_RULES: &[(&str, &str)] = &[("est", ""), ("est", "e"), ("iest", "y")];

impl Morphology {
    /// Adds the exception list of one part of speech (`noun.exc`, `verb.exc`, `adj.exc`).
    pub fn add_exceptions(&mut self, pairs: &[(String, String)], pos: char) {
        for (infl, lemma) in pairs {
            let form = match pos {
                'n' => Form::S,
                // verb.exc lists past forms, and a few third persons ("has", "is", "does").
                'v' if matches!(infl.as_str(), "has" | "is" | "does" | "goes") => Form::S,
                'v' => Form::Ed,
                _ => {
                    if infl.ends_with("st") {
                        Form::Est
                    } else {
                        Form::Er
                    }
                }
            };
            self.exceptions
                .entry(infl.clone())
                .or_default()
                .push((lemma.clone(), form));
        }
    }

    /// Word-class bits ([`crate::lexicon::class`]) of `word`: its own parts of speech and
    /// those its analyses imply.
    pub fn class_of(&self, word: &str) -> u8 {
        use crate::lexicon::class;
        let mut c = 0;
        for (set, bit) in [
            (&self.nouns, class::NOUN),
            (&self.verbs, class::VERB),
            (&self.adjs, class::ADJ),
            (&self.advs, class::ADV),
        ] {
            if set.contains(word) {
                c |= bit;
            }
        }
        for (lemma, form) in self.analyze(word) {
            c |= match form {
                Form::S => {
                    (if self.nouns.contains(&lemma) {
                        class::NOUN
                    } else {
                        0
                    }) | (if self.verbs.contains(&lemma) {
                        class::VERB
                    } else {
                        0
                    })
                }
                Form::Ed | Form::Ing => class::VERB,
                Form::Er | Form::Est => class::ADJ,
                Form::Base => 0,
            };
        }
        if crate::lexicon::FUNCTION_WORDS.contains(&word) {
            c |= class::FUNCTION;
        }
        c
    }

    /// All (lemma, form) analyses of `word` other than itself.
    pub fn analyze(&self, word: &str) -> Vec<(String, Form)> {
        let mut out: Vec<(String, Form)> = Vec::new();
        let mut push = |lemma: String, form: Form| {
            if lemma != word && !out.iter().any(|(l, f)| *l == lemma && *f == form) {
                out.push((lemma, form));
            }
        };
        if let Some(ex) = self.exceptions.get(word) {
            for (l, f) in ex {
                push(l.clone(), *f);
            }
        }
        let mut apply = |rules: &[(&str, &str)], set: &HashSet<String>, form: Form| {
            for (suf, rep) in rules {
                if let Some(stem) = word.strip_suffix(suf) {
                    if stem.len() < 2 {
                        continue;
                    }
                    let lemma = format!("{stem}{rep}");
                    if set.contains(&lemma) {
                        push(lemma, form);
                    } else if rep.is_empty()
                        && matches!(form, Form::Ed | Form::Ing | Form::Er | Form::Est)
                    {
                        // Doubled final consonant: "stopped" → "stop", "bigger" → "big".
                        let b = stem.as_bytes();
                        if b.len() >= 3
                            && b[b.len() - 1] == b[b.len() - 2]
                            && !b"aeiouy".contains(&b[b.len() - 1])
                        {
                            let undoubled = &stem[..stem.len() - 1];
                            if set.contains(undoubled) {
                                push(undoubled.to_string(), form);
                            }
                        }
                    }
                }
            }
        };
        apply(NOUN_RULES, &self.nouns, Form::S);
        apply(VERB_S_RULES, &self.verbs, Form::S);
        apply(VERB_ED_RULES, &self.verbs, Form::Ed);
        apply(VERB_ING_RULES, &self.verbs, Form::Ing);
        apply(ADJ_ER_RULES, &self.adjs, Form::Er);
        apply(ADJ_EST_RULES, &self.adjs, Form::Est);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Morphology {
        let mut m = Morphology::default();
        for w in ["soldier", "trooper", "man", "church"] {
            m.nouns.insert(w.into());
        }
        for w in ["send", "despatch", "stop", "make", "flee"] {
            m.verbs.insert(w.into());
        }
        m.adjs.insert("big".into());
        m.add_exceptions(
            &[
                ("sent".into(), "send".into()),
                ("fled".into(), "flee".into()),
            ],
            'v',
        );
        m
    }

    #[test]
    fn analyses() {
        let m = sample();
        assert_eq!(m.analyze("troopers"), [("trooper".to_string(), Form::S)]);
        assert_eq!(m.analyze("sent"), [("send".to_string(), Form::Ed)]);
        assert_eq!(
            m.analyze("despatched"),
            [("despatch".to_string(), Form::Ed)]
        );
        assert_eq!(m.analyze("stopped"), [("stop".to_string(), Form::Ed)]);
        assert_eq!(m.analyze("making"), [("make".to_string(), Form::Ing)]);
        assert_eq!(m.analyze("bigger"), [("big".to_string(), Form::Er)]);
        assert_eq!(m.analyze("churches"), [("church".to_string(), Form::S)]);
        assert!(m.analyze("soldier").is_empty());
    }
}
