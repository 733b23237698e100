//! Phase 3: checks. Message names follow the original's convention (UPPERCASE, `MSG_` prefix) or
//! Rust's (CamelCase), and messages have no generics; a `#[tasklet]` function is a free, synchronous, safe function with a valid
//! `receives(...)` list. Every problem is collected, spanned at the offending tokens.

use std::collections::HashMap;

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::ToTokens;

use crate::ast::{MessageDecl, Tasklet};
use crate::errors::Errors;

/// Checks the declarations of a `message!` invocation; returns the errors and the declarations
/// fit to expand (a generic, borrowing or repeated one is left out, so that only its error shows).
pub(crate) fn messages(decls: &[MessageDecl]) -> (Errors, Vec<&MessageDecl>) {
    let mut errors = Errors::default();
    let mut seen = HashMap::new();
    let mut fit = Vec::new();
    for decl in decls {
        let mut ok = true;
        for ty in decl.payload.iter().flatten().chain(&decl.reply) {
            if let Some(span) = borrowed_part(ty) {
                errors.push(syn::Error::new(
                    span,
                    "message payloads and replies are owned values: use `String`, `Vec<T>`, `Rc<T>` \
                     or a `&'static` reference instead of a borrow",
                ));
                ok = false;
            }
        }
        let name = decl.name.to_string();
        if !is_message_name(&name) {
            errors.at(
                &decl.name,
                format!(
                    "message names are UPPERCASE with the `MSG_` prefix (the original's \
                     convention) or CamelCase: rename `{name}` to `{}` or `{}`",
                    suggest_name(&name),
                    suggest_camel(&name)
                ),
            );
        }
        if !decl.generics.params.is_empty() {
            errors.at(
                &decl.generics,
                "messages cannot be generic: declare one message per payload type",
            );
            ok = false;
        }
        if seen.insert(name.clone(), &decl.name).is_some() {
            errors.at(&decl.name, format!("message `{name}` is declared twice"));
            ok = false;
        }
        if ok {
            fit.push(decl);
        }
    }
    (errors, fit)
}

/// Where `ty` borrows: a lifetime other than `'static`, or a reference with its lifetime left
/// out. Function pointer and closure types are not looked into (their lifetimes are their own).
pub(crate) fn borrowed_part(ty: &syn::Type) -> Option<Span> {
    scan(ty.to_token_stream())
}

fn scan(tokens: TokenStream) -> Option<Span> {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    let own_lifetimes = tokens.iter().any(|t| {
        matches!(t, TokenTree::Ident(i) if i == "fn" || i == "for" || i == "Fn" || i == "FnMut" || i == "FnOnce")
    });
    if own_lifetimes {
        return None;
    }
    for (i, token) in tokens.iter().enumerate() {
        let next = tokens.get(i + 1);
        let borrowed = match token {
            TokenTree::Group(group) => {
                if let Some(span) = scan(group.stream()) {
                    return Some(span);
                }
                false
            }
            // A named lifetime other than 'static.
            TokenTree::Punct(p) if p.as_char() == '\'' => {
                matches!(next, Some(TokenTree::Ident(id)) if id != "static")
            }
            // A reference whose lifetime is left out.
            TokenTree::Punct(p) if p.as_char() == '&' => {
                !matches!(next, Some(TokenTree::Punct(q)) if q.as_char() == '\'')
            }
            _ => false,
        };
        if borrowed {
            return Some(token.span());
        }
    }
    None
}

/// Whether `name` follows a convention: `MSG_` then uppercase letters, digits and `_` (the
/// original's), or CamelCase: an uppercase letter, then letters and digits, some lowercase
/// (Rust's; `GREETING` is neither, it lacks the prefix).
pub(crate) fn is_message_name(name: &str) -> bool {
    let seed_style = name.strip_prefix("MSG_").is_some_and(|rest| {
        rest.chars().next().is_some_and(|c| c.is_ascii_uppercase())
            && rest
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
    });
    let camel_case = name.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && name.chars().all(|c| c.is_ascii_alphanumeric())
        && name.chars().any(|c| c.is_ascii_lowercase());
    seed_style || camel_case
}

