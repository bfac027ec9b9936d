//! User record types as CSV rows: what lets an inline pipeline (`stream!`) read and write
//! its own structs with the same sources and sinks as a `.pipe` job.
//! `#[derive(weir::Record)]` implements [`Record`] field by field through [`CsvField`].

use crate::io::{CsvRow, CsvSink, FieldError};
use crate::layout::Layout;

/// A value that is one CSV column.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a CSV column",
    note = "record fields are numbers, `bool` or `String`"
)]
pub trait CsvField: Sized {
    /// Column `i` (named `name`) of `row`.
    fn read(row: &CsvRow<'_>, i: usize, name: &str) -> Result<Self, FieldError>;
    /// Writes the value as the sink's next column.
    fn write(&self, sink: &mut CsvSink);
}

macro_rules! csv_field {
    ($($t:ty => $read:ident as $wide:ty, $write:ident;)*) => {$(
        impl CsvField for $t {
            #[inline]
            fn read(row: &CsvRow<'_>, i: usize, name: &str) -> Result<Self, FieldError> {
                let v = row.$read(i, name)?;
                <$t>::try_from(v).map_err(|_| FieldError::parse(name, v.to_string().as_bytes(), stringify!($t)))
            }
            #[inline]
            fn write(&self, sink: &mut CsvSink) {
                sink.$write(*self as $wide);
            }
        }
    )*};
}

csv_field! {
    u64 => u64 as u64, field_u64;
    u32 => u64 as u64, field_u64;
    usize => u64 as u64, field_u64;
    i64 => i64 as i64, field_i64;
    i32 => i64 as i64, field_i64;
}

impl CsvField for f64 {
    #[inline]
    fn read(row: &CsvRow<'_>, i: usize, name: &str) -> Result<Self, FieldError> {
        row.f64(i, name)
    }
    #[inline]
    fn write(&self, sink: &mut CsvSink) {
        sink.field_f64(*self);
    }
}

impl CsvField for bool {
    #[inline]
    fn read(row: &CsvRow<'_>, i: usize, name: &str) -> Result<Self, FieldError> {
        row.bool(i, name)
    }
    #[inline]
    fn write(&self, sink: &mut CsvSink) {
        sink.field_bool(*self);
    }
}

impl CsvField for String {
    #[inline]
    fn read(row: &CsvRow<'_>, i: usize, name: &str) -> Result<Self, FieldError> {
        row.str(i, name).map(str::to_owned)
    }
    #[inline]
    fn write(&self, sink: &mut CsvSink) {
        sink.field_str(self);
    }
}

/// A record type of an inline pipeline: named CSV columns and a binary layout.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a weir record",
    label = "file sources and sinks need a record type",
    note = "add `#[derive(weir::Record)]` to the struct, or use a tuple of numbers, `bool` and `String`"
)]
pub trait Record: Layout {
    /// Column names in order: a CSV source reads them by name, a CSV sink writes them as
    /// its header.
    const FIELDS: &'static [&'static str];
    /// The record in `row`, whose columns are in [`Record::FIELDS`] order.
    fn from_csv(row: &CsvRow<'_>) -> Result<Self, FieldError>;
    /// Writes the record as one row (without ending it).
    fn to_csv(&self, sink: &mut CsvSink);
}

macro_rules! tuple_record {
    ($($name:ident $idx:tt),+) => {
        impl<$($name: CsvField + Layout),+> Record for ($($name,)+) {
            const FIELDS: &'static [&'static str] = &[$(stringify!($idx)),+];
            #[inline]
            fn from_csv(row: &CsvRow<'_>) -> Result<Self, FieldError> {
                Ok(($(<$name as CsvField>::read(row, $idx, stringify!($idx))?,)+))
            }
            #[inline]
            fn to_csv(&self, sink: &mut CsvSink) {
                $(CsvField::write(&self.$idx, sink);)+
            }
        }
    };
}

tuple_record!(A 0);
tuple_record!(A 0, B 1);
tuple_record!(A 0, B 1, C 2);
tuple_record!(A 0, B 1, C 2, D 3);
tuple_record!(A 0, B 1, C 2, D 3, E 4);
tuple_record!(A 0, B 1, C 2, D 3, E 4, F 5);
