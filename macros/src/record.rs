//! `#[derive(Record)]`: `Layout` (fields one after another in the binary layout) and
//! `Record` (fields as CSV columns named after them).

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields};

pub(crate) fn derive(item: &DeriveInput) -> syn::Result<TokenStream> {
    let Data::Struct(data) = &item.data else {
        return Err(syn::Error::new_spanned(
            &item.ident,
            "`#[derive(weir::Record)]` is for structs with named fields",
        ));
    };
    let Fields::Named(fields) = &data.fields else {
        return Err(syn::Error::new_spanned(
            &item.ident,
            "`#[derive(weir::Record)]` needs named fields: they name the CSV columns",
        ));
    };
    if !item.generics.params.is_empty() {
        return Err(syn::Error::new_spanned(
            &item.generics,
            "`#[derive(weir::Record)]` does not take generic structs",
        ));
    }
    let name = &item.ident;
    let rt = quote!(::weir::runtime);
    let fields: Vec<_> = fields.named.iter().collect();
    let idents: Vec<_> = fields
        .iter()
        .map(|f| f.ident.as_ref().expect("named"))
        .collect();
    let names: Vec<String> = idents
        .iter()
        .map(|i| i.to_string().trim_start_matches("r#").to_string())
        .collect();
    // Spanned at each field's type, so a field without a layout is reported there.
    let widths = fields.iter().map(|f| {
        let ty = &f.ty;
        quote_spanned!(ty.span()=> <#ty as #rt::Layout>::WIDTH)
    });
    let puts = fields.iter().zip(&idents).map(|(f, id)| {
        let ty = &f.ty;
        quote_spanned! {ty.span()=>
            #rt::Layout::put(&self.#id, out, at);
            at += <#ty as #rt::Layout>::WIDTH;
        }
    });
    let reads = fields.iter().zip(&idents).map(|(f, id)| {
        let ty = &f.ty;
        quote_spanned! {ty.span()=>
            #id: {
                let v = <#ty as #rt::Layout>::read(view, at);
                at += <#ty as #rt::Layout>::WIDTH;
                v
            }
        }
    });
    let columns = fields
        .iter()
        .zip(&idents)
        .zip(&names)
        .enumerate()
        .map(|(i, ((f, id), n))| {
            let ty = &f.ty;
            quote_spanned!(ty.span()=> #id: <#ty as #rt::CsvField>::read(row, #i, #n)?)
        });
    let writes = fields.iter().zip(&idents).map(|(f, id)| {
        let ty = &f.ty;
        quote_spanned!(ty.span()=> #rt::CsvField::write(&self.#id, sink);)
    });
    Ok(quote! {
        impl #rt::Layout for #name {
            const WIDTH: usize = 0 #(+ #widths)*;
            #[allow(unused_assignments)]
            fn put(&self, out: &mut #rt::layout::RecordBuilder, offset: usize) {
                let mut at = offset;
                #(#puts)*
            }
            #[allow(unused_assignments)]
            fn read(view: &#rt::layout::RecordView<'_>, offset: usize) -> Self {
                let mut at = offset;
                #name { #(#reads,)* }
            }
        }

        impl #rt::Record for #name {
            const FIELDS: &'static [&'static str] = &[#(#names),*];
            fn from_csv(row: &#rt::io::CsvRow<'_>) -> ::core::result::Result<Self, #rt::io::FieldError> {
                ::core::result::Result::Ok(#name { #(#columns,)* })
            }
            fn to_csv(&self, sink: &mut #rt::io::CsvSink) {
                #(#writes)*
            }
        }
    })
}
