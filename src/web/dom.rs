//! Small helpers over `web_sys` and `js_sys`: finding elements, making
//! them, reading files, yielding to the event loop.

use js_sys::{Function, Promise, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue, closure::Closure};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, Document, Element, Event, File, MessageChannel, Response, Window};

use super::WebError;

/// The page's window.
pub fn window() -> Result<Window, WebError> {
    web_sys::window().ok_or(WebError::Js {
        what: "finding the window",
        message: "there is no window here".to_owned(),
    })
}

/// The page's document.
pub fn document() -> Result<Document, WebError> {
    window()?.document().ok_or(WebError::Js {
        what: "finding the document",
        message: "the window has no document".to_owned(),
    })
}

/// The element with id `id`, as the element type `T`.
pub fn by_id<T: JsCast>(document: &Document, id: &'static str) -> Result<T, WebError> {
    document
        .get_element_by_id(id)
        .and_then(|element| element.dyn_into::<T>().ok())
        .ok_or(WebError::MissingElement(id))
}

/// A new `<tag>` holding `text`.
pub fn element_with_text(document: &Document, tag: &str, text: &str) -> Result<Element, WebError> {
    let element = document
        .create_element(tag)
        .map_err(|err| WebError::js("creating an element", &err))?;
    element.set_text_content(Some(text));
    Ok(element)
}

/// Appends `child` to `parent`.
pub fn append(parent: &Element, child: &Element) -> Result<(), WebError> {
    parent
        .append_child(child)
        .map(|_| ())
        .map_err(|err| WebError::js("adding an element", &err))
}

/// Removes every child of `element`.
pub fn clear(element: &Element) {
    element.set_text_content(None);
}

/// The text of a JavaScript exception: its `message` if it is an `Error`.
#[must_use]
pub fn describe_js_error(error: &JsValue) -> String {
    if let Some(error) = error.dyn_ref::<js_sys::Error>() {
        return String::from(error.message());
    }
    error.as_string().unwrap_or_else(|| format!("{error:?}"))
}

/// Reads a picked or dropped file into memory.
pub async fn read_file(file: &File) -> Result<Vec<u8>, WebError> {
    let buffer = JsFuture::from(file.array_buffer())
        .await
        .map_err(|err| WebError::js("reading the file", &err))?;
    Ok(Uint8Array::new(&buffer).to_vec())
}

/// A `Blob` holding a copy of `bytes`, of MIME type `kind` when given.
pub fn blob_of(bytes: &[u8], kind: Option<&str>) -> Result<Blob, WebError> {
    let parts = js_sys::Array::of1(&Uint8Array::from(bytes));
    let options = web_sys::BlobPropertyBag::new();
    if let Some(kind) = kind {
        options.set_type(kind);
    }
    Blob::new_with_u8_array_sequence_and_options(&parts, &options)
        .map_err(|err| WebError::js("preparing a file", &err))
}

/// Fetches `url` (relative to the page) and returns its body.
pub async fn fetch_bytes(url: &str) -> Result<Vec<u8>, WebError> {
    let body = fetch(url, Response::array_buffer).await?;
    Ok(Uint8Array::new(&body).to_vec())
}

/// Fetches `url` (relative to the page) and returns its body as a `Blob`,
/// without reading it into this module's memory.
pub async fn fetch_blob(url: &str) -> Result<Blob, WebError> {
    let body = fetch(url, Response::blob).await?;
    body.dyn_into()
        .map_err(|err| WebError::js("fetching the demo data", &err))
}

async fn fetch(
    url: &str,
    body: impl FnOnce(&Response) -> Result<Promise, JsValue>,
) -> Result<JsValue, WebError> {
    let response = JsFuture::from(window()?.fetch_with_str(url))
        .await
        .map_err(|err| WebError::js("fetching the demo data", &err))?;
    let response: Response = response
        .dyn_into()
        .map_err(|err| WebError::js("fetching the demo data", &err))?;
    if !response.ok() {
        return Err(WebError::Js {
            what: "fetching the demo data",
            message: format!("{url} answered HTTP {}", response.status()),
        });
    }
    let promise = body(&response).map_err(|err| WebError::js("fetching the demo data", &err))?;
    JsFuture::from(promise)
        .await
        .map_err(|err| WebError::js("fetching the demo data", &err))
}

