//! The report: every figure of a run beside its floor and its target, per
//! backend, as Markdown for people and JSON for tools.
//!
//! `scripts/bench.sh` appends one JSON line per measurement to a file:
//! `{"backend": "sqlite", "figure": "list_guarded", "result": {...}}`; this
//! turns that file, the run's conditions and the written analysis into
//! `bench/REPORT.md` and `bench/report.json`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use anyhow::Context;
use serde_json::{Value, json};

/// wrk's text summary as JSON: answers per second that were 2xx, latencies.
pub fn parse_wrk(out: &str) -> Value {
    let mut requests: f64 = 0.0;
    let mut seconds = 0.0;
    let mut non2xx: f64 = 0.0;
    let (mut p50, mut p99, mut max) = (0.0, 0.0, 0.0);
    for line in out.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            [n, "requests", "in", took, ..] => {
                requests = n.parse().unwrap_or(0.0);
                seconds = to_ms(took.trim_end_matches(',')) / 1e3;
            }
            ["Non-2xx", "or", "3xx", "responses:", n] => non2xx = n.parse().unwrap_or(0.0),
            ["50%", v] => p50 = to_ms(v),
            ["99%", v] => p99 = to_ms(v),
            ["Latency", _avg, _stdev, m, ..] => max = to_ms(m),
            _ => {}
        }
    }
    let ok = (requests - non2xx).max(0.0);
    json!({
        "ok": ok, "errors": non2xx, "seconds": seconds,
        "rate": if seconds > 0.0 { ok / seconds } else { 0.0 },
        "p50Ms": p50, "p99Ms": p99, "maxMs": max,
    })
}

/// wrk's durations ("812.00us", "3.21ms", "1.05s", "2.00m") in milliseconds.
fn to_ms(v: &str) -> f64 {
    let split = v.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(v.len());
    let (n, unit) = v.split_at(split);
    let n: f64 = n.parse().unwrap_or(0.0);
    match unit {
        "us" => n / 1e3,
        "ms" => n,
        "s" => n * 1e3,
        "m" => n * 60e3,
        "h" => n * 3600e3,
        _ => n,
    }
}

struct Row {
    figure: &'static str,
    measured: String,
    floor: String,
    ratio: String,
    target: &'static str,
    verdict: String,
}

impl Row {
    /// A figure judged against its target alone (no floor to compare with).
    fn without_floor(figure: &'static str, measured: String, target: &'static str, verdict: String) -> Self {
        Self { figure, measured, floor: "—".to_owned(), ratio: "—".to_owned(), target, verdict }
    }
}

fn verdict(met: Option<bool>) -> String {
    match met {
        Some(true) => "met".to_owned(),
        Some(false) => "**missed**".to_owned(),
        None => "not measured".to_owned(),
    }
}

fn f(v: &Value, key: &str) -> f64 {
    v[key].as_f64().unwrap_or(0.0)
}

fn rate_line(v: &Value, unit: &str) -> String {
    format!("{:.0} {unit}, p50 {:.2} ms, p99 {:.2} ms", f(v, "rate"), f(v, "p50Ms"), f(v, "p99Ms"))
}

/// The throughput ratio of every turn when a figure and its floor were
/// measured in turns (the reported pair is the median turn).
fn turns_note(turns: &Value) -> String {
    let Some(turns) = turns.as_array().filter(|t| t.len() > 1) else { return String::new() };
    let ratios: Vec<String> =
        turns.iter().map(|t| format!("{:.2}", f(&t["guarded"], "rate") / f(&t["floor"], "rate").max(1e-9))).collect();
    format!(" (median of {} turns: {})", turns.len(), ratios.join(", "))
}

