//! The operator registry: one file per operator, one table that registers them.
//!
//! Each operator file holds everything about its operator: its names and written forms for
//! both front-ends and its ports ([`OpInfo`]); its lowering from step arguments into a node
//! (a `lower` function over any `FrontEnd`); its type rules, its
//! memory demand and its code generation hooks (`OperatorNode`, `OperatorCode`).
//!
//! The traits an operator implements are the IR's `OperatorNode` and the operator API's
//! (`api.rs`). The `registry!` table below is the only place that lists the operators:
//! it generates the table of names and forms, the lowering of a step and the lookup of a
//! node's code generation hooks, so no other code matches on the operator kind; an
//! operator must write `info`, `describe`, `check` and `push`, and every other hook has a
//! default (a stateful operator without a `memory` demand is caught by the memory pass).

pub use crate::ir::OpInfo;
use crate::ir::Operator;
use crate::lower::{Applied, FrontEnd, Lowering, Stream};
pub(crate) use api::{CombinerCode, Lower, OperatorCode};

/// The step name a written form starts with: `filter` in `filter(|r| ...)`.
fn step_name(form: &str) -> &str {
    form.split(['(', ' ', '{']).next().unwrap_or(form)
}

pub(crate) mod api;
pub(crate) mod checks;
pub(crate) mod keyed;

/// The table. `nodes` are operators that become graph nodes (their payload `module::Type`
/// in `ops/module.rs` or `ops/module/mod.rs`, held by a node as an `Operator`); `steps`
/// are pipeline steps that only change the stream (`key_by`). Each line declares its
/// module too, so a new operator is its file and one line here.
macro_rules! registry {
    (
        nodes { $($variant:ident => $module:ident :: $ty:ident,)* }
        steps { $($smodule:ident :: $step:ident,)* }
    ) => {
        $(
            pub(crate) mod $module;
            pub use $module::$ty;
        )*
        $(pub(crate) mod $smodule;)*

        /// The code generation hooks of `op`, whichever registered operator it is: how the
        /// codegen context finds a node's (it is given this function, so it names no
        /// operator).
        pub(crate) fn code_of(op: &Operator) -> &dyn OperatorCode {
            $(
                if let Some(code) = op.payload::<$module::$ty>() {
                    return code;
                }
            )*
            unreachable!("every node's operator is registered")
        }

        /// Every registered operator and step, in table order.
        pub static TABLE: &[&OpInfo] = &[
            $(&<$module::$ty as Lower>::INFO,)*
            $(&<$smodule::$step as Lower>::INFO,)*
        ];

        /// Lowers `step`, an application of the operator `info`; `None` when `info` is
        /// not in the table.
        pub(crate) fn lower_step<F: FrontEnd>(
            l: &mut Lowering<F>,
            info: &OpInfo,
            input: Stream<F::Span>,
            step: &F::Step,
        ) -> Option<Applied<F::Span>> {
            $(
                if info.name == <$module::$ty as Lower>::INFO.name {
                    return Some(<$module::$ty as Lower>::lower(l, input, step));
                }
            )*
            $(
                if info.name == <$smodule::$step as Lower>::INFO.name {
                    return Some(<$smodule::$step as Lower>::lower(l, input, step));
                }
            )*
            None
        }
    };
}

registry! {
    nodes {
        Source => source::SourceOp,
        Filter => filter::Filter,
        Map => map::Map,
        FlatMap => flat_map::FlatMap,
        Aggregate => aggregate::Aggregate,
        Window => window::Window,
        Union => union::Union,
        Join => join::Join,
        IntervalJoin => interval_join::IntervalJoin,
        RegularJoin => regular_join::RegularJoin,
        OverlapJoin => overlap_join::OverlapJoin,
        Distinct => distinct::Distinct,
        Process => process::Process,
        Top => top::Top,
        Rolling => rolling::Rolling,
        Iterate => iterate::Iterate,
        Sink => sink::SinkOp,
    }
    steps {
        key_by::KeyBy,
        uid::Uid,
    }
}

/// The `.pipe` step names, in table order: for suggestions and help.
pub fn pipe_steps() -> Vec<&'static str> {
    TABLE
        .iter()
        .filter(|i| i.pipe.is_some())
        .map(|i| i.name)
        .collect()
}

/// The steps that complete a `window(...)` (`OpInfo::completes_window`), written for a
/// message: "`aggregate`, `join` or `iterate`".
pub fn window_completers() -> String {
    let names: Vec<String> = TABLE
        .iter()
        .filter(|i| i.completes_window)
        .map(|i| format!("`{}`", i.name))
        .collect();
    match names.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// The `stream!` step names, in table order.
pub fn inline_steps() -> Vec<&'static str> {
    TABLE
        .iter()
        .flat_map(|i| i.inline.iter().map(|f| step_name(f)))
        .collect()
}

/// The table entry of the `.pipe` step `name`.
pub fn pipe_info(name: &str) -> Option<&'static OpInfo> {
    TABLE.iter().copied().find(|i| i.pipe_step(name))
}

/// The table entry of the `stream!` step `name`, and the form written for that name.
pub fn inline_info(name: &str) -> Option<(&'static OpInfo, &'static str)> {
    TABLE.iter().find_map(|i| {
        i.inline
            .iter()
            .find(|f| step_name(f) == name)
            .map(|f| (*i, *f))
    })
}

/// The table entry of a step the lowering's rules name: `aggregate` completes a pending
/// window, `sink` ends a pipeline, `key_by` keys a stream.
pub(crate) fn known(step: crate::lower::KnownStep) -> &'static OpInfo {
    use crate::lower::KnownStep;
    match step {
        KnownStep::Aggregate => &<Aggregate as Lower>::INFO,
        KnownStep::Sink => &<SinkOp as Lower>::INFO,
        KnownStep::KeyBy => &<key_by::KeyBy as Lower>::INFO,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_is_registered_once_per_front_end() {
        let pipe = pipe_steps();
        let mut sorted = pipe.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), pipe.len(), "{pipe:?}");
        let inline = inline_steps();
        let mut sorted = inline.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), inline.len(), "{inline:?}");
    }

    #[test]
    fn the_steps_of_both_front_ends_come_from_the_table() {
        assert_eq!(
            pipe_steps(),
            [
                "filter",
                "map",
                "flat_map",
                "aggregate",
                "window",
                "union",
                "join",
                "interval_join",
                "overlap_join",
                "distinct",
                "process",
                "top",
                "rolling",
                "iterate",
                "sink",
                "key_by",
                "uid"
            ]
        );
        let inline = inline_steps();
        for step in [
            "filter", "key_by", "distinct", "collect", "for_each", "sink",
        ] {
            assert!(inline.contains(&step), "{step} missing from {inline:?}");
        }
        assert!(!inline.contains(&"value"));
        assert!(!inline.contains(&"source"));
    }

    #[test]
    fn ports_fit_the_operator() {
        for info in TABLE {
            assert!(info.inputs.0 <= info.inputs.1, "{}", info.name);
            // Port 1 a side output; an interval join's late records of its other input, port 2.
            assert!(info.outputs <= 3, "{}", info.name);
        }
        let window = pipe_info("window").expect("registered");
        assert_eq!(window.outputs, 2, "the late side output is port 1");
        let union = pipe_info("union").expect("registered");
        assert_eq!(union.inputs, (2, usize::MAX));
    }
}
