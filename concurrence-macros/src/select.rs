//! `select!`: waits for the first of several conditions and runs the arm of the one that fired.
//!
//! `select! { PAT = CONDITION => BODY, ... }` becomes, in a block of its own:
//!
//! ```text
//! enum Fired<T0, T1, ..> { _0(T0), _1(T1), .. }      // one variant per arm
//! let fired = {
//!     let mut c0 = __arm(CONDITION0, Fired::_0);     // the condition, its event mapped
//!     ..
//!     let mut all = __or(&mut c0, __or(&mut c1, .. &mut cN)); // arms in order
//!     any(slice::from_mut(&mut all)).1
//! };                                                 // the conditions are dropped here
//! match fired { Fired::_0(event) => { let PAT0 = event; BODY0 } .. }
//! ```
//!
//! so the bodies run after every condition was disarmed and dropped (they may use what the
//! conditions borrowed), and `return`, `break`, `continue` and `?` in a body act on the
//! enclosing function or loop, as in a `match`. The internal names are hygienic
//! (`Span::mixed_site`), and each condition goes through `__arm` spanned at its expression, so
//! a value that is not a condition is reported at its arm. The arms are chained (`__or`) rather
//! than put in a table of `dyn Condition`s: every poll, arm and disarm is a direct call.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::{Expr, Pat, Token};

/// One arm: `PAT = CONDITION => BODY`.
struct Arm {
    pat: Pat,
    condition: Expr,
    body: Expr,
}

/// The arms of a `select!`.
pub(crate) struct Select {
    arms: Vec<Arm>,
}

const SHAPE: &str = "select! arms are `pattern = condition => body`, \
                     e.g. `msg = wait_for::message() => handle(msg)`";

impl Parse for Select {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut arms = Vec::new();
        while !input.is_empty() {
            let pat = Pat::parse_single(input)
                .map_err(|e| syn::Error::new(e.span(), format!("{SHAPE}: expected a pattern")))?;
            if input.peek(Token![=>]) {
                return Err(syn::Error::new(
                    pat.span(),
                    format!(
                        "{SHAPE}: this arm has no pattern; write `_ = condition => body` to \
                         ignore the event"
                    ),
                ));
            }
            input.parse::<Token![=]>().map_err(|e| {
                syn::Error::new(e.span(), format!("{SHAPE}: expected `=` after the pattern"))
            })?;
            let condition = Expr::parse_without_eager_brace(input)?;
            input.parse::<Token![=>]>().map_err(|_| {
                syn::Error::new(
                    condition.span(),
                    format!("{SHAPE}: expected `=>` and the arm's body after this condition"),
                )
            })?;
            // As in a `match`, a body in braces ends the arm (`{ .. } () = ..` is not a call).
            let is_block = input.peek(syn::token::Brace);
            let body = if is_block {
                Expr::Block(input.parse::<syn::ExprBlock>()?)
            } else {
                input.parse::<Expr>()?
            };
            if input.is_empty() {
                arms.push(Arm {
                    pat,
                    condition,
                    body,
                });
                break;
            }
            if is_block {
                input.parse::<Option<Token![,]>>()?;
            } else {
                input
                    .parse::<Token![,]>()
                    .map_err(|e| syn::Error::new(e.span(), "expected `,` after the arm's body"))?;
            }
            arms.push(Arm {
                pat,
                condition,
                body,
            });
        }
        Ok(Select { arms })
    }
}

/// The code of a parsed `select!`.
pub(crate) fn expand(select: &Select) -> TokenStream {
    if select.arms.is_empty() {
        return syn::Error::new(
            Span::call_site(),
            format!("select! needs at least one arm (with none it could never end); {SHAPE}"),
        )
        .to_compile_error();
    }
    let site = Span::mixed_site();
    let fired = syn::Ident::new("__ConcurrenceFired", site);
    let n = select.arms.len();
    let params: Vec<_> = (0..n)
        .map(|i| format_ident!("T{}", i, span = site))
        .collect();
    let variants: Vec<_> = (0..n)
        .map(|i| format_ident!("_{}", i, span = site))
        .collect();
    let locals: Vec<_> = (0..n)
        .map(|i| format_ident!("c{}", i, span = site))
        .collect();
    let all = syn::Ident::new("all", site);
    let event = syn::Ident::new("fired", site);

    // Every use of a condition is spanned at its expression: a value that is not a condition
    // gives one error there, not one per use.
    let conditions =
        select
            .arms
            .iter()
            .zip(&locals)
            .zip(&variants)
            .map(|((arm, local), variant)| {
                let expr = &arm.condition;
                quote_spanned! {expr.span()=>
                    let mut #local = ::concurrence::wait_for::__arm(#expr, #fired::#variant);
                }
            });
    // `__or(&mut c0, __or(&mut c1, .. &mut cN))`, built from the last arm, each link spanned at
    // its arm, holding the conditions by reference.
    let chain = select
        .arms
        .iter()
        .zip(&locals)
        .rev()
        .fold(None, |inner: Option<TokenStream>, (arm, local)| {
            let span = arm.condition.span();
            Some(match inner {
                None => quote_spanned!(span=> &mut #local),
                Some(inner) => {
                    quote_spanned!(span=> ::concurrence::wait_for::__or(&mut #local, #inner))
                }
            })
        })
        .expect("at least one arm");
    // The wait needs every condition to be one: reported at the arm when there is one arm (the
    // same error as the arm's own, shown once), else at the whole `select!`, after the error at
    // the arm that is wrong (not at an arm that is right).
    let whole = match &select.arms[..] {
        [only] => only.condition.span(),
        _ => site,
    };
    let wait = quote_spanned! {whole=>
        let mut #all = #chain;
        ::concurrence::wait_for::any(::core::slice::from_mut(&mut #all)).1
    };
    // The event is bound with `let`, whose pattern must be irrefutable: a pattern that does
    // not accept every event is reported at the pattern, as for any `let`.
    let value = syn::Ident::new("event", site);
    let arms = select.arms.iter().zip(&variants).map(|(arm, variant)| {
        let Arm { pat, body, .. } = arm;
        quote! {
            #fired::#variant(#value) => {
                let #pat = #value;
                #body
            }
        }
    });
    quote! {
        {
            #[allow(non_camel_case_types, dead_code)]
            enum #fired<#(#params),*> { #(#variants(#params)),* }
            let #event = {
                #(#conditions)*
                #wait
            };
            match #event {
                #(#arms)*
            }
        }
    }
}