fn rows(figures: &BTreeMap<String, Value>) -> Vec<Row> {
    let get = |name: &str| figures.get(name).cloned().unwrap_or(Value::Null);
    let mut rows = Vec::new();

    let (floor, list) = (get("list_floor"), get("list_guarded"));
    let (tput, p99) =
        (f(&list, "rate") / f(&floor, "rate").max(1e-9), f(&list, "p99Ms") / f(&floor, "p99Ms").max(1e-9));
    rows.push(Row {
        figure: "base guarded list, warm access cache, 64 connections",
        measured: rate_line(&list, "req/s"),
        floor: format!("unguarded list: {}", rate_line(&floor, "req/s")),
        ratio: format!("{tput:.2} × throughput, {p99:.2} × p99{}", turns_note(&get("list_turns"))),
        target: "≥ 0.9 × throughput, p99 ≤ 1.2 ×",
        verdict: verdict((!list.is_null()).then_some(tput >= 0.9 && p99 <= 1.2)),
    });

    let raw = get("list_raw");
    let r = f(&floor, "rate") / f(&raw, "rate").max(1e-9);
    rows.push(Row {
        figure: "base unguarded list (the data layer), 64 connections",
        measured: rate_line(&floor, "req/s"),
        floor: format!("plain axum + sqlx, same SELECTs and pool: {}", rate_line(&raw, "req/s")),
        ratio: format!("{r:.2}"),
        target: "≥ 0.5 × plain axum + sqlx",
        verdict: verdict((!raw.is_null()).then_some(r >= 0.5)),
    });

    let cold = get("cold");
    rows.push(Row::without_floor(
        "base cold path (cache miss → auth → platform-core), 16 connections",
        format!("{} first visits: {}", f(&cold, "ok"), rate_line(&cold, "req/s")),
        "p99 ≤ 15 ms",
        verdict((!cold.is_null()).then_some(f(&cold, "p99Ms") <= 15.0 && f(&cold, "errors") == 0.0)),
    ));

    let (echo, resolve) = (get("echo"), get("resolve"));
    let r = f(&resolve, "rate") / f(&echo, "rate").max(1e-9);
    rows.push(Row {
        figure: "auth `ResolveAccess` over gRPC, warm, 64 in flight",
        measured: rate_line(&resolve, "checks/s"),
        floor: format!("tonic echo: {}", rate_line(&echo, "calls/s")),
        ratio: format!("{r:.2}"),
        target: "≥ 0.5 × echo",
        verdict: verdict((!resolve.is_null()).then_some(r >= 0.5)),
    });

    let (argon2, login) = (get("argon2"), get("login"));
    let r = f(&login, "rate") / f(&argon2, "rate").max(1e-9);
    rows.push(Row {
        figure: "login, 4 connections",
        measured: rate_line(&login, "logins/s"),
        floor: format!("raw argon2id: {:.1} hashes/s", f(&argon2, "rate")),
        ratio: format!("{r:.2}"),
        target: "≥ 0.9 × argon2id",
        verdict: verdict((!login.is_null()).then_some(r >= 0.9)),
    });

    let over = get("login_overload");
    let ok = &over["ok"];
    let sent = f(&over, "sent").max(1.0);
    rows.push(Row {
        figure: "login at 4 × the argon2id rate, offered (open loop)",
        measured: format!(
            "offered {:.0}/s: {:.0} signed in ({:.0}/s, p99 {:.0} ms), {:.0} shed 429/503 (p99 {:.1} ms), {:.0} other; p99 of all {:.0} ms",
            f(&over, "offeredRate"),
            f(ok, "ok"),
            f(ok, "rate"),
            f(ok, "p99Ms"),
            f(&over, "shed"),
            f(&over, "shedP99Ms"),
            f(&over, "other"),
            f(&over, "p99Ms"),
        ),
        floor: format!("raw argon2id: {:.1} hashes/s", f(&argon2, "rate")),
        ratio: format!("{:.0} % shed", 100.0 * f(&over, "shed") / sent),
        target: "p99 bounded, excess 429/503 quickly",
        // Bounded: every answer within a second; quickly: refusals in under 50 ms.
        verdict: verdict(
            (!over.is_null())
                .then_some(f(&over, "p99Ms") <= 1000.0 && f(&over, "shedP99Ms") <= 50.0 && f(&over, "other") == 0.0),
        ),
    });

    let refresh = get("refresh");
    rows.push(Row::without_floor(
        "refresh (rotation, chained tokens), 32 sessions",
        format!("{}, {} broken chains", rate_line(&refresh, "refreshes/s"), f(&refresh, "errors")),
        "≥ 5,000/s",
        verdict((!refresh.is_null()).then_some(f(&refresh, "rate") >= 5000.0)),
    ));

    for (name, label) in [
        ("ledger_50", "ledger, two-posting entries, 32 writers, 50 accounts"),
        ("ledger_10", "ledger, two-posting entries, 32 writers, 10 hot accounts"),
    ] {
        let run = get(name);
        let check = &run["check"];
        let sound = f(check, "unbalancedEntries") == 0.0 && f(check, "accountsOff") == 0.0;
        // Every acknowledged entry is stored; beyond them, at most the 32
        // requests still in flight when each run so far stopped (the counts
        // add up over the runs).
        let (stored, acknowledged) = (f(check, "entries"), f(&run, "acknowledged"));
        let runs = if name == "ledger_50" { 1.0 } else { 2.0 };
        let counted = stored >= acknowledged && stored <= acknowledged + 32.0 * runs;
        // On PostgreSQL, pgbench running the naive transaction is the floor.
        let pgbench = get(&name.replace("ledger", "pgbench"));
        let rate = f(&run["load"], "rate");
        let (floor, ratio, beats_floor) = if pgbench.is_null() {
            ("—".to_owned(), "—".to_owned(), true)
        } else {
            let r = rate / f(&pgbench, "rate").max(1e-9);
            (
                format!(
                    "pgbench, naive transaction, 32 clients: {:.0} entries/s, {} failed",
                    f(&pgbench, "rate"),
                    f(&pgbench, "failed")
                ),
                format!("{r:.2}"),
                r >= 3.0,
            )
        };
        rows.push(Row {
            figure: label,
            measured: format!(
                "{}; after: {} entries stored for {} acknowledged, {} unbalanced, {} balances off",
                rate_line(&run["load"], "entries/s"),
                f(check, "entries"),
                f(&run, "acknowledged"),
                f(check, "unbalancedEntries"),
                f(check, "accountsOff"),
            ),
            floor,
            ratio,
            target: "≥ 3,000/s and ≥ 3 × pgbench (PostgreSQL), invariants hold",
            verdict: verdict((!run.is_null()).then_some(rate >= 3000.0 && beats_floor && sound && counted)),
        });
    }

    let reg = get("registrations");
    let sold = f(&reg["after"], "sold");
    let no_oversell = sold <= f(&reg["after"], "capacity") && sold == f(&reg["after"], "confirmed");
    rows.push(Row::without_floor(
        "ticket registrations, 500 concurrent buyers, one ticket type",
        format!(
            "{}; sold {} of {}, confirmed {}",
            rate_line(&reg["load"], "registrations/s"),
            sold,
            f(&reg["after"], "capacity"),
            f(&reg["after"], "confirmed")
        ),
        "≥ 2,000/s, no oversell",
        verdict((!reg.is_null()).then_some(f(&reg["load"], "rate") >= 2000.0 && no_oversell)),
    ));

    let orders = get("orders");
    let paid = f(&orders["after"], "paid");
    let seconds = f(&orders["after"], "seconds").max(1.0);
    rows.push(Row::without_floor(
        "orders, 500 concurrent buyers: reserve, then pay (one ticket per order)",
        format!(
            "{:.0} paid orders/s ({} requests/s, p99 {:.2} ms); sold {} of {}, paid {}",
            paid / seconds,
            f(&orders["load"], "rate").round(),
            f(&orders["load"], "p99Ms"),
            f(&orders["after"], "sold"),
            f(&orders["after"], "capacity"),
            paid
        ),
        "reported beside registrations; no oversell",
        verdict(
            (!orders.is_null())
                .then_some(f(&orders["after"], "sold") == paid && paid <= f(&orders["after"], "capacity")),
        ),
    ));

    let rev = get("revocation");
    rows.push(Row::without_floor(
        "revocation to first refusal at base (stream up)",
        format!(
            "{} rounds: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms, {} never refused",
            f(&rev, "ok"),
            f(&rev, "p50Ms"),
            f(&rev, "p99Ms"),
            f(&rev, "maxMs"),
            f(&rev, "errors")
        ),
        "p99 ≤ 250 ms",
        verdict((!rev.is_null()).then_some(f(&rev, "p99Ms") <= 250.0 && f(&rev, "errors") == 0.0)),
    ));

    for (name, label, target, limit) in [
        ("rss_idle", "resident memory, idle (MB)", "≤ 30 MB each", 30.0),
        ("rss_loaded", "resident memory after the load above (MB)", "≤ 100 MB each", 100.0),
    ] {
        let rss = get(name);
        let services = ["auth", "platform-core", "base", "financial"];
        let worst = services.iter().map(|s| f(&rss, s)).fold(0.0, f64::max);
        rows.push(Row::without_floor(
            label,
            services.iter().map(|s| format!("{s} {:.1}", f(&rss, s))).collect::<Vec<_>>().join(", "),
            target,
            verdict((!rss.is_null()).then_some(worst <= limit)),
        ));
    }
    rows
}

