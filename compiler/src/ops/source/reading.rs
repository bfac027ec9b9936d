//! What reading one source takes: opening it, decoding a record by its format (CSV, text,
//! JSON lines, an iterator, Nexmark), checking its event time and moving its watermark,
//! and handing it to its chain; for a slice scan, only the largest event time.

use petgraph::graph::NodeIndex;
use proc_macro2::{Ident, TokenStream};
use quote::quote;

use super::{decoder, nexmark, time_unit, SourceOp};
use crate::codegen::context::{source_var, Gen};
use crate::codegen::names::{chain_input, chain_watermark, field_ident, ident};
use crate::ir::{EventTime, InputLocation, OnError, SourceFormat, Type, WatermarkSpec};

/// What reading one source takes: opening it (and its watermark generator), the code that
/// reads and delivers one record (`end` runs at the end of the input), and the methods
/// that take its watermark.
pub(super) struct SourceCode {
    pub(super) generator: TokenStream,
    pub(super) open: TokenStream,
    pub(super) next: TokenStream,
    pub(super) watermark: Ident,
    pub(super) timed: bool,
}

/// The watermark generator of source `s` (node `n`), and the code that hands one decoded
/// `record` to its chain: with event time, its timestamp is checked and the source's
/// watermark follows each record that moves it.
pub(super) fn delivery(
    g: &Gen<'_>,
    n: NodeIndex,
    s: &SourceOp,
    skip: &TokenStream,
) -> (TokenStream, TokenStream, Ident) {
    let node = &g.plan.graph[n];
    let chain_id = node.chain.expect("the chaining pass ran");
    let chain = chain_input(chain_id, 0);
    let watermark = chain_watermark(chain_id);
    let (generator, deliver) = match &s.event_time {
        None => (
            quote!(),
            quote! {
                job.#chain(record, i64::MIN).map_err(|e| src.locate(e))?;
                weir_runtime::job::pump_if_full(job)?;
            },
        ),
        Some(et) => {
            let timestamp = checked_event_time(g, n, s, et);
            let strategy = match et.watermark {
                WatermarkSpec::Bounded(ms) => {
                    quote!(weir_runtime::time::WatermarkStrategy::Bounded(#ms))
                }
                WatermarkSpec::Ascending => {
                    quote!(weir_runtime::time::WatermarkStrategy::Ascending)
                }
            };
            let (idle, now) = match et.idle {
                Some(ms) => (
                    quote!(::core::option::Option::Some(#ms)),
                    quote!(job.clock.now()),
                ),
                None => (quote!(::core::option::Option::None), quote!(0)),
            };
            (
                quote!(let mut generator = weir_runtime::time::WatermarkGenerator::new(#strategy, #idle, job.clock.now());),
                // A record outside the valid event times is a bad record of the source.
                quote! {
                    let ts = match #timestamp {
                        ::core::result::Result::Ok(ts) => ts,
                        ::core::result::Result::Err(e) => {
                            src.reject_message(&e)?;
                            #skip;
                        }
                    };
                    job.#chain(record, ts).map_err(|e| src.locate(e))?;
                    if let ::core::option::Option::Some(wm) = generator.on_event(ts, #now) {
                        job.#watermark(0, wm)?;
                    }
                    weir_runtime::job::pump_if_full(job)?;
                },
            )
        }
    };
    (generator, deliver, watermark)
}

/// The event time of a decoded `record` of source node `n`, checked: `Ok` in
/// milliseconds, or why it is no valid event time. A `.pipe` source's timestamp fields are
/// in milliseconds once decoded; an inline source's event time is the closure's value, in
/// the source's `time_unit`.
fn checked_event_time(g: &Gen<'_>, n: NodeIndex, s: &SourceOp, et: &EventTime) -> TokenStream {
    match &et.rust {
        Some(r) if !s.time_unit.is_milliseconds() => {
            let f = ident(&r.field_name());
            let unit = time_unit(s.time_unit);
            quote!(weir_runtime::time::valid_timestamp_in((job.#f)(&record), #unit))
        }
        Some(r) => {
            let f = ident(&r.field_name());
            quote!(weir_runtime::time::valid_timestamp((job.#f)(&record)))
        }
        None => {
            let field = field_ident(&g.plan.graph[n].schema.fields[et.field].name);
            quote!(weir_runtime::time::valid_timestamp(record.#field))
        }
    }
}

/// What a decoded JSON `record` goes through before `deliver`: its `timestamp` fields
/// from the source's `time_unit` to milliseconds (a value past the range is a bad
/// record). Nothing in milliseconds, or for Rust records (whose event time is converted).
fn json_in_milliseconds(
    s: &SourceOp,
    fields: &[crate::ir::Field],
    rust: bool,
    deliver: &TokenStream,
) -> TokenStream {
    let stamps: Vec<&crate::ir::Field> = fields.iter().filter(|f| f.ty == Type::Timestamp).collect();
    if s.time_unit.is_milliseconds() || rust || stamps.is_empty() {
        return deliver.clone();
    }
    let unit = time_unit(s.time_unit);
    let converts = stamps.iter().map(|f| {
        let (id, name) = (field_ident(&f.name), &f.name);
        quote!(record.#id = #unit.read(record.#id, #name)?;)
    });
    let names = stamps.iter().map(|f| f.name.as_str());
    quote! {
        let mut record = record;
        // Text was read as milliseconds: in another unit only numbers are taken.
        let converted = match weir_runtime::io::json_timestamp::text_in(line, &[#(#names),*]) {
            ::core::option::Option::Some(why) => ::core::result::Result::Err(weir_runtime::io::FieldError::other(why)),
            ::core::option::Option::None => (|| -> ::core::result::Result<(), weir_runtime::io::FieldError> {
                #(#converts)*
                ::core::result::Result::Ok(())
            })(),
        };
        match converted {
            ::core::result::Result::Ok(()) => { #deliver }
            ::core::result::Result::Err(e) => src.reject(&e.message)?,
        }
    }
}

/// The `InputSpec` source `s` reads unless `--input` says otherwise.
pub(super) fn input_spec(s: &SourceOp) -> TokenStream {
    match &s.input {
        InputLocation::Path(p) if s.follow => {
            quote!(weir_runtime::io::InputSpec::Follow(#p.to_string()))
        }
        InputLocation::Path(p) => quote!(weir_runtime::io::InputSpec::File(#p.to_string())),
        InputLocation::Stdin | InputLocation::Program | InputLocation::Generated => {
            quote!(weir_runtime::io::InputSpec::Stdin)
        }
    }
}

/// Why a source is read: for its records, or only for the largest event time among them
/// (`slice_start`), with bad records passed over without a word (the read that follows
/// meets them under the source's policy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Pass {
    Read,
    Scan,
}

/// What reading source `s` (node `n`) takes; `end` runs at the end of its input, `skip`
/// passes over a record (a bad one). Waking up for quiet live input is the driver's
/// (`weir_runtime::job::read_to_end`); a scan reads files only.
pub(super) fn source_code(
    g: &Gen<'_>,
    n: NodeIndex,
    s: &SourceOp,
    end: &TokenStream,
    skip: &TokenStream,
    pass: Pass,
) -> SourceCode {
    let node = &g.plan.graph[n];
    let (generator, mut deliver, watermark) = delivery(g, n, s, skip);
    let name = &s.name;
    let spec = input_spec(s);
    let policy = match (&s.on_error, pass) {
        (_, Pass::Scan) | (OnError::Skip, _) => quote!(weir_runtime::io::BadRecordPolicy::Skip),
        (OnError::Fail, _) => quote!(weir_runtime::io::BadRecordPolicy::Fail),
        (OnError::DeadLetter(p), _) => {
            quote!(weir_runtime::io::BadRecordPolicy::DeadLetter(#p.to_string()))
        }
    };
    if let (Pass::Scan, Some(et)) = (pass, &s.event_time) {
        let timestamp = checked_event_time(g, n, s, et);
        deliver = quote! {
            if let ::core::result::Result::Ok(ts) = #timestamp {
                slice_max = slice_max.max(ts);
            }
        };
    }
    let fields = &node.schema.fields;
    let rust = node.schema.rust.is_some();
    let ty = g.record_type(&node.schema);
    let (open, next) = match &s.format {
        SourceFormat::Iter(_) => {
            // Named by node: several iterator sources are open at once when interleaved.
            let (items, local) = (source_var(n), crate::codegen::names::iter_items(n));
            (
                quote! {
                    let mut src = weir_runtime::io::IterSource::open(ctx, #name, #policy)?;
                    let mut #local = #items;
                },
                // `None` on every worker but the first: the iterator is the calling thread's.
                quote! {
                    let ::core::option::Option::Some(record) = #local.as_mut().and_then(::core::iter::Iterator::next) else #end;
                    if !src.next_item() {
                        #skip;
                    }
                    #deliver
                },
            )
        }
        SourceFormat::Nexmark(stream) => nexmark::read(g, n, stream, name, end, &deliver),
        SourceFormat::Text => {
            let record = if rust {
                quote!(line.to_owned())
            } else {
                let name = g.records.name(fields);
                let f = field_ident(&fields[0].name);
                quote!(#name { #f: ::std::borrow::Cow::Borrowed(line) })
            };
            (
                quote!(let mut src = weir_runtime::io::LineSource::open(ctx, #name, #spec, #policy, false)?;),
                quote! {
                    let ::core::option::Option::Some(line) = src.next_line()? else #end;
                    let record: #ty = #record;
                    #deliver
                },
            )
        }
        SourceFormat::Jsonl => {
            let decoded = json_in_milliseconds(s, fields, rust, &deliver);
            (
                quote!(let mut src = weir_runtime::io::LineSource::open(ctx, #name, #spec, #policy, true)?;),
                quote! {
                    let ::core::option::Option::Some(line) = src.next_line()? else #end;
                    match weir_runtime::io::decode_json::<#ty>(line) {
                        ::core::result::Result::Ok(record) => { #decoded }
                        ::core::result::Result::Err(e) => src.reject(&e)?,
                    }
                },
            )
        }
        SourceFormat::Csv { header, delimiter } => {
            // Rust records name their columns and decode themselves (`weir::Record`).
            let (names, decode) = if rust {
                (
                    quote!(<#ty as weir_runtime::Record>::FIELDS),
                    quote!(<#ty as weir_runtime::Record>::from_csv),
                )
            } else {
                let names = fields.iter().map(|f| f.name.as_str());
                let decode = decoder(n);
                (quote!(&[#(#names),*]), quote!(#decode))
            };
            // A scan for the largest event time passes over the rows whose event time is
            // no later than the largest so far without decoding them.
            let next_record = match (&s.event_time, pass) {
                // The skim compares the column's raw value: in milliseconds only.
                (Some(et), Pass::Scan)
                    if et.rust.is_none() && !rust && s.time_unit.is_milliseconds() =>
                {
                    let field = et.field;
                    quote!(next_record_later_than(#field, slice_max))
                }
                _ => quote!(next_record()),
            };
            (
                quote!(let mut src = weir_runtime::io::CsvSource::open(ctx, #name, #spec, #policy, #header, #delimiter, #names)?;),
                quote! {
                    let ::core::option::Option::Some(row) = src.#next_record? else #end;
                    match #decode(&row) {
                        ::core::result::Result::Ok(record) => { #deliver }
                        ::core::result::Result::Err(e) => src.reject(e)?,
                    }
                },
            )
        }
    };
    SourceCode {
        timed: s.event_time.is_some(),
        generator,
        open,
        next,
        watermark,
    }
}
