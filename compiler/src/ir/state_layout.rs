//! Where the fields of keyed state sit in the runtime's binary layout. The memory pass sizes
//! state from this and the code generator writes and reads state by it, so both agree.

use super::{AggregateField, Schema, Type};

/// The binary layout of a key: each key field's offset in the fixed part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyLayout {
    /// `(input field index, offset, type)` per key field, in key order.
    pub fields: Vec<(usize, usize, Type)>,
    /// Bytes of the fixed part; strings add their bytes after it.
    pub fixed_len: usize,
}

impl KeyLayout {
    /// The layout of the key made of `key` fields of `schema`.
    pub fn new(schema: &Schema, key: &[usize]) -> Self {
        let mut offset = 0;
        let fields = key
            .iter()
            .map(|&i| {
                let ty = schema.fields[i].ty.clone();
                let at = offset;
                offset += ty.fixed_width();
                (i, at, ty)
            })
            .collect();
        KeyLayout {
            fields,
            fixed_len: offset,
        }
    }

    /// The width of every key when no key field is a string; `None` when keys vary.
    pub fn width(&self) -> Option<usize> {
        let varies = self.fields.iter().any(|(_, _, ty)| *ty == Type::Str);
        (!varies).then_some(self.fixed_len)
    }
}

/// Byte offset of each aggregate's accumulator words, and the block's size.
pub fn accumulator_offsets(aggregates: &[AggregateField]) -> (Vec<usize>, usize) {
    let mut offset = 0;
    let offsets = aggregates
        .iter()
        .map(|a| {
            let at = offset;
            offset += a.words() * 8;
            at
        })
        .collect();
    (offsets, offset)
}
