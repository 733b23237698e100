//! Phase 4: the generated code. Paths are absolute (`::concurrence::...`, `::core::...`, and
//! `::core::primitive::usize` for primitive types, which a crate may shadow with its own) and
//! generated local names start with `__`.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Ident, Path};

use crate::ast::{MessageDecl, Tasklet};
use crate::valid::is_message_name;

/// The structs and impls of a `message!` invocation.
pub(crate) fn messages(decls: &[&MessageDecl]) -> TokenStream {
    decls.iter().map(|decl| message(decl)).collect()
}

fn message(decl: &MessageDecl) -> TokenStream {
    let MessageDecl {
        attrs,
        vis,
        name,
        payload,
        reply,
        ..
    } = decl;
    let name_str = name.to_string();
    let types: Vec<&syn::Type> = payload.iter().flatten().collect();
    let args: Vec<Ident> = (0..types.len())
        .map(|i| format_ident!("__arg{}", i))
        .collect();
    let has_doc = attrs.iter().any(|a| a.path().is_ident("doc"));
    let doc = (!has_doc).then(|| {
        let text = match reply {
            Some(_) => format!("The `{name_str}` message, answered through `call`."),
            None => format!("The `{name_str}` message."),
        };
        quote!(#[doc = #text])
    });
    let reply_field = reply.as_ref().map(|r| quote!(pub ::concurrence::Reply<#r>));
    let fields: Vec<TokenStream> = types
        .iter()
        .map(|t| quote!(pub #t))
        .chain(reply_field)
        .collect();
    let body = if payload.is_none() && reply.is_none() {
        quote!(;)
    } else {
        quote!((#(#fields),*);)
    };
    let construct = if payload.is_none() && reply.is_none() {
        quote!(#name)
    } else if reply.is_some() {
        quote!(#name(#(#args,)* __reply))
    } else {
        quote!(#name(#(#args),*))
    };
    let methods = match reply {
        Some(reply) => {
            let mut methods = call_methods(name, &name_str, &types, &args, reply, &construct);
            let error = quote!(::concurrence::SendError<#name>);
            methods.extend(misuse_methods(
                name,
                &types,
                &error,
                "CalledNotSent",
                &["send", "send_timeout", "try_send"],
            ));
            methods
        }
        None => {
            let mut methods = send_methods(name, &name_str, &types, &args, &construct);
            methods.extend(misuse_methods(
                name,
                &types,
                &quote!(::concurrence::CallError),
                "SentNotCalled",
                &["call", "call_timeout"],
            ));
            methods
        }
    };
    let call_impl = reply.as_ref().map(|r| {
        quote! {
            impl ::concurrence::Call for #name {
                type Reply = #r;
            }
        }
    });
    let (token, token_param) = match reply {
        Some(r) => (quote!(::concurrence::Reply<#r>), quote!(__reply)),
        None => (quote!(()), quote!(_)),
    };
    let token_out = reply
        .as_ref()
        .map_or_else(|| quote!(()), |_| quote!(__reply));
    quote! {
        #doc
        #(#attrs)*
        #[allow(non_camel_case_types)]
        #vis struct #name #body

        impl ::concurrence::Payload for #name {
            type Fields = (#(#types,)*);
            type Token = #token;

            fn from_parts((#(#args,)*): Self::Fields, #token_param: Self::Token) -> Self {
                #construct
            }

            fn into_parts(self) -> (Self::Fields, Self::Token) {
                let #construct = self;
                ((#(#args,)*), #token_out)
            }
        }

        impl ::concurrence::Message for #name {
            const NAME: &'static ::core::primitive::str = #name_str;
        }

        #call_impl

        #[allow(dead_code)]
        impl #name {
            #methods
        }
    }
}

fn send_methods(
    name: &Ident,
    name_str: &str,
    types: &[&syn::Type],
    args: &[Ident],
    construct: &TokenStream,
) -> TokenStream {
    let send_doc = format!(
        "Sends `{name_str}` to `to`: `{name_str}::send(&to)(payload)`, the original's \
         `{name_str}.send(to)(args)`. See [`Tasklet::send`](::concurrence::Tasklet::send)."
    );
    let fn_type = quote!(impl ::core::ops::FnOnce(#(#types),*) -> ::core::result::Result<(), ::concurrence::SendError<#name>> + '__to);
    quote! {
        #[doc = #send_doc]
        pub fn send<'__to, __T, __M>(to: &'__to ::concurrence::Tasklet<__T, __M>) -> #fn_type
        where
            __M: ::concurrence::Accepts<#name>,
        {
            move |#(#args),*| to.send(#construct)
        }

        /// Like `send`, waiting at most `timeout` for room in a full mailbox. See
        /// [`Tasklet::send_timeout`](::concurrence::Tasklet::send_timeout).
        pub fn send_timeout<'__to, __T, __M>(
            to: &'__to ::concurrence::Tasklet<__T, __M>,
            timeout: ::core::time::Duration,
        ) -> #fn_type
        where
            __M: ::concurrence::Accepts<#name>,
        {
            move |#(#args),*| to.send_timeout(#construct, timeout)
        }

        /// Like `send`, failing at once when the mailbox is full. See
        /// [`Tasklet::try_send`](::concurrence::Tasklet::try_send).
        pub fn try_send<'__to, __T, __M>(to: &'__to ::concurrence::Tasklet<__T, __M>) -> #fn_type
        where
            __M: ::concurrence::Accepts<#name>,
        {
            move |#(#args),*| to.try_send(#construct)
        }
    }
}

fn call_methods(
    name: &Ident,
    name_str: &str,
    types: &[&syn::Type],
    args: &[Ident],
    reply: &syn::Type,
    construct: &TokenStream,
) -> TokenStream {
    let call_doc = format!(
        "Calls `to` with `{name_str}` and waits for the reply: `{name_str}::call(&to)(payload)`, \
         the original's `{name_str}.call(to)(args)`. See [`Tasklet::call`](::concurrence::Tasklet::call)."
    );
    let fn_type = quote!(impl ::core::ops::FnOnce(#(#types),*) -> ::core::result::Result<#reply, ::concurrence::CallError<#name>> + '__to);
    quote! {
        #[doc = #call_doc]
        pub fn call<'__to, __T, __M>(to: &'__to ::concurrence::Tasklet<__T, __M>) -> #fn_type
        where
            __M: ::concurrence::Accepts<#name>,
        {
            move |#(#args),*| to.call(move |__reply| #construct)
        }

        /// Like `call`, giving up after `timeout`. See
        /// [`Tasklet::call_timeout`](::concurrence::Tasklet::call_timeout).
        pub fn call_timeout<'__to, __T, __M>(
            to: &'__to ::concurrence::Tasklet<__T, __M>,
            timeout: ::core::time::Duration,
        ) -> #fn_type
        where
            __M: ::concurrence::Accepts<#name>,
        {
            move |#(#args),*| to.call_timeout(move |__reply| #construct, timeout)
        }
    }
}

/// Hidden methods that only exist to report a misuse (calling a sent message, sending a called
/// one): each is bounded by a trait nothing implements, whose diagnostic says what to do.
fn misuse_methods(
    name: &Ident,
    types: &[&syn::Type],
    error: &TokenStream,
    guard: &str,
    methods: &[&str],
) -> TokenStream {
    let guard = format_ident!("{}", guard);
    methods
        .iter()
        .map(|method| {
            let method = format_ident!("{}", method);
            let timeout = method
                .to_string()
                .ends_with("_timeout")
                .then(|| quote!(, _timeout: ::core::time::Duration));
            quote! {
                #[doc(hidden)]
                pub fn #method<'__to, __T, __M>(
                    _to: &'__to ::concurrence::Tasklet<__T, __M> #timeout
                ) -> impl ::core::ops::FnOnce(#(#types),*) -> ::core::result::Result<(), #error> + '__to
                where
                    __M: ::concurrence::#guard<#name>,
                {
                    move |#(_: #types),*| <__M as ::concurrence::#guard<#name>>::never()
                }
            }
        })
        .collect()
}

/// The message set (when the tasklet receives messages of its own list) and the builder of a
/// `#[tasklet]`.
pub(crate) fn tasklet(tasklet: &Tasklet) -> TokenStream {
    let messages = unique_messages(tasklet.messages());
    let shared = tasklet.args.receives.as_ref().and_then(|r| r.set.as_ref());
    let (set, set_ty) = match shared {
        Some(path) => (None, Some(quote!(#path))),
        None if messages.is_empty() => (None, None),
        None => {
            let ident = tasklet.messages_name();
            let mut set = message_set(tasklet, &messages);
            if tasklet.args.remote.is_some() {
                set.extend(remote_set(&ident, &messages));
            }
            (Some(set), Some(quote!(#ident)))
        }
    };
    let builder = builder(tasklet, set_ty);
    quote!(#set #builder)
}

/// The enum and impls of a standalone `message_set!`.
pub(crate) fn standalone_set(set: &crate::ast::MessageSet) -> TokenStream {
    let messages = unique_messages(&set.messages);
    if messages.is_empty() {
        return TokenStream::new();
    }
    let name = &set.name;
    let doc = format!(
        "A message set: one variant per message, what `receive::<{name}>()` yields in a tasklet \
         that receives it."
    );
    let has_doc = set.attrs.iter().any(|a| a.path().is_ident("doc"));
    let attrs = &set.attrs;
    let doc = (!has_doc).then(|| quote!(#[doc = #doc]));
    let mut out = set_enum(&set.vis, quote!(#doc #(#attrs)*), name, &messages);
    if set.remote.is_some() {
        out.extend(remote_set(name, &messages));
    }
    out
}

/// What makes a set cross processes: concurrence-nats's `RemoteSet`, which decodes a message of
/// the set by its name. Each message is checked where it is listed: one that cannot be
/// serialised is reported there (concurrence-nats's `RemoteMessage` says why).
fn remote_set(set: &Ident, messages: &[(&Path, &Ident)]) -> TokenStream {
    let arms = messages.iter().map(|(path, _)| {
        let decode = quote_spanned! {path.span()=>
            ::concurrence_nats::__private::decode::<#path, #set>(__fields, __incoming)
        };
        quote! {
            if __name == <#path as ::concurrence::Message>::NAME {
                return #decode;
            }
        }
    });
    let names = messages
        .iter()
        .map(|(path, _)| quote!(<#path as ::concurrence::Message>::NAME));
    quote! {
        impl ::concurrence_nats::RemoteSet for #set {
            const NAMES: &'static [&'static ::core::primitive::str] = &[#(#names),*];

            fn decode(
                __name: &::core::primitive::str,
                __fields: &[::core::primitive::u8],
                __incoming: &::concurrence_nats::__private::Incoming,
            ) -> ::core::result::Result<Self, ::concurrence_nats::DecodeError> {
                #(#arms)*
                ::core::result::Result::Err(::concurrence_nats::__private::unknown::<Self>(__name))
            }
        }
    }
}

/// The valid messages of `receives(...)`, each once (the others were reported).
fn unique_messages(paths: &[Path]) -> Vec<(&Path, &Ident)> {
    let mut out: Vec<(&Path, &Ident)> = Vec::new();
    for path in paths {
        let Some(last) = path.segments.last() else {
            continue;
        };
        let ident = &last.ident;
        if is_message_name(&ident.to_string())
            && last.arguments.is_none()
            && !out.iter().any(|(_, seen)| *seen == ident)
        {
            out.push((path, ident));
        }
    }
    out
}

fn message_set(tasklet: &Tasklet, messages: &[(&Path, &Ident)]) -> TokenStream {
    let vis = &tasklet.func.vis;
    let set = tasklet.messages_name();
    let fn_name = tasklet.name().to_string();
    let doc = format!(
        "The messages the tasklet [`{fn_name}`] receives, one variant per message of its \
         `receives(...)`: what `receive::<{set}>()` yields."
    );
    let derive = tasklet
        .args
        .derive
        .as_ref()
        .map(|(_, traits)| quote!(#[derive(#(#traits),*)]));
    set_enum(vis, quote!(#[doc = #doc] #derive), &set, messages)
}

/// A message set: the enum (after `attrs`), its `Messages` impl and an `Accepts` impl per
/// message.
fn set_enum(
    vis: &syn::Visibility,
    attrs: TokenStream,
    set: &Ident,
    messages: &[(&Path, &Ident)],
) -> TokenStream {
    let variants = messages.iter().map(|(path, ident)| {
        let doc = format!("A `{ident}` message.");
        quote!(#[doc = #doc] #ident(#path))
    });
    let names = messages
        .iter()
        .map(|(path, ident)| quote!(#set::#ident(_) => <#path as ::concurrence::Message>::NAME));
    let accepts = messages.iter().map(|(path, ident)| {
        // Spanned at the listed message, so that a path that is not a message is reported there.
        let bound = quote_spanned!(path.span()=> ::concurrence::Accepts<#path>);
        quote! {
            impl #bound for #set {
                fn wrap(message: #path) -> Self {
                    #set::#ident(message)
                }

                #[allow(unreachable_patterns)]
                fn unwrap(self) -> ::core::option::Option<#path> {
                    match self {
                        #set::#ident(message) => ::core::option::Option::Some(message),
                        _ => ::core::option::Option::None,
                    }
                }
            }
        }
    });
    quote! {
        #attrs
        #[allow(non_camel_case_types)]
        #vis enum #set {
            #(#variants,)*
        }

        impl ::concurrence::Messages for #set {
            fn message_name(&self) -> &'static ::core::primitive::str {
                match self {
                    #(#names,)*
                }
            }
        }

        #(#accepts)*
    }
}

/// The builder of a `#[tasklet]`; `set` is its message set's type, if it receives messages.
fn builder(tasklet: &Tasklet, set: Option<TokenStream>) -> TokenStream {
    let receives = set.is_some();
    let func = tasklet.func;
    let vis = &func.vis;
    let fn_ident = tasklet.name();
    let fn_name = fn_ident.to_string();
    let fn_name = fn_name.strip_prefix("r#").unwrap_or(&fn_name).to_owned();
    let builder = tasklet.builder_name();
    let messages_ty = set
        .clone()
        .unwrap_or_else(|| quote!(::concurrence::NoMessages));
    let output = match &func.sig.output {
        syn::ReturnType::Default => quote!(()),
        syn::ReturnType::Type(_, ty) => quote!(#ty),
    };
    let (impl_generics, _, where_clause) = func.sig.generics.split_for_impl();
    let types: Vec<&syn::Type> = func
        .sig
        .inputs
        .iter()
        .filter_map(|a| match a {
            syn::FnArg::Typed(t) => Some(&*t.ty),
            syn::FnArg::Receiver(_) => None,
        })
        .collect();
    let args: Vec<Ident> = (0..types.len())
        .map(|i| format_ident!("__arg{}", i))
        .collect();
    let doc = format!(
        "Spawns [`{fn_name}`] as a tasklet: options first (`name`, `daemon`, `stack_size`{}), \
         then [`spawn`]({builder}::spawn) with the function's arguments.",
        if receives { ", `max_mailbox_len`" } else { "" }
    );
    let new_builder = if let Some(set) = &set {
        quote!(::concurrence::Builder::new().receives::<#set>())
    } else {
        quote!(::concurrence::Builder::new())
    };
    let max_mailbox_len = receives.then(|| {
        quote! {
            /// Bounds the tasklet's mailbox: a send to a full mailbox waits for room. See
            /// [`Builder::max_mailbox_len`](::concurrence::Builder::max_mailbox_len).
            pub fn max_mailbox_len(self, len: ::core::primitive::usize) -> Self {
                #builder { builder: self.builder.max_mailbox_len(len) }
            }
        }
    });
    let spawn_doc = format!(
        "Starts the tasklet, running `{fn_name}` with these arguments; the new tasklet runs once \
         the caller blocks."
    );
    quote! {
        #[doc = #doc]
        #[must_use = "a tasklet builder does nothing until `spawn` is called"]
        #vis struct #builder {
            builder: ::concurrence::Builder<#messages_ty>,
        }

        #[allow(dead_code)]
        impl #builder {
            /// A builder with the default options.
            pub fn new() -> Self {
                #builder { builder: #new_builder.__default_name(#fn_name) }
            }

            /// Names the tasklet (by default it is named after its function). See
            /// [`Builder::name`](::concurrence::Builder::name).
            pub fn name(self, name: impl ::core::convert::Into<::std::borrow::Cow<'static, ::core::primitive::str>>) -> Self {
                #builder { builder: self.builder.name(name) }
            }

            /// Makes the tasklet a daemon. See
            /// [`Builder::daemon`](::concurrence::Builder::daemon).
            pub fn daemon(self, daemon: ::core::primitive::bool) -> Self {
                #builder { builder: self.builder.daemon(daemon) }
            }

            /// The usable size of the tasklet's stack in bytes. See
            /// [`Builder::stack_size`](::concurrence::Builder::stack_size).
            pub fn stack_size(self, bytes: ::core::primitive::usize) -> Self {
                #builder { builder: self.builder.stack_size(bytes) }
            }

            /// The kind of stack the tasklet runs on. See
            /// [`Builder::stack_mode`](::concurrence::Builder::stack_mode).
            pub fn stack_mode(self, mode: ::concurrence::StackMode) -> Self {
                #builder { builder: self.builder.stack_mode(mode) }
            }

            #max_mailbox_len

            #[doc = #spawn_doc]
            pub fn spawn #impl_generics (self, #(#args: #types),*) -> ::concurrence::Tasklet<#output, #messages_ty>
            #where_clause
            {
                self.builder.spawn(move || #fn_ident(#(#args),*))
            }
        }

        impl ::core::default::Default for #builder {
            fn default() -> Self {
                Self::new()
            }
        }
    }
}
