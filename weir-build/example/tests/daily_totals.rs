//! The crate whose `build.rs` compiles `pipelines/daily_totals.pipe`: its binary (the
//! pipeline's typed API) against a reference written here, and a mistake in the `.pipe`
//! file failing `cargo build` with the diagnostic at its place.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// Year, month and day of `days` since 1970-01-01 (Howard Hinnant's `civil_from_days`):
/// the reference's own calendar, not jiff's.
fn civil(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// `ms` written as RFC 3339 with the offset `offset_h` hours (the same instant).
fn rfc3339(ms: i64, offset_h: i64) -> String {
    let local = ms + offset_h * 3_600_000;
    let (days, in_day) = (local.div_euclid(86_400_000), local.rem_euclid(86_400_000));
    let (y, m, d) = civil(days);
    let (h, min, s) = (in_day / 3_600_000, in_day / 60_000 % 60, in_day / 1000 % 60);
    let offset = if offset_h == 0 {
        "Z".to_string()
    } else {
        format!(
            "{}{:02}:00",
            if offset_h < 0 { '-' } else { '+' },
            offset_h.abs()
        )
    };
    format!("{y:04}-{m:02}-{d:02}T{h:02}:{min:02}:{s:02}{offset}")
}

fn day_text(day: i64) -> String {
    let (y, m, d) = civil(day);
    format!("{y:04}-{m:02}-{d:02}T00:00:00Z")
}

#[test]
fn the_compiled_pipeline_totals_each_customers_days() {
    let dir = tempfile::tempdir().unwrap();
    let (orders, out) = (dir.path().join("orders.csv"), dir.path().join("daily.csv"));
    let mut csv = String::from("id,customer,amount,at\n");
    let mut want: BTreeMap<(String, i64), (u64, f64)> = BTreeMap::new();
    // Ten days around the leap day of 2024, in order, at offsets from -11 to +13 hours.
    let start = 1_708_992_000_000; // 2024-02-27T00:00:00Z
    for i in 0..2_000i64 {
        let ms = start + i * 431_999;
        let customer = format!("c{}", (i * 7) % 13);
        let amount = ((i * 37) % 200 - 20) as f64 / 4.0;
        csv.push_str(&format!(
            "{i},{customer},{amount},{}\n",
            rfc3339(ms, (i % 25) - 11)
        ));
        if amount > 0.0 {
            let e = want
                .entry((customer, ms.div_euclid(86_400_000)))
                .or_default();
            e.0 += 1;
            e.1 += amount;
        }
    }
    std::fs::write(&orders, csv).unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_weir-build-example"))
        .args([&orders, &out])
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let text = std::fs::read_to_string(&out).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("customer,window_start,window_end,orders,total")
    );
    let mut got: BTreeMap<(String, i64), (u64, f64)> = BTreeMap::new();
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        let day = (0..20_000)
            .find(|&d| day_text(d) == f[1])
            .unwrap_or_else(|| panic!("window start {} is no day", f[1]));
        assert_eq!(f[2], day_text(day + 1));
        got.insert(
            (f[0].to_string(), day),
            (f[3].parse().unwrap(), f[4].parse().unwrap()),
        );
    }
    assert_eq!(got.len(), want.len());
    for (key, (n, total)) in &want {
        let (gn, gt) = got[key];
        assert_eq!(gn, *n, "{key:?}");
        assert!((gt - total).abs() < 1e-9, "{key:?}: {gt} against {total}");
    }
}

#[test]
fn a_mistake_in_the_pipe_file_fails_cargo_build_at_its_place() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let pipe = std::fs::read_to_string(here.join("pipelines/daily_totals.pipe")).unwrap();
    let broken = pipe.replace("sum(amount)", "sum(amout)");
    assert_ne!(broken, pipe);
    let line = broken.lines().position(|l| l.contains("amout")).unwrap() + 1;
    let column = broken.lines().nth(line - 1).unwrap().find("amout").unwrap() + 1;
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("daily_totals.pipe");
    std::fs::write(&copy, broken).unwrap();
    // The workspace's own build, as `cargo test --workspace` made it: only this crate's
    // build script runs again (for the variable), on the broken copy.
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let build = Command::new(cargo)
        .args(["test", "--workspace", "--no-run", "--offline", "--quiet"])
        .env("WEIR_BUILD_EXAMPLE_PIPE", &copy)
        .current_dir(here.join("../.."))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&build.stderr);
    assert!(!build.status.success(), "{err}");
    let place = format!("{}:{line}:{column}", copy.display());
    assert!(err.contains(&place), "no {place} in:\n{err}");
    assert!(err.contains("amout"), "{err}");
    assert!(
        err.contains("failed to run custom build command for `weir-build-example"),
        "{err}"
    );
}
