//! How the workers running one iteration talk between rounds: phases of rows on the
//! iteration's own channel of the job's exchange (an id past the plan's exchanges).
//!
//! A phase (a kind of row and a round) is: each worker sends any number of rows to each
//! other worker, then an end row to each. Rows between two workers arrive in the order
//! they were sent, so once a worker has every other's end row of a phase it has all of
//! that phase's rows, which it takes sender by sender, in worker order: what each worker
//! computes from them is the same on every run.

use std::collections::HashMap;

use crate::parallel::{pump, Exchanging, WorkerSlot};
use crate::JobError;

/// What an iteration sends to the other workers and gathers from them.
pub trait RoundChannel {
    /// This worker, and how many there are.
    fn slot(&self) -> WorkerSlot;

    /// Sends `payload` to worker `to` in phase (`kind`, `round`).
    fn send(&mut self, to: usize, kind: u8, round: u64, payload: &[u8]) -> Result<(), JobError>;

    /// Ends this worker's part of phase (`kind`, `round`), waits for every other
    /// worker's, and hands over what each sent in it, by sender (this worker's empty).
    fn gather(&mut self, kind: u8, round: u64) -> Result<Vec<Vec<Vec<u8>>>, JobError>;

    /// Sends `payload` to every other worker and gathers theirs: each worker's, by
    /// worker, this one's included.
    fn all_gather(
        &mut self,
        kind: u8,
        round: u64,
        payload: &[u8],
    ) -> Result<Vec<Vec<u8>>, JobError> {
        let slot = self.slot();
        for to in (0..slot.peers).filter(|&w| w != slot.index) {
            self.send(to, kind, round, payload)?;
        }
        let mut all = self.gather(kind, round)?;
        Ok((0..slot.peers)
            .map(|w| {
                if w == slot.index {
                    payload.to_vec()
                } else {
                    all[w].pop().unwrap_or_default()
                }
            })
            .collect())
    }
}

/// The row's time carries its phase: round, kind, and whether it ends the phase.
fn phase_tag(kind: u8, round: u64, end: bool) -> i64 {
    ((round << 9) | (u64::from(kind) << 1) | u64::from(end)) as i64
}

/// Each sender's rows of one phase, by sender.
type Rows = Vec<Vec<Vec<u8>>>;

/// The rows of an iteration's phases as they arrive, before the worker takes them. A
/// field of the generated job, which the job's `receive` fills.
#[derive(Debug, Default)]
pub struct RoundInbox {
    /// By phase: each sender's rows, and which senders have ended it.
    phases: HashMap<i64, (Rows, Vec<bool>)>,
}

impl RoundInbox {
    /// A row that arrived (`ts` its phase tag; the row starts with its sender's index).
    pub fn arrive(&mut self, ts: i64, row: &[u8], peers: usize) {
        let (sender, payload) = row.split_at(4);
        let sender = u32::from_le_bytes(sender.try_into().expect("4 bytes")) as usize;
        let (rows, ended) = self
            .phases
            .entry(ts & !1)
            .or_insert_with(|| (vec![Vec::new(); peers], vec![false; peers]));
        if ts & 1 == 1 {
            ended[sender] = true;
        } else {
            rows[sender].push(payload.to_vec());
        }
    }

    fn complete(&self, tag: i64, me: usize) -> bool {
        self.phases
            .get(&tag)
            .is_some_and(|(_, ended)| ended.iter().enumerate().all(|(w, &e)| e || w == me))
    }

    fn take(&mut self, tag: i64, peers: usize) -> Rows {
        self.phases
            .remove(&tag)
            .map(|(rows, _)| rows)
            .unwrap_or_else(|| vec![Vec::new(); peers])
    }
}

/// A [`RoundChannel`] over a generated job's exchange: channel `channel`, rows arriving
/// into the job's `RoundInbox` that `inbox` finds.
pub struct JobChannel<'j, J: Exchanging> {
    job: &'j mut J,
    channel: usize,
    inbox: fn(&mut J) -> &mut RoundInbox,
    slot: WorkerSlot,
}

