//! The operator registry: one file per operator, one table that registers them.
//!
//! Each operator file holds everything about its operator: its names and written forms for
//! both front-ends and its ports ([`OpInfo`]); its lowering from step arguments into a node
//! (a `lower` function over any [`FrontEnd`](crate::lower::FrontEnd)); its type rules, its
//! memory demand and its code generation hooks ([`OperatorDef`]).
//!
//! The traits an operator implements are the operator API (`api.rs`). The [`registry!`]
//! table below is the only place that lists the operators. It generates the [`Operator`]
//! enum and every dispatch over it, so no other code matches on the operator kind; an
//! operator must write `info`, `describe`, `check` and `push`, and every other hook has a
//! default (a stateful operator without a `memory` demand is caught by the memory pass).

use std::fmt;

use serde::Serialize;

use crate::lower::{Applied, FrontEnd, Lowering, Stream};
pub use api::OpInfo;
pub(crate) use api::{CombinerCode, Lower, OperatorDef};

/// The step name a written form starts with: `filter` in `filter(|r| ...)`.
fn step_name(form: &str) -> &str {
    form.split(['(', ' ', '{']).next().unwrap_or(form)
}

pub(crate) mod api;
pub(crate) mod checks;
pub(crate) mod keyed;

/// The table. `nodes` are operators that become graph nodes (a variant of [`Operator`]
/// each, its payload `module::Type` in `ops/module.rs` or `ops/module/mod.rs`); `steps`
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

        /// What a node does: one variant per registered operator, its payload defined in
        /// the operator's file.
        #[derive(Debug, Clone, PartialEq, Serialize)]
        pub enum Operator {
            $(
                #[doc = concat!("See [`", stringify!($ty), "`].")]
                $variant($module::$ty),
            )*
        }

        impl Operator {
            /// The operator's hooks.
            pub(crate) fn def(&self) -> &dyn OperatorDef {
                match self {
                    $(Operator::$variant(op) => op,)*
                }
            }

            /// The payload if the operator is a `T` (`op.payload::<SourceOp>()`), so code
            /// that needs one kind asks for it without matching on the kind.
            pub fn payload<T: 'static>(&self) -> Option<&T> {
                match self {
                    $(Operator::$variant(op) => (op as &dyn std::any::Any).downcast_ref::<T>(),)*
                }
            }
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
        Distinct => distinct::Distinct,
        Sink => sink::SinkOp,
    }
    steps {
        key_by::KeyBy,
    }
}

impl Operator {
    /// The operator's name as written in a pipeline.
    pub fn kind(&self) -> &'static str {
        self.def().info().name
    }

    /// The operator's table entry.
    pub fn info(&self) -> &'static OpInfo {
        self.def().info()
    }
}

impl fmt::Display for Operator {
    /// A one-line description, for graphs and `weir explain`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.def().describe(f)
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
                "distinct",
                "sink",
                "key_by"
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
