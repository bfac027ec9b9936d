//! The function library, compiled by rustc and run over generated rows: each output field
//! against the same computation written here independently (Rust's std, integer
//! arithmetic, a civil-calendar algorithm); and the checker's refusals of bad literals.

mod common;

use common::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const PIPE: &str = r#"
schema Row { s: str, t: str, x: f64, y: f64, n: i64, d: i64, ts: timestamp }
source rows: Row = jsonl("DATA");
rows
  |> map {
       sub: substring(s, n, d),
       sub_from: substring(s, n),
       trimmed: trim(t),
       length: length(s),
       ends: ends_with(s, "a"),
       replaced: replace(s, "ab", "-"),
       part: split_part(s, "b", n),
       nested: trim(substring(concat(t, s), 2)),
       digits: regexp(s, "[0-9]"),
       first_digits: regexp_extract(s, "([0-9]+)"),
       whole: regexp_extract(s, "a[0-9]*", 0),
       rounded: round(x, d),
       rounded0: round(x),
       floored: floor(x),
       ceiled: ceil(x),
       ln: ln(abs(x) + 1.0),
       exp: exp(y),
       pow: pow(abs(x), y),
       most: greatest(x, y, 0.5),
       fewest: least(n, d, 3),
       latest: greatest(s, t),
       hour: date_trunc("hour", ts),
       week: date_trunc("week", ts),
       month: date_trunc("month", ts),
       year: extract("year", ts),
       dow: extract("dow", ts),
       doy: extract("doy", ts),
       rfc: format_time(ts),
       day_text: format_time(ts, "%Y-%m-%d"),
       back: parse_time(format_time(ts, "%Y-%m-%d %H:%M:%S"), "%Y-%m-%d %H:%M:%S"),
       cast: format_time(ts) as timestamp,
     }
  |> sink jsonl("OUT");
"#;

/// One generated row.
struct Row {
    s: String,
    t: String,
    x: f64,
    y: f64,
    n: i64,
    d: i64,
    ts: i64,
}

fn rows(count: usize) -> Vec<Row> {
    let mut rng = ChaCha8Rng::seed_from_u64(33);
    let alphabet = ['a', 'b', '7', '3', 'é', ' ', 'Z'];
    (0..count)
        .map(|_| {
            let word = |rng: &mut ChaCha8Rng| -> String {
                let len = rng.random_range(0..10);
                (0..len)
                    .map(|_| alphabet[rng.random_range(0..alphabet.len())])
                    .collect()
            };
            let x = rng.random_range(-100_000i64..100_000) as f64 / 1000.0;
            Row {
                s: word(&mut rng),
                t: format!("  {} ", word(&mut rng)),
                x,
                y: rng.random_range(-20i64..20) as f64 / 10.0,
                n: rng.random_range(-3..12),
                d: rng.random_range(-2..5),
                ts: rng.random_range(-2_000_000_000_000i64..4_000_000_000_000),
            }
        })
        .collect()
}

/// SQL's substring, by its definition: the characters at 1-based positions
/// `start <= p < start + len`.
fn substring(s: &str, start: i64, len: Option<i64>) -> String {
    s.chars()
        .enumerate()
        .filter(|&(i, _)| {
            let p = i as i64 + 1;
            p >= start && len.is_none() || len.is_some_and(|l| p >= start && p < start + l)
        })
        .map(|(_, c)| c)
        .collect()
}

/// Whether two floats are equal but for the last bit: JSON text read back by serde_json
/// (without its `float_roundtrip` feature) may be one unit in the last place off.
fn same_float(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= f64::EPSILON * a.abs().max(b.abs())
}

/// Days since 1970-01-01 of a date, and the date of a day (Howard Hinnant's algorithms).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// `x` rounded half away from zero to `digits` places, by its decimal text.
fn round_reference(x: f64, digits: i64) -> f64 {
    // x has at most three decimals here: scale to an integer exactly.
    let thousandths = (x * 1000.0).round() as i64;
    let drop = 3 - digits;
    if drop <= 0 {
        return x;
    }
    let p = 10i64.pow(drop as u32);
    let r = (thousandths.abs() + p / 2) / p * thousandths.signum();
    format!("{r}e{}", -digits).parse().unwrap()
}

