//! The JSON form of saved states (feature `json-state`, SPEC.md §12.3) loads strictly:
//! every object of a saved `Session`, `DeviceKeys` and `Group` refuses an unknown field,
//! a repeated one and a missing one (no field defaults, not even an `Option`), so a state
//! is never partially understood (found by the `state_deserialize` fuzz target: unknown
//! fields were skipped unread, even with bytes that are not UTF-8); and each state's
//! invariants are checked, naming the field.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;

use letterseal::device::DeviceKeys;
use letterseal::group::{GracePolicy, Group, GroupId};
use letterseal::ids::{DeviceAddress, DeviceId, UserId};
use letterseal::pairwise::ContentType;
use letterseal::registration::{NoDirectory, RegistrationPolicy, VerifiedBundle};
use letterseal::time::Timestamp;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use serde::de::DeserializeOwned;
use serde_json::Value;

fn now() -> Timestamp {
    Timestamp::from_unix_seconds(1_800_000_000)
}

fn device(rng: &mut ChaCha20Rng, user: &str) -> (DeviceKeys, VerifiedBundle) {
    let address = DeviceAddress::new(UserId::new(user).unwrap(), DeviceId::new(1));
    let mut keys = DeviceKeys::generate(rng, address);
    let bundle = keys
        .add_sealing_key(rng, now(), 86_400)
        .verify(
            &keys.address().clone().into(),
            &RegistrationPolicy::default(),
            now(),
            None,
            &NoDirectory,
        )
        .unwrap();
    (keys, bundle)
}

