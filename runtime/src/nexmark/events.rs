//! Nexmark's three kinds of event, built by [`EventMaker`] into buffers it reuses: the
//! crate's events for the same settings, drawn from the same random numbers in the same
//! order, without a `String` made per field.

use std::sync::OnceLock;

use rand08::rngs::SmallRng;
use rand08::seq::SliceRandom;
use rand08::{Rng, SeedableRng};

use super::ids::{last_auction, last_person, recent_auction, recent_person, HOT_RATIO};
use super::spec::{EventKind, NexmarkSpec};

/// A new person.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Person {
    /// The person's id.
    pub id: u64,
    /// First and last name.
    pub name: String,
    /// An e-mail address.
    pub email_address: String,
    /// Four groups of four digits.
    pub credit_card: String,
    /// A US city.
    pub city: String,
    /// A US state, two letters.
    pub state: String,
    /// When the person joined, in milliseconds since the epoch.
    pub date_time: u64,
    /// Random letters, to bring the event to Nexmark's average size.
    pub extra: String,
}

/// A new auction.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Auction {
    /// The auction's id.
    pub id: u64,
    /// The item's name.
    pub item_name: String,
    /// The item's description.
    pub description: String,
    /// The first bid, in cents.
    pub initial_bid: u64,
    /// The least price the item sells for.
    pub reserve: u64,
    /// When the auction opened, in milliseconds since the epoch.
    pub date_time: u64,
    /// When it closes.
    pub expires: u64,
    /// The selling person's id.
    pub seller: u64,
    /// The item's category.
    pub category: u64,
    /// Random letters, to bring the event to Nexmark's average size.
    pub extra: String,
}

/// A bid on an auction.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bid {
    /// The auction bid on.
    pub auction: u64,
    /// The bidding person.
    pub bidder: u64,
    /// The price bid, in cents.
    pub price: u64,
    /// Where the bid came from.
    pub channel: String,
    /// The page it was made on.
    pub url: String,
    /// When, in milliseconds since the epoch.
    pub date_time: u64,
    /// Random letters, to bring the event to Nexmark's average size.
    pub extra: String,
}

/// What event generation reads: a spec's settings with the crate's constants.
#[derive(Debug, Clone)]
pub struct Settings {
    spec: NexmarkSpec,
    pub(crate) denominator: u64,
    pub(crate) persons: u64,
    pub(crate) auctions: u64,
    pub(crate) active_people: u64,
    pub(crate) in_flight_auctions: u64,
    pub(crate) person_id_lead: u64,
    pub(crate) auction_id_lead: u64,
    first_event_id: u64,
    first_person_id: u64,
    first_auction_id: u64,
    first_category_id: u64,
    categories: usize,
    hot_seller_ratio: usize,
    hot_auction_ratio: usize,
    hot_bidder_ratio: usize,
    hot_channel_ratio: usize,
    avg_person_size: usize,
    avg_auction_size: usize,
    avg_bid_size: usize,
    first_names: Vec<String>,
    last_names: Vec<String>,
    cities: Vec<String>,
    states: Vec<String>,
    hot_channels: Vec<String>,
    hot_urls: Vec<String>,
}

impl Settings {
    fn new(spec: &NexmarkSpec) -> Settings {
        let c = spec.config();
        Settings {
            spec: spec.clone(),
            denominator: spec.denominator(),
            persons: spec.persons,
            auctions: spec.auctions,
            active_people: spec.active_people,
            in_flight_auctions: spec.in_flight_auctions,
            person_id_lead: c.person_id_lead as u64,
            auction_id_lead: c.auction_id_lead as u64,
            first_event_id: spec.first_event_id(),
            first_person_id: c.first_person_id as u64,
            first_auction_id: c.first_auction_id as u64,
            first_category_id: c.first_category_id as u64,
            categories: c.num_categories,
            hot_seller_ratio: c.hot_seller_ratio,
            hot_auction_ratio: c.hot_auction_ratio,
            hot_bidder_ratio: c.hot_bidder_ratio,
            hot_channel_ratio: c.hot_channel_ratio,
            avg_person_size: c.avg_person_byte_size,
            avg_auction_size: c.avg_auction_byte_size,
            avg_bid_size: c.avg_bid_byte_size,
            first_names: c.first_names,
            last_names: c.last_names,
            cities: c.us_cities,
            states: c.us_states,
            hot_channels: c.hot_channels,
            hot_urls: c.hot_urls,
        }
    }
}

