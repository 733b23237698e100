//! The procedural macros of [concurrence](https://docs.rs/concurrence): `message!` declares
//! messages, `#[tasklet]` turns a function into a tasklet with a typed mailbox, `select!` waits
//! for the first of several conditions. Use them through the `concurrence` crate, which
//! re-exports them and documents them with examples.
//!
//! `select!` and `match_message!` are small and live in `select.rs` and `match_message.rs`. The other two are each a pipeline, one file a phase: `ast.rs` parses the input into an IR that borrows
//! the syn tree (`args.rs` parses `#[tasklet(...)]`'s arguments), `valid.rs` checks it and collects
//! every error, `expand.rs` writes the code. On an error the user's item is still emitted, with
//! the errors next to it, so that one mistake does not cascade into many.
#![forbid(unsafe_code)]

mod args;
mod ast;
mod errors;
mod expand;
mod match_message;
mod select;
mod valid;

use proc_macro::TokenStream;

/// Declares message types; see `concurrence::message!`.
#[proc_macro]
pub fn message(input: TokenStream) -> TokenStream {
    let decls = match syn::parse::Parser::parse(ast::parse_messages, input) {
        Ok(decls) => decls,
        Err(err) => return err.to_compile_error().into(),
    };
    let (errors, fit) = valid::messages(&decls);
    let mut out = expand::messages(&fit);
    out.extend(errors.into_compile_errors());
    out.into()
}

/// Turns a function into a tasklet; see `concurrence::tasklet`.
#[proc_macro_attribute]
pub fn tasklet(attr: TokenStream, item: TokenStream) -> TokenStream {
    let item: proc_macro2::TokenStream = item.into();
    let func: syn::ItemFn = match syn::parse2(item.clone()) {
        Ok(func) => func,
        Err(_) => {
            let err = syn::Error::new_spanned(
                &item,
                "#[tasklet] goes on a free function (`fn name(args) -> T { ... }`)",
            );
            let mut out = item;
            out.extend(err.to_compile_error());
            return out.into();
        }
    };
    let mut errors = errors::Errors::default();
    let args = args::parse(attr.into(), &mut errors);
    let tasklet = ast::Tasklet::from_fn(&func, args);
    let movable = valid::tasklet(&tasklet, &mut errors);
    let mut out = quote::ToTokens::to_token_stream(&func);
    if movable && tasklet.expandable() {
        out.extend(expand::tasklet(&tasklet));
    }
    out.extend(errors.into_compile_errors());
    out.into()
}

/// Waits for the first of several conditions; see `concurrence::select!`.
#[proc_macro]
pub fn select(input: TokenStream) -> TokenStream {
    match syn::parse::<select::Select>(input) {
        Ok(select) => select::expand(&select).into(),
        Err(err) => err.to_compile_error().into(),
    }
}

/// Declares a message set shared by several tasklets; see `concurrence::message_set!`.
#[proc_macro]
pub fn message_set(input: TokenStream) -> TokenStream {
    let set = match syn::parse::<ast::MessageSet>(input) {
        Ok(set) => set,
        Err(err) => return err.to_compile_error().into(),
    };
    let mut errors = errors::Errors::default();
    if set.messages.is_empty() {
        errors.at(&set.name, "a message set lists at least one message");
    }
    valid::check_message_list(&set.messages, "message_set!", &mut errors);
    // A set without one valid message is not emitted: its impls would only add errors.
    let mut out = expand::standalone_set(&set);
    out.extend(errors.into_compile_errors());
    out.into()
}

/// A `match` on a message set naming each message once; see `concurrence::match_message!`.
#[proc_macro]
pub fn match_message(input: TokenStream) -> TokenStream {
    match syn::parse::<match_message::MatchMessage>(input) {
        Ok(m) => match_message::expand(&m).into(),
        Err(err) => err.to_compile_error().into(),
    }
}
