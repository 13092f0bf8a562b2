// Runs one scenario against the server named by $KUBECONFIG: `node run.mjs <scenario>`.
// Exit 0 when it passed; 1 with the failure on stderr; 2 for an unknown name.
import { kubeConfig } from './lib.mjs';
import * as crud from './scenarios/crud.mjs';
import * as watch from './scenarios/watch.mjs';
import * as patch from './scenarios/patch.mjs';
import * as streams from './scenarios/streams.mjs';
import * as access from './scenarios/access.mjs';

const scenarios = { ...crud, ...watch, ...patch, ...streams, ...access };

const name = process.argv[2];
if (!name || !scenarios[name]) {
  console.error(`usage: node run.mjs <scenario>; scenarios: ${Object.keys(scenarios).join(', ')}`);
  process.exit(2);
}
try {
  await scenarios[name](kubeConfig());
  console.log(`scenario ${name}: passed`);
  process.exit(0);
} catch (err) {
  console.error(`scenario ${name}: FAILED`);
  console.error(err?.stack ?? err);
  if (err?.body) console.error('body:', typeof err.body === 'string' ? err.body : JSON.stringify(err.body));
  process.exit(1);
}
