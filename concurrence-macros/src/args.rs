//! Phase 1 of `#[tasklet]`: its arguments: `receives(MSG_A, MSG_B, ...)` (a message set of its
//! own) or `receives = SomeMsg` (a set declared with `message_set!`), and `derive(...)` for the
//! generated set, and `remote` (the set crosses processes, through concurrence-nats). An unknown or repeated argument is an error, and parsing goes on to find the
//! others.

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
    /// The `derive(...)` argument: its keyword and the traits to derive on the generated set.
    pub(crate) derive: Option<(syn::Ident, Vec<Path>)>,
    /// The `remote` argument: the set crosses processes (concurrence-nats's `RemoteSet`).
    pub(crate) remote: Option<syn::Ident>,
}

/// A `receives(...)` or `receives = Set` argument.
pub(crate) struct Receives {
    /// The `receives` keyword, for spans.
    pub(crate) keyword: syn::Ident,
    /// The messages of `receives(...)` (empty for `receives = Set`).
    pub(crate) messages: Vec<Path>,
    /// The set of `receives = Set`, declared elsewhere with `message_set!`.
    pub(crate) set: Option<Path>,
}

/// Parses the attribute's arguments; problems go to `errors`.
pub(crate) fn parse(attr: TokenStream, errors: &mut Errors) -> Args {
    let mut args = Args::default();
    let parser = |input: ParseStream| {
        while !input.is_empty() {
            let name: syn::Ident = input.parse().map_err(|e| {
                syn::Error::new(
                    e.span(),
                    "expected a #[tasklet] argument: `receives(MSG_A, ...)`, `receives = SomeMsg`, \
                     `derive(...)` or `remote`",
                )
            })?;
            if name == "receives" {
                let (messages, set) = if input.peek(Token![=]) {
                    input.parse::<Token![=]>()?;
                    (Vec::new(), Some(input.parse::<Path>()?))
                } else {
                    let content;
                    syn::parenthesized!(content in input);
                    let messages = Punctuated::<Path, Token![,]>::parse_terminated(&content)?;
                    (messages.into_iter().collect(), None)
                };
                if args.receives.is_some() {
                    errors.at(
                        &name,
                        "duplicate `receives` argument: list every message in one `receives(...)`",
                    );
                } else {
                    args.receives = Some(Receives {
                        keyword: name,
                        messages,
                        set,
                    });
                }
            } else if name == "derive" {
                let content;
                syn::parenthesized!(content in input);
                let traits = Punctuated::<Path, Token![,]>::parse_terminated(&content)?;
                if args.derive.is_some() {
                    errors.at(
                        &name,
                        "duplicate `derive` argument: list every trait in one `derive(...)`",
                    );
                } else {
                    args.derive = Some((name, traits.into_iter().collect()));
                }
            } else if name == "remote" {
                if args.remote.is_some() {
                    errors.at(&name, "duplicate `remote` argument");
                } else {
                    args.remote = Some(name);
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
                        "unknown #[tasklet] argument `{name}`{hint}: the arguments are \
                         `receives(MSG_A, ...)` or `receives = SomeMsg`, `derive(...)` and `remote`"
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
