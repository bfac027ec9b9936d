//! An interval join inline: the twin of `dsl-examples/payments_after_orders.pipe`. The join
//! yields `(Order, Payment)` pairs; late payments go to a side output.
//!
//!   cargo run --example payments_after_orders_inline

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

/// Payments within 15 minutes after their order, as (order, customer, total, paid,
/// ms after the order); then the payments that came too late.
#[allow(clippy::type_complexity)]
pub fn pipeline() -> Result<(Vec<(u64, String, i64, i64, i64)>, Vec<Payment>), weir::JobError> {
    // Sources are read in declaration order when their watermarks tie, so they are
    // declared in the `.pipe` twin's order.
    weir::stream! {
        let orders = source csv::<Order>("dsl-examples/data/minute_orders.csv")
            with event_time(|o: &Order| o.ts), watermark(bounded 2s);
        let paid = source csv::<Payment>("dsl-examples/data/order_payments.csv")
            with event_time(|p: &Payment| p.ts), watermark(bounded 2s)
            |> key_by(|p: &Payment| p.order_id);
        orders
        |> key_by(|o: &Order| o.id)
        |> interval_join(paid, between 0s and 15m, late_right -> late_payments)
        |> map(|(o, p): (Order, Payment)| (o.id, o.customer, o.total, p.amount, p.ts - o.ts))
        |> collect();
        late_payments |> collect()
    }
    .run()
}

#[allow(dead_code)]
fn main() -> Result<(), weir::JobError> {
    let (pairs, late) = pipeline()?;
    for (order, customer, total, paid, after_ms) in pairs {
        println!("{order},{customer},{total},{paid},{after_ms}");
    }
    for p in late {
        println!("late: {p:?}");
    }
    Ok(())
}
