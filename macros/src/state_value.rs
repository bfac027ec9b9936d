//! `#[derive(StateValue)]`: a struct kept as a process step's per-key state, encoded field
//! by field in declaration order (named or tuple fields; generic structs too, each type
//! parameter then a `StateValue`).

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, Index};

pub(crate) fn derive(item: &DeriveInput) -> syn::Result<TokenStream> {
    let Data::Struct(data) = &item.data else {
        return Err(syn::Error::new_spanned(
            &item.ident,
            "`#[derive(weir::StateValue)]` is for structs",
        ));
    };
    let rt = quote!(::weir::runtime);
    let name = &item.ident;
    let mut generics = item.generics.clone();
    for p in generics.type_params_mut() {
        p.bounds.push(syn::parse_quote!(#rt::state::StateValue));
    }
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    // Spanned at each field's type, so a field without an encoding is reported there.
    let (puts, body): (Vec<_>, TokenStream) = match &data.fields {
        Fields::Named(fields) => {
            let puts = fields.named.iter().map(|f| {
                let (id, ty) = (f.ident.as_ref().expect("named"), &f.ty);
                quote_spanned!(ty.span()=> <#ty as #rt::state::StateValue>::put(&self.#id, out);)
            });
            let takes = fields.named.iter().map(|f| {
                let (id, ty) = (f.ident.as_ref().expect("named"), &f.ty);
                quote_spanned!(ty.span()=> #id: <#ty as #rt::state::StateValue>::take(input)?)
            });
            (puts.collect(), quote!(#name { #(#takes,)* }))
        }
        Fields::Unnamed(fields) => {
            let puts = fields.unnamed.iter().enumerate().map(|(i, f)| {
                let (i, ty) = (Index::from(i), &f.ty);
                quote_spanned!(ty.span()=> <#ty as #rt::state::StateValue>::put(&self.#i, out);)
            });
            let takes = fields.unnamed.iter().map(|f| {
                let ty = &f.ty;
                quote_spanned!(ty.span()=> <#ty as #rt::state::StateValue>::take(input)?)
            });
            (puts.collect(), quote!(#name(#(#takes,)*)))
        }
        Fields::Unit => (Vec::new(), quote!(#name)),
    };
    Ok(quote! {
        impl #impl_generics #rt::state::StateValue for #name #ty_generics #where_clause {
            fn put(&self, out: &mut ::std::vec::Vec<u8>) {
                #(#puts)*
            }
            fn take(input: &mut &[u8]) -> ::core::result::Result<Self, #rt::JobError> {
                ::core::result::Result::Ok(#body)
            }
        }
    })
}
