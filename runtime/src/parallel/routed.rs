//! The one dataflow shape weir builds on timely: an input whose messages are routed to the
//! worker a function names, collected there into an inbox, with a probe that is done once
//! every worker has closed its input and everything sent has arrived.

use std::cell::RefCell;
use std::rc::Rc;

use timely::container::CapacityContainerBuilder;
use timely::dataflow::channels::pact::Exchange as ByWorker;
use timely::dataflow::operators::generic::Operator;
use timely::dataflow::operators::{Input, Probe};
use timely::dataflow::{InputHandle, ProbeHandle};

/// A worker's end of a routed dataflow.
pub(crate) struct Routed<M: timely::ExchangeData + Clone> {
    /// Where this worker sends (closed by dropping it).
    pub input: Option<InputHandle<u64, CapacityContainerBuilder<Vec<M>>>>,
    /// Done when every input is closed and every message has arrived.
    pub probe: ProbeHandle<u64>,
    /// What has arrived at this worker.
    pub inbox: Rc<RefCell<Vec<M>>>,
}

impl<M: timely::ExchangeData + Clone> Routed<M> {
    /// Builds the dataflow on `worker`, each message going to worker `route(message)`.
    pub fn new(worker: &mut timely::worker::Worker, name: &str, route: fn(&M) -> u64) -> Self {
        let inbox = Rc::new(RefCell::new(Vec::new()));
        let arrived = inbox.clone();
        let name = name.to_string();
        let (input, probe) = worker.dataflow::<u64, _, _>(move |scope| {
            let (input, stream) = scope.new_input::<Vec<M>>();
            let (probe, _) = stream
                .unary::<CapacityContainerBuilder<Vec<()>>, _, _, _>(
                    ByWorker::new(route),
                    &name,
                    move |_, _| {
                        move |input, _| {
                            let mut inbox = arrived.borrow_mut();
                            input.for_each(|_, data| inbox.append(data));
                        }
                    },
                )
                .probe();
            (input, probe)
        });
        Routed {
            input: Some(input),
            probe,
            inbox,
        }
    }
}
