//! `match_message!`: a `match` on a message set that names each message once.
//!
//! `match_message!(msg: PrinterMsg { MSG_GREETING(name) => .., MSG_QUIT => .. })` becomes
//! `match msg { PrinterMsg::MSG_GREETING(MSG_GREETING(name)) => .., PrinterMsg::MSG_QUIT(MSG_QUIT)
//! => .. }`: each arm's message pattern is wrapped in the set's variant of the same name, so
//! rustc checks the match for exhaustiveness and every pattern as usual. Guards, `|` between
//! messages, `_`, a lowercase binding of the whole value and `name @ MSG_X(..)` are kept.

use proc_macro2::TokenStream;
use quote::quote;
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::{Expr, Pat, Path, Token};

/// One arm: `PATTERN (if GUARD)? => BODY`.
struct Arm {
    pat: Pat,
    guard: Option<Expr>,
    body: Expr,
}

/// `EXPR: SET { ARMS }`.
pub(crate) struct MatchMessage {
    scrutinee: Expr,
    set: Path,
    arms: Vec<Arm>,
}

impl Parse for MatchMessage {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let scrutinee = Expr::parse_without_eager_brace(input)?;
        input.parse::<Token![:]>().map_err(|e| {
            syn::Error::new(
                e.span(),
                "match_message! starts with the value and its message set: \
                 `match_message!(msg: PrinterMsg { MSG_A(x) => .., })`",
            )
        })?;
        let set: Path = input.parse()?;
        let content;
        syn::braced!(content in input);
        let mut arms = Vec::new();
        while !content.is_empty() {
            let pat = Pat::parse_multi_with_leading_vert(&content)?;
            let guard = if content.peek(Token![if]) {
                content.parse::<Token![if]>()?;
                Some(content.parse()?)
            } else {
                None
            };
            content.parse::<Token![=>]>()?;
            let is_block = content.peek(syn::token::Brace);
            let body = if is_block {
                Expr::Block(content.parse()?)
            } else {
                content.parse()?
            };
            if is_block {
                content.parse::<Option<Token![,]>>()?;
            } else if !content.is_empty() {
                content.parse::<Token![,]>()?;
            }
            arms.push(Arm { pat, guard, body });
        }
        Ok(MatchMessage {
            scrutinee,
            set,
            arms,
        })
    }
}

/// The `match` of a parsed `match_message!`.
pub(crate) fn expand(m: &MatchMessage) -> TokenStream {
    let scrutinee = &m.scrutinee;
    let mut arms = TokenStream::new();
    for arm in &m.arms {
        let pat = match wrap(&m.set, &arm.pat) {
            Ok(pat) => pat,
            Err(err) => return err.to_compile_error(),
        };
        let body = &arm.body;
        let guard = arm.guard.as_ref().map(|g| quote!(if #g));
        arms.extend(quote!(#pat #guard => #body,));
    }
    quote! {
        match #scrutinee {
            #arms
        }
    }
}

/// A message pattern wrapped in its variant of `set`.
fn wrap(set: &Path, pat: &Pat) -> syn::Result<TokenStream> {
    let variant = |path: &Path| {
        path.segments
            .last()
            .map(|s| s.ident.clone())
            .ok_or_else(|| syn::Error::new(path.span(), "expected a message name"))
    };
    Ok(match pat {
        // `MSG_X(fields)`
        Pat::TupleStruct(p) => {
            let v = variant(&p.path)?;
            quote!(#set::#v(#p))
        }
        // A lowercase name binds the whole value, as in any match: `other => ..`.
        Pat::Ident(p)
            if p.subpat.is_none()
                && p.ident
                    .to_string()
                    .starts_with(|c: char| c.is_lowercase() || c == '_') =>
        {
            quote!(#p)
        }
        // `MSG_X` (a message without payload), or `path::MSG_X`
        Pat::Ident(p) if p.by_ref.is_none() && p.mutability.is_none() && p.subpat.is_none() => {
            let v = &p.ident;
            quote!(#set::#v(#v))
        }
        Pat::Path(p) => {
            let v = variant(&p.path)?;
            let path = &p.path;
            quote!(#set::#v(#path))
        }
        // `name @ MSG_X(..)`: the binding holds the message.
        Pat::Ident(p) if p.subpat.is_some() => {
            let (at, sub) = p.subpat.as_ref().expect("checked just above");
            let inner = match &**sub {
                Pat::TupleStruct(t) => variant(&t.path)?,
                Pat::Ident(i) => i.ident.clone(),
                Pat::Path(q) => variant(&q.path)?,
                other => return Err(not_a_message(other)),
            };
            let (by_ref, mutability, ident) = (&p.by_ref, &p.mutability, &p.ident);
            quote!(#set::#inner(#by_ref #mutability #ident #at #sub))
        }
        Pat::Or(or) => {
            let cases = or
                .cases
                .iter()
                .map(|case| wrap(set, case))
                .collect::<syn::Result<Vec<_>>>()?;
            quote!(#(#cases)|*)
        }
        Pat::Wild(w) => quote!(#w),
        other => return Err(not_a_message(other)),
    })
}

fn not_a_message(pat: &Pat) -> syn::Error {
    syn::Error::new(
        pat.span(),
        "a match_message! arm starts with a message: `MSG_X(fields) => ..`, `MSG_X => ..` for \
         one without payload, or `_ => ..`",
    )
}
