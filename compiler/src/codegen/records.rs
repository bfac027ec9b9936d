//! One Rust struct per distinct record schema.
//!
//! String fields are `Cow<str>`, so a record built from a line, a CSV field or a key in
//! state borrows those bytes instead of copying them; only functions that make new text
//! (`upper`, `concat`, casts) own theirs. Structs with a string field carry the lifetime.

use std::collections::HashMap;

use proc_macro2::{Ident, TokenStream};
use quote::quote;

use super::names::{field_ident, ident, RESERVED};
use crate::ir::{Field, Plan, Schema, Type};

/// The record struct of every schema in a plan.
pub struct RecordTypes {
    by_fields: HashMap<Vec<Field>, (Ident, bool)>,
    defs: Vec<TokenStream>,
}

impl RecordTypes {
    /// Structs for every node's schema, in node order; schemas with the same fields share
    /// one struct, named after the first declared schema name that has them.
    pub fn new(plan: &Plan) -> Self {
        let mut types = RecordTypes {
            by_fields: HashMap::new(),
            defs: Vec::new(),
        };
        let mut taken: Vec<String> = RESERVED.iter().map(|s| s.to_string()).collect();
        let mut anonymous = 0;
        // Rust records (inline pipelines) are the user's types, not structs of ours.
        let mut schemas: Vec<_> = plan
            .graph
            .node_weights()
            .filter(|n| n.schema.rust.is_none())
            .map(|n| n.schema.clone())
            .collect();
        // Declared names first, so a declared schema names its struct wherever it appears.
        schemas.sort_by_key(|s| s.name.is_none());
        for schema in schemas {
            if types.by_fields.contains_key(&schema.fields) {
                continue;
            }
            let mut name = match &schema.name {
                Some(n) if syn::parse_str::<Ident>(n).is_ok() => n.clone(),
                _ => {
                    anonymous += 1;
                    format!("Rec{anonymous}")
                }
            };
            while taken.contains(&name) {
                name.push('_');
            }
            taken.push(name.clone());
            let borrows = schema.fields.iter().any(|f| f.ty == Type::Str);
            let id = ident(&name);
            types.defs.push(definition(&id, &schema.fields, borrows));
            types.by_fields.insert(schema.fields.clone(), (id, borrows));
        }
        types
    }

    /// The struct's type, e.g. `Bid<'_>` or `Rec2`.
    pub fn ty(&self, fields: &[Field]) -> TokenStream {
        let (id, borrows) = &self.by_fields[fields];
        if *borrows {
            quote!(#id<'_>)
        } else {
            quote!(#id)
        }
    }

    /// The struct's type with lifetime `'r` where it has one.
    pub fn ty_with(&self, fields: &[Field], lifetime: &TokenStream) -> TokenStream {
        let (id, borrows) = &self.by_fields[fields];
        if *borrows {
            quote!(#id<#lifetime>)
        } else {
            quote!(#id)
        }
    }

    /// The struct's name, for literals.
    pub fn name(&self, fields: &[Field]) -> &Ident {
        &self.by_fields[fields].0
    }

    /// All struct definitions.
    pub fn definitions(&self) -> &[TokenStream] {
        &self.defs
    }
}

/// The Rust type of a field.
pub fn rust_type(ty: &Type) -> TokenStream {
    match ty {
        Type::Bool => quote!(bool),
        Type::I64 | Type::Timestamp => quote!(i64),
        Type::U64 => quote!(u64),
        Type::F64 => quote!(f64),
        Type::Str => quote!(WeirStr<'a>),
        Type::List(_) => unreachable!("records never hold lists"),
        Type::Rust(t) => super::context::rust_tokens(&t.to_string()),
    }
}

impl super::context::Gen<'_> {
    /// The Rust type of the records in `schema`: a record struct, or the inline pipeline's
    /// type.
    pub(crate) fn record_type(&self, schema: &Schema) -> TokenStream {
        match &schema.rust {
            Some(t) => self.rust_type(t),
            None => self.records.ty(&schema.fields),
        }
    }

    /// The record node `n` emits, made of `values` in its schema's order: a struct
    /// literal, or a tuple for an inline pipeline.
    pub(crate) fn result_record(
        &self,
        n: petgraph::graph::NodeIndex,
        values: Vec<TokenStream>,
    ) -> TokenStream {
        let schema = &self.plan.graph[n].schema;
        if schema.rust.is_some() {
            return quote!((#(#values,)*));
        }
        let name = self.records.name(&schema.fields);
        let inits = schema.fields.iter().zip(values).map(|(f, v)| {
            let f = field_ident(&f.name);
            quote!(#f: #v)
        });
        quote!(#name { #(#inits,)* })
    }
}

impl super::context::Gen<'_> {
    /// The struct literal of node `n`'s output record with each field's value computed
    /// from `input`, except the field `given`, whose value is the tokens given
    /// (`flat_map`'s element).
    pub(crate) fn record_literal(
        &self,
        n: petgraph::graph::NodeIndex,
        fields: &[(String, crate::ir::TExpr)],
        input: &Ident,
        given: Option<(usize, TokenStream)>,
    ) -> TokenStream {
        // Only `map` and `flat_map` build records, always inside a chain method.
        let exprs = super::expr::ExprGen {
            record: input,
            locals: false,
            file: &self.plan.file,
            scratch: true,
        };
        let name = self.records.name(&self.plan.graph[n].schema.fields);
        let inits = fields.iter().enumerate().map(|(i, (f, e))| {
            let f = field_ident(f);
            let v = match &given {
                Some((at, v)) if *at == i => v.clone(),
                _ => exprs.value(e),
            };
            quote!(#f: #v)
        });
        quote!(#name { #(#inits,)* })
    }
}

fn definition(id: &Ident, fields: &[Field], borrows: bool) -> TokenStream {
    let members = fields.iter().map(|f| {
        let name = field_ident(&f.name);
        let ty = rust_type(&f.ty);
        let json_name = &f.name;
        let rename = (name != json_name).then(|| quote!(#[serde(rename = #json_name)]));
        let borrow = (f.ty == Type::Str).then(|| quote!(#[serde(borrow)]));
        // NaN and infinities as strings in JSON, so they read back (`io::json_float`).
        let float =
            (f.ty == Type::F64).then(|| quote!(#[serde(with = "weir_runtime::io::json_float")]));
        // A number, or RFC 3339 text, in JSON lines (`io::json_timestamp`).
        let stamp = (f.ty == Type::Timestamp).then(
            || quote!(#[serde(deserialize_with = "weir_runtime::io::json_timestamp::deserialize")]),
        );
        quote! {
            #rename
            #borrow
            #float
            #stamp
            #name: #ty
        }
    });
    let generics = borrows.then(|| quote!(<'a>));
    quote! {
        #[derive(Debug, Clone, PartialEq, weir_runtime::serde::Serialize, weir_runtime::serde::Deserialize)]
        #[serde(crate = "weir_runtime::serde")]
        struct #id #generics {
            #(#members,)*
        }
    }
}
