//! End to end on a real loopback socket: an HTTP client talks to `serve`, and a shutdown lets
//! the request in flight finish before the server returns.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

mod common;
use common::{example, state};

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

#[test]
fn http_on_a_real_socket_and_graceful_shutdown() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = rt.spawn(unspin_server::serve(listener, state(), async {
        let _ = stopped.await;
    }));
    let agent = agent();

    // The page, health, an analysis and an error, over HTTP/1.1.
    let mut page = agent.get(&format!("{base}/")).call().unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.body_mut().read_to_string().unwrap().contains("unspin"));
    let mut h = agent.get(&format!("{base}/healthz")).call().unwrap();
    assert_eq!(h.body_mut().read_json::<Value>().unwrap()["status"], "ok");
    let text = example("spun-news.txt");
    let mut r = agent
        .post(&format!("{base}/v1/restore"))
        .send_json(json!({ "text": text }))
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.body_mut().read_json().unwrap();
    assert!(
        v["text"]
            .as_str()
            .unwrap()
            .contains("granted temporary visas"),
        "{v}"
    );
    let mut e = agent
        .post(&format!("{base}/v1/detect"))
        .send_json(json!({ "txt": text }))
        .unwrap();
    assert_eq!(e.status(), 400);
    assert!(e.body_mut().read_json::<Value>().unwrap()["error"]
        .as_str()
        .unwrap()
        .contains("unknown field"));

    // A long analysis in flight when the shutdown comes still gets its answer.
    let long = example("spun-news.txt").repeat(1000);
    let slow = {
        let (agent, base) = (agent.clone(), base.clone());
        std::thread::spawn(move || {
            let mut r = agent
                .post(&format!("{base}/v1/detect"))
                .send_json(json!({ "text": long }))
                .unwrap();
            (r.status(), r.body_mut().read_json::<Value>().unwrap())
        })
    };
    let t = Instant::now();
    loop {
        let mut h = agent.get(&format!("{base}/healthz")).call().unwrap();
        if h.body_mut().read_json::<Value>().unwrap()["busy"] == 1 {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "the analysis never started"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    stop.send(()).unwrap();
    let (status, body) = slow.join().unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(body["score"].as_f64().unwrap() > 0.0);
    rt.block_on(server).unwrap().unwrap();
    // Once stopped, nothing listens there any more.
    assert!(agent.get(&format!("{base}/healthz")).call().is_err());
}
