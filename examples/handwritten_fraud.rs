//! The hand-written baseline for the fraud-detection benchmark: Flink's tutorial rule (a
//! transaction over 500.00 directly after one under 1.00 on the same account, less than a
//! minute later, raises an alert), as `dsl-examples/fraud_detection.pipe` states it. Written
//! as a good Rust programmer would for speed: lines read into one reused buffer, integers
//! parsed from bytes, the flagged accounts' flag times in a `hashbrown` map (an account
//! leaves it when a transaction or its timer clears the flag), and the flags' one-minute
//! timers in a queue in time order (input time ascends, so a timer is never set before one
//! already queued), a deleted timer skipped when it comes due.
//!
//! Usage: handwritten_fraud INPUT OUTPUT (CSV `ts,account,amount` in; `account,ts,amount`
//! out)

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, BufWriter, Write};

const MINUTE: i64 = 60_000;

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: handwritten_fraud INPUT OUTPUT";
    let (input, output) = (args.next().expect(usage), args.next().expect(usage));
    let mut reader = BufReader::with_capacity(256 * 1024, std::fs::File::open(input)?);
    let mut out = BufWriter::with_capacity(256 * 1024, std::fs::File::create(output)?);
    out.write_all(b"account,ts,amount\n")?;
    let mut line = Vec::with_capacity(64);
    reader.read_until(b'\n', &mut line)?; // the header
                                          // Only flagged accounts are kept: most transactions find nothing and store nothing.
    let mut flagged: hashbrown::HashMap<Box<[u8]>, i64> = hashbrown::HashMap::new();
    let mut timers: VecDeque<(i64, Box<[u8]>)> = VecDeque::new();
    let (mut wm, mut int, mut float) = (i64::MIN, itoa::Buffer::new(), ryu::Buffer::new());
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        let mut fields = line.trim_ascii_end().split(|&b| b == b',');
        let mut next = || fields.next().expect("three fields");
        let ts: i64 = atoi::atoi(next()).expect("a timestamp");
        let account = next();
        let amount: f64 = std::str::from_utf8(next())
            .ok()
            .and_then(|s| s.parse().ok())
            .expect("an amount");
        let small = amount < 1.0;
        match flagged.get_mut(account) {
            Some(at) => {
                if amount > 500.0 && ts - *at < MINUTE {
                    out.write_all(account)?;
                    out.write_all(b",")?;
                    out.write_all(int.format(ts).as_bytes())?;
                    out.write_all(b",")?;
                    out.write_all(float.format(amount).as_bytes())?;
                    out.write_all(b"\n")?;
                }
                if small {
                    *at = ts;
                    timers.push_back((ts + MINUTE, account.into()));
                } else {
                    flagged.remove(account);
                }
            }
            None if small => {
                flagged.insert(account.into(), ts);
                timers.push_back((ts + MINUTE, account.into()));
            }
            None => {}
        }
        // The watermark follows ascending time; a flag's timer clears it a minute on,
        // unless a later transaction cleared or renewed it (then the timer was deleted).
        if ts - 1 > wm {
            wm = ts - 1;
            while timers.front().is_some_and(|(due, _)| *due <= wm) {
                let (due, account) = timers.pop_front().expect("a timer");
                if flagged.get(&account) == Some(&(due - MINUTE)) {
                    flagged.remove(&account);
                }
            }
        }
    }
    out.flush()
}
