//! The table, the JSON (raw figures beside a `targets` list) and the latency histogram.

use super::scenarios::{
    config_json, vm_json, Call, Connections, Fairness, IdleMemory, OpenLevel, Removal, RemovalRuns,
    Throughput,
};
use super::stats::Samples;
use super::RunArgs;
use plotters::prelude::*;
use serde_json::{json, Map, Value};
use std::path::Path;
use std::time::Duration;

/// Bumped when the JSON's shape changes.
pub const VERSION: u32 = 1;

/// One target of the issue, judged on this run's figure.
struct Target {
    name: String,
    value: f64,
    unit: &'static str,
    limit: f64,
    /// A figure that could not be measured (NaN) is never met.
    met: bool,
}

pub struct Report {
    json: Map<String, Value>,
    table: Vec<String>,
    targets: Vec<Target>,
    /// Per call kind: service and null samples in microseconds, for the histogram.
    histograms: Vec<(&'static str, Vec<f64>, Vec<f64>)>,
}

fn kib(bytes: f64) -> f64 {
    bytes / 1024.0
}

fn mib(bytes: f64) -> f64 {
    bytes / (1024.0 * 1024.0)
}

/// A figure as the report gives it: three decimals.
fn reported(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// JSON has no NaN: an unmeasured figure is null.
fn num(x: f64) -> Value {
    if x.is_finite() {
        json!(reported(x))
    } else {
        Value::Null
    }
}

fn summary(samples: &mut Samples) -> Value {
    json!({
        "count": samples.len(),
        "p50_us": num(samples.median_us()),
        "p99_us": num(samples.p99_us()),
        "max_us": num(samples.quantile_us(1.0)),
    })
}

impl Report {
    pub fn new(args: &RunArgs, server_cpu: usize, client_cpu: usize) -> Report {
        let mut json = Map::new();
        json.insert("config".into(), config_json(args, server_cpu, client_cpu));
        Report { json, table: Vec::new(), targets: Vec::new(), histograms: Vec::new() }
    }

    /// A target is judged on the figure as reported, so that a reader who compares the two
    /// never sees "1.05 <= 1.05: MISSED".
    fn target(&mut self, name: String, value: f64, unit: &'static str, limit: f64) {
        let met = value.is_finite() && reported(value) <= limit;
        self.targets.push(Target { name, value, unit, limit, met });
    }

    fn line(&mut self, text: String) {
        self.table.push(text);
    }

    pub fn memory_idle(&mut self, idle: IdleMemory) {
        self.json
            .insert("memory_idle".into(), json!({"rss_bytes": idle.rss, "threads": idle.threads}));
        self.line(format!(
            "memory idle: RSS {:.2} MiB, {} threads",
            mib(idle.rss as f64),
            idle.threads
        ));
        self.target("rss idle".into(), mib(idle.rss as f64), "MiB", 4.0);
    }

    pub fn calls(&mut self, mut results: Vec<(Call, Samples, Samples)>) {
        let ping = results
            .iter_mut()
            .find(|(c, _, _)| *c == Call::GetAddress)
            .map_or(f64::NAN, |(_, _, null)| null.median_us());
        self.line(format!("null ping (getAddress on the null server): median {ping:.2} us"));
        self.line(format!(
            "{:<36} {:>10} {:>10} {:>10} {:>10} {:>8} {:>8}",
            "call", "svc p50", "svc p99", "null p50", "null p99", "ratio", "/ping"
        ));
        let mut calls = Map::new();
        for (call, service, null) in &mut results {
            let ratio = service.median_us() / null.median_us();
            let to_ping = service.median_us() / ping;
            calls.insert(
                call.key().into(),
                json!({
                    "service": summary(service),
                    "null": summary(null),
                    "ratio_to_null_same_call": num(ratio),
                    "ratio_to_null_ping": num(to_ping),
                }),
            );
            let row = format!(
                "{:<36} {:>10.2} {:>10.2} {:>10.2} {:>10.2} {:>7.3}x {:>7.3}x",
                call.name(),
                service.median_us(),
                service.p99_us(),
                null.median_us(),
                null.p99_us(),
                ratio,
                to_ping
            );
            self.line(row);
            self.target(format!("{} median / null server", call.key()), ratio, "x", 1.05);
            self.histograms.push((call.name(), service.micros(), null.micros()));
        }
        self.json.insert("null_ping_p50_us".into(), num(ping));
        self.json.insert("calls".into(), Value::Object(calls));
    }

    pub fn throughput(&mut self, rates: Vec<Throughput>) {
        let rows: Vec<Value> = rates
            .iter()
            .map(|t| {
                let ratio = t.service_per_s / t.null_per_s;
                self.line(format!(
                    "throughput {} client thread(s), 2 buses: service {:.0}/s, null {:.0}/s ({:.3}x)",
                    t.threads, t.service_per_s, t.null_per_s, ratio
                ));
                json!({
                    "client_threads": t.threads,
                    "service_calls_per_s": num(t.service_per_s),
                    "null_calls_per_s": num(t.null_per_s),
                    "ratio": num(ratio),
                })
            })
            .collect();
        self.json.insert("throughput".into(), Value::Array(rows));
    }

    /// `floor` is the same scenario on the null server: the victim's p99 there moves only with
    /// the machine (the hammer's client and server share the CPUs with the victim's), so the
    /// service's own effect is the difference between the two ratios.
    pub fn fairness(&mut self, mut f: Fairness, mut floor: Fairness) {
        let ratio = f.hammered.p99_us() / f.solo.p99_us();
        let floor_ratio = floor.hammered.p99_us() / floor.solo.p99_us();
        for (who, f, ratio) in [("", &mut f, ratio), (" (null server)", &mut floor, floor_ratio)] {
            self.line(format!(
                "fairness{who}: victim p99 {:.2} us solo, {:.2} us while hammered ({:.2}x; {} \
                 hammer transfers)",
                f.solo.p99_us(),
                f.hammered.p99_us(),
                ratio,
                f.hammer_calls
            ));
        }
        self.json.insert(
            "fairness".into(),
            json!({
                "victim_solo": summary(&mut f.solo),
                "victim_hammered": summary(&mut f.hammered),
                "hammer_transfers": f.hammer_calls,
                "p99_ratio": num(ratio),
                "null_server": {
                    "victim_solo": summary(&mut floor.solo),
                    "victim_hammered": summary(&mut floor.hammered),
                    "hammer_transfers": floor.hammer_calls,
                    "p99_ratio": num(floor_ratio),
                },
            }),
        );
        self.target("victim p99 hammered / solo".into(), ratio, "x", 2.0);
    }

    pub fn opens(&mut self, mut levels: Vec<OpenLevel>) {
        let mut rows = Vec::new();
        for level in &mut levels {
            self.line(format!(
                "session open at {:>6} open sessions: median {:.2} us, p99 {:.2} us, RSS {:.2} MiB",
                level.open_sessions,
                level.samples.median_us(),
                level.samples.p99_us(),
                mib(level.rss as f64)
            ));
            let mut row = summary(&mut level.samples);
            row["open_sessions"] = json!(level.open_sessions);
            row["rss_bytes"] = json!(level.rss);
            rows.push(row);
        }
        let ends: Vec<(usize, f64, u64)> =
            levels.iter_mut().map(|l| (l.open_sessions, l.samples.median_us(), l.rss)).collect();
        let (ratio, per_session) = match (ends.first(), ends.last()) {
            (Some(&(n0, median0, rss0)), Some(&(n, median, rss))) if n > n0 => {
                (median / median0, (rss as f64 - rss0 as f64) / (n - n0) as f64)
            }
            _ => (f64::NAN, f64::NAN),
        };
        let top = levels.last().map_or(0, |l| l.open_sessions);
        let bottom = levels.first().map_or(0, |l| l.open_sessions);
        self.line(format!(
            "session open at {top} / at {bottom}: {ratio:.3}x; memory per session {per_session:.0} bytes"
        ));
        self.json.insert(
            "session_open".into(),
            json!({
                "levels": rows,
                "ratio_highest_to_lowest": num(ratio),
                "rss_bytes_per_session": num(per_session),
            }),
        );
        self.target(format!("session open at {top} / at {bottom}"), ratio, "x", 1.2);
        self.target("memory per session".into(), kib(per_session), "KiB", 1.0);
    }

    pub fn connections(&mut self, c: Connections) {
        let n = c.count.max(1) as f64;
        let per = (c.rss_after as f64 - c.rss_before as f64) / n;
        let threads = (c.threads_after as f64 - c.threads_before as f64) / n;
        self.line(format!(
            "memory per client connection ({} connected): {:.1} KiB, {:.2} threads",
            c.count,
            kib(per),
            threads
        ));
        self.json.insert(
            "connections".into(),
            json!({
                "count": c.count,
                "rss_bytes_before": c.rss_before,
                "rss_bytes_after": c.rss_after,
                "threads_before": c.threads_before,
                "threads_after": c.threads_after,
                "rss_bytes_per_connection": num(per),
                "threads_per_connection": num(threads),
            }),
        );
    }

    fn removal_runs(&mut self, label: &str, key: &str, runs: &mut RemovalRuns) -> Value {
        self.line(format!(
            "removal, {label}: fd closed p50/p99 {:.0}/{:.0} us; last callback dispatched {:.0}/{:.0} us; \
             last callback received {:.0}/{:.0} us ({} removals)",
            runs.fd_closed.median_us(),
            runs.fd_closed.p99_us(),
            runs.dispatched.median_us(),
            runs.dispatched.p99_us(),
            runs.received.median_us(),
            runs.received.p99_us(),
            runs.fd_closed.len()
        ));
        for failure in &runs.failures {
            self.table.push(format!("  {failure}"));
        }
        self.target(
            format!("removal {key}: fds closed p99"),
            runs.fd_closed.p99_us() / 1000.0,
            "ms",
            2.0,
        );
        self.target(
            format!("removal {key}: last callback dispatched p99"),
            runs.dispatched.p99_us() / 1000.0,
            "ms",
            5.0,
        );
        json!({
            "fd_closed": summary(&mut runs.fd_closed),
            "last_callback_dispatched": summary(&mut runs.dispatched),
            "last_callback_received": summary(&mut runs.received),
            "failures": runs.failures,
        })
    }

    pub fn removal(&mut self, mut removal: Removal) {
        let all = self.removal_runs("all clients running", "all running", &mut removal.all_running);
        let stopped =
            self.removal_runs("one client stopped", "one client stopped", &mut removal.one_stopped);
        let floor = self.removal_floor(&mut removal);
        self.json.insert(
            "removal".into(),
            json!({"all_clients_running": all, "one_client_stopped": stopped, "floor": floor}),
        );
    }

    /// The null server's plain loop over as many callbacks: what the transport alone takes to
    /// hand them out, beside the service's figure (the same milestone, measured the same way).
    fn removal_floor(&mut self, removal: &mut Removal) -> Value {
        let floor = &mut removal.floor;
        let ratio = removal.all_running.dispatched.p99_us() / floor.dispatched.p99_us();
        self.line(format!(
            "removal floor (null server, one thread telling each callback in turn): last callback \
             dispatched {:.0}/{:.0} us; received {:.0}/{:.0} us ({} removals); service p99 {:.2}x it",
            floor.dispatched.median_us(),
            floor.dispatched.p99_us(),
            floor.received.median_us(),
            floor.received.p99_us(),
            floor.dispatched.len(),
            ratio,
        ));
        for failure in &floor.failures {
            self.table.push(format!("  floor: {failure}"));
        }
        json!({
            "last_callback_dispatched": summary(&mut floor.dispatched),
            "last_callback_received": summary(&mut floor.received),
            "service_dispatched_p99_ratio": num(ratio),
            "failures": floor.failures,
        })
    }

    pub fn vm(&mut self, text: Option<String>) {
        match vm_json(text) {
            Some(vm) => {
                let figure = |path: &[&str]| {
                    path.iter().try_fold(&vm, |v, k| v.get(k)).and_then(Value::as_f64)
                };
                self.line(format!(
                    "QEMU (real kernel, kernel binder, i2c-stub): register read median direct \
                     {:.1} us, through the service {:.1} us: {:.1}x (service getAddress {:.1} us)",
                    figure(&["direct_i2cdev", "p50_us"]).unwrap_or(f64::NAN),
                    figure(&["service", "p50_us"]).unwrap_or(f64::NAN),
                    figure(&["ratio"]).unwrap_or(f64::NAN),
                    figure(&["service_get_address", "p50_us"]).unwrap_or(f64::NAN),
                ));
                self.line(format!(
                    "QEMU, the same read on the null server over kernel binder {:.1} us: the \
                     service {:.2}x it",
                    figure(&["null_server", "p50_us"]).unwrap_or(f64::NAN),
                    figure(&["ratio_to_null_server"]).unwrap_or(f64::NAN),
                ));
                self.json.insert("vm".into(), vm);
            }
            None => {
                self.line("QEMU part: not run (no results file)".into());
                self.json.insert("vm".into(), Value::Null);
            }
        }
    }

    /// Prints the table and targets, writes bench.json and latency.svg into `out`.
    pub fn finish(mut self, took: Duration, out: &Path) -> Result<(), String> {
        println!();
        for line in &self.table {
            println!("{line}");
        }
        println!();
        println!("targets:");
        for t in &self.targets {
            println!(
                "  {:<6} {:<48} {:>10.3} {:<3} (limit {} {})",
                if t.met { "met" } else { "MISSED" },
                t.name,
                t.value,
                t.unit,
                t.limit,
                t.unit
            );
        }
        let targets: Vec<Value> = self
            .targets
            .iter()
            .map(|t| {
                json!({"name": t.name, "value": num(t.value), "unit": t.unit, "limit": t.limit, "met": t.met})
            })
            .collect();
        self.json.insert("targets".into(), Value::Array(targets));
        self.json.insert("elapsed_s".into(), num(took.as_secs_f64()));
        let path = out.join("bench.json");
        let text = serde_json::to_string_pretty(&Value::Object(self.json.clone()))
            .map_err(|e| e.to_string())?;
        std::fs::write(&path, text + "\n").map_err(|e| format!("{}: {e}", path.display()))?;
        let svg = out.join("latency.svg");
        histogram(&svg, &self.histograms).map_err(|e| format!("{}: {e}", svg.display()))?;
        println!("\nwrote {} and {} in {:.0} s", path.display(), svg.display(), took.as_secs_f64());
        Ok(())
    }
}

/// Latency histograms, one panel per call kind, service and null server overlaid: the share
/// of calls in each bucket, up to the 99.5th percentile of the slower side.
fn histogram(
    path: &Path,
    panels: &[(&'static str, Vec<f64>, Vec<f64>)],
) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::new(path, (1200, 800)).into_drawing_area();
    root.fill(&WHITE)?;
    let areas = root.split_evenly((2, 2));
    for (area, (name, service, null)) in areas.iter().zip(panels) {
        let upper = [service, null]
            .iter()
            .filter(|s| !s.is_empty())
            .map(|s| s[((s.len() - 1) as f64 * 0.995) as usize])
            .fold(1.0f64, f64::max)
            * 1.05;
        const BUCKETS: usize = 80;
        let width = upper / BUCKETS as f64;
        let shares = |samples: &[f64]| -> Vec<(f64, f64)> {
            let mut counts = vec![0usize; BUCKETS];
            for &x in samples {
                let i = (x / width) as usize;
                if i < BUCKETS {
                    counts[i] += 1;
                }
            }
            let total = samples.len().max(1) as f64;
            counts
                .iter()
                .enumerate()
                .map(|(i, &c)| ((i as f64 + 0.5) * width, c as f64 / total))
                .collect()
        };
        let (s, n) = (shares(service), shares(null));
        let top = s.iter().chain(&n).map(|p| p.1).fold(0.01f64, f64::max) * 1.1;
        let mut chart = ChartBuilder::on(area)
            .caption(*name, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(48)
            .build_cartesian_2d(0.0..upper, 0.0..top)?;
        chart.configure_mesh().x_desc("latency (us)").y_desc("share of calls").draw()?;
        chart
            .draw_series(LineSeries::new(n, BLUE.stroke_width(2)))?
            .label("null server")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], BLUE));
        chart
            .draw_series(LineSeries::new(s, RED.stroke_width(2)))?
            .label("i2c-hal-service")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], RED));
        chart.configure_series_labels().border_style(BLACK).background_style(WHITE).draw()?;
    }
    root.present()?;
    Ok(())
}
