//! Types and record schemas.

use std::fmt;

use serde::Serialize;

/// The type of a field or expression.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub enum Type {
    /// `bool`
    Bool,
    /// `i64`
    I64,
    /// `u64`
    U64,
    /// `f64`
    F64,
    /// `str`: UTF-8 text.
    Str,
    /// `timestamp`: milliseconds since the Unix epoch, as an `i64`.
    Timestamp,
    /// A list, only as the value that `flat_map` explodes.
    List(Box<Type>),
    /// A Rust type of an inline pipeline; rustc infers and checks it.
    Rust(super::RustType),
}

impl Type {
    /// The type named `name` in a schema, if any.
    pub fn from_name(name: &str) -> Option<Type> {
        Some(match name {
            "bool" => Type::Bool,
            "i64" => Type::I64,
            "u64" => Type::U64,
            "f64" => Type::F64,
            "str" => Type::Str,
            "timestamp" => Type::Timestamp,
            _ => return None,
        })
    }

    /// Whether arithmetic applies.
    pub fn is_numeric(&self) -> bool {
        matches!(self, Type::I64 | Type::U64 | Type::F64)
    }

    /// The element type of a list; any other type itself.
    pub fn element(&self) -> &Type {
        match self {
            Type::List(t) => t,
            t => t,
        }
    }

    /// Bytes in the fixed part of the binary layout (strings: offset and length).
    pub fn fixed_width(&self) -> usize {
        match self {
            Type::Bool => 1,
            _ => 8,
        }
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Bool => f.write_str("bool"),
            Type::I64 => f.write_str("i64"),
            Type::U64 => f.write_str("u64"),
            Type::F64 => f.write_str("f64"),
            Type::Str => f.write_str("str"),
            Type::Timestamp => f.write_str("timestamp"),
            Type::List(t) => write!(f, "list<{t}>"),
            Type::Rust(t) => t.fmt(f),
        }
    }
}

/// One named, typed field of a record.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Field {
    /// The field's name.
    pub name: String,
    /// Its type.
    pub ty: Type,
}

/// The shape of the records on a stream.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Schema {
    /// The declared name (`Bid`), or `None` for a schema an operator made.
    pub name: Option<String>,
    /// Fields in order (none for Rust records).
    pub fields: Vec<Field>,
    /// For an inline pipeline: the Rust type of the records (`R0`, `(K3, u64,)`). The
    /// compiler does not look inside.
    pub rust: Option<super::RustType>,
}

impl Schema {
    /// The index of field `name`.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name == name)
    }

    /// Whether two schemas have the same fields, whatever their names.
    pub fn same_fields(&self, other: &Schema) -> bool {
        self.fields == other.fields
    }

    /// The schema of Rust records of type `ty`.
    pub fn rust(ty: super::RustType) -> Schema {
        Schema {
            name: None,
            fields: Vec::new(),
            rust: Some(ty),
        }
    }

    /// The schema of records made of `fields` (an operator's results).
    pub fn record(fields: Vec<Field>) -> Schema {
        Schema {
            name: None,
            fields,
            rust: None,
        }
    }

    /// How many columns a record has, where the compiler knows: its fields, or the
    /// elements of a Rust tuple; `None` for an opaque Rust type.
    pub fn columns(&self) -> Option<usize> {
        match &self.rust {
            None => Some(self.fields.len()),
            Some(super::RustType::Tuple(elements)) => Some(elements.len()),
            Some(_) => None,
        }
    }

    /// Whether records of both schemas are of one type: the same fields, or the same Rust
    /// type.
    pub fn same_records(&self, other: &Schema) -> bool {
        self.same_fields(other) && self.rust == other.rust
    }

    /// `{ a: u64, b: str }`, or the Rust type.
    pub fn describe(&self) -> String {
        if let Some(t) = &self.rust {
            return t.to_string();
        }
        let fields: Vec<String> = self
            .fields
            .iter()
            .map(|f| format!("{}: {}", f.name, f.ty))
            .collect();
        format!("{{ {} }}", fields.join(", "))
    }
}
