// 1 KiB sealToUser + receive, alice to bob, through the wasm module in Node: the loop of
// ffi/examples/seal_open_native.rs. Prints microseconds per seal+open, and the ratio to the native
// number if given. Usage: node wasm/tests/timing.mjs ITERATIONS [NATIVE_LINE]
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
// LETTERSEAL_WASM_PKG: another directory with the nodejs glue (run_tests.sh: the wasm-opt output).
const dir = process.env.LETTERSEAL_WASM_PKG || new URL('../pkg/node', import.meta.url).pathname;
const ls = require(`${dir}/letterseal_wasm.js`);
const iterations = Number(process.argv[2] || 500);
const NOW = 1_800_000_000;
const enc = new TextEncoder();
const relayless = (from, to) => {
  for (const upload of from.uploads(NOW)) to.receive(NOW, upload);
};
const alice = ls.Account.createPrimary(NOW, enc.encode('alice'), 1);
const bob = ls.Account.createPrimary(NOW, enc.encode('bob'), 1);
relayless(bob, alice);
relayless(alice, bob);
const plaintext = new Uint8Array(1024).fill(0x5a);
const bobId = enc.encode('bob');
const round = () => {
  for (const out of alice.sealToUser(NOW, bobId, 0, plaintext)) {
    const event = bob.receive(NOW, out.envelope);
    if (event.type !== 'Message' || event.plaintext.length !== 1024) throw new Error(`unexpected ${event.type}`);
  }
};
for (let i = 0; i < 10; i++) round(); // warm-up: the first message starts the session
const start = process.hrtime.bigint();
for (let i = 0; i < iterations; i++) round();
const micros = Number(process.hrtime.bigint() - start) / 1000 / iterations;
console.log(`wasm_node_us_per_seal_open=${micros.toFixed(1)}`);
const native = /native_us_per_seal_open=([0-9.]+)/.exec(process.argv[3] || '');
if (native) console.log(`ratio wasm/native = ${(micros / Number(native[1])).toFixed(2)}`);
