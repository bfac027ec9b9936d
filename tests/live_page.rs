//! The live page (`--ui ADDR`): a job reading a slow live input serves its page, JSON and
//! `/metrics` while it runs. Headless Chromium loads the page and the counts it shows are
//! the job's (`--stats-json` at the end, and a count of the records the test sent); the
//! metrics parse with Prometheus' own Python parser.
//!
//! Chromium (`/usr/bin/chromium`) and Python's `prometheus-client` are installed by
//! `.ci/run`, which sets `WEIR_REQUIRE_BROWSER=1`: there a missing one fails the test.
//! Elsewhere the test says what it passed over and why.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

const PIPE: &str = r#"
schema Reading { sensor: str, value: i64 }
source readings: Reading = csv("in.csv") with on_error(dead_letter("bad.jsonl"));
readings
  |> filter(value >= 0)
  |> key_by(sensor)
  |> rolling { n: count(), total: sum(value) }
  |> sink csv("out.csv");
"#;

const CHROMIUM: &str = "/usr/bin/chromium";

/// Whether the tools the test needs are here; without them it fails under `.ci/run` and is
/// passed over (saying so) elsewhere.
fn tools_present() -> bool {
    let python = Command::new("python3")
        .args(["-c", "import prometheus_client"])
        .status()
        .is_ok_and(|s| s.success());
    let present = Path::new(CHROMIUM).exists() && python;
    if !present {
        assert!(
            std::env::var_os("WEIR_REQUIRE_BROWSER").is_none(),
            "the live page's test needs {CHROMIUM} and Python's prometheus-client"
        );
        eprintln!(
            "live_page: passed over: needs {CHROMIUM} and Python's prometheus-client \
             (.ci/run installs both)"
        );
    }
    present
}

/// `GET path` from `addr`: the response's body.
fn get(addr: &str, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    body.to_string()
}

/// The job's JSON view, as the page polls it.
fn view(addr: &str) -> serde_json::Value {
    serde_json::from_str(&get(addr, "/api/job")).unwrap()
}

/// Starts the job with its page on a free port: the child, and the address it serves.
fn start(dir: &Path) -> (Child, String) {
    let pipe = dir.join("live.pipe");
    std::fs::write(&pipe, PIPE).unwrap();
    std::fs::write(dir.join("in.csv"), "").unwrap();
    let mut child = Command::new(build(&pipe))
        .args([
            "--input",
            "readings=-",
            "--ui",
            "127.0.0.1:0",
            "--stats-json",
            "stats.json",
        ])
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.trim().strip_suffix('/'))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    // The rest of stderr (the report) is drained so the job never waits on it.
    std::thread::spawn(move || {
        let mut rest = String::new();
        let _ = stderr.read_to_string(&mut rest);
    });
    (child, addr)
}

