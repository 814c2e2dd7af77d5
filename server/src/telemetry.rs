//! Logs and metrics. Log lines carry ids, routes (the pattern, never the raw path, which
//! may hold a token), statuses and timings — never names, addresses, text or tokens.

use crate::config::{LogFormat, Settings};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber once; later calls (tests start many servers) are no-ops.
pub fn init_logging(settings: &Settings) {
    let filter = EnvFilter::try_new(&settings.log_filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match settings.log_format {
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(true).try_init(),
        LogFormat::Text => builder.compact().try_init(),
    };
}

/// Upper bounds of the latency histogram, in seconds.
const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// Request counts and latencies by route, rendered in Prometheus' text format.
#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    latencies: Mutex<BTreeMap<(String, String), Histogram>>,
}

impl Metrics {
    pub fn record(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        *self
            .requests
            .lock()
            .expect("metrics lock")
            .entry((method.to_owned(), route.to_owned(), status))
            .or_default() += 1;
        let secs = elapsed.as_secs_f64();
        let mut latencies = self.latencies.lock().expect("metrics lock");
        let h = latencies.entry((method.to_owned(), route.to_owned())).or_default();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if secs <= *bound {
                h.counts[i] += 1;
            }
        }
        h.count += 1;
        h.sum += secs;
    }

    /// The Prometheus exposition, with the database pool's figures appended.
    pub fn render(&self, pool_size: u32, pool_idle: usize, pool_max: u32) -> String {
        let mut out = String::new();
        out.push_str("# HELP haven_http_requests_total HTTP requests answered, by route pattern and status.\n");
        out.push_str("# TYPE haven_http_requests_total counter\n");
        for ((method, route, status), n) in self.requests.lock().expect("metrics lock").iter() {
            let _ = writeln!(
                out,
                "haven_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {n}",
                escape(route)
            );
        }
        out.push_str("# HELP haven_http_request_duration_seconds Time to answer HTTP requests.\n");
        out.push_str("# TYPE haven_http_request_duration_seconds histogram\n");
        for ((method, route), h) in self.latencies.lock().expect("metrics lock").iter() {
            let labels = format!("method=\"{method}\",route=\"{}\"", escape(route));
            for (i, bound) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "haven_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {}",
                    h.counts[i]
                );
            }
            let _ = writeln!(out, "haven_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}", h.count);
            let _ = writeln!(out, "haven_http_request_duration_seconds_sum{{{labels}}} {}", h.sum);
            let _ = writeln!(out, "haven_http_request_duration_seconds_count{{{labels}}} {}", h.count);
        }
        out.push_str("# HELP haven_db_pool_connections Database pool connections by state.\n");
        out.push_str("# TYPE haven_db_pool_connections gauge\n");
        let in_use = (pool_size as usize).saturating_sub(pool_idle);
        let _ = writeln!(out, "haven_db_pool_connections{{state=\"idle\"}} {pool_idle}");
        let _ = writeln!(out, "haven_db_pool_connections{{state=\"in_use\"}} {in_use}");
        out.push_str("# HELP haven_db_pool_max_connections Configured size limit of the database pool.\n");
        out.push_str("# TYPE haven_db_pool_max_connections gauge\n");
        let _ = writeln!(out, "haven_db_pool_max_connections {pool_max}");
        out
    }
}

fn escape(label: &str) -> String {
    label.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counts_and_cumulative_buckets() {
        let m = Metrics::default();
        m.record("GET", "/healthz", 200, Duration::from_millis(2));
        m.record("GET", "/healthz", 200, Duration::from_millis(30));
        let text = m.render(3, 1, 10);
        assert!(text.contains("haven_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 2"));
        assert!(text.contains("route=\"/healthz\",le=\"0.0025\"} 1"));
        assert!(text.contains("route=\"/healthz\",le=\"0.05\"} 2"));
        assert!(text.contains("haven_db_pool_connections{state=\"in_use\"} 2"));
    }
}