#[test]
fn every_function_computes_what_the_reference_computes() {
    let dir = temp();
    let input = rows(400);
    let data = dir.path().join("rows.jsonl");
    let lines: Vec<String> = input
        .iter()
        .map(|r| {
            serde_json::json!({"s": r.s, "t": r.t, "x": r.x, "y": r.y, "n": r.n, "d": r.d, "ts": r.ts})
                .to_string()
        })
        .collect();
    std::fs::write(&data, lines.join("\n") + "\n").unwrap();
    let out = dir.path().join("out.jsonl");
    let pipe = dir.path().join("functions.pipe");
    let text = PIPE
        .replace("DATA", &data.display().to_string())
        .replace("OUT", &out.display().to_string());
    std::fs::write(&pipe, text).unwrap();
    run_ok(&build(&pipe), &[]);
    let got: Vec<serde_json::Value> = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(got.len(), input.len());
    const DAY: i64 = 86_400_000;
    for (g, r) in got.iter().zip(&input) {
        let text = |k: &str| g[k].as_str().unwrap().to_string();
        let float = |k: &str| g[k].as_f64().unwrap();
        let int = |k: &str| g[k].as_i64().unwrap();
        let at = format!("row {:?}", (&r.s, &r.t, r.x, r.y, r.n, r.d, r.ts));
        assert_eq!(text("sub"), substring(&r.s, r.n, Some(r.d)), "{at}");
        assert_eq!(text("sub_from"), substring(&r.s, r.n, None), "{at}");
        assert_eq!(text("trimmed"), r.t.trim(), "{at}");
        assert_eq!(int("length"), r.s.chars().count() as i64, "{at}");
        assert_eq!(g["ends"].as_bool().unwrap(), r.s.ends_with('a'), "{at}");
        assert_eq!(text("replaced"), r.s.replace("ab", "-"), "{at}");
        let pieces: Vec<&str> = r.s.split('b').collect();
        let part = match r.n {
            n if n >= 1 => pieces.get(n as usize - 1).copied().unwrap_or(""),
            0 => "",
            n => pieces
                .len()
                .checked_sub((-n) as usize)
                .map_or("", |i| pieces[i]),
        };
        assert_eq!(text("part"), part, "{at}");
        let both = format!("{}{}", r.t, r.s);
        assert_eq!(text("nested"), substring(&both, 2, None).trim(), "{at}");
        let digits: String =
            r.s.chars()
                .skip_while(|c| !c.is_ascii_digit())
                .take_while(char::is_ascii_digit)
                .collect();
        assert_eq!(g["digits"].as_bool().unwrap(), !digits.is_empty(), "{at}");
        assert_eq!(text("first_digits"), digits, "{at}");
        let whole: String = match r.s.find('a') {
            Some(i) => std::iter::once('a')
                .chain(r.s[i + 1..].chars().take_while(char::is_ascii_digit))
                .collect(),
            None => String::new(),
        };
        assert_eq!(text("whole"), whole, "{at}");
        assert_eq!(float("rounded"), round_reference(r.x, r.d), "{at}");
        assert_eq!(float("rounded0"), round_reference(r.x, 0), "{at}");
        assert_eq!(float("floored"), r.x.floor(), "{at}");
        assert_eq!(float("ceiled"), r.x.ceil(), "{at}");
        assert!(
            same_float(float("ln"), (r.x.abs() + 1.0).ln()),
            "ln: {} {at}",
            float("ln")
        );
        assert!(
            same_float(float("exp"), r.y.exp()),
            "exp: {} {at}",
            float("exp")
        );
        assert!(
            same_float(float("pow"), r.x.abs().powf(r.y)),
            "pow: {} {at}",
            float("pow")
        );
        assert_eq!(float("most"), r.x.max(r.y).max(0.5), "{at}");
        assert_eq!(int("fewest"), r.n.min(r.d).min(3), "{at}");
        assert_eq!(
            text("latest"),
            std::cmp::max(r.s.as_str(), r.t.as_str()),
            "{at}"
        );
        let day = r.ts.div_euclid(DAY);
        let (y, m, d) = civil_from_days(day);
        assert_eq!(int("hour"), r.ts - r.ts.rem_euclid(3_600_000), "{at}");
        // 1970-01-01 was a Thursday, three days after a Monday.
        assert_eq!(int("week"), (day - (day + 3).rem_euclid(7)) * DAY, "{at}");
        assert_eq!(int("month"), days_from_civil(y, m, 1) * DAY, "{at}");
        assert_eq!(int("year"), y, "{at}");
        assert_eq!(int("dow"), (day + 4).rem_euclid(7) + 1, "{at}");
        assert_eq!(int("doy"), day - days_from_civil(y, 1, 1) + 1, "{at}");
        let ms = r.ts.rem_euclid(DAY);
        let clock = format!(
            "{:02}:{:02}:{:02}",
            ms / 3_600_000,
            ms / 60_000 % 60,
            ms / 1_000 % 60
        );
        let frac = match ms % 1_000 {
            0 => String::new(),
            f => format!(".{f:03}"),
        };
        let year = if y < 0 {
            format!("-{:06}", -y)
        } else {
            format!("{y:04}")
        };
        assert_eq!(
            text("rfc"),
            format!("{year}-{m:02}-{d:02}T{clock}{frac}Z"),
            "{at}"
        );
        assert_eq!(text("day_text"), format!("{year}-{m:02}-{d:02}"), "{at}");
        assert_eq!(int("back"), r.ts - r.ts.rem_euclid(1_000), "{at}");
        assert_eq!(int("cast"), r.ts, "{at}");
    }
}

