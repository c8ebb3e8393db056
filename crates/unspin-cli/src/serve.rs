//! `unspin serve`: the flags detect uses, validated, handed to `unspin-server`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use unspin_server::{AppState, Limits};

use crate::args::ServeArgs;
use crate::detect::Scoring;

pub fn serve_cmd(a: ServeArgs) -> Result<u8> {
    anyhow::ensure!(a.max_body > 0, "--max-body must be at least 1 byte");
    anyhow::ensure!(
        a.timeout.is_finite() && a.timeout > 0.0,
        "--timeout must be a positive number of seconds, not {}",
        a.timeout
    );
    anyhow::ensure!(a.concurrency != Some(0), "--concurrency must be at least 1");
    anyhow::ensure!(
        a.precise_workers > 0,
        "--precise-workers must be at least 1"
    );
    let t = Instant::now();
    let scoring = Scoring::new(&a.scoring, false)?;
    let (matcher, pack, mask, opts) = scoring.into_parts();
    let pack = pack.context("the server needs the model pack")?;
    let channel = crate::learn::channel(&pack, mask, &a.scoring.profile)?;
    let defaults = Limits::default();
    let limits = Limits {
        max_body: a.max_body,
        timeout: Duration::from_secs_f64(a.timeout),
        concurrency: a.concurrency.unwrap_or(defaults.concurrency),
    };
    let mut state = AppState::new(pack, channel, limits)
        .with_fingerprints(matcher)
        .with_detect_options(opts);
    if let Some(path) = &a.index {
        let index = unspin::index::Index::open(path)
            .with_context(|| format!("cannot open index {}", path.display()))?;
        state = state
            .with_index(index)
            .with_context(|| format!("cannot use index {}", path.display()))?;
        // As `unspin trace --profile`: the learned rules explain substitutions when tracing.
        if let Some(p) = &a.scoring.profile.profile {
            let profile = unspin::learn::Profile::load(p).context("cannot use --profile")?;
            state = state.with_trace_rules(Some(unspin::index::Rules::from_profile(&profile)));
        }
    }
    let mut scorers: Vec<Box<dyn unspin::restore::SentenceScorer + Send>> = Vec::new();
    if a.precise.precise {
        for _ in 0..a.precise_workers {
            let n = crate::output::open_neural(&a.precise)?.expect("--precise is set");
            scorers.push(Box::new(n));
        }
    }
    state = state.with_sentence_scorers(scorers);
    state.warm_up();
    let l = state.limits();
    eprintln!(
        "unspin serve: ready in {:.0} ms (body limit {} bytes, timeout {} s, {} analyses at once{}{}{})",
        t.elapsed().as_secs_f64() * 1e3,
        l.max_body,
        l.timeout.as_secs_f64(),
        l.concurrency,
        if a.index.is_some() { ", tracing on" } else { "" },
        if state.has_fingerprints() { ", fingerprint list on" } else { "" },
        if a.precise.precise {
            format!(", precise mode with {} sentence model(s)", a.precise_workers)
        } else {
            String::new()
        },
    );
    unspin_server::run(a.addr, Arc::new(state))
        .with_context(|| format!("serving on {}", a.addr))?;
    Ok(0)
}
