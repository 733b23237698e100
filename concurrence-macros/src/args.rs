//! Phase 1 of `#[tasklet]`: its arguments. The only one is `receives(MSG_A, MSG_B, ...)`; an
//! unknown or repeated argument is an error, and parsing goes on to find the others.

use proc_macro2::TokenStream;
use syn::parse::{ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::{Path, Token};

use crate::errors::Errors;

/// The parsed arguments of `#[tasklet(...)]`.
#[derive(Default)]
pub(crate) struct Args {
    /// The messages listed in `receives(...)`, if it was given.
    pub(crate) receives: Option<Receives>,
}

/// A `receives(...)` argument.
pub(crate) struct Receives {
    /// The `receives` keyword, for spans.
    pub(crate) keyword: syn::Ident,
    pub(crate) messages: Vec<Path>,
}

/// Parses the attribute's arguments; problems go to `errors`.
pub(crate) fn parse(attr: TokenStream, errors: &mut Errors) -> Args {
    let mut args = Args::default();
    let parser = |input: ParseStream| {
        while !input.is_empty() {
            let name: syn::Ident = input.parse().map_err(|e| {
                syn::Error::new(
                    e.span(),
                    "expected a #[tasklet] argument: `receives(MSG_A, ...)`",
                )
            })?;
            if name == "receives" {
                let content;
                syn::parenthesized!(content in input);
                let messages = Punctuated::<Path, Token![,]>::parse_terminated(&content)?;
                if args.receives.is_some() {
                    errors.at(
                        &name,
                        "duplicate `receives` argument: list every message in one `receives(...)`",
                    );
                } else {
                    args.receives = Some(Receives {
                        keyword: name,
                        messages: messages.into_iter().collect(),
                    });
                }
            } else {
                let hint = if name.to_string().starts_with("rec") {
                    " (did you mean `receives`?)"
                } else {
                    ""
                };
                errors.at(
                    &name,
                    format!(
                        "unknown #[tasklet] argument `{name}`{hint}: the only argument is `receives(MSG_A, ...)`"
                    ),
                );
                // Skip what follows it, a parenthesized list or `= value`.
                if input.peek(syn::token::Paren) {
                    let skipped;
                    syn::parenthesized!(skipped in input);
                    skipped.parse::<TokenStream>()?;
                } else if input.peek(Token![=]) {
                    input.parse::<Token![=]>()?;
                    input.parse::<syn::Expr>()?;
                }
            }
            if !input.is_empty() {
                input.parse::<Token![,]>()?;
            }
        }
        Ok(())
    };
    if let Err(err) = parser.parse2(attr) {
        errors.push(err);
    }
    args
}
