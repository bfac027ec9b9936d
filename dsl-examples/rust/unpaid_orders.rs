//! A left outer window join inline: the twin of `dsl-examples/unpaid_orders.pipe`. A left
//! join yields `(Order, Option<Payment>)`.
//!
//!   cargo run --example unpaid_orders_inline

/// An order.
#[derive(Debug, Clone, PartialEq, weir::Record)]
pub struct Order {
    pub ts: i64,
    pub id: u64,
    pub customer: String,
    pub total: i64,
}

/// A payment for an order.
#[derive(Debug, Clone, PartialEq, weir::Record)]
pub struct Payment {
    pub ts: i64,
    pub order_id: u64,
    pub amount: i64,
}

/// Orders with no payment in their 10 s window, as (order, customer, total, window end).
pub fn pipeline() -> Result<Vec<(u64, String, i64, i64)>, weir::JobError> {
    // Sources are read in declaration order when their watermarks tie, so they are
    // declared in the `.pipe` twin's order.
    weir::stream! {
        let orders = source csv::<Order>("dsl-examples/data/shop_orders.csv")
            with event_time(|o: &Order| o.ts), watermark(bounded 2s);
        let paid = source csv::<Payment>("dsl-examples/data/shop_payments.csv")
            with event_time(|p: &Payment| p.ts), watermark(bounded 2s)
            |> key_by(|p: &Payment| p.order_id);
        orders
        |> key_by(|o: &Order| o.id)
        |> window(tumbling 10s)
        |> join(paid, left)
        |> filter(|(_, p): &(Order, Option<Payment>)| p.is_none())
        // Pairs carry no window bounds inline: the end of the order's 10 s window.
        |> map(|(o, _): (Order, Option<Payment>)| (o.id, o.customer, o.total, (o.ts / 10_000 + 1) * 10_000))
        |> collect()
    }
    .run()
}

#[allow(dead_code)]
fn main() -> Result<(), weir::JobError> {
    for (order, customer, total, window_end) in pipeline()? {
        println!("{order},{customer},{total},{window_end}");
    }
    Ok(())
}
