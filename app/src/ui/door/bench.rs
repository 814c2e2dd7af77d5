//! The benchmark harness of the door page, built only with the `door-bench` feature
//! (`scripts/bench-door.sh`; release builds leave it out): `/door/<slug>?bench=N&token=T`
//! times the offline decision for badge `T` with `N` more denied badges in the list and
//! shows the figures in `<output id="bench">`.

use super::DoorState;
use super::engine::{LIST, now_ms};
use crate::domain::badge::offline_verdict;
use leptos::prelude::*;

/// Runs the benchmark when the page's address asks for it.
pub fn run_if_asked(state: DoorState) {
    let Some(search) = web_sys::window().and_then(|w| w.location().search().ok()) else { return };
    let Ok(params) = web_sys::UrlSearchParams::new_with_str(&search) else { return };
    let n = params.get("bench").and_then(|n| n.parse::<usize>().ok());
    if let (Some(n), Some(token)) = (n, params.get("token")) {
        state.bench.set(Some(benchmark(n, &token)));
    }
}

/// Times the offline decision with `n` denied badges in the list: the median of 200
/// decisions, in milliseconds.
fn benchmark(n: usize, token: &str) -> String {
    let perf = web_sys::window().and_then(|w| w.performance());
    LIST.with(|l| {
        let mut l = l.borrow_mut();
        let Some((stored, keys)) = l.as_mut() else { return "no list".to_owned() };
        let mut list = stored.list.clone();
        for _ in 0..n {
            list.denied.insert(
                uuid::Uuid::new_v4(),
                crate::domain::badge::Denial::always(crate::domain::badge::DenyReason::Revoked),
            );
        }
        // The browser's clock is coarse (0.1 ms in Chromium), so time rounds of 20
        // verdicts and take the median and the slowest round, per verdict.
        let mut per_verdict = Vec::with_capacity(21);
        let mut result = None;
        for _ in 0..21 {
            let start = perf.as_ref().map(|p| p.now()).unwrap_or_else(now_ms);
            for _ in 0..20 {
                result = Some(offline_verdict(token, &list, keys, chrono::Utc::now()));
            }
            per_verdict.push((perf.as_ref().map(|p| p.now()).unwrap_or_else(now_ms) - start) / 20.0);
        }
        per_verdict.sort_by(|a, b| a.total_cmp(b));
        format!(
            "denied={} median_ms={:.4} max_ms={:.4} result={:?}",
            list.denied.len(),
            per_verdict[10],
            per_verdict[20],
            result.map(|r| r.result)
        )
    })
}
