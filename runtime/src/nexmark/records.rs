//! Persons, auctions and bids as records of an inline pipeline (`stream!`'s
//! `nexmark(bid)` source hands them over whole): laid out in state field by field, and
//! written by CSV sinks with Nexmark's field names, as `#[derive(weir::Record)]` would
//! make them (which this crate cannot use on its own types).

use super::events::{Auction, Bid, Person};
use crate::io::{CsvRow, CsvSink, FieldError};
use crate::layout::{RecordBuilder, RecordView};
use crate::{CsvField, Layout, Record};

macro_rules! event_record {
    ($name:ident { $($field:ident: $ty:ty),+ $(,)? }) => {
        impl Layout for $name {
            const WIDTH: usize = 0 $(+ <$ty as Layout>::WIDTH)+;

            #[allow(unused_assignments)]
            fn put(&self, out: &mut RecordBuilder, offset: usize) {
                let mut at = offset;
                $(
                    Layout::put(&self.$field, out, at);
                    at += <$ty as Layout>::WIDTH;
                )+
            }

            #[allow(unused_assignments)]
            fn read(view: &RecordView<'_>, offset: usize) -> Self {
                let mut at = offset;
                $name {
                    $($field: {
                        let v = <$ty as Layout>::read(view, at);
                        at += <$ty as Layout>::WIDTH;
                        v
                    },)+
                }
            }
        }

        impl Record for $name {
            const FIELDS: &'static [&'static str] = &[$(stringify!($field)),+];

            #[allow(unused_assignments)]
            fn from_csv(row: &CsvRow<'_>) -> Result<Self, FieldError> {
                let mut i = 0;
                Ok($name {
                    $($field: {
                        let v = <$ty as CsvField>::read(row, i, stringify!($field))?;
                        i += 1;
                        v
                    },)+
                })
            }

            fn to_csv(&self, sink: &mut CsvSink) {
                $(CsvField::write(&self.$field, sink);)+
            }
        }
    };
}

event_record!(Person {
    id: u64,
    name: String,
    email_address: String,
    credit_card: String,
    city: String,
    state: String,
    date_time: u64,
    extra: String,
});

event_record!(Auction {
    id: u64,
    item_name: String,
    description: String,
    initial_bid: u64,
    reserve: u64,
    date_time: u64,
    expires: u64,
    seller: u64,
    category: u64,
    extra: String,
});

event_record!(Bid {
    auction: u64,
    bidder: u64,
    price: u64,
    channel: String,
    url: String,
    date_time: u64,
    extra: String,
});