/// Paths (object keys and array indexes) of every JSON object inside `value`.
fn object_paths(value: &Value, path: &mut Vec<Value>, out: &mut Vec<Vec<Value>>) {
    match value {
        Value::Object(map) => {
            out.push(path.clone());
            for (key, child) in map {
                path.push(Value::from(key.as_str()));
                object_paths(child, path, out);
                path.pop();
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                path.push(Value::from(i));
                object_paths(child, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

fn value_at<'a>(value: &'a mut Value, path: &[Value]) -> &'a mut Value {
    path.iter().fold(value, |at, step| match step {
        Value::String(key) => &mut at[key.as_str()],
        index => &mut at[index.as_u64().unwrap() as usize],
    })
}

/// `value` as JSON text with the object at `path` replaced by `object_text`.
fn with_object_text(value: &Value, path: &[Value], object_text: &str) -> String {
    const MARKER: &str = "__object_marker__";
    let mut marked = value.clone();
    *value_at(&mut marked, path) = Value::from(MARKER);
    serde_json::to_string(&marked)
        .unwrap()
        .replacen(&format!("\"{MARKER}\""), object_text, 1)
}

/// The saved state loads; with an unknown field added to any one of its objects, the
/// first field of any object written twice, or any field of any object deleted, it does
/// not. Returns the number of objects.
fn loads_strictly<T: serde::Serialize + DeserializeOwned>(state: &T, what: &str) -> usize {
    let value = serde_json::to_value(state).unwrap();
    assert!(serde_json::from_value::<T>(value.clone()).is_ok());
    let mut paths = Vec::new();
    object_paths(&value, &mut Vec::new(), &mut paths);
    for path in &paths {
        let object = value_at(&mut value.clone(), path)
            .as_object()
            .unwrap()
            .clone();

        let mut extended = object.clone();
        extended.insert("unknown".into(), Value::from(0));
        let text = with_object_text(&value, path, &Value::from(extended).to_string());
        let error = serde_json::from_str::<T>(&text)
            .err()
            .unwrap_or_else(|| panic!("{what}: an unknown field at {path:?} was accepted"));
        assert!(
            error.to_string().starts_with("unknown field `unknown`"),
            "{what} at {path:?}: {error}"
        );

        for key in object.keys() {
            let mut without = object.clone();
            without.remove(key);
            let text = with_object_text(&value, path, &Value::from(without).to_string());
            let error = serde_json::from_str::<T>(&text).err().unwrap_or_else(|| {
                panic!("{what}: field {key:?} deleted at {path:?} was accepted")
            });
            assert!(
                error
                    .to_string()
                    .starts_with(&format!("missing field `{key}`")),
                "{what}: deleting {key:?} at {path:?}: {error}"
            );
        }

        if let Some((key, field)) = object.iter().next() {
            // A repeated field can only be written as text.
            let repeated = format!(
                "{{{}:{field},{}",
                Value::from(key.as_str()),
                &Value::from(object.clone()).to_string()[1..]
            );
            let text = with_object_text(&value, path, &repeated);
            let error = serde_json::from_str::<T>(&text).err().unwrap_or_else(|| {
                panic!("{what}: field {key:?} repeated at {path:?} was accepted")
            });
            assert!(
                error
                    .to_string()
                    .starts_with(&format!("duplicate field `{key}`")),
                "{what} at {path:?}: {error}"
            );
        }
    }
    paths.len()
}

#[test]
fn session_device_and_group_states_load_strictly() {
    let mut rng = ChaCha20Rng::from_seed([21; 32]);
    let (alice, alice_bundle) = device(&mut rng, "alice");
    let (mut bob, bob_bundle) = device(&mut rng, "bob");
    // One-time keys, one used: every list of the device state holds objects.
    let one_time = bob.add_one_time_keys(&mut rng, 2, now(), 86_400);
    assert!(bob.consume_one_time_key(one_time[0].content().key_id));
    // Sessions hold ratchet secrets and persist only as sealed blobs (no JSON form).
    assert!(loads_strictly(&bob, "DeviceKeys") >= 5);

    let id = GroupId::new("g").unwrap();
    let mut group = Group::new(id, alice.address().clone(), GracePolicy::default());
    let mut sessions = BTreeMap::new();
    group
        .propose(
            &mut rng,
            &alice,
            &[alice_bundle, bob_bundle],
            None,
            &mut sessions,
            now(),
        )
        .unwrap();
    group.commit(now()).unwrap();
    group
        .seal(&mut rng, &alice, ContentType::Text, b"to the group", b"")
        .unwrap();
    assert!(loads_strictly(&group, "Group") >= 6);
}

/// `state` with the JSON value at `path` replaced by `f(old value)`.
fn edited<T: serde::Serialize>(state: &T, path: &[&str], f: impl Fn(&mut Value)) -> Value {
    let mut value = serde_json::to_value(state).unwrap();
    let mut at = &mut value;
    for step in path {
        at = match step.parse::<usize>() {
            Ok(i) => &mut at[i],
            Err(_) => &mut at[*step],
        };
    }
    f(at);
    value
}

fn refused<T: DeserializeOwned>(value: Value, expect: &str) {
    let error = serde_json::from_value::<T>(value)
        .err()
        .unwrap_or_else(|| panic!("accepted a state breaking {expect}"));
    assert!(
        error.to_string().contains(expect),
        "expected an error naming {expect}, got: {error}"
    );
}

/// Values the invariants of SPEC.md §12.2 forbid are refused, naming the field.
#[test]
fn states_breaking_an_invariant_are_refused() {
    let mut rng = ChaCha20Rng::from_seed([22; 32]);
    let (mut alice, _) = device(&mut rng, "alice");
    alice
        .add_sealing_key(&mut rng, now().saturating_add(60), 86_400)
        .verify(
            &alice.address().clone().into(),
            &RegistrationPolicy::default(),
            now(),
            None,
            &NoDirectory,
        )
        .unwrap();
    // Device keys: retired ids must not be live, validity windows not empty.
    let live = alice.live_key_ids().next().unwrap().to_string();
    refused::<DeviceKeys>(
        edited(&alice, &["retired"], |v| {
            *v = Value::Array(vec![live.clone().into()])
        }),
        "retired.live",
    );
    refused::<DeviceKeys>(
        edited(&alice, &["sealing", "0", "not_after"], |v| *v = 0.into()),
        "sealing.not_after",
    );
    refused::<DeviceKeys>(
        edited(&alice, &["sealing"], |v| {
            let first = v[0].clone();
            v.as_array_mut().unwrap().push(first);
        }),
        "sealing.repeated",
    );
    // One-time keys and consumed ids: windows, and disjoint from every other id.
    let one_time = alice.add_one_time_keys(&mut rng, 1, now(), 86_400);
    let used = alice.add_one_time_keys(&mut rng, 1, now(), 86_400);
    assert!(alice.consume_one_time_key(used[0].content().key_id));
    let one_time_id = one_time[0].content().key_id.to_string();
    refused::<DeviceKeys>(
        edited(&alice, &["one_time", "0", "not_after"], |v| *v = 0.into()),
        "one_time.not_after",
    );
    let sealing_secret = serde_json::to_value(&alice).unwrap()["sealing"][0]["secret"].clone();
    refused::<DeviceKeys>(
        edited(&alice, &["one_time", "0", "secret"], |v| {
            *v = sealing_secret.clone()
        }),
        "one_time.repeated",
    );
    refused::<DeviceKeys>(
        edited(&alice, &["consumed", "0", "key_id"], |v| {
            *v = one_time_id.clone().into()
        }),
        "consumed.known",
    );
    refused::<DeviceKeys>(
        edited(&alice, &["consumed", "0", "key_id"], |v| {
            *v = live.clone().into()
        }),
        "consumed.known",
    );
    refused::<DeviceKeys>(
        edited(&alice, &["sealing", "0", "kem_seed"], |v| {
            *v = "00".repeat(63).into()
        }),
        "expected 64 bytes",
    );
}
