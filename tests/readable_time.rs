//! Timestamps as text: RFC 3339 / ISO 8601 read from CSV and JSON lines, and written by a
//! sink with `timestamps: rfc3339`, checked against Python's `datetime` (leap years,
//! offsets, fractions, times before 1970, the calendar's ends).

mod common;

use std::process::Command;

use common::*;

/// Texts a `timestamp` field may hold, and ones it may not (`datetime` refuses them too).
const GOOD: &[&str] = &[
    "1970-01-01T00:00:00Z",
    "1970-01-01T00:00:00.001Z",
    "2000-02-29T12:00:00Z",
    "2024-02-29T23:59:59.999Z",
    "2024-02-28T23:30:00-01:00",
    "2024-03-01T05:29:59+05:30",
    "2024-12-31T23:00:00-12:00",
    "2024-01-01T13:59:00+14:00",
    "1900-03-01T00:00:00Z",
    "1969-12-31T23:59:59.5Z",
    "1969-07-20T20:17:40.123456Z",
    "2100-02-28T00:00:00Z",
    "2024-07-15 16:24:59.120Z",
    "2024-07-15T16:24:59",
    "2024-07-15",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59.999Z",
];
const BAD: &[&str] = &[
    "2023-02-29T00:00:00Z",
    "2100-02-29",
    "2024-13-01T00:00:00Z",
    "2024-02-30",
    "2024-01-01T24:00:01Z",
    "yesterday",
];

/// Python's answer for each text: milliseconds since the epoch (naive times in UTC,
/// fractions cut toward the past), and that instant as RFC 3339 in UTC (milliseconds only
/// when there are any); `None` where `datetime` refuses the text.
fn python(texts: &[&str]) -> Vec<Option<(i64, String)>> {
    let script = r#"
import json, sys
from datetime import datetime, timedelta, timezone
out = []
for s in json.loads(sys.stdin.read()):
    try:
        t = datetime.fromisoformat(s)
    except ValueError:
        out.append(None)
        continue
    if t.tzinfo is None:
        t = t.replace(tzinfo=timezone.utc)
    epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
    ms = (t - epoch) // timedelta(milliseconds=1)
    u = epoch + timedelta(milliseconds=ms)
    text = u.strftime("%Y-%m-%dT%H:%M:%S")
    if ms % 1000:
        text += ".%03d" % (ms % 1000)
    out.append([ms, text.rjust(19, "0") + "Z"])
print(json.dumps(out))
"#;
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(texts).unwrap().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    serde_json::from_slice(&out.stdout).unwrap()
}

const PIPE: &str = r#"
schema Stamp { id: u64, at: timestamp }
source csv_in: Stamp = csv("in.csv") with on_error(dead_letter("bad.jsonl"));
source json_in: Stamp = jsonl("in.jsonl") with on_error(skip);
csv_in |> sink ms = csv("ms.csv");
csv_in |> sink text = csv("text.csv", timestamps: rfc3339);
json_in |> sink json_out = jsonl("out.jsonl", timestamps: rfc3339);
"#;

#[test]
fn text_timestamps_read_and_write_as_pythons_datetime_does() {
    let expected = python(GOOD);
    assert!(expected.iter().all(Option::is_some), "{expected:?}");
    assert!(
        python(BAD).iter().all(Option::is_none),
        "Python reads a bad one"
    );
    let dir = temp();
    let pipe = dir.path().join("times.pipe");
    std::fs::write(&pipe, PIPE).unwrap();
    // Each good text, then its milliseconds as a number (both forms in one column), then
    // the bad ones.
    let mut csv = String::from("id,at\n");
    let mut jsonl = String::new();
    for (i, text) in GOOD.iter().enumerate() {
        csv.push_str(&format!("{i},{text}\n"));
        jsonl.push_str(&format!("{{\"id\": {i}, \"at\": \"{text}\"}}\n"));
    }
    for (i, e) in expected.iter().enumerate() {
        let ms = e.as_ref().unwrap().0;
        csv.push_str(&format!("{},{ms}\n", 100 + i));
        jsonl.push_str(&format!("{{\"id\": {}, \"at\": {ms}}}\n", 100 + i));
    }
    for (i, text) in BAD.iter().enumerate() {
        csv.push_str(&format!("{},{text}\n", 200 + i));
        jsonl.push_str(&format!("{{\"id\": {}, \"at\": \"{text}\"}}\n", 200 + i));
    }
    std::fs::write(dir.path().join("in.csv"), csv).unwrap();
    std::fs::write(dir.path().join("in.jsonl"), jsonl).unwrap();
    let binary = build(&pipe);
    let run = Command::new(binary)
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );

    let (_, ms) = read_csv(&dir.path().join("ms.csv"));
    let (_, text) = read_csv(&dir.path().join("text.csv"));
    assert_eq!(ms.len(), 2 * GOOD.len(), "the bad texts are dead letters");
    for (i, e) in expected.iter().enumerate() {
        let (want_ms, want_text) = e.as_ref().unwrap();
        for row in [i, GOOD.len() + i] {
            assert_eq!(ms[row][1], want_ms.to_string(), "{}", GOOD[i]);
            assert_eq!(&text[row][1], want_text, "{}", GOOD[i]);
        }
    }
    let dead = std::fs::read_to_string(dir.path().join("bad.jsonl")).unwrap();
    assert_eq!(dead.lines().count(), BAD.len(), "{dead}");

    let json: Vec<serde_json::Value> = std::fs::read_to_string(dir.path().join("out.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(json.len(), 2 * GOOD.len());
    for (i, e) in expected.iter().enumerate() {
        let want_text = &e.as_ref().unwrap().1;
        for row in [i, GOOD.len() + i] {
            assert_eq!(json[row]["at"], *want_text, "{}", GOOD[i]);
        }
    }
}

#[test]
fn a_sink_option_that_is_not_one_is_refused_where_it_is_written() {
    let dir = temp();
    let pipe = dir.path().join("opt.pipe");
    std::fs::write(
        &pipe,
        "schema S { at: timestamp }\nsource s: S = csv(\"in.csv\");\n\
         s |> sink csv(\"a.csv\", timestamp: rfc3339);\n\
         s |> sink csv(\"b.csv\", timestamps: iso);\n",
    )
    .unwrap();
    let run = weir_cli(&["check", pipe.to_str().unwrap()]);
    assert_eq!(run.code, 1);
    assert!(
        run.err.contains("unknown sink option `timestamp`"),
        "{}",
        run.err
    );
    assert!(run.err.contains("opt.pipe:3:24"), "{}", run.err);
    assert!(
        run.err.contains("unknown timestamp format `iso`"),
        "{}",
        run.err
    );
    assert!(run.err.contains("opt.pipe:4:36"), "{}", run.err);
}
