//! weir's events against the `nexmark` crate's for the same settings: every field of
//! every event, in the crate's order of positions, under settings that move each part of
//! the generation (proportions, ids, disorder, rate, seed).

use nexmark::event::Event;
use nexmark::EventGenerator;

use super::{EventKind, EventMaker, NexmarkSpec};

fn agree(spec: &NexmarkSpec, events: usize) {
    let mut ours = EventMaker::new(spec, true);
    for (position, theirs) in EventGenerator::new(spec.config()).take(events).enumerate() {
        let n = spec.event_number(position as u64);
        let at = format!("position {position} of {spec:?}");
        match theirs {
            Event::Person(p) => {
                assert_eq!(ours.kind(n), EventKind::Person, "{at}");
                let o = ours.person(n);
                assert_eq!(
                    (o.id, &*o.name, &*o.email_address, &*o.credit_card),
                    (p.id as u64, &*p.name, &*p.email_address, &*p.credit_card),
                    "{at}"
                );
                assert_eq!(
                    (&*o.city, &*o.state, o.date_time, &*o.extra),
                    (&*p.city, &*p.state, p.date_time, &*p.extra),
                    "{at}"
                );
            }
            Event::Auction(a) => {
                assert_eq!(ours.kind(n), EventKind::Auction, "{at}");
                let o = ours.auction(n);
                assert_eq!(
                    (
                        o.id,
                        &*o.item_name,
                        &*o.description,
                        o.initial_bid,
                        o.reserve
                    ),
                    (
                        a.id as u64,
                        &*a.item_name,
                        &*a.description,
                        a.initial_bid as u64,
                        a.reserve as u64
                    ),
                    "{at}"
                );
                assert_eq!(
                    (o.date_time, o.expires, o.seller, o.category, &*o.extra),
                    (
                        a.date_time,
                        a.expires,
                        a.seller as u64,
                        a.category as u64,
                        &*a.extra
                    ),
                    "{at}"
                );
            }
            Event::Bid(b) => {
                assert_eq!(ours.kind(n), EventKind::Bid, "{at}");
                let o = ours.bid(n);
                assert_eq!(
                    (o.auction, o.bidder, o.price, &*o.channel, &*o.url),
                    (
                        b.auction as u64,
                        b.bidder as u64,
                        b.price as u64,
                        &*b.channel,
                        &*b.url
                    ),
                    "{at}"
                );
                assert_eq!((o.date_time, &*o.extra), (b.date_time, &*b.extra), "{at}");
            }
        }
    }
}

#[test]
fn the_standard_settings_give_the_crates_events() {
    agree(&NexmarkSpec::default(), 60_000);
}

#[test]
fn other_settings_give_the_crates_events() {
    let standard = NexmarkSpec::default();
    for spec in [
        NexmarkSpec {
            out_of_order: 97,
            rate: 1_000,
            ..standard.clone()
        },
        NexmarkSpec {
            seed: 3,
            base_time: 0,
            ..standard.clone()
        },
        NexmarkSpec {
            persons: 2,
            auctions: 5,
            bids: 20,
            active_people: 50,
            in_flight_auctions: 7,
            ..standard.clone()
        },
        NexmarkSpec {
            persons: 1,
            auctions: 1,
            bids: 1,
            rate: 7,
            ..standard
        },
    ] {
        agree(&spec, 20_000);
    }
}

/// Without its `extra` text an event keeps every other field.
#[test]
fn leaving_out_extra_changes_nothing_else() {
    let spec = NexmarkSpec::default();
    let (mut full, mut lean) = (EventMaker::new(&spec, true), EventMaker::new(&spec, false));
    for n in 0..5_000 {
        match spec.kind(n) {
            EventKind::Person => {
                let mut p = full.person(n).clone();
                p.extra.clear();
                assert_eq!(&p, lean.person(n));
            }
            EventKind::Auction => {
                let mut a = full.auction(n).clone();
                a.extra.clear();
                assert_eq!(&a, lean.auction(n));
            }
            EventKind::Bid => {
                let mut b = full.bid(n).clone();
                b.extra.clear();
                assert_eq!(&b, lean.bid(n));
            }
        }
    }
}