/// The services a profile reads, in the fleet's order.
const SERVICES: [&str; 4] = ["auth", "platform-core", "base", "financial"];

/// Where each profiled figure's time went, per request: the statements each
/// service ran, the group commits, and the CPU of the fleet, of the load
/// generator and of the rest of the machine (the database server, the
/// kernel), with how busy the machine's cores were. Its last column is the
/// rate the path would make with every core busy at the same CPU a request:
/// a figure near it is bound by its CPU, one well below by waiting.
fn profile_table(figures: &BTreeMap<String, Value>, cores: f64) -> String {
    const PROFILED: [(&str, &str); 8] = [
        ("list_floor", "unguarded list (its server counts as the rest)"),
        ("list_guarded", "guarded list"),
        ("cold", "cold path"),
        ("refresh", "refresh"),
        ("ledger_50", "ledger, 50 accounts"),
        ("ledger_10", "ledger, 10 hot accounts"),
        ("registrations", "registrations"),
        ("orders", "orders (reserve or pay)"),
    ];
    let mut md = String::from(
        "| path | requests | statements / request | group commits / request | CPU ms / request: fleet | load generator | database and the rest | cores busy | at full cores, per s |\n|---|---|---|---|---|---|---|---|---|\n",
    );
    for (name, label) in PROFILED {
        let Some(p) = figures.get(&format!("profile_{name}")) else { continue };
        let requests = f(p, "requests").max(1.0);
        let delta = |service: &str, key: &str| f(&p["after"][service], key) - f(&p["before"][service], key);
        let statements: Vec<String> = SERVICES
            .iter()
            .filter(|s| delta(s, "statements") > 0.0)
            .map(|s| format!("{s} {:.2}", delta(s, "statements") / requests))
            .collect();
        let commits: f64 = SERVICES.iter().map(|s| delta(s, "commits")).sum();
        let fleet: Vec<String> = SERVICES
            .iter()
            .filter(|s| delta(s, "cpu") >= 0.01)
            .map(|s| format!("{s} {:.3}", delta(s, "cpu") * 1e3 / requests))
            .collect();
        let fleet_cpu: f64 = SERVICES.iter().map(|s| delta(s, "cpu")).sum();
        let machine = f(&p["after"], "machine") - f(&p["before"], "machine");
        let load = f(p, "loadCpu");
        let rest = (machine - fleet_cpu - load).max(0.0);
        let wall = (f(&p["after"], "at") - f(&p["before"], "at")).max(1e-9);
        let _ = writeln!(
            md,
            "| {label} | {requests:.0} | {} | {} | {} (sum {:.3}) | {:.3} | {:.3} | {:.0} % of {cores:.0} | {:.0} |",
            if statements.is_empty() { "none".to_owned() } else { statements.join(", ") },
            if commits > 0.0 { format!("{:.3}", commits / requests) } else { "—".to_owned() },
            if fleet.is_empty() { "none".to_owned() } else { fleet.join(", ") },
            fleet_cpu * 1e3 / requests,
            load * 1e3 / requests,
            rest * 1e3 / requests,
            100.0 * machine / (cores * wall),
            cores * requests / machine.max(1e-9),
        );
    }
    md
}

