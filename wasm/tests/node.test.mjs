// The shared scenario (scenario.mjs) in Node's test runner, against the `nodejs` build in
// pkg/node (made by run_tests.sh). Run: node --test wasm/tests/
import { test } from 'node:test';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { scenarios, trapCase } from './scenario.mjs';

const require = createRequire(import.meta.url);
const modulePath = fileURLToPath(new URL('../pkg/node/letterseal_wasm.js', import.meta.url));
const ls = require(modulePath);

for (const [name, fn] of scenarios(ls)) {
  test(name, fn);
}

test('a trap makes the instance refuse every later call', () => {
  // A fresh instance (the CommonJS glue instantiates the module when loaded), so the trap does
  // not poison the instance the other cases use.
  delete require.cache[modulePath];
  const fresh = require(modulePath);
  if (fresh === ls) throw new Error('expected a fresh instance');
  trapCase(fresh);
  // The first instance is untouched.
  if (ls.generateStorageKey().length !== 32) throw new Error('first instance broken');
});
