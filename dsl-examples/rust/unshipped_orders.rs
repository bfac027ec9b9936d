//! A left outer interval join inline: the twin of `dsl-examples/unshipped_orders.pipe`. The
//! join yields `(Order, Option<Shipment>)`: `None` for an order no shipment met within two
//! hours, emitted once the watermark has passed its deadline.
//!
//!   cargo run --example unshipped_orders_inline

/// An order.
#[derive(Debug, Clone, PartialEq, weir::Record)]
pub struct Order {
    pub ts: i64,
    pub id: u64,
    pub customer: String,
    pub total: i64,
}

/// A shipment of an order.
#[derive(Debug, Clone, PartialEq, weir::Record)]
pub struct Shipment {
    pub ts: i64,
    pub order_id: u64,
    pub carrier: String,
}

/// The orders not shipped within 2 hours, as (order, customer, total, ordered at, RFC 3339).
pub fn pipeline() -> Result<Vec<(u64, String, i64, String)>, weir::JobError> {
    weir::stream! {
        let orders = source csv::<Order>("dsl-examples/data/day_orders.csv")
            with event_time(|o: &Order| o.ts), watermark(bounded 1m);
        let shipped = source csv::<Shipment>("dsl-examples/data/shipments.csv")
            with event_time(|s: &Shipment| s.ts), watermark(bounded 1m)
            |> key_by(|s: &Shipment| s.order_id);
        orders
        |> key_by(|o: &Order| o.id)
        |> interval_join(shipped, between 0s and 2h, left)
        |> filter(|(_, s): &(Order, Option<Shipment>)| s.is_none())
        |> map(|(o, _): (Order, Option<Shipment>)| {
            let at = weir::runtime::expr::format_rfc3339(o.ts, "unshipped_orders.rs")
                .map(|t| t.into_owned())
                .unwrap_or_default();
            (o.id, o.customer, o.total, at)
        })
        |> collect()
    }
    .run()
}

#[allow(dead_code)]
fn main() -> Result<(), weir::JobError> {
    for (order, customer, total, at) in pipeline()? {
        println!("{order},{customer},{total},{at}");
    }
    Ok(())
}
