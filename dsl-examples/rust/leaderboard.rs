//! A leaderboard inline: the twin of `dsl-examples/leaderboard.pipe`. Each game keeps
//! every player's total in a `BTreeMap` (its map state) and the board it last emitted;
//! a new board is emitted whenever the top 3 change. Ties go to the name first in
//! alphabetical order, the map's order.
//!
//!   cargo run --example leaderboard_inline

use std::collections::BTreeMap;

use weir::process::ProcessContext;

/// Points a player scored in a game.
#[derive(Debug, Clone, PartialEq, weir::Record)]
pub struct Score {
    pub ts: i64,
    pub game: String,
    pub player: String,
    pub points: i64,
}

/// The top three of a game (names empty while fewer have played), as the `.pipe` twin's
/// rows: game, time, then each place's name and points.
pub type Board = (String, i64, String, i64, String, i64, String, i64);

/// Each game's totals and the top three last emitted.
#[derive(Debug, Clone, Default, PartialEq, weir::StateValue)]
pub struct Game {
    pub totals: BTreeMap<String, i64>,
    pub top: [(String, i64); 3],
}

/// The boards, in the order the job emits them.
pub fn pipeline() -> Result<Vec<Board>, weir::JobError> {
    weir::stream! {
        source csv::<Score>("dsl-examples/data/game_scores.csv")
            with event_time(|s: &Score| s.ts), watermark(ascending)
        |> key_by(|s: &Score| s.game.clone())
        |> process(
            on_record(|s: &Score, st: &mut Game, ctx: &mut ProcessContext<String, Board>| {
                *st.totals.entry(s.player.clone()).or_insert(0) += s.points;
                let top = top_three(&st.totals);
                if top != st.top {
                    st.top = top;
                    let [(p1, s1), (p2, s2), (p3, s3)] = st.top.clone();
                    ctx.emit((s.game.clone(), s.ts, p1, s1, p2, s2, p3, s3));
                }
            }),
        )
        |> collect()
    }
    .run()
}

/// The three largest totals in one pass (in name order, so on a tie the name first in
/// order stays ahead); empty names where fewer have played.
fn top_three(totals: &BTreeMap<String, i64>) -> [(String, i64); 3] {
    let mut top: [Option<(&str, i64)>; 3] = [None; 3];
    for (name, &total) in totals {
        let place = top.iter().position(|t| t.is_none_or(|(_, s)| total > s));
        if let Some(i) = place {
            top[i..].rotate_right(1);
            top[i] = Some((name, total));
        }
    }
    top.map(|t| t.map_or((String::new(), 0), |(n, s)| (n.to_string(), s)))
}

#[allow(dead_code)]
fn main() -> Result<(), weir::JobError> {
    println!("game,ts,first,first_points,second,second_points,third,third_points");
    for (game, ts, p1, s1, p2, s2, p3, s3) in pipeline()? {
        println!("{game},{ts},{p1},{s1},{p2},{s2},{p3},{s3}");
    }
    Ok(())
}