/// Each group-committed path's batches while its figure ran: how many writes
/// each carried, how long one took from its taking to its answers, how much
/// of that was the commit (on PostgreSQL the WAL flush), and, for a path with
/// one batch in flight, the cycle and the time between batches, when it
/// gathered the writers for the next one: its rate is then the writes per
/// batch over the cycle, so the shares name its bound.
fn batch_table(figures: &BTreeMap<String, Value>) -> String {
    const BATCHED: [(&str, &str, &str); 5] = [
        ("refresh", "refresh_rotations", "refresh rotations"),
        ("ledger_50", "ledger_entries", "ledger entries, 50 accounts"),
        ("ledger_10", "ledger_entries", "ledger entries, 10 hot accounts"),
        ("registrations", "registrations", "registrations"),
        ("orders", "order_reservations", "order reservations"),
    ];
    let mut md = String::from(
        "| path | writes per batch | batches / s | in the batch ms | of which the commit ms | batches in flight | cycle ms | between batches ms |\n|---|---|---|---|---|---|---|---|\n",
    );
    for (figure, path, label) in BATCHED {
        let Some(p) = figures.get(&format!("profile_{figure}")) else { continue };
        let delta = |key: &str| -> f64 {
            SERVICES
                .iter()
                .map(|s| f(&p["after"][s]["groups"][path], key) - f(&p["before"][s]["groups"][path], key))
                .sum()
        };
        let (batches, busy) = (delta("batches"), delta("seconds"));
        if batches < 1.0 || busy <= 0.0 {
            continue;
        }
        let wall = (f(&p["after"], "at") - f(&p["before"], "at")).max(1e-9);
        let (in_batch, in_flight) = (busy / batches, busy / wall);
        // With several batches in flight, a cycle is not one batch after another.
        let (cycle, between) = if in_flight <= 1.0 {
            let cycle = wall / batches;
            (format!("{:.2}", cycle * 1e3), format!("{:.2}", (cycle - in_batch).max(0.0) * 1e3))
        } else {
            ("—".to_owned(), "—".to_owned())
        };
        let _ = writeln!(
            md,
            "| {label} | {:.1} | {:.0} | {:.2} | {:.2} | {in_flight:.2} | {cycle} | {between} |",
            delta("jobs") / batches,
            batches / wall,
            in_batch * 1e3,
            delta("commitSeconds") / batches * 1e3,
        );
    }
    md
}

