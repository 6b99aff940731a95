//! Saved states load strictly (SPEC.md §7.7, §8.8): every object of a saved `Session`,
//! `DeviceKeys` and `Group` refuses an unknown field and a repeated one, so a state is
//! never partially understood (found by the `state_deserialize` fuzz target: unknown
//! fields were skipped unread, even with bytes that are not UTF-8).
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
use letterseal::pairwise::{ContentType, Session};
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
        .verify(&RegistrationPolicy::default(), now(), None, &NoDirectory)
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

/// The saved state loads; with an unknown field added to any one of its objects, or the
/// first field of any object written twice, it does not. Returns the number of objects.
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
    let (bob, bob_bundle) = device(&mut rng, "bob");
    let mut at_alice = Session::new(&alice, &bob_bundle).unwrap();
    let mut at_bob = Session::new(&bob, &alice_bundle).unwrap();
    let sealed = at_alice
        .seal(&alice, &mut rng, ContentType::Text, b"hi", b"")
        .unwrap();
    at_bob.open(&bob, &sealed, b"").unwrap();
    assert!(loads_strictly(&at_bob, "Session") >= 5);
    assert!(loads_strictly(&bob, "DeviceKeys") >= 3);

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
        )
        .unwrap();
    group.commit(now()).unwrap();
    group
        .seal(&mut rng, &alice, ContentType::Text, b"to the group", b"")
        .unwrap();
    assert!(loads_strictly(&group, "Group") >= 6);
}