impl<'j, J: Exchanging> JobChannel<'j, J> {
    /// The channel of a job on several workers (`None` on one: nothing to talk to).
    pub fn new(
        job: &'j mut J,
        channel: usize,
        inbox: fn(&mut J) -> &mut RoundInbox,
    ) -> Option<Self> {
        let slot = job.exchange()?.slot();
        (slot.peers > 1).then_some(JobChannel {
            job,
            channel,
            inbox,
            slot,
        })
    }

    // Out of line: a send is a chunk of values, and a round's loop that inlined the
    // outbox's copy kept less of its own state in registers (20M more instructions on a
    // PageRank of 1M edges on one worker, where nothing is sent).
    #[inline(never)]
    fn push(&mut self, to: usize, tag: i64, payload: &[u8]) -> Result<(), JobError> {
        let sender = (self.slot.index as u32).to_le_bytes();
        let x = self
            .job
            .exchange()
            .expect("a job on several workers has an exchange");
        x.outbox
            .row_of_parts_to(self.channel, to, tag, &sender, payload);
        if x.outbox.is_full() {
            pump(self.job, false)?;
        }
        Ok(())
    }
}

impl<J: Exchanging> RoundChannel for JobChannel<'_, J> {
    fn slot(&self) -> WorkerSlot {
        self.slot
    }

    fn send(&mut self, to: usize, kind: u8, round: u64, payload: &[u8]) -> Result<(), JobError> {
        self.push(to, phase_tag(kind, round, false), payload)
    }

    fn gather(&mut self, kind: u8, round: u64) -> Result<Vec<Vec<Vec<u8>>>, JobError> {
        let (me, peers) = (self.slot.index, self.slot.peers);
        for to in (0..peers).filter(|&w| w != me) {
            self.push(to, phase_tag(kind, round, true), &[])?;
        }
        let tag = phase_tag(kind, round, false);
        pump(self.job, false)?;
        while !(self.inbox)(self.job).complete(tag, me) {
            pump(self.job, true)?;
        }
        Ok((self.inbox)(self.job).take(tag, peers))
    }
}

/// Empty at every checkpoint: rounds begin after the input has ended, where no checkpoint
/// is taken.
impl crate::checkpoint::Checkpointed for RoundInbox {
    fn save(&mut self, _: &mut crate::checkpoint::StateOut) -> Result<(), JobError> {
        Ok(())
    }

    fn load(&mut self, _: &mut crate::checkpoint::StateIn<'_>) -> Result<(), JobError> {
        Ok(())
    }

    fn load_rescaled(
        &mut self,
        _: &mut [crate::checkpoint::StateIn<'_>],
        _: &crate::checkpoint::Rescale,
    ) -> Result<(), JobError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_phase_is_complete_when_every_other_worker_has_ended_it() {
        let mut inbox = RoundInbox::default();
        let row = |sender: u32, payload: &[u8]| {
            let mut r = sender.to_le_bytes().to_vec();
            r.extend_from_slice(payload);
            r
        };
        let tag = phase_tag(3, 7, false);
        inbox.arrive(tag, &row(1, b"ab"), 3);
        inbox.arrive(phase_tag(3, 8, false), &row(1, b"later"), 3);
        inbox.arrive(tag, &row(2, b"cd"), 3);
        inbox.arrive(phase_tag(3, 7, true), &row(2, b""), 3);
        assert!(!inbox.complete(tag, 0));
        inbox.arrive(tag, &row(1, b"ef"), 3);
        inbox.arrive(phase_tag(3, 7, true), &row(1, b""), 3);
        assert!(inbox.complete(tag, 0));
        let got = inbox.take(tag, 3);
        assert_eq!(got[0], Vec::<Vec<u8>>::new());
        assert_eq!(got[1], vec![b"ab".to_vec(), b"ef".to_vec()]);
        assert_eq!(got[2], vec![b"cd".to_vec()]);
        assert!(
            !inbox.complete(phase_tag(3, 8, false), 0),
            "the next round waits"
        );
    }
}
