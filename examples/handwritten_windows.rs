//! The hand-written baseline for the windows benchmark: 10 s event-time tumbling windows,
//! count and sum per key, watermarks 2 s behind the largest timestamp, written as a Rust
//! programmer would, with the same firing rule as weir (a window fires when the watermark
//! reaches its last millisecond).
//!
//! Usage: handwritten_windows INPUT OUTPUT (CSV `ts,key,value` in; `key,window_start,
//! window_end,n,total` out)

use std::collections::BTreeMap;

const SIZE: i64 = 10_000;
const BOUND: i64 = 2_000;

type Windows = BTreeMap<i64, hashbrown::HashMap<u64, (u64, i64)>>;

fn parse<T: std::str::FromStr>(field: &[u8]) -> T {
    std::str::from_utf8(field)
        .ok()
        .and_then(|s| s.parse().ok())
        .expect("a number")
}

fn fire(windows: &mut Windows, wm: i64, out: &mut csv::Writer<std::fs::File>) -> csv::Result<()> {
    while let Some(entry) = windows.first_entry() {
        if *entry.key() + SIZE - 1 > wm {
            break;
        }
        let (start, keys) = entry.remove_entry();
        for (key, (n, total)) in keys {
            out.write_record([
                key.to_string(),
                start.to_string(),
                (start + SIZE).to_string(),
                n.to_string(),
                total.to_string(),
            ])?;
        }
    }
    Ok(())
}

fn main() -> csv::Result<()> {
    let mut args = std::env::args().skip(1);
    let input = args
        .next()
        .expect("usage: handwritten_windows INPUT OUTPUT");
    let output = args
        .next()
        .expect("usage: handwritten_windows INPUT OUTPUT");
    let mut reader = csv::Reader::from_path(input)?;
    let mut out = csv::Writer::from_path(output)?;
    out.write_record(["key", "window_start", "window_end", "n", "total"])?;
    let mut record = csv::ByteRecord::new();
    let mut windows = Windows::new();
    let (mut max_ts, mut wm, mut late) = (i64::MIN, i64::MIN, 0u64);
    while reader.read_byte_record(&mut record)? {
        let ts: i64 = parse(&record[0]);
        let key: u64 = parse(&record[1]);
        let value: i64 = parse(&record[2]);
        let start = ts - ts.rem_euclid(SIZE);
        if start + SIZE - 1 <= wm {
            late += 1;
            continue;
        }
        let slot = windows
            .entry(start)
            .or_default()
            .entry(key)
            .or_insert((0, 0));
        slot.0 += 1;
        slot.1 += value;
        if ts > max_ts {
            max_ts = ts;
            if ts - BOUND - 1 > wm {
                wm = ts - BOUND - 1;
                fire(&mut windows, wm, &mut out)?;
            }
        }
    }
    fire(&mut windows, i64::MAX, &mut out)?;
    if late > 0 {
        eprintln!("dropped {late} late record(s)");
    }
    out.flush()?;
    Ok(())
}
