//! candle's thread pools follow the CPUs the process may use (its own test binary: the
//! environment is the process's).
#![cfg(feature = "candle")]

use std::path::Path;

use unspin_neural::NeuralScorer;

#[test]
fn opening_a_model_sizes_candles_threads_to_the_allowed_cpus() {
    let before = (
        std::env::var_os("RAYON_NUM_THREADS"),
        std::env::var_os("CANDLE_NUM_THREADS"),
    );
    // Even an open that fails has set the pools up for the next one.
    let _ = NeuralScorer::open(Path::new("/nonexistent/unspin/model.gguf"));
    let after = std::env::var("RAYON_NUM_THREADS").ok();
    match before {
        (None, None) => {
            let allowed = std::thread::available_parallelism().unwrap().get();
            assert_eq!(after, Some(allowed.to_string()));
        }
        // The user's choice stands.
        (rayon, _) => assert_eq!(std::env::var_os("RAYON_NUM_THREADS"), rayon),
    }
}
