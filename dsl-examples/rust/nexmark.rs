//! The Nexmark queries inline: the twins of `dsl-examples/nexmark/*.pipe`, each over the
//! same 100,000 events, with the same results.
//!
//!   cargo run --release --example nexmark_inline -- q5

use weir::nexmark::{Auction, Bid, Person};
use weir::process::{ProcessContext, Timer};

/// A bid's auction, bidder, price, time and extra text.
pub type BidRow = (u64, u64, u64, u64, String);
/// The same with the price in euros.
pub type EuroBidRow = (u64, u64, f64, u64, String);

/// q0, pass-through: every bid's auction, bidder, price, time and extra text.
pub fn q0() -> Result<Vec<BidRow>, weir::JobError> {
    weir::stream! {
        source nexmark(bid, events: 100000)
        |> map(|b: Bid| (b.auction, b.bidder, b.price, b.date_time, b.extra))
        |> collect()
    }
    .run()
}

/// q1, currency conversion: every bid with its price in euros.
pub fn q1() -> Result<Vec<EuroBidRow>, weir::JobError> {
    weir::stream! {
        source nexmark(bid, events: 100000)
        |> map(|b: Bid| (b.auction, b.bidder, 0.908 * b.price as f64, b.date_time, b.extra))
        |> collect()
    }
    .run()
}

/// q2, selection: the auction and price of the bids on every 123rd auction.
pub fn q2() -> Result<Vec<(u64, u64)>, weir::JobError> {
    weir::stream! {
        source nexmark(bid, events: 100000)
        |> filter(|b: &Bid| b.auction.is_multiple_of(123))
        |> map(|b: Bid| (b.auction, b.price))
        |> collect()
    }
    .run()
}

/// q3, local item suggestion: the sellers in Oregon, Idaho or California of auctions in
/// category 10, as (name, city, state, auction), by an unwindowed join.
pub fn q3() -> Result<Vec<(String, String, String, u64)>, weir::JobError> {
    weir::stream! {
        let auctions = source nexmark(auction, events: 100000);
        let sellers = source nexmark(person, events: 100000)
            |> filter(|p: &Person| ["or", "id", "ca"].contains(&p.state.as_str()))
            |> key_by(|p: &Person| p.id);
        auctions
        |> filter(|a: &Auction| a.category == 10)
        |> key_by(|a: &Auction| a.seller)
        |> join(sellers)
        |> map(|(a, p): (Auction, Person)| (p.name, p.city, p.state, a.id))
        |> collect()
    }
    .run()
}

/// A bid on an open auction: auction, category (or seller), price.
type Priced = (u64, u64, u64);
/// An auction's winning price as `rolling` updates it: op, (auction, category), price.
type Final = (String, (u64, u64), u64);

/// q4, average price for a category: a changelog of (op, category, average of its
/// auctions' current winning prices).
pub fn q4() -> Result<Vec<(String, u64, f64)>, weir::JobError> {
    weir::stream! {
        let auctions = source nexmark(auction, events: 100000);
        let bids = source nexmark(bid, events: 100000)
            |> key_by(|b: &Bid| b.auction);
        auctions
        |> key_by(|a: &Auction| a.id)
        |> interval_join(bids, between 0s and 10s)
        |> filter(|(a, b): &(Auction, Bid)| b.date_time <= a.expires)
        |> map(|(a, b): (Auction, Bid)| (a.id, a.category, b.price))
        |> key_by(|w: &Priced| (w.0, w.1))
        |> rolling(max(|w: &Priced| w.2))
        |> key_by(|f: &Final| f.1 .1)
        |> rolling(avg(|f: &Final| f.2))
        |> collect()
    }
    .run()
}

/// What an open auction keeps: its best price so far and its seller.
#[derive(Debug, Clone, Default, PartialEq, weir::StateValue)]
pub struct Open {
    pub best: u64,
    pub seller: u64,
}

/// An auction closed: seller, auction, final price, closing time.
type Closed = (u64, u64, u64, i64);
/// One of a seller's last ten: op, rank, the closed auction.
type Ranked = (String, u64, Closed);

