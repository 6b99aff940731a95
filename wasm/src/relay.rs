//! `Relay`: the server's checks and fan-out, wrapping [`letterseal::account::Relay`].

use core::cell::RefCell;

use letterseal::account;
use wasm_bindgen::prelude::*;

use crate::args;
use crate::error::{Failure, call};
use crate::out;

/// A server's records and checks, in memory (SPEC.md §13.10): device lists
/// are verified against the held version and user key, bundles and one-time
/// keys against the uploader's listed identity key, distributions against the
/// group's record and every member's device list, and messages against the
/// authenticated uploader. It holds no secret.
#[wasm_bindgen]
#[derive(Debug)]
pub struct Relay {
    inner: RefCell<account::Relay>,
}

impl Relay {
    fn with<T>(
        &self,
        body: impl FnOnce(&mut account::Relay) -> Result<T, Failure>,
    ) -> Result<T, JsValue> {
        call(|| {
            let mut inner = self.inner.try_borrow_mut().map_err(|_| {
                Failure::Type("this Relay is already in use by another call".to_owned())
            })?;
            body(&mut inner)
        })
    }
}

#[wasm_bindgen]
impl Relay {
    /// An empty relay with the default registration policy.
    #[wasm_bindgen(constructor)]
    pub fn new() -> Result<Relay, JsValue> {
        call(|| {
            Ok(Self {
                inner: RefCell::new(account::Relay::new()),
            })
        })
    }

    /// Takes an envelope uploaded by the authenticated device `uploader` and
    /// returns what to deliver to whom. A refusal (`Relay` error) stores and
    /// delivers nothing.
    #[wasm_bindgen(unchecked_return_type = "Outgoing[]")]
    pub fn upload(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number | bigint")] now: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Address")] uploader: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array")] envelope: JsValue,
    ) -> Result<JsValue, JsValue> {
        self.with(|r| {
            let now = args::now(&now)?;
            let from = args::address("uploader", &uploader)?;
            let envelope = args::bytes("envelope", &envelope)?;
            out::outgoing(r.upload(now, &from, &envelope)?)
        })
    }

    /// Everything a device needs to talk to `user`: its device list, then
    /// each listed device's bundle and one unclaimed one-time key (claimed).
    #[wasm_bindgen(js_name = fetchUser, unchecked_return_type = "Uint8Array[]")]
    pub fn fetch_user(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array")] user: JsValue,
    ) -> Result<JsValue, JsValue> {
        self.with(|r| {
            Ok(out::byte_arrays(
                r.fetch_user(&args::user_id("user", &user)?),
            ))
        })
    }
}
