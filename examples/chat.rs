//! A 1:1 and group chat between three users, two of whom have two devices,
//! through one `Account` per device and an in-memory `Relay` as the server.
//! Run: `cargo run --example chat`. CI compares its output with
//! `examples/chat.out`.
//!
//! Randomness comes from a seeded ChaCha20 here so the run is repeatable; an
//! app passes the OS generator (`rand_core::UnwrapErr(getrandom::SysRng)`).

use std::collections::BTreeMap;
use std::error::Error;

use letterseal::account::{Account, Event, Outgoing, Relay};
use letterseal::group::GroupId;
use letterseal::ids::{DeviceAddress, DeviceId, UserId};
use letterseal::pairwise::ContentType::Text;
use letterseal::state::StorageKey;
use letterseal::time::Timestamp;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

type Result<T> = std::result::Result<T, Box<dyn Error>>;
type Call<'a> = (&'a mut Account, &'a mut ChaCha20Rng, Timestamp);

/// Every device of every user, and the server between them.
struct World {
    rng: ChaCha20Rng,
    now: Timestamp,
    relay: Relay,
    devices: BTreeMap<DeviceAddress, Account>,
}

fn user(name: &str) -> Result<UserId> {
    Ok(UserId::new(name)?)
}

fn envelopes(out: Vec<Outgoing>) -> Vec<Vec<u8>> {
    out.into_iter().map(|o| o.envelope).collect()
}

fn address(name: &str, device: u32) -> Result<DeviceAddress> {
    Ok(DeviceAddress::new(user(name)?, DeviceId::new(device)))
}

impl World {
    /// A device's account, with the randomness and the time to call it with.
    fn device(&mut self, at: &DeviceAddress) -> Result<Call<'_>> {
        let account = self.devices.get_mut(at).ok_or("unknown device")?;
        Ok((account, &mut self.rng, self.now))
    }

    fn add(&mut self, at: &DeviceAddress, primary: bool) -> Result<()> {
        let (rng, now) = (&mut self.rng, self.now);
        let account = match primary {
            true => Account::create_primary(rng, now, at.clone()),
            false => Account::create_secondary(rng, now, at.clone()),
        };
        self.devices.insert(at.clone(), account);
        Ok(())
    }

    /// Uploads envelopes from `from` and delivers what the relay fans out.
    fn send(&mut self, from: &DeviceAddress, envelopes: Vec<Vec<u8>>) -> Result<()> {
        let now = self.now;
        for envelope in envelopes {
            for out in self.relay.upload(now, from, &envelope)? {
                let event = self.device(&out.to)?.0.receive(now, &out.envelope)?;
                report(&out.to, &event);
            }
        }
        Ok(())
    }

    /// A device uploads its device list (on a primary) and its key bundle.
    fn publish(&mut self, at: &DeviceAddress) -> Result<()> {
        let (account, rng, now) = self.device(at)?;
        let uploads = account.uploads(rng, now)?;
        self.send(at, uploads)
    }

    /// Each device fetches every user's device list, bundles and one-time
    /// keys (as an app does on `DeviceListNeeded` or `BundleNeeded`).
    fn fetch_everyone(&mut self) -> Result<()> {
        let now = self.now;
        for account in self.devices.values_mut() {
            for name in ["alice", "bob", "carol"] {
                for envelope in self.relay.fetch_user(&user(name)?) {
                    account.receive(now, &envelope)?;
                }
            }
        }
        Ok(())
    }

    /// Seals `text` to a group, if `to` names one of `from`'s groups, or to a user.
    fn say(&mut self, from: &DeviceAddress, to: &str, text: &str) -> Result<()> {
        let group = GroupId::new(to)?;
        let (account, rng, now) = self.device(from)?;
        let out = match account.group(&group) {
            Some(_) => vec![account.seal_to_group(rng, now, &group, Text, text.as_bytes())?],
            None => envelopes(account.seal_to_user(rng, now, &user(to)?, Text, text.as_bytes())?),
        };
        self.send(from, out)
    }

    /// Proposes a group change on `at` and sends it through the relay.
    fn change(&mut self, at: &DeviceAddress, g: &GroupId, add: &[&str], rm: &[&str]) -> Result<()> {
        let ids = |names: &[&str]| names.iter().map(|n| user(n)).collect::<Result<Vec<_>>>();
        let (add, remove) = (ids(add)?, ids(rm)?);
        let (account, rng, now) = self.device(at)?;
        let upload = match account.group(g) {
            None => account.create_group(rng, now, g.clone(), &add)?,
            Some(_) => account.update_group(rng, now, g, &add, &remove)?,
        };
        self.send(at, vec![upload])
    }
}