/// q6, average selling price by seller: a changelog of (op, seller, average final price
/// of their last 10 closed auctions).
pub fn q6() -> Result<Vec<(String, u64, f64)>, weir::JobError> {
    weir::stream! {
        let auctions = source nexmark(auction, events: 100000);
        let bids = source nexmark(bid, events: 100000)
            |> key_by(|b: &Bid| b.auction);
        auctions
        |> key_by(|a: &Auction| a.id)
        |> interval_join(bids, between 0s and 10s)
        |> filter(|(a, b): &(Auction, Bid)| b.date_time <= a.expires)
        |> key_by(|(a, _): &(Auction, Bid)| a.id)
        |> process(
            on_record(|(a, b): &(Auction, Bid), st: &mut Open, ctx: &mut ProcessContext<u64, Closed>| {
                st.best = st.best.max(b.price);
                st.seller = a.seller;
                ctx.timer_at(a.expires as i64);
            }),
            on_timer(|t: Timer, st: &mut Open, ctx: &mut ProcessContext<u64, Closed>| {
                let id = *ctx.key();
                ctx.emit((st.seller, id, st.best, t.time));
                *st = Open::default();
            }),
        )
        |> key_by(|c: &Closed| c.0)
        |> top(10, desc(|c: &Closed| c.3), desc(|c: &Closed| c.1))
        |> key_by(|r: &Ranked| r.2 .0)
        |> rolling(avg(|r: &Ranked| r.2 .2))
        |> collect()
    }
    .run()
}

/// Bids per auction in one sliding window: auction, window start, window end, bids.
type AuctionBids = (u64, i64, i64, u64);
/// The most bids of any auction in one window: the window, its bounds again, the most.
type MostBids = ((i64, i64), i64, i64, u64);

/// q5, hot items: per sliding window (10 s every 2 s), the auctions with the most bids,
/// as (auction, bids, window start).
pub fn q5() -> Result<Vec<(u64, u64, i64)>, weir::JobError> {
    weir::stream! {
        let counts = source nexmark(bid, events: 100000)
            |> key_by(|b: &Bid| b.auction)
            |> window(sliding 10s every 2s)
            |> aggregate(count());
        let most = counts
            |> key_by(|c: &AuctionBids| (c.1, c.2))
            |> window(tumbling 2s)
            |> aggregate(max(|c: &AuctionBids| c.3))
            |> key_by(|m: &MostBids| m.0);
        counts
        |> key_by(|c: &AuctionBids| (c.1, c.2))
        |> window(tumbling 2s)
        |> join(most)
        |> filter(|(c, m): &(AuctionBids, MostBids)| c.3 >= m.3)
        |> map(|(c, _): (AuctionBids, MostBids)| (c.0, c.3, c.1))
        |> collect()
    }
    .run()
}

/// q7, highest bid: the bids at the highest price of each 10-second window, as
/// (auction, price, bidder, time, extra): a [`BidRow`] in the order q7 names them.
pub fn q7() -> Result<Vec<BidRow>, weir::JobError> {
    weir::stream! {
        let bids = source nexmark(bid, events: 100000);
        let highest = bids
            |> key_by(|_b: &Bid| 0u64)
            |> window(tumbling 10s)
            |> aggregate(max(|b: &Bid| b.price))
            |> key_by(|h: &(u64, i64, i64, u64)| h.3);
        bids
        |> key_by(|b: &Bid| b.price)
        |> window(tumbling 10s)
        |> join(highest)
        |> map(|(b, _): (Bid, (u64, i64, i64, u64))| (b.auction, b.price, b.bidder, b.date_time, b.extra))
        |> collect()
    }
    .run()
}

/// q8, new users: the persons who opened an auction in the 10-second window they joined
/// in, as (id, name, window start).
pub fn q8() -> Result<Vec<(u64, String, i64)>, weir::JobError> {
    weir::stream! {
        let persons = source nexmark(person, events: 100000);
        let sellers = source nexmark(auction, events: 100000)
            |> key_by(|a: &Auction| a.seller)
            |> window(tumbling 10s)
            |> aggregate(count())
            |> key_by(|s: &(u64, i64, i64, u64)| s.0);
        persons
        |> key_by(|p: &Person| p.id)
        |> window(tumbling 10s)
        |> join(sellers)
        |> map(|(p, s): (Person, (u64, i64, i64, u64))| (p.id, p.name, s.1))
        |> collect()
    }
    .run()
}

