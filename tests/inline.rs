#[derive(Debug, Clone, PartialEq, weir::Record)]
struct Bid {
    auction: u64,
    price: u64,
    ts: i64,
}

#[test]
fn smoke() {
    let lines = vec!["a b a".to_string(), "b c".to_string()];
    let mut counts = weir::stream! {
        source iter(lines)
        |> flat_map(|l: String| l.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
        |> key_by(|w: &String| w.clone())
        |> aggregate(count())
        |> collect()
    }
    .run()
    .unwrap();
    counts.sort();
    assert_eq!(
        counts,
        vec![
            ("a".to_string(), 2),
            ("b".to_string(), 2),
            ("c".to_string(), 1)
        ]
    );

    let bids = vec![
        Bid {
            auction: 1,
            price: 10,
            ts: 0,
        },
        Bid {
            auction: 1,
            price: 30,
            ts: 5,
        },
        Bid {
            auction: 2,
            price: 7,
            ts: 9,
        },
    ];
    let out = weir::stream! {
        source iter(bids) with event_time(|b: &Bid| b.ts), watermark(bounded 2s)
        |> filter(|b: &Bid| b.price > 5)
        |> key_by(|b: &Bid| b.auction)
        |> window(tumbling 10s)
        |> aggregate(count(), max(|b: &Bid| b.price), avg(|b: &Bid| b.price))
        |> collect()
    }
    .run()
    .unwrap();
    assert_eq!(
        out,
        vec![(1, 0, 10000, 2, 30, 20.0), (2, 0, 10000, 1, 7, 7.0)]
    );
}
