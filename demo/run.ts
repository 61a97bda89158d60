/**
 * `npm run demo`: the users' scenario on loopback, both pipeline modes, real Envoys, real SpiceDB,
 * the project's token-exchange. Prints a trace and one summary line per mode; exits 1 on any FAIL.
 * Needs the tools from `npm run setup` (Envoy, SpiceDB).
 */
import { parseArgs } from 'node:util';
import { startPlatform } from './platform.js';
import { runMode, type ModeResult } from './scenario.js';
import { writeState } from './state.js';
import { startTopology } from './topology.js';
import { Trace } from './trace.js';

const MODES = [
  { mode: 'exchange', label: 'A: token exchange from auth.service' },
  { mode: 'interceptors-off', label: 'B: auth.service interceptors disabled' },
] as const;

async function main(): Promise<number> {
  const trace = new Trace((line) => console.log(line));
  const platform = await startPlatform();
  trace.add(
    'platform',
    `auth.service ${platform.auth.url}, token-exchange ${platform.sts.url}, SpiceDB ${platform.spicedb.endpoint}`,
  );
  const results: ModeResult[] = [];
  try {
    for (const { mode } of MODES) {
      results.push(
        await runMode(platform, mode, trace, { restartTokenExchange: mode === 'interceptors-off' }),
      );
    }
  } finally {
    await platform.close();
  }
  console.log('\nsummary');
  for (const r of results) {
    const label = MODES.find((m) => m.mode === r.mode)!.label;
    console.log(`  mode ${label.padEnd(42)} ${r.pass ? 'PASS' : 'FAIL'}`);
  }
  return results.length === MODES.length && results.every((r) => r.pass) ? 0 : 1;
}

/** `--keep [--mode M]`: leave one topology running (saga route tagged) for vmctl, until Ctrl-C. */
async function keep(mode: (typeof MODES)[number]['mode']): Promise<number> {
  const trace = new Trace((line) => console.log(line));
  const platform = await startPlatform();
  const topology = await startTopology(platform, mode, trace);
  await topology.tagSagaRoute(true);
  writeState({ mode, gatewayUrl: topology.gatewayUrl, authUrl: platform.auth.url });
  console.log(`
demo topology (mode ${mode}) is running; gateway ingress ${topology.gatewayUrl}
  npm run vmctl -- login --user cloud-teleport-aleksander.rykalin
  npm run vmctl -- namespace create demo --cluster cl0
  npm run vmctl -- namespace get <id>
Ctrl-C stops everything.
`);
  await new Promise((resolve) => process.once('SIGINT', resolve).once('SIGTERM', resolve));
  await topology.close();
  await platform.close();
  return 0;
}

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    keep: { type: 'boolean', default: false },
    mode: { type: 'string', default: 'exchange' },
  },
});
const chosen = MODES.find((m) => m.mode === values.mode)?.mode;
process.exitCode = await (values.keep && chosen ? keep(chosen) : main()).catch((err: unknown) => {
  console.error(`demo failed: ${(err as Error).stack ?? String(err)}`);
  return 1;
});
