//! Phase 2: the IR. `message!` input becomes a list of [`MessageDecl`]; a `#[tasklet]` function
//! becomes a [`Tasklet`] that borrows the function's syn tree.

use syn::parse::ParseStream;
use syn::punctuated::Punctuated;
use syn::{Attribute, Ident, ItemFn, Path, Token, Type, Visibility};

use crate::args::Args;

/// One message of a `message!` invocation: `#[attrs] vis MSG_NAME(T, ...) -> R`.
pub(crate) struct MessageDecl {
    pub(crate) attrs: Vec<Attribute>,
    pub(crate) vis: Visibility,
    pub(crate) name: Ident,
    /// The payload types; `None` for a message written without parentheses.
    pub(crate) payload: Option<Vec<Type>>,
    /// The reply type of a message answered through `call`.
    pub(crate) reply: Option<Type>,
    /// Generic parameters, which messages may not have (kept to report them).
    pub(crate) generics: syn::Generics,
}

/// Parses `decl, decl, ...` (commas or semicolons between them).
pub(crate) fn parse_messages(input: ParseStream) -> syn::Result<Vec<MessageDecl>> {
    let mut decls = Vec::new();
    if input.is_empty() {
        return Err(input
            .error("message! needs at least one message, like `message!(MSG_GREETING(String))`"));
    }
    while !input.is_empty() {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis: Visibility = input.parse()?;
        let name: Ident = input.parse().map_err(|e| {
            syn::Error::new(e.span(), "expected a message name, like `MSG_GREETING`")
        })?;
        let generics: syn::Generics = input.parse()?;
        let payload = if input.peek(syn::token::Paren) {
            let content;
            syn::parenthesized!(content in input);
            let types = Punctuated::<PayloadType, Token![,]>::parse_terminated(&content)?;
            Some(types.into_iter().map(|t| t.0).collect())
        } else if input.peek(syn::token::Brace) {
            return Err(input.error(
                "message payloads are positional: write `MSG_NAME(T1, T2)`, not `MSG_NAME { .. }`",
            ));
        } else {
            None
        };
        let reply = if input.peek(Token![->]) {
            input.parse::<Token![->]>()?;
            Some(input.parse()?)
        } else {
            None
        };
        decls.push(MessageDecl {
            attrs,
            vis,
            name,
            payload,
            reply,
            generics,
        });
        if input.is_empty() {
            break;
        }
        if input.peek(Token![;]) {
            input.parse::<Token![;]>()?;
        } else {
            input.parse::<Token![,]>().map_err(|e| {
                syn::Error::new(
                    e.span(),
                    "expected `,` between messages (or `->` and a reply type)",
                )
            })?;
        }
    }
    Ok(decls)
}

/// A standalone message set: `#[attrs] vis enum Name { MSG_A, path::MSG_B, ... }`.
pub(crate) struct MessageSet {
    pub(crate) attrs: Vec<Attribute>,
    pub(crate) vis: Visibility,
    pub(crate) name: Ident,
    pub(crate) messages: Vec<Path>,
    /// A `#[remote]` attribute (taken out of `attrs`): the set crosses processes.
    pub(crate) remote: Option<Attribute>,
}

impl syn::parse::Parse for MessageSet {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut attrs = input.call(Attribute::parse_outer)?;
        let remote = attrs
            .iter()
            .position(|a| a.path().is_ident("remote"))
            .map(|i| attrs.remove(i));
        if let Some(attr) = &remote {
            attr.meta.require_path_only()?;
        }
        let vis: Visibility = input.parse()?;
        input.parse::<Token![enum]>().map_err(|e| {
            syn::Error::new(
                e.span(),
                "expected `enum`: message_set! declares `pub enum WorkerMsg { MSG_A, MSG_B }`",
            )
        })?;
        let name: Ident = input.parse()?;
        let content;
        syn::braced!(content in input);
        let messages = Punctuated::<Path, Token![,]>::parse_terminated(&content)?;
        if !input.is_empty() {
            return Err(input.error("message_set! declares one set"));
        }
        Ok(MessageSet {
            attrs,
            vis,
            name,
            messages: messages.into_iter().collect(),
            remote,
        })
    }
}

/// A `#[tasklet]` function and its arguments.
pub(crate) struct Tasklet<'a> {
    pub(crate) func: &'a ItemFn,
    pub(crate) args: Args,
}

impl<'a> Tasklet<'a> {
    pub(crate) fn from_fn(func: &'a ItemFn, args: Args) -> Tasklet<'a> {
        Tasklet { func, args }
    }

    /// The function's name.
    pub(crate) fn name(&self) -> &Ident {
        &self.func.sig.ident
    }

    /// The messages it receives (empty when it receives none).
    pub(crate) fn messages(&self) -> &[Path] {
        self.args
            .receives
            .as_ref()
            .map_or(&[], |r| r.messages.as_slice())
    }

    /// Whether the function can be spawned at all: the generated code would not make sense
    /// for a method or an `async`/`unsafe` function.
    pub(crate) fn expandable(&self) -> bool {
        let sig = &self.func.sig;
        sig.asyncness.is_none()
            && sig.unsafety.is_none()
            && sig.variadic.is_none()
            && !sig
                .inputs
                .iter()
                .any(|a| matches!(a, syn::FnArg::Receiver(_)))
    }

    /// The name of the generated builder: the function's name in CamelCase.
    pub(crate) fn builder_name(&self) -> Ident {
        Ident::new(&camel_case(&self.name().to_string()), self.name().span())
    }

    /// The name of the generated message set: the builder's name and `Msg`.
    pub(crate) fn messages_name(&self) -> Ident {
        Ident::new(
            &format!("{}Msg", camel_case(&self.name().to_string())),
            self.name().span(),
        )
    }
}

/// `snake_case` to `CamelCase` (`r#` prefixes dropped).
pub(crate) fn camel_case(name: &str) -> String {
    let name = name.strip_prefix("r#").unwrap_or(name);
    let mut out = String::with_capacity(name.len());
    let mut upper = true;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// One payload type; a visibility in front of it is an error (payload fields are always `pub`).
struct PayloadType(Type);

impl syn::parse::Parse for PayloadType {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        if input.peek(Token![pub]) {
            let vis: Visibility = input.parse()?;
            return Err(syn::Error::new_spanned(
                vis,
                "payload fields are always public: remove the visibility",
            ));
        }
        Ok(PayloadType(input.parse()?))
    }
}