/// Builds events of one spec into buffers it keeps: each `make_*` overwrites the last
/// event of its kind.
#[derive(Debug, Clone)]
pub struct EventMaker {
    settings: Settings,
    /// Whether events get their `extra` text (left empty when no one reads it).
    extra: bool,
    person: Person,
    auction: Auction,
    bid: Bid,
}

impl EventMaker {
    /// A maker of `spec`'s events; `extra`: whether they carry their `extra` text.
    pub fn new(spec: &NexmarkSpec, extra: bool) -> EventMaker {
        EventMaker {
            settings: Settings::new(spec),
            extra,
            person: Person::default(),
            auction: Auction::default(),
            bid: Bid::default(),
        }
    }

    /// The spec its events follow.
    pub fn spec(&self) -> &NexmarkSpec {
        &self.settings.spec
    }

    /// Person event `number` (its kind must be [`EventKind::Person`]).
    pub fn person(&mut self, number: u64) -> &Person {
        let s = &self.settings;
        let id = s.first_event_id + number;
        let rng = &mut SmallRng::seed_from_u64(id);
        let p = &mut self.person;
        p.id = last_person(id, s) + s.first_person_id;
        p.date_time = s.spec.timestamp(number);
        p.name.clear();
        p.name.push_str(s.first_names.choose(rng).expect("names"));
        p.name.push(' ');
        p.name.push_str(s.last_names.choose(rng).expect("names"));
        p.email_address.clear();
        letters(rng, 7, &mut p.email_address);
        p.email_address.push('@');
        letters(rng, 5, &mut p.email_address);
        p.email_address.push_str(".com");
        p.credit_card.clear();
        for i in 0..4 {
            if i > 0 {
                p.credit_card.push(' ');
            }
            let group: i32 = rng.gen_range(0..10000);
            four_digits(group, &mut p.credit_card);
        }
        p.city.clear();
        p.city.push_str(s.cities.choose(rng).expect("cities"));
        p.state.clear();
        p.state.push_str(s.states.choose(rng).expect("states"));
        p.extra.clear();
        if self.extra {
            let size = 8
                + p.name.len()
                + p.email_address.len()
                + p.credit_card.len()
                + p.city.len()
                + p.state.len();
            extra(rng, size, s.avg_person_size, &mut p.extra);
        }
        &self.person
    }

    /// Auction event `number` (its kind must be [`EventKind::Auction`]).
    pub fn auction(&mut self, number: u64) -> &Auction {
        let s = &self.settings;
        let id = s.first_event_id + number;
        let rng = &mut SmallRng::seed_from_u64(id);
        let a = &mut self.auction;
        let time = s.spec.timestamp(number);
        a.id = last_auction(id, s) + s.first_auction_id;
        a.item_name.clear();
        letters(rng, 20, &mut a.item_name);
        a.description.clear();
        letters(rng, 100, &mut a.description);
        a.initial_bid = price(rng);
        a.reserve = a.initial_bid + price(rng);
        a.date_time = time;
        a.expires = time + auction_length(s, number, time, rng);
        let seller = if rng.gen_range(0..s.hot_seller_ratio) > 0 {
            (last_person(id, s) / HOT_RATIO) * HOT_RATIO
        } else {
            recent_person(id, rng, s)
        };
        a.seller = seller + s.first_person_id;
        a.category = s.first_category_id + rng.gen_range(0..s.categories) as u64;
        a.extra.clear();
        if self.extra {
            let size = 8 + a.item_name.len() + a.description.len() + 8 + 8 + 8 + 8 + 8;
            extra(rng, size, s.avg_auction_size, &mut a.extra);
        }
        &self.auction
    }