pub fn write(figures_path: &str, conditions_path: &str, analysis_path: &str, out_dir: &str) -> anyhow::Result<()> {
    let conditions: Value =
        serde_json::from_str(&std::fs::read_to_string(conditions_path).context("conditions")?).context("conditions")?;
    let mut by_backend: BTreeMap<String, BTreeMap<String, Value>> = BTreeMap::new();
    for line in std::fs::read_to_string(figures_path).context("figures")?.lines().filter(|l| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(line).with_context(|| format!("figure line {line}"))?;
        let backend = v["backend"].as_str().unwrap_or("unknown").to_owned();
        let figure = v["figure"].as_str().unwrap_or("unknown").to_owned();
        by_backend.entry(backend).or_default().insert(figure, v["result"].clone());
    }

    let mut md = String::from("# Marquee benchmarks\n\n");
    let _ = writeln!(
        md,
        "Run {} by `{}`: {} cores, {}, release build, {} on the same machine, {} s a figure. \
         Every figure stands beside a floor measured in the same run where one exists; absolute numbers \
         drift on a shared machine, ratios much less.\n",
        conditions["date"].as_str().unwrap_or("?"),
        conditions["command"].as_str().unwrap_or("scripts/bench.sh"),
        conditions["cores"],
        conditions["rustc"].as_str().unwrap_or("?"),
        conditions["loadGenerator"].as_str().unwrap_or("wrk"),
        conditions["secondsPerFigure"],
    );
    let mut json_backends = serde_json::Map::new();
    for (backend, figures) in &by_backend {
        let label = conditions["backends"][backend].as_str().unwrap_or(backend);
        let _ = writeln!(md, "## {label}\n");
        md.push_str("| figure | measured | floor (same run) | ratio | target | |\n|---|---|---|---|---|---|\n");
        let mut verdicts = serde_json::Map::new();
        for row in rows(figures) {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} |",
                row.figure, row.measured, row.floor, row.ratio, row.target, row.verdict
            );
            verdicts
                .insert(row.figure.to_owned(), json!({"target": row.target, "verdict": row.verdict.trim_matches('*')}));
        }
        md.push('\n');
        if figures.keys().any(|k| k.starts_with("profile_")) {
            let _ = writeln!(md, "Where the time went ({label}, same run):\n");
            md.push_str(&profile_table(figures, conditions["cores"].as_f64().unwrap_or(1.0)));
            md.push('\n');
            let batches = batch_table(figures);
            if batches.lines().count() > 2 {
                let _ = writeln!(md, "Group commits ({label}, same run):\n");
                md.push_str(&batches);
                md.push('\n');
            }
        }
        json_backends.insert(backend.clone(), json!({"label": label, "figures": figures, "verdicts": verdicts}));
    }
    if let Ok(analysis) = std::fs::read_to_string(analysis_path) {
        md.push_str(&analysis);
    }
    std::fs::create_dir_all(out_dir)?;
    std::fs::write(format!("{out_dir}/REPORT.md"), md)?;
    let report = json!({"conditions": conditions, "backends": json_backends});
    std::fs::write(format!("{out_dir}/report.json"), serde_json::to_string_pretty(&report)? + "\n")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const WRK: &str = "Running 3s test @ http://127.0.0.1:18083/v1/artists
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    24.35ms    5.01ms  61.19ms   79.10%
    Req/Sec     1.32k   121.70     1.60k    71.67%
  Latency Distribution
     50%   21.86ms
     75%   26.30ms
     90%   31.01ms
     99%   39.66ms
  7915 requests in 3.02s, 29.27MB read
  Non-2xx or 3xx responses: 15
