//! The hand-written baseline for the windows benchmark: 10 s event-time tumbling windows,
//! count and sum per key, watermarks 2 s behind the largest timestamp, with the same firing
//! rule as weir (a window fires when the watermark reaches its last millisecond). Written
//! as a good Rust programmer would for speed: lines read into one reused buffer, integers
//! parsed from bytes, one `hashbrown` map per open window in a `BTreeMap` by start, output
//! formatted without allocating.
//!
//! Usage: handwritten_windows INPUT OUTPUT (CSV `ts,key,value` in; `key,window_start,
//! window_end,n,total` out)

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, BufWriter, Write};

const SIZE: i64 = 10_000;
const BOUND: i64 = 2_000;

type Windows = BTreeMap<i64, hashbrown::HashMap<u64, (u64, i64)>>;

fn fire(windows: &mut Windows, wm: i64, out: &mut impl Write) -> std::io::Result<()> {
    let mut n = itoa::Buffer::new();
    while let Some(entry) = windows.first_entry() {
        if *entry.key() + SIZE - 1 > wm {
            break;
        }
        let (start, keys) = entry.remove_entry();
        for (key, (count, total)) in keys {
            out.write_all(n.format(key).as_bytes())?;
            out.write_all(b",")?;
            out.write_all(n.format(start).as_bytes())?;
            out.write_all(b",")?;
            out.write_all(n.format(start + SIZE).as_bytes())?;
            out.write_all(b",")?;
            out.write_all(n.format(count).as_bytes())?;
            out.write_all(b",")?;
            out.write_all(n.format(total).as_bytes())?;
            out.write_all(b"\n")?;
        }
    }
    Ok(())
}

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: handwritten_windows INPUT OUTPUT";
    let (input, output) = (args.next().expect(usage), args.next().expect(usage));
    let mut reader = BufReader::with_capacity(256 * 1024, std::fs::File::open(input)?);
    let mut out = BufWriter::with_capacity(256 * 1024, std::fs::File::create(output)?);
    out.write_all(b"key,window_start,window_end,n,total\n")?;
    let mut line = Vec::with_capacity(64);
    reader.read_until(b'\n', &mut line)?; // the header
    let mut windows = Windows::new();
    let (mut max_ts, mut wm, mut late) = (i64::MIN, i64::MIN, 0u64);
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        let mut fields = line.trim_ascii_end().split(|&b| b == b',');
        let mut next = || fields.next().expect("three fields");
        let ts: i64 = atoi::atoi(next()).expect("a timestamp");
        let key: u64 = atoi::atoi(next()).expect("a key");
        let value: i64 = atoi::atoi(next()).expect("a value");
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
    out.flush()
}