/// Lets the event loop run pending tasks (messages, clicks) before going on.
///
/// A message posted to a fresh `MessageChannel` comes back as a new task,
/// after the tasks already queued. Unlike `setTimeout(0)` it is not clamped
/// to 4 ms when called again and again, which matters once per batch.
pub async fn yield_now() {
    let promise = Promise::new(&mut |resolve: Function, _reject: Function| {
        match MessageChannel::new() {
            Ok(channel) => {
                channel.port1().set_onmessage(Some(&resolve));
                if channel.port2().post_message(&JsValue::UNDEFINED).is_err() {
                    // Resolving at once still lets queued microtasks run.
                    let _ = resolve.call0(&JsValue::UNDEFINED);
                }
            }
            Err(_) => {
                let _ = resolve.call0(&JsValue::UNDEFINED);
            }
        }
    });
    // The promise only ever resolves.
    let _ = JsFuture::from(promise).await;
}

/// Waits about `millis` milliseconds (in a window or a worker).
pub async fn sleep(millis: i32) {
    let promise = Promise::new(&mut |resolve: Function, _reject: Function| {
        let global = js_sys::global();
        let set_timeout = Reflect::get(&global, &JsValue::from_str("setTimeout"))
            .ok()
            .and_then(|f| f.dyn_into::<Function>().ok());
        let scheduled =
            set_timeout.is_some_and(|f| f.call2(&global, &resolve, &JsValue::from(millis)).is_ok());
        if !scheduled {
            let _ = resolve.call0(&JsValue::UNDEFINED);
        }
    });
    let _ = JsFuture::from(promise).await;
}

/// Registers the service worker (`sw.js`, next to the page) that lets the
/// page, its workers and its demos load offline after the first visit.
/// Where the browser has no service workers or refuses this one, the page
/// works as before, online; the reason goes to the console.
pub fn register_service_worker() {
    let Ok(window) = window() else {
        return;
    };
    let container = Reflect::get(&window.navigator(), &JsValue::from_str("serviceWorker"))
        .ok()
        .filter(|container| !container.is_undefined() && !container.is_null());
    let Some(container) = container else {
        log::info!("this browser has no service workers: the page needs the network");
        return;
    };
    let register = Reflect::get(&container, &JsValue::from_str("register"))
        .ok()
        .and_then(|f| f.dyn_into::<Function>().ok());
    let Some(register) = register else {
        return;
    };
    match register.call1(&container, &JsValue::from_str("./sw.js")) {
        Ok(promise) => {
            let promise = Promise::resolve(&promise);
            wasm_bindgen_futures::spawn_local(async move {
                if let Err(err) = JsFuture::from(promise).await {
                    log::warn!("the offline cache is off: {}", describe_js_error(&err));
                }
            });
        }
        Err(err) => log::warn!("the offline cache is off: {}", describe_js_error(&err)),
    }
}

/// Adds `handler` for `event` on `target` for the life of the page.
///
/// The closure is leaked on purpose: the page's elements live as long as the
/// module, so there is never a moment to drop it.
pub fn listen(
    target: &web_sys::EventTarget,
    event: &str,
    handler: impl FnMut(Event) + 'static,
) -> Result<(), WebError> {
    let closure = Closure::<dyn FnMut(Event)>::new(handler);
    target
        .add_event_listener_with_callback(event, closure.as_ref().unchecked_ref())
        .map_err(|err| WebError::js("adding an event handler", &err))?;
    closure.forget();
    Ok(())
}

/// The size of this module instance's WebAssembly memory, in bytes (it
/// only grows, so this is also its peak).
pub fn wasm_memory_bytes() -> f64 {
    wasm_bindgen::memory()
        .dyn_into::<js_sys::WebAssembly::Memory>()
        .ok()
        .and_then(|memory| memory.buffer().dyn_into::<js_sys::ArrayBuffer>().ok())
        .map_or(0.0, |buffer| f64::from(buffer.byte_length()))
}
