//! A plain, slow simulation of weir's documented window semantics, written from
//! `docs/language.md` and not from the runtime: the independent answer the window tests
//! compare against.
//!
//! Per record, in arrival order: the record is checked against the watermark *before* it;
//! a window is too late for it when `end - 1 + lateness <= watermark`; a record too late for
//! all its windows is late. Otherwise it joins each window still open (sessions merge with
//! every session they touch), and a window whose end has already passed fires again at once.
//! Then the watermark moves to `max timestamp - bound - 1` if that is higher, and every
//! window with `end - 1 <= watermark` that has not fired since it last changed fires, in
//! order of end, then of when it was opened (a merged session counts as opened when it last
//! changed); windows are dropped once `end - 1 + lateness <= watermark`. At end of input
//! the watermark is the maximum.

#![allow(dead_code)]

/// One input record.
#[derive(Debug, Clone)]
pub struct Rec {
    pub key: String,
    pub ts: i64,
    pub v: f64,
}

/// Which windows a record belongs to.
#[derive(Debug, Clone, Copy)]
pub enum Assign {
    Tumbling { size: i64, offset: i64 },
    Sliding { size: i64, slide: i64, offset: i64 },
    Session { gap: i64 },
}

/// One window result: the records in it at that moment as (ts, v, arrival index).
#[derive(Debug, Clone, PartialEq)]
pub struct Fired {
    pub key: String,
    pub start: i64,
    pub end: i64,
    pub recs: Vec<(i64, f64, usize)>,
}

impl Fired {
    pub fn count(&self) -> u64 {
        self.recs.len() as u64
    }
    pub fn sum(&self) -> f64 {
        self.recs.iter().map(|r| r.1).sum()
    }
    pub fn min(&self) -> f64 {
        self.recs.iter().map(|r| r.1).fold(f64::INFINITY, f64::min)
    }
    pub fn max(&self) -> f64 {
        self.recs
            .iter()
            .map(|r| r.1)
            .fold(f64::NEG_INFINITY, f64::max)
    }
    /// The value with the smallest timestamp; ties go to the earliest arrival.
    pub fn first(&self) -> f64 {
        self.recs.iter().min_by_key(|r| (r.0, r.2)).unwrap().1
    }
    /// The value with the largest timestamp; ties go to the latest arrival.
    pub fn last(&self) -> f64 {
        self.recs.iter().max_by_key(|r| (r.0, r.2)).unwrap().1
    }
}

struct Open {
    key: String,
    start: i64,
    end: i64,
    recs: Vec<(i64, f64, usize)>,
    opened: u64,
    due: bool,
}

/// Runs the simulation: the results in emission order, and the arrival indexes of late
/// records.
pub fn simulate(
    records: &[Rec],
    assign: Assign,
    bound: i64,
    lateness: i64,
) -> (Vec<Fired>, Vec<usize>) {
    let mut open: Vec<Open> = Vec::new();
    let mut out = Vec::new();
    let mut late = Vec::new();
    let mut wm = i64::MIN;
    let mut max_ts = i64::MIN;
    let mut opened = 0u64;
    let fire = |w: &Open| Fired {
        key: w.key.clone(),
        start: w.start,
        end: w.end,
        recs: w.recs.clone(),
    };
    for (i, r) in records.iter().enumerate() {
        let expired = |end: i64| end - 1 + lateness <= wm;
        match assign {
            Assign::Session { gap } => {
                let (s, e) = (r.ts, r.ts + gap);
                if expired(e) {
                    late.push(i);
                } else {
                    let touching: Vec<usize> = (0..open.len())
                        .filter(|&j| open[j].key == r.key && open[j].start <= e && open[j].end >= s)
                        .collect();
                    let idx = if touching.is_empty() {
                        opened += 1;
                        open.push(Open {
                            key: r.key.clone(),
                            start: s,
                            end: e,
                            recs: vec![],
                            opened,
                            due: e - 1 > wm,
                        });
                        open.len() - 1
                    } else {
                        let target = *touching.iter().min_by_key(|&&j| open[j].start).unwrap();
                        let (mut ns, mut ne) = (s.min(open[target].start), e.max(open[target].end));
                        let mut merged = Vec::new();
                        for &j in touching.iter().filter(|&&j| j != target) {
                            ns = ns.min(open[j].start);
                            ne = ne.max(open[j].end);
                            merged.extend(open[j].recs.clone());
                        }
                        open[target].recs.extend(merged);
                        if (ns, ne) != (open[target].start, open[target].end) {
                            opened += 1;
                            open[target].start = ns;
                            open[target].end = ne;
                            open[target].opened = opened;
                            open[target].due = ne - 1 > wm;
                        }
                        let key = open[target].key.clone();
                        let keep = open[target].opened;
                        let mut gone: Vec<usize> =
                            touching.into_iter().filter(|&j| j != target).collect();
                        gone.sort_unstable_by(|a, b| b.cmp(a));
                        for j in gone {
                            open.remove(j);
                        }
                        open.iter()
                            .position(|w| w.key == key && w.opened == keep)
                            .unwrap()
                    };
                    open[idx].recs.push((r.ts, r.v, i));
                    if open[idx].end - 1 <= wm {
                        out.push(fire(&open[idx]));
                    }
                }
            }
            fixed => {
                let (size, slide, offset) = match fixed {
                    Assign::Tumbling { size, offset } => (size, size, offset),
                    Assign::Sliding {
                        size,
                        slide,
                        offset,
                    } => (size, slide, offset),
                    Assign::Session { .. } => unreachable!(),
                };
                let mut start = r.ts - (r.ts - offset).rem_euclid(slide);
                let mut on_time = false;
                while start > r.ts - size {
                    let end = start + size;
                    if !expired(end) {
                        on_time = true;
                        let idx = match open.iter().position(|w| w.key == r.key && w.start == start)
                        {
                            Some(j) => j,
                            None => {
                                opened += 1;
                                open.push(Open {
                                    key: r.key.clone(),
                                    start,
                                    end,
                                    recs: vec![],
                                    opened,
                                    due: end - 1 > wm,
                                });
                                open.len() - 1
                            }
                        };
                        open[idx].recs.push((r.ts, r.v, i));
                        if end - 1 <= wm {
                            out.push(fire(&open[idx]));
                        }
                    }
                    start -= slide;
                }
                if !on_time {
                    late.push(i);
                }
            }
        }
        if r.ts > max_ts {
            max_ts = r.ts;
            let next = r.ts - bound - 1;
            if next > wm {
                wm = next;
                advance(&mut open, &mut out, wm, lateness);
            }
        }
    }
    advance(&mut open, &mut out, i64::MAX, lateness);
    (out, late)
}

fn advance(open: &mut Vec<Open>, out: &mut Vec<Fired>, wm: i64, lateness: i64) {
    let mut due: Vec<usize> = (0..open.len())
        .filter(|&j| open[j].due && open[j].end - 1 <= wm)
        .collect();
    due.sort_by_key(|&j| (open[j].end, open[j].opened));
    for j in due {
        out.push(Fired {
            key: open[j].key.clone(),
            start: open[j].start,
            end: open[j].end,
            recs: open[j].recs.clone(),
        });
        open[j].due = false;
    }
    open.retain(|w| w.end.saturating_sub(1).saturating_add(lateness) > wm);
}
