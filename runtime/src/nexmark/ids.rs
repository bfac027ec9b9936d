//! The person and auction ids events carry and refer to. An event's id (its number plus
//! the seed's first id) says how many persons and auctions came before it, so a bid can
//! name a recent auction and a recent person without any state.

use rand08::rngs::SmallRng;
use rand08::Rng;

use super::events::Settings;

/// Auctions and persons this far apart in id share a "hot" one: a bid for a hot auction
/// names the first of the last hundred auctions (the crate's constant).
pub(crate) const HOT_RATIO: u64 = 100;

/// The id (from 0) of the last person created by event `id`, which is the person it
/// creates if it is a person event.
pub(crate) fn last_person(id: u64, s: &Settings) -> u64 {
    let epoch = id / s.denominator;
    let offset = (id % s.denominator).min(s.persons - 1);
    epoch * s.persons + offset
}

/// A person active at event `id`: one of the last `active_people`, or a few not yet
/// created (the crate's lead, so that some references miss).
pub(crate) fn recent_person(id: u64, rng: &mut SmallRng, s: &Settings) -> u64 {
    let people = last_person(id, s) + 1;
    let active = people.min(s.active_people);
    people - active + rng.gen_range(0..(active + s.person_id_lead) as usize) as u64
}

/// The id (from 0) of the last auction created by event `id`, which is the auction it
/// creates if it is an auction event.
pub(crate) fn last_auction(id: u64, s: &Settings) -> u64 {
    let mut epoch = id / s.denominator;
    let mut offset = id % s.denominator;
    if offset < s.persons {
        // A person event: the last auction is the previous cycle's last. Only bids and
        // auctions ask, so a first cycle's person never gets here.
        epoch = epoch.wrapping_sub(1);
        offset = s.auctions - 1;
    } else if s.persons + s.auctions <= offset {
        offset = s.auctions - 1;
    } else {
        offset -= s.persons;
    }
    epoch.wrapping_mul(s.auctions).wrapping_add(offset)
}

/// An auction in flight at event `id`: one of the last `in_flight_auctions`, or a few
/// not yet created.
pub(crate) fn recent_auction(id: u64, rng: &mut SmallRng, s: &Settings) -> u64 {
    let max = last_auction(id, s);
    let min = max.saturating_sub(s.in_flight_auctions);
    min + rng.gen_range(0..(max - min + 1 + s.auction_id_lead) as usize) as u64
}