/// The page as Chromium renders it after its script has polled the job.
fn rendered_page(addr: &str, profile: &Path) -> String {
    let output = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--virtual-time-budget=3000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("http://{addr}/"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// The number in the page's cell for `field` of `key` (`<td ... data-field=.. data-key=..>N</td>`).
fn shown(dom: &str, field: &str, key: &str) -> u64 {
    let marker = format!("data-field=\"{field}\" data-key=\"{key}\">");
    let at = dom
        .find(&marker)
        .unwrap_or_else(|| panic!("{marker} not on the page"));
    let rest = &dom[at + marker.len()..];
    rest[..rest.find('<').unwrap()].parse().unwrap()
}

/// The samples of `/metrics` as Prometheus' OpenMetrics parser reads them: name, labels
/// and value, one per line.
fn parsed_metrics(text: &str) -> Vec<(String, String, f64)> {
    let script = "import sys, json\n\
        from prometheus_client.openmetrics.parser import text_string_to_metric_families\n\
        out = []\n\
        for family in text_string_to_metric_families(sys.stdin.read()):\n\
        \x20   for s in family.samples:\n\
        \x20       out.append([s.name, json.dumps(s.labels, sort_keys=True), s.value])\n\
        print(json.dumps(out))\n";
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "the OpenMetrics parser refused /metrics: {}\n{text}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

fn sample(samples: &[(String, String, f64)], name: &str, labels: &str) -> f64 {
    samples
        .iter()
        .find(|(n, l, _)| n == name && l == labels)
        .unwrap_or_else(|| panic!("no {name} {labels} in {samples:?}"))
        .2
}

#[test]
fn the_live_page_shows_the_runs_counts_and_metrics_parse() {
    if !tools_present() {
        return;
    }
    let dir = temp();
    let (mut child, addr) = start(dir.path());
    // A slow live input: 40 readings a batch, a pause between batches; every seventh
    // line is malformed (a dead letter) and every fifth value negative (filtered out).
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "sensor,value").unwrap();
    let (mut sent, mut bad, mut kept) = (0u64, 0u64, 0u64);
    for batch in 0..3 {
        for i in 0..40u64 {
            let n = batch * 40 + i;
            sent += 1;
            if n % 7 == 3 {
                writeln!(stdin, "s{},x,extra", n % 4).unwrap();
                bad += 1;
            } else if n % 5 == 0 {
                writeln!(stdin, "s{},-{}", n % 4, n + 1).unwrap();
            } else {
                writeln!(stdin, "s{},{n}", n % 4).unwrap();
                kept += 1;
            }
        }
        stdin.flush().unwrap();
        std::thread::sleep(Duration::from_millis(300));
    }
    // The quiet input wakes the job up: its figures reach the board within a second.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let v = view(&addr);
        if v["sources"][0]["records"] == sent && v["operators"][0]["records_in"] == kept {
            assert_eq!(v["state"], "running");
            assert_eq!(v["sources"][0]["bad"], bad);
            assert_eq!(v["sources"][0]["dead_letters"], bad);
            break;
        }
        assert!(Instant::now() < deadline, "the board never caught up: {v}");
        std::thread::sleep(Duration::from_millis(100));
    }

    let profile = temp();
    let dom = rendered_page(&addr, profile.path());
    assert!(
        dom.contains("data-state=\"running\""),
        "the page never polled"
    );
    let operator = view(&addr)["operators"][0].clone();
    let rolling = operator["id"].to_string();
    let (page_in, page_out) = (
        shown(&dom, "records_in", &rolling),
        shown(&dom, "records_out", &rolling),
    );
    assert_eq!(shown(&dom, "records", "readings"), sent);
    assert_eq!(shown(&dom, "bad", "readings"), bad);
    assert_eq!(shown(&dom, "dead_letters", "readings"), bad);
    // The graph shows the same counts at the rolling operator's node.
    assert!(dom.contains(&format!("in {page_in}  out {page_out}")));

    let samples = parsed_metrics(&get(&addr, "/metrics"));
    let op = format!(r#"{{"operator": {}}}"#, operator["name"]);
    let op = op.as_str();
    assert_eq!(
        sample(&samples, "weir_operator_records_in_total", op),
        page_in as f64
    );
    assert_eq!(
        sample(&samples, "weir_operator_records_out_total", op),
        page_out as f64
    );
    let source = r#"{"source": "readings"}"#;
    assert_eq!(
        sample(&samples, "weir_source_records_total", source),
        sent as f64
    );
    assert_eq!(
        sample(&samples, "weir_source_bad_records_total", source),
        bad as f64
    );
    assert_eq!(
        sample(&samples, "weir_source_dead_letters_total", source),
        bad as f64
    );
    assert!(sample(&samples, "weir_operator_memory_bytes", op) > 0.0);

    // The end: the run's own report has the counts the page showed.
    drop(stdin);
    assert!(child.wait().unwrap().success());
    let stats: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("stats.json")).unwrap()).unwrap();
    let op = &stats["operators"][0];
    assert_eq!(op["operator"], "rolling");
    assert_eq!(op["records_in"], page_in);
    assert_eq!(op["records_out"], page_out);
    assert_eq!(page_in, kept);
    // A reference for the changelog: +I the first time a key is seen, -U/+U after.
    let keys = (0..120u64)
        .filter(|n| n % 7 != 3 && n % 5 != 0)
        .map(|n| n % 4)
        .collect::<std::collections::BTreeSet<_>>()
        .len() as u64;
    assert_eq!(page_out, keys + 2 * (kept - keys));
}

/// A free port on the loopback interface (taken, read, and given back).
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[test]
fn an_inline_job_serves_its_page_while_it_runs() {
    let addr = format!("127.0.0.1:{}", free_port());
    let config = weir::JobConfig::default().memory(1 << 20).ui(addr.clone());
    // A slow iterator: the job is still reading when the page is asked.
    let job = std::thread::spawn(move || {
        let rows = (0..150u64).map(|i| {
            std::thread::sleep(Duration::from_millis(20));
            (i % 3, i)
        });
        weir::stream! {
            source iter(rows)
            |> key_by(|r: &(u64, u64)| r.0)
            |> aggregate(count())
            |> collect()
        }
        .run_with(config)
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let seen = loop {
        assert!(
            Instant::now() < deadline,
            "the inline job's page never showed records"
        );
        if let Ok(stream) = TcpStream::connect(&addr) {
            drop(stream);
            let v = view(&addr);
            let taken = v["operators"][0]["records_in"].as_u64().unwrap_or(0);
            if taken >= 10 && v["state"] == "running" {
                break taken;
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut counts = job.join().unwrap().unwrap();
    counts.sort();
    assert_eq!(counts, vec![(0, 50), (1, 50), (2, 50)]);
    assert!(seen <= 150);
}