#[test]
fn bad_literals_are_compile_errors_at_their_place() {
    let dir = temp();
    let cases = [
        ("regexp(s, \"(unclosed\")", "not a regular expression"),
        ("regexp(s, t)", "takes the pattern as a string literal"),
        (
            "regexp_extract(s, \"a(b)\", 2)",
            "has 1 group(s), so there is no group 2",
        ),
        (
            "date_trunc(\"fortnight\", ts)",
            "takes one of the units second, minute",
        ),
        ("date_trunc(\"dow\", ts)", "not \"dow\""),
        ("extract(\"dow\", s)", "type mismatch"),
        ("format_time(ts, \"%Y %!\")", "not a time pattern"),
        ("round(s)", "type mismatch"),
        ("greatest(x, n)", "type mismatch"),
        (
            "greatest(ok)",
            "compares numbers, timestamps or strings, not bool",
        ),
        ("substring(s)", "takes 2 or 3 argument(s), found 1"),
    ];
    for (expr, message) in cases {
        let path = dir.path().join("bad.pipe");
        std::fs::write(
            &path,
            format!(
                "schema Row {{ s: str, t: str, x: f64, n: i64, ok: bool, ts: timestamp }}\n\
                 source rows: Row = jsonl(\"rows.jsonl\");\n\
                 rows |> map {{ v: {expr} }} |> sink stdout();\n"
            ),
        )
        .unwrap();
        let run = weir_cli(&["check", path.to_str().unwrap()]);
        assert_eq!(run.code, 1, "{expr}: {}", run.err);
        assert!(run.err.contains(message), "{expr}: {}", run.err);
        assert!(run.err.contains("bad.pipe:3:"), "{expr}: {}", run.err);
    }
}

/// Issue 33's third pipeline: hourly average temperature per sensor, rounded to 2
/// decimals, window starts as RFC 3339 text; against a Python-style reference here.
#[test]
fn hourly_averages_rounded_with_rfc3339_window_starts() {
    let dir = temp();
    let data = dir.path().join("readings.csv");
    let mut text = "sensor,celsius,ts\n".to_string();
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let start = 1_767_225_600_000i64; // 2026-01-01T00:00:00Z
    let mut readings = Vec::new();
    for i in 0..3_000i64 {
        let sensor = ["north", "south", "east"][rng.random_range(0..3)];
        let celsius = rng.random_range(-5_000i64..35_000) as f64 / 1000.0;
        let ts = start + i * 7_000 + rng.random_range(0..3_000);
        text.push_str(&format!("{sensor},{celsius},{ts}\n"));
        readings.push((sensor, celsius, ts));
    }
    std::fs::write(&data, text).unwrap();
    let out = dir.path().join("hourly.csv");
    let pipe = dir.path().join("hourly.pipe");
    std::fs::write(
        &pipe,
        format!(
            "schema Reading {{ sensor: str, celsius: f64, ts: timestamp }}\n\
             source readings: Reading = csv({:?}) with event_time(ts), watermark(bounded 5s);\n\
             readings |> key_by(sensor) |> window(tumbling 1h)\n\
               |> aggregate {{ avg_temp: avg(celsius) }}\n\
               |> map {{ sensor, hour: format_time(window_start), avg_temp: round(avg_temp, 2) }}\n\
               |> sink csv({:?});\n",
            data.display().to_string(),
            out.display().to_string()
        ),
    )
    .unwrap();
    run_ok(&build(&pipe), &[]);
    let (header, rows) = read_csv(&out);
    assert_eq!(header, ["sensor", "hour", "avg_temp"]);
    let mut want: std::collections::BTreeMap<(String, i64), (f64, u64)> = Default::default();
    for (sensor, c, ts) in &readings {
        let w = want
            .entry((sensor.to_string(), ts - ts.rem_euclid(3_600_000)))
            .or_default();
        w.0 += c;
        w.1 += 1;
    }
    let mut got: Vec<(String, String, f64)> = rows
        .into_iter()
        .map(|r| (r[0].clone(), r[1].clone(), r[2].parse().unwrap()))
        .collect();
    got.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    let want: Vec<(String, String, f64)> = want
        .into_iter()
        .map(|((sensor, hour), (sum, n))| {
            let h = (hour - start) / 3_600_000;
            // Python: round(Decimal(repr(sum / n)), 2) with ROUND_HALF_UP, from its text.
            let mean = format!("{}", sum / n as f64);
            (
                sensor,
                format!("2026-01-01T{h:02}:00:00Z"),
                round_text(&mean, 2),
            )
        })
        .collect();
    assert_eq!(got, want);
}

/// The decimal `text` rounded half away from zero to `digits` places, digit by digit.
fn round_text(text: &str, digits: usize) -> f64 {
    let negative = text.starts_with('-');
    let text = text.trim_start_matches('-');
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    let frac: Vec<u8> = frac.bytes().map(|b| b - b'0').collect();
    let mut kept: i128 = format!(
        "{int}{}",
        frac.iter()
            .take(digits)
            .map(|d| char::from(b'0' + d))
            .collect::<String>()
            + &"0".repeat(digits.saturating_sub(frac.len()))
    )
    .parse()
    .unwrap();
    if frac.get(digits).is_some_and(|&d| d >= 5) {
        kept += 1;
    }
    let value: f64 = format!("{kept}e-{digits}").parse().unwrap();
    if negative {
        -value
    } else {
        value
    }
}
