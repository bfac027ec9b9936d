//! A Nexmark run's settings ([`NexmarkSpec`]) and the event numbers, kinds and times
//! they give.

/// Which of Nexmark's three streams a source reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// New persons: `person`.
    Person,
    /// New auctions: `auction`.
    Auction,
    /// Bids on auctions: `bid`.
    Bid,
}

impl EventKind {
    /// The stream's name (`person`, `auction`, `bid`).
    pub fn name(self) -> &'static str {
        match self {
            EventKind::Person => "person",
            EventKind::Auction => "auction",
            EventKind::Bid => "bid",
        }
    }

    /// The kind named `name`.
    pub fn from_name(name: &str) -> Option<EventKind> {
        Some(match name {
            "person" => EventKind::Person,
            "auction" => EventKind::Auction,
            "bid" => EventKind::Bid,
            _ => return None,
        })
    }
}

/// 2025-01-01T00:00:00Z: where a Nexmark run's event time starts unless it is given.
/// The crate starts at the wall clock, so no two runs would agree.
pub const DEFAULT_BASE_TIME: u64 = 1_735_689_600_000;

/// Event ids of seed `s` start at `s` times this many proportion cycles: the crate draws
/// each event's fields from a generator seeded by its event id, so another seed is
/// another stretch of ids (whole cycles, so ids line up with kinds as in seed 0's).
pub const SEED_CYCLES: u64 = 1 << 24;

/// The settings of a Nexmark run, as a `nexmark(...)` source gives them. Every source of a
/// job with the same settings sees the same events: a person stream and an auction stream
/// of one spec agree on ids.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NexmarkSpec {
    /// Events in the run, of all three kinds together (Nexmark counts them so).
    pub events: u64,
    /// Events per second of event time (the crate's `first_rate`, held constant).
    pub rate: u64,
    /// Which stretch of event ids the run draws from (0: the crate's own stream).
    pub seed: u64,
    /// Out of every `persons + auctions + bids` events, this many are persons...
    pub persons: u64,
    /// ... this many auctions ...
    pub auctions: u64,
    /// ... and this many bids (Nexmark: 1, 3, 46).
    pub bids: u64,
    /// Persons recent enough to sell or bid.
    pub active_people: u64,
    /// Auctions open at once, about.
    pub in_flight_auctions: u64,
    /// Events are shuffled within groups of this many (1: in order of time).
    pub out_of_order: u64,
    /// The first event's time, in milliseconds since the epoch.
    pub base_time: u64,
}

impl Default for NexmarkSpec {
    /// Nexmark's standard settings (the crate's defaults), 10M events, base time fixed.
    fn default() -> Self {
        NexmarkSpec {
            events: 10_000_000,
            rate: 10_000,
            seed: 0,
            persons: 1,
            auctions: 3,
            bids: 46,
            active_people: 1_000,
            in_flight_auctions: 100,
            out_of_order: 1,
            base_time: DEFAULT_BASE_TIME,
        }
    }
}

impl NexmarkSpec {
    /// The crate's configuration for these settings.
    pub fn config(&self) -> nexmark::config::NexmarkConfig {
        let n = |v: u64| usize::try_from(v).unwrap_or(usize::MAX);
        nexmark::config::NexmarkConfig {
            first_event_id: n(self.first_event_id()),
            person_proportion: n(self.persons),
            auction_proportion: n(self.auctions),
            bid_proportion: n(self.bids),
            active_people: n(self.active_people),
            in_flight_auctions: n(self.in_flight_auctions),
            out_of_order_group_size: n(self.out_of_order),
            first_rate: n(self.rate),
            next_rate: n(self.rate),
            base_time: self.base_time,
            ..Default::default()
        }
    }

    /// Why these settings make no Nexmark run, if they do not: the crate divides by each
    /// of them.
    pub fn check(&self) -> Result<(), String> {
        for (name, v) in [
            ("rate", self.rate),
            ("persons", self.persons),
            ("auctions", self.auctions),
            ("bids", self.bids),
            ("active_people", self.active_people),
            ("in_flight_auctions", self.in_flight_auctions),
            ("out_of_order", self.out_of_order),
        ] {
            if v == 0 {
                return Err(format!("`{name}` must be at least 1"));
            }
        }
        if self.persons + self.auctions + self.bids > 1_000_000 {
            return Err("the proportions add up to more than 1000000".into());
        }
        if self.seed >= 1 << 20 {
            return Err("`seed` must be below 1048576".into());
        }
        // Event ids (first id plus number) and times stay far inside 64 bits.
        let first = self
            .seed
            .checked_mul(SEED_CYCLES)
            .and_then(|c| c.checked_mul(self.denominator()));
        if first.is_none_or(|f| f > 1 << 62) || self.events > 1 << 62 {
            return Err(
                "the seed and the proportions together, or the events, are too large".into(),
            );
        }
        if self.base_time > 1 << 61 {
            return Err("`base_time` is too far in the future".into());
        }
        Ok(())
    }

    /// The first event's id: where the seed's stretch of ids starts.
    pub fn first_event_id(&self) -> u64 {
        self.seed * SEED_CYCLES * self.denominator()
    }

    /// The events of one proportion cycle.
    pub(crate) fn denominator(&self) -> u64 {
        self.persons + self.auctions + self.bids
    }

    /// The number of the event at `position` in the run: positions are shuffled within
    /// out-of-order groups as the crate shuffles them.
    pub fn event_number(&self, position: u64) -> u64 {
        let g = self.out_of_order;
        (position / g) * g + (position.wrapping_mul(953)) % g
    }

    /// The kind of event `number`.
    pub fn kind(&self, number: u64) -> EventKind {
        let rem = number % self.denominator();
        if rem < self.persons {
            EventKind::Person
        } else if rem < self.persons + self.auctions {
            EventKind::Auction
        } else {
            EventKind::Bid
        }
    }

    /// The time of event `number`, in milliseconds: the crate's arithmetic, in `f32` as
    /// it does it (so times agree to the millisecond).
    pub fn timestamp(&self, number: u64) -> u64 {
        let delay = 1_000_000f32 / self.rate as f32;
        self.base_time + ((number as f32 * delay) / 1000.0).round() as u64
    }
}