Requests/sec:   2619.73
Transfer/sec:      9.69MB
";

    #[test]
    fn reads_wrk_summaries() {
        let v = parse_wrk(WRK);
        assert_eq!(v["ok"], 7900.0);
        assert_eq!(v["errors"], 15.0);
        assert!((f(&v, "rate") - 7900.0 / 3.02).abs() < 1e-6);
        assert!((f(&v, "p50Ms") - 21.86).abs() < 1e-9);
        assert!((f(&v, "p99Ms") - 39.66).abs() < 1e-9);
        assert!((f(&v, "maxMs") - 61.19).abs() < 1e-9);
    }

    #[test]
    fn reads_wrk_units() {
        assert!((to_ms("812.00us") - 0.812).abs() < 1e-9);
        assert!((to_ms("1.05s") - 1050.0).abs() < 1e-9);
        assert!((to_ms("2.00m") - 120_000.0).abs() < 1e-9);
    }

    #[test]
    fn a_missing_figure_is_not_measured_and_a_slow_one_is_missed() {
        let mut figures = BTreeMap::new();
        figures.insert("list_floor".to_owned(), json!({"rate": 1000.0, "p99Ms": 10.0}));
        figures.insert("list_guarded".to_owned(), json!({"rate": 800.0, "p99Ms": 11.0}));
        let rows = rows(&figures);
        assert_eq!(rows[0].verdict, "**missed**");
        assert_eq!(rows[1].verdict, "not measured");
    }

    #[test]
    fn a_figure_measured_in_turns_shows_every_turn() {
        let turn = |f: f64, g: f64| json!({"floor": {"rate": f}, "guarded": {"rate": g}});
        let mut figures = BTreeMap::new();
        figures.insert("list_floor".to_owned(), json!({"rate": 1000.0, "p99Ms": 10.0}));
        figures.insert("list_guarded".to_owned(), json!({"rate": 900.0, "p99Ms": 11.0}));
        figures.insert("list_turns".to_owned(), json!([turn(1000.0, 800.0), turn(1000.0, 900.0), turn(500.0, 475.0)]));
        let rows = rows(&figures);
        assert!(rows[0].ratio.ends_with("(median of 3 turns: 0.80, 0.90, 0.95)"), "{}", rows[0].ratio);
        assert_eq!(rows[0].verdict, "met");
    }

    #[test]
    fn a_profile_shows_each_request_share() {
        let at = |cpu: f64, statements: f64, commits: f64, machine: f64, at: f64| {
            let service = json!({"cpu": 0.0, "statements": 0.0, "commits": 0.0});
            json!({"auth": service, "platform-core": service, "base": service,
                "financial": {"cpu": cpu, "statements": statements, "commits": commits}, "machine": machine, "at": at})
        };
        let mut figures = BTreeMap::new();
        figures.insert(
            "profile_ledger_10".to_owned(),
            json!({"before": at(1.0, 100.0, 10.0, 50.0, 0.0), "after": at(3.0, 4100.0, 110.0, 58.0, 4.0),
                "requests": 1000, "loadCpu": 1.5}),
        );
        let table = profile_table(&figures, 2.0);
        let row = table.lines().find(|l| l.starts_with("| ledger, 10 hot")).unwrap();
        assert_eq!(
            row,
            "| ledger, 10 hot accounts | 1000 | financial 4.00 | 0.100 | financial 2.000 (sum 2.000) | 1.500 | 4.500 | 100 % of 2 | 250 |",
            "all cores busy: the ceiling is the rate itself (1,000 requests in 4 s)"
        );
    }

    #[test]
    fn a_batch_table_splits_each_cycle_into_the_batch_its_commit_and_the_gathering() {
        let at = |path: &str, batches: f64, jobs: f64, seconds: f64, commit: f64, at: f64| {
            let service = json!({"cpu": 0.0, "statements": 0.0, "commits": 0.0});
            let mut groups = json!({
                "facts": {"batches": batches, "jobs": batches, "seconds": seconds, "commitSeconds": commit}
            });
            groups[path] = json!({"batches": batches, "jobs": jobs, "seconds": seconds, "commitSeconds": commit});
            json!({"auth": service, "platform-core": service, "base": service,
                "financial": {"cpu": 0.0, "statements": 0.0, "commits": batches, "groups": groups},
                "machine": 0.0, "at": at})
        };
        let mut figures = BTreeMap::new();
        // 1,000 entries in 100 batches over 2 s: each batch 15 ms, 10 of them committing.
        figures.insert(
            "profile_ledger_50".to_owned(),
            json!({"before": at("ledger_entries", 10.0, 100.0, 1.0, 0.5, 0.0),
                "after": at("ledger_entries", 110.0, 1100.0, 2.5, 1.5, 2.0), "requests": 1000, "loadCpu": 0.0}),
        );
        // 400 rotations in 100 batches over 1 s, four lanes: 3.5 batches in flight.
        figures.insert(
            "profile_refresh".to_owned(),
            json!({"before": at("refresh_rotations", 0.0, 0.0, 0.0, 0.0, 0.0),
                "after": at("refresh_rotations", 100.0, 400.0, 3.5, 1.0, 1.0), "requests": 400, "loadCpu": 0.0}),
        );
        let table = batch_table(&figures);
        let row = |start: &str| table.lines().find(|l| l.starts_with(start)).unwrap().to_owned();
        assert_eq!(
            row("| ledger entries, 50"),
            "| ledger entries, 50 accounts | 10.0 | 50 | 15.00 | 10.00 | 0.75 | 20.00 | 5.00 |",
            "another path's batches (facts) are not counted"
        );
        assert_eq!(row("| refresh"), "| refresh rotations | 4.0 | 100 | 35.00 | 10.00 | 3.50 | — | — |");
        assert!(!table.contains("| registrations |"), "a path without its profile is left out");
    }
}