fn report(to: &DeviceAddress, event: &Event) {
    match (event, event.sender(), event.plaintext()) {
        (Event::GroupChanged { change: c, .. }, _, _) => {
            let (joined, left) = (c.joined.len(), c.left.len());
            println!("{to}: epoch {}, {joined} joined, {left} left", c.epoch);
        }
        (_, Some(from), Some(text)) => {
            println!("{to} <- {from}: {}", String::from_utf8_lossy(text));
        }
        _ => println!("{to}: {event:?}"),
    }
}

fn main() -> Result<()> {
    let rng = ChaCha20Rng::from_seed([42; 32]);
    let now = Timestamp::from_unix_seconds(1_800_000_000);
    let mut w = World {
        rng,
        now,
        relay: Relay::new(),
        devices: BTreeMap::new(),
    };
    let (alice, alice_laptop) = (address("alice", 1)?, address("alice", 2)?);
    let (bob, bob_tablet, carol) = (address("bob", 1)?, address("bob", 2)?, address("carol", 1)?);
    for at in [&alice, &bob, &carol] {
        w.add(at, true)?;
    }
    w.add(&alice_laptop, false)?;

    // Alice's phone (her primary) lists her laptop; every device publishes its keys.
    let key = w.device(&alice_laptop)?.0.identity_key();
    w.device(&alice)?.0.add_device(alice_laptop.device, key)?;
    for at in [&alice, &alice_laptop, &bob, &carol] {
        w.publish(at)?;
    }
    w.fetch_everyone()?;

    println!("-- 1:1 with a reply; each also reaches the sender's other devices");
    w.say(&alice, "bob", "Dinner at eight?")?;
    w.say(&bob, "alice", "Yes, see you there.")?;

    println!("-- alice makes a group of three users");
    let club = GroupId::new("book club")?;
    w.change(&alice, &club, &["bob", "carol"], &[])?;
    w.say(&carol, "book club", "I finished chapter one.")?;

    println!("-- bob adds a tablet; alice's phone brings it into the group");
    w.add(&bob_tablet, false)?;
    let key = w.device(&bob_tablet)?.0.identity_key();
    let list = w.device(&bob)?.0.add_device(bob_tablet.device, key)?;
    w.send(&bob, vec![list])?;
    w.publish(&bob_tablet)?;
    w.fetch_everyone()?;
    w.change(&alice, &club, &[], &[])?;
    w.say(&bob_tablet, "book club", "Hello from my tablet.")?;

    println!("-- bob removes carol from the group");
    w.change(&bob, &club, &[], &["carol"])?;
    w.say(&alice_laptop, "book club", "Just the two of us now.")?;

    println!("-- every device saves and restores its account, then talks on");
    let storage = StorageKey::generate(&mut w.rng);
    for account in w.devices.values_mut() {
        let blob = account.export(&mut w.rng, &storage)?;
        *account = Account::import(&storage, blob.as_bytes(), blob.generation())?;
    }
    w.say(&bob_tablet, "alice", "Restored and still here.")?;
    w.say(&alice, "book club", "Same here.")
}
