//! The current project kept in the browser's `IndexedDB`: database `twinlab`,
//! object store `projects`, the record `current` holding the project file's
//! bytes ([`crate::project`]) and one record holding the bytes of its data
//! file ([`series_key`]), written only when that file changes. Nothing
//! leaves the browser.
//!
//! `IndexedDB` answers through request objects with `onsuccess`/`onerror`
//! handlers; each request is wrapped in a promise here and awaited.

use js_sys::{Function, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use super::{WebError, dom};

const DATABASE: &str = "twinlab";
const STORE: &str = "projects";
/// The record of the current project.
pub const PROJECT: &str = "current";

/// The record of the current project's data file `name` of `size` bytes,
/// told from others of that name and size by `id`.
#[must_use]
pub fn series_key(name: &str, size: u64, id: u32) -> String {
    format!("series/{size}/{id:08x}/{name}")
}

/// Keeps `bytes` under `key`.
pub async fn save(key: &str, bytes: &[u8]) -> Result<(), WebError> {
    save_value(key, &Uint8Array::from(bytes)).await
}

/// Keeps `value` (bytes, a `Blob`: anything the browser can clone) under
/// `key`. A `Blob` is written by the browser, off the page's thread.
pub async fn save_value(key: &str, value: &JsValue) -> Result<(), WebError> {
    let store = object_store("readwrite").await?;
    let request = call(&store, "put", &[value.clone(), JsValue::from_str(key)])?;
    done(&request).await.map(drop)
}

/// The bytes kept under `key`, if any.
pub async fn load(key: &str) -> Result<Option<Vec<u8>>, WebError> {
    Ok(load_value(key)
        .await?
        .and_then(|value| value.dyn_ref::<Uint8Array>().map(Uint8Array::to_vec))
        .filter(|bytes| !bytes.is_empty()))
}

/// The value kept under `key`, if any.
pub async fn load_value(key: &str) -> Result<Option<JsValue>, WebError> {
    let store = object_store("readonly").await?;
    let request = call(&store, "get", &[JsValue::from_str(key)])?;
    let value = done(&request).await?;
    Ok((!value.is_undefined() && !value.is_null()).then_some(value))
}

/// Forgets what is kept under `key`.
pub async fn remove(key: &str) -> Result<(), WebError> {
    let store = object_store("readwrite").await?;
    let request = call(&store, "delete", &[JsValue::from_str(key)])?;
    done(&request).await.map(drop)
}

/// Forgets everything kept.
pub async fn clear() -> Result<(), WebError> {
    let store = object_store("readwrite").await?;
    let request = call(&store, "clear", &[])?;
    done(&request).await.map(drop)
}

/// The project store, in a transaction of `mode`.
async fn object_store(mode: &str) -> Result<JsValue, WebError> {
    let database = open().await?;
    let transaction = call(
        &database,
        "transaction",
        &[JsValue::from_str(STORE), JsValue::from_str(mode)],
    )?;
    call(&transaction, "objectStore", &[JsValue::from_str(STORE)])
}

async fn open() -> Result<JsValue, WebError> {
    let factory = get(&js_sys::global(), "indexedDB")?;
    if factory.is_undefined() || factory.is_null() {
        return Err(unavailable("this browser keeps no IndexedDB storage here"));
    }
    let request = call(&factory, "open", &[JsValue::from_str(DATABASE), 1.into()])?;
    // A new database gets its one object store.
    let target = request.clone();
    let upgrade = Closure::once_into_js(move |_event: JsValue| {
        let database = get(&target, "result").unwrap_or(JsValue::UNDEFINED);
        if let Err(err) = call(&database, "createObjectStore", &[JsValue::from_str(STORE)]) {
            log::warn!("the project store could not be created: {err}");
        }
    });
    set(&request, "onupgradeneeded", &upgrade)?;
    done(&request).await
}

/// Waits for an `IndexedDB` request: its result, or its error.
async fn done(request: &JsValue) -> Result<JsValue, WebError> {
    let mut wiring = Ok(());
    let promise = Promise::new(&mut |resolve: Function, reject: Function| {
        let target = request.clone();
        let success = Closure::once_into_js(move |_event: JsValue| {
            let result = get(&target, "result").unwrap_or(JsValue::UNDEFINED);
            let _ = resolve.call1(&JsValue::NULL, &result);
        });
        let target = request.clone();
        let failure = Closure::once_into_js(move |_event: JsValue| {
            let error = get(&target, "error").unwrap_or(JsValue::UNDEFINED);
            let _ = reject.call1(&JsValue::NULL, &error);
        });
        wiring =
            set(request, "onsuccess", &success).and_then(|()| set(request, "onerror", &failure));
    });
    wiring?;
    JsFuture::from(promise)
        .await
        .map_err(|err| unavailable(&dom::describe_js_error(&err)))
}

fn get(target: &JsValue, key: &str) -> Result<JsValue, WebError> {
    Reflect::get(target, &JsValue::from_str(key)).map_err(|err| js_error(&err))
}

fn set(target: &JsValue, key: &str, value: &JsValue) -> Result<(), WebError> {
    Reflect::set(target, &JsValue::from_str(key), value)
        .map(drop)
        .map_err(|err| js_error(&err))
}

fn call(target: &JsValue, method: &str, args: &[JsValue]) -> Result<JsValue, WebError> {
    let function: Function = get(target, method)?
        .dyn_into()
        .map_err(|_| unavailable(&format!("IndexedDB has no `{method}` here")))?;
    let args: js_sys::Array = args.iter().collect();
    Reflect::apply(&function, target, &args).map_err(|err| js_error(&err))
}

fn js_error(err: &JsValue) -> WebError {
    unavailable(&dom::describe_js_error(err))
}

fn unavailable(message: &str) -> WebError {
    WebError::Js {
        what: "keeping the project in this browser",
        message: message.to_owned(),
    }
}