    /// Bid event `number` (its kind must be [`EventKind::Bid`]).
    pub fn bid(&mut self, number: u64) -> &Bid {
        let s = &self.settings;
        let id = s.first_event_id + number;
        let rng = &mut SmallRng::seed_from_u64(id);
        let b = &mut self.bid;
        let auction = if 0 < rng.gen_range(0..s.hot_auction_ratio) {
            (last_auction(id, s) / HOT_RATIO) * HOT_RATIO
        } else {
            recent_auction(id, rng, s)
        };
        // The second of a hundred, so hot bidders are not the hot sellers.
        let bidder = if 0 < rng.gen_range(0..s.hot_bidder_ratio) {
            (last_person(id, s) / HOT_RATIO) * HOT_RATIO + 1
        } else {
            recent_person(id, rng, s)
        };
        b.auction = auction + s.first_auction_id;
        b.bidder = bidder + s.first_person_id;
        b.price = price(rng);
        b.date_time = s.spec.timestamp(number);
        b.channel.clear();
        b.url.clear();
        if rng.gen_range(0..s.hot_channel_ratio) > 0 {
            let i = rng.gen_range(0..s.hot_channels.len());
            b.channel.push_str(&s.hot_channels[i]);
            b.url.push_str(&s.hot_urls[i]);
        } else {
            let (channel, url) = channels().choose(rng).expect("channels");
            b.channel.push_str(channel);
            b.url.push_str(url);
        }
        b.extra.clear();
        if self.extra {
            extra(rng, 8 + 8 + 8 + 8, s.avg_bid_size, &mut b.extra);
        }
        &self.bid
    }

    /// The kind of event `number`.
    pub fn kind(&self, number: u64) -> EventKind {
        self.settings.spec.kind(number)
    }
}

/// How long auction event `number` (at `time`) stays open: up to twice the time until
/// `in_flight_auctions` more auctions have opened.
fn auction_length(s: &Settings, number: u64, time: u64, rng: &mut SmallRng) -> u64 {
    let events = (s.in_flight_auctions * s.denominator) / s.auctions;
    let horizon = s.spec.timestamp(number + events) - time;
    1 + rng.gen_range(0..(horizon * 2).max(1))
}

/// `n` random lowercase letters, appended.
fn letters(rng: &mut SmallRng, n: usize, out: &mut String) {
    out.reserve(n);
    for _ in 0..n {
        out.push(rng.gen_range(b'a'..=b'z') as char);
    }
}

/// `v` (below 10000) in four digits, leading zeros kept.
fn four_digits(v: i32, out: &mut String) {
    let v = v as u32;
    for d in [v / 1000, v / 100 % 10, v / 10 % 10, v % 10] {
        out.push(char::from(b'0' + d as u8));
    }
}

/// A price in cents, spread over six orders of magnitude.
fn price(rng: &mut SmallRng) -> u64 {
    (10.0_f32.powf(rng.gen::<f32>() * 6.0) * 100.0).round() as u64
}

/// The `extra` text that brings an event of `size` bytes to about `average`.
fn extra(rng: &mut SmallRng, size: usize, average: usize, out: &mut String) {
    if size > average {
        return;
    }
    let wanted = average - size;
    let delta = (wanted + 2) / 5;
    let least = wanted - delta;
    let n = least
        + if delta == 0 {
            0
        } else {
            rng.gen_range(0..2 * delta)
        };
    letters(rng, n, out);
}

/// The 10,000 channels a bid that is not from a hot channel comes from, with their URLs.
fn channels() -> &'static [(String, String)] {
    static CHANNELS: OnceLock<Vec<(String, String)>> = OnceLock::new();
    CHANNELS.get_or_init(|| {
        (0..10_000u64)
            .map(|i| {
                let mut url = base_url(i);
                let mut rng = SmallRng::seed_from_u64(i);
                if rng.gen_range(0..10) > 0 {
                    url.push_str("&channel_id=");
                    url.push_str(&((i as i32).reverse_bits() as i64).abs().to_string());
                }
                (format!("channel-{i}"), url)
            })
            .collect()
    })
}

/// An item page's URL, drawn from `seed`.
pub(crate) fn base_url(seed: u64) -> String {
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut part = || {
        let n = rng.gen_range(3..5usize);
        (0..n)
            .map(|_| {
                if rng.gen_range(0..13) == 0 {
                    '_'
                } else {
                    rng.gen_range(b'a'..=b'z') as char
                }
            })
            .collect::<String>()
    };
    let (a, b, c) = (part(), part(), part());
    format!("https://www.nexmark.com/{a}/{b}/{c}/item.htm?query=1")
}