/// A CamelCase name close to `name`: `msg_greeting` and `GREETING` give `Greeting`.
fn suggest_camel(name: &str) -> String {
    let words: Vec<&str> = name.split('_').filter(|w| !w.is_empty()).collect();
    let words = match words.as_slice() {
        [first, rest @ ..] if first.eq_ignore_ascii_case("msg") && !rest.is_empty() => rest,
        all => all,
    };
    let camel: String = words
        .iter()
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map_or_else(String::new, |c| {
                c.to_uppercase()
                    .chain(chars.flat_map(char::to_lowercase))
                    .collect()
            })
        })
        .collect();
    if camel.is_empty() {
        "Name".to_owned()
    } else {
        camel
    }
}

/// A conventional name close to `name`: `Greeting` and `msg_greeting` give `MSG_GREETING`.
fn suggest_name(name: &str) -> String {
    let mut words = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if c.is_uppercase() && prev_lower {
            words.push('_');
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
        words.extend(c.to_uppercase());
    }
    let words = words.trim_matches('_');
    let words = words.strip_prefix("MSG_").unwrap_or(words);
    let words = if words == "MSG" || words.is_empty() {
        "NAME"
    } else {
        words
    };
    format!("MSG_{words}")
}

/// Checks a `#[tasklet]` function and its arguments; returns whether its arguments can be moved
/// into a new tasklet (if not, the builder is not generated: its errors would only confuse).
pub(crate) fn tasklet(tasklet: &Tasklet, errors: &mut Errors) -> bool {
    let sig = &tasklet.func.sig;
    let mut movable = true;
    for input in &sig.inputs {
        if let syn::FnArg::Typed(arg) = input {
            if let Some(span) = borrowed_part(&arg.ty) {
                errors.push(syn::Error::new(
                    span,
                    "tasklet arguments move into the new tasklet, which may outlive its creator: \
                     take an owned value (`String`, `Vec<T>`, `Rc<T>`) or a `&'static` reference",
                ));
                movable = false;
            }
        }
    }
    if let Some(token) = &sig.asyncness {
        errors.at(
            token,
            "#[tasklet] functions cannot be `async`: a tasklet blocks on its own stack, so write \
             a plain `fn` and call blocking operations directly",
        );
    }
    if let Some(token) = &sig.unsafety {
        errors.at(
            token,
            "#[tasklet] functions cannot be `unsafe`: spawning would call it without the caller's \
             promise; wrap the unsafe call in a safe function",
        );
    }
    if let Some(variadic) = &sig.variadic {
        errors.at(variadic, "#[tasklet] functions cannot be variadic");
    }
    for input in &sig.inputs {
        if let syn::FnArg::Receiver(receiver) = input {
            errors.at(
                receiver,
                "#[tasklet] goes on a free function, not a method: move it out of the `impl` \
                 block and pass what it needs as arguments",
            );
        }
    }
    if let Some((keyword, _)) = &tasklet.args.derive {
        if tasklet.messages().is_empty() {
            errors.at(
                keyword,
                "`derive(...)` applies to the message set #[tasklet] generates from \
                 `receives(MSG_A, ...)`; a set declared with `message_set!` takes its \
                 `#[derive(...)]` there",
            );
        }
    }
    if let Some(keyword) = &tasklet.args.remote {
        if tasklet.messages().is_empty() {
            errors.at(
                keyword,
                "`remote` applies to the message set #[tasklet] generates from \
                 `receives(MSG_A, ...)`; a set declared with `message_set!` is made remote there, \
                 with `#[remote]`",
            );
        }
    }
    if let Some(receives) = &tasklet.args.receives {
        if receives.messages.is_empty() && receives.set.is_none() {
            errors.at(
                &receives.keyword,
                "`receives()` lists no message: name at least one, or leave `receives` out for a \
                 tasklet that receives none",
            );
        }
        check_message_list(&receives.messages, "receives(...)", errors);
    }
    movable
}

/// Checks the messages of a `receives(...)` list or a `message_set!`: message names, no generic
/// arguments, none listed twice.
pub(crate) fn check_message_list(messages: &[syn::Path], list: &str, errors: &mut Errors) {
    let mut seen = HashMap::new();
    for path in messages {
        let Some(last) = path.segments.last() else {
            continue;
        };
        let name = last.ident.to_string();
        if !last.arguments.is_none() {
            errors.at(
                path,
                "messages cannot be generic: name the message type alone",
            );
        } else if !is_message_name(&name) {
            errors.at(
                path,
                format!(
                    "`{name}` is not a message name: messages are declared with \
                     `message!(...)` and named `MSG_UPPERCASE` or CamelCase"
                ),
            );
        }
        if seen.insert(name.clone(), path).is_some() {
            errors.at(path, format!("`{name}` is listed twice in `{list}`"));
        }
    }
}