/// A bid on an open auction: auction, bidder, price, bid time.
pub type OpenBid = (u64, u64, u64, u64);

/// q9, winning bids: each auction's best bid while it was open, as a changelog of
/// (op, rank, (auction, bidder, price, bid time)): each auction's last row that is not
/// taken back (`-U`) is its winner.
pub fn q9() -> Result<Vec<(String, u64, OpenBid)>, weir::JobError> {
    weir::stream! {
        let auctions = source nexmark(auction, events: 100000);
        let bids = source nexmark(bid, events: 100000)
            |> key_by(|b: &Bid| b.auction);
        auctions
        |> key_by(|a: &Auction| a.id)
        |> interval_join(bids, between 0s and 10s)
        |> filter(|(a, b): &(Auction, Bid)| b.date_time <= a.expires)
        |> map(|(a, b): (Auction, Bid)| (a.id, b.bidder, b.price, b.date_time))
        |> key_by(|w: &OpenBid| w.0)
        |> top(1, desc(|w: &OpenBid| w.2), asc(|w: &OpenBid| w.3))
        |> collect()
    }
    .run()
}

/// q11, user sessions: bids per bidder session (gap 10 s), as (bidder, bids, start, end).
pub fn q11() -> Result<Vec<(u64, u64, i64, i64)>, weir::JobError> {
    weir::stream! {
        source nexmark(bid, events: 100000)
        |> key_by(|b: &Bid| b.bidder)
        |> window(session gap 10s)
        |> aggregate(count())
        |> map(|(bidder, start, end, n): (u64, i64, i64, u64)| (bidder, n, start, end))
        |> collect()
    }
    .run()
}

/// q12, processing-time windows: bids per bidder per 10 seconds of processing time, as
/// (bidder, bids, start, end).
pub fn q12() -> Result<Vec<(u64, u64, i64, i64)>, weir::JobError> {
    weir::stream! {
        source nexmark(bid, events: 100000)
        |> key_by(|b: &Bid| b.bidder)
        |> window(tumbling 10s, processing_time)
        |> aggregate(count())
        |> map(|(bidder, start, end, n): (u64, i64, i64, u64)| (bidder, n, start, end))
        |> collect()
    }
    .run()
}

#[allow(dead_code)]
fn main() -> Result<(), weir::JobError> {
    let query = std::env::args().nth(1).unwrap_or_else(|| "q5".into());
    let rows: Vec<String> = match query.as_str() {
        "q0" => q0()?.iter().map(|r| format!("{r:?}")).collect(),
        "q1" => q1()?.iter().map(|r| format!("{r:?}")).collect(),
        "q2" => q2()?.iter().map(|r| format!("{r:?}")).collect(),
        "q3" => q3()?.iter().map(|r| format!("{r:?}")).collect(),
        "q4" => q4()?.iter().map(|r| format!("{r:?}")).collect(),
        "q5" => q5()?.iter().map(|r| format!("{r:?}")).collect(),
        "q6" => q6()?.iter().map(|r| format!("{r:?}")).collect(),
        "q7" => q7()?.iter().map(|r| format!("{r:?}")).collect(),
        "q8" => q8()?.iter().map(|r| format!("{r:?}")).collect(),
        "q9" => q9()?.iter().map(|r| format!("{r:?}")).collect(),
        "q11" => q11()?.iter().map(|r| format!("{r:?}")).collect(),
        "q12" => q12()?.iter().map(|r| format!("{r:?}")).collect(),
        other => {
            eprintln!("no query `{other}`: q0, q1, q2, q3, q4, q5, q6, q7, q8, q9, q11 or q12");
            std::process::exit(2);
        }
    };
    for row in rows {
        println!("{row}");
    }
    Ok(())
}
