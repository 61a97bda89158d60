/**
 * `npm run demo`: the users' scenario on loopback, both pipeline modes, real Envoys, real SpiceDB,
 * the project's token-exchange. Prints a trace and one summary line per mode; exits 1 on any FAIL.
 * Needs the tools from `npm run setup` (Envoy, SpiceDB).
 */
import { parseArgs } from 'node:util';
import { keepBanner } from './banner.js';
import { runDelegation } from './delegation.js';
import { startPlatform } from './platform.js';
import { runMode, type ModeResult } from './scenario.js';
import { writeState } from './state.js';
import { startTopology } from './topology.js';
import { Trace } from './trace.js';

/** Ctrl-C or SIGTERM while the demo runs: exit now; the helpers kill Envoy and SpiceDB on exit. */
const interrupted = () => {
  console.error('demo interrupted: stopping everything it started');
  process.exit(130);
};
process.once('SIGINT', interrupted).once('SIGTERM', interrupted);

const MODES = [
  { mode: 'exchange', label: 'A: token exchange from auth.service' },
  { mode: 'interceptors-off', label: 'B: auth.service interceptors disabled' },
] as const;
const DELEGATION_LABEL = 'B: saga delegation (acts for the user)';

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
    results.push(await runDelegation(platform, trace));
  } finally {
    await platform.close();
  }
  trace.flush();
  console.log('\nsummary');
  for (const r of results) {
    const label = r.delegation ? DELEGATION_LABEL : MODES.find((m) => m.mode === r.mode)!.label;
    console.log(`  mode ${label.padEnd(42)} ${r.pass ? 'PASS' : 'FAIL'}`);
  }
  return results.length === MODES.length + 1 && results.every((r) => r.pass) ? 0 : 1;
}

/**
 * `--keep [--mode M] [--delegation]`: leave one topology running (saga route tagged) for vmctl,
 * until Ctrl-C. `--delegation` (mode B) runs sagas with delegated tokens.
 */
async function keep(mode: (typeof MODES)[number]['mode'], delegation: boolean): Promise<number> {
  const trace = new Trace((line) => console.log(line));
  const platform = await startPlatform();
  try {
    const topology = await startTopology(platform, mode, trace, { delegation });
    try {
      await topology.tagSagaRoute(true);
      writeState({
        mode,
        gatewayUrl: topology.gatewayUrl,
        authUrl: platform.auth.url,
        sidecars: topology.sidecars,
      });
      trace.flush();
      console.log(keepBanner(topology));
      // From here a signal stops the topology gracefully instead.
      process.off('SIGINT', interrupted).off('SIGTERM', interrupted);
      await new Promise((resolve) => process.once('SIGINT', resolve).once('SIGTERM', resolve));
    } finally {
      await topology.close();
    }
  } finally {
    await platform.close();
  }
  return 0;
}

const HELP = `usage: npm run demo [-- --keep [--mode exchange|interceptors-off | --delegation]]

Runs the users' scenario on loopback with real Envoys, SpiceDB and token-exchange: the saga's
call fails on the untagged route, then succeeds once the route is tagged, in both pipeline modes
(exchange: token exchange from auth.service; interceptors-off: the sidecar checks SpiceDB), then
mode B with saga-delegated tokens (the saga acts for the user who started it, docs/delegation.md).
Prints a trace and one PASS/FAIL line per run; exits 1 on any FAIL. Needs \`npm run setup\`.
  --keep        leave one topology running (saga route tagged) for vmctl and jwtexchange check;
                prints the gateway's address and the sidecars' ext_authz addresses
  --mode M      the pipeline mode for --keep (default exchange)
  --delegation  with --keep: mode B with saga-delegated tokens`;

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    keep: { type: 'boolean', default: false },
    mode: { type: 'string', default: 'exchange' },
    delegation: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
const chosen = values.delegation
  ? 'interceptors-off'
  : MODES.find((m) => m.mode === values.mode)?.mode;
if (values.help) {
  console.log(HELP);
} else if (!chosen) {
  console.error(`unknown --mode ${JSON.stringify(values.mode)}\n\n${HELP}`);
  process.exitCode = 2;
} else {
  // Whatever fails, everything started has been stopped by now, so the process exits by itself.
  process.exitCode = await (values.keep ? keep(chosen, values.delegation) : main()).catch(
    (err: unknown) => {
      console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
      return 1;
    },
  );
}
