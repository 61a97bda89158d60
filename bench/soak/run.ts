/**
 * `npm run soak -- --minutes N`: fixed-rate traffic through real Envoys into two real sidecar
 * processes (users with a new token each into the gateway; sagas out of it to vmcontroller)
 * while token-exchange restarts, its signing keys rotate and the gateway's client certificate is
 * renewed. Ends with one summary line; exits 1 on any unexpected answer or when the gateway
 * sidecar's RSS grows past the bound. docs/reliability.md explains it and holds the figures.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { killLiveChildren } from '../lib/child.js';
import { RESULTS_DIR } from '../lib/paths.js';
import { ProcessMonitor } from './monitor.js';
import { openLoop } from './open-loop.js';
import { parseSoakOptions, USAGE, type SoakOptions } from './options.js';
import { startPlatform, type SoakPlatform } from './platform.js';
import { startTopology, type SoakTopology } from './topology.js';
import { closeClients, sagaRequest, Tally, userRequest } from './traffic.js';

const MiB = 1024 * 1024;

interface Events {
  restarts: number[];
  renewals: string[];
  kids: Set<string>;
  errors: string[];
}

/** Runs `fn` at (k + ½)·duration/count for k < count, one at a time; errors are recorded. */
function spread(count: number, durationMs: number, events: Events, fn: () => Promise<void>) {
  const timers = Array.from({ length: count }, (_, k) =>
    setTimeout(
      () => void fn().catch((e: Error) => events.errors.push(e.message)),
      ((k + 0.5) * durationMs) / count,
    ),
  );
  return () => timers.forEach(clearTimeout);
}

function scheduleEvents(
  p: SoakPlatform,
  durationMs: number,
  events: Events,
  noFaults: boolean,
): () => void {
  const minutes = durationMs / 60_000;
  const stops = noFaults
    ? []
    : [
        spread(Math.max(1, Math.round(minutes / 2)), durationMs, events, async () => {
          events.restarts.push(await p.restartTokenExchange());
        }),
        spread(Math.max(1, Math.round(minutes / 3)), durationMs * 0.9, events, async () => {
          events.renewals.push(await p.renewGatewayCertificate());
        }),
      ];
  const poll = setInterval(
    () =>
      void p.publishedKids().then(
        (ks) => ks.forEach((k) => events.kids.add(k)),
        () => undefined,
      ),
    5_000,
  );
  return () => {
    stops.forEach((s) => s());
    clearInterval(poll);
  };
}

/** Renewed certificates the gateway sidecar logged as loaded (it re-reads on its next exchange). */
function pickedUp(logFile: string, serials: readonly string[]): number {
  const loaded = readFileSync(logFile, 'utf8')
    .split('\n')
    .filter((l) => l.includes('"msg":"client certificate loaded"'))
    .map((l) => String((JSON.parse(l) as { serial?: string }).serial).toLowerCase());
  return serials.filter((s) => loaded.includes(s)).length;
}

async function soak(o: SoakOptions, p: SoakPlatform, t: SoakTopology): Promise<number> {
  const durationMs = o.minutes * 60_000;
  // RSS "start" is taken once the verified-token cache (10 000 entries, one per user request)
  // has had time to fill, so what grows after it is not a bounded cache filling up.
  const warmupMs = Math.min(Math.max(20_000, (10_000 / o.rate + 10) * 1000), durationMs * 0.4);
  const startedAt = Date.now();
  const load = os.loadavg()[0]!;
  const gw = new ProcessMonitor(t.gateway);
  const vm = new ProcessMonitor(t.vmcontroller);
  gw.start();
  vm.start();
  const tally = new Tally();
  const events: Events = { restarts: [], renewals: [], kids: new Set(), errors: [] };
  const stopEvents = scheduleEvents(p, durationMs, events, o.noFaults);
  const rampMs = Math.min(20_000, warmupMs);
  const users = openLoop(
    o.rate,
    durationMs,
    (i, due) => userRequest(i, due, { port: t.ingressPort, auth: p.auth, tally }),
    rampMs,
  );
  const sagas = openLoop(
    o.sagaRate,
    durationMs,
    (i, due) => sagaRequest(i, due, { port: t.egressPort, tally }),
    rampMs,
  );
  process.stderr.write(
    `soak: ${o.minutes} min at ${o.rate} user/s + ${o.sagaRate} saga/s, ext_authz over ${o.transport}\n`,
  );
  const start = await new Promise<[number, number]>((resolve, reject) =>
    setTimeout(
      () =>
        void Promise.all([gw.sample(), vm.sample()]).then(
          ([g, v]) => resolve([g.rssBytes, v.rssBytes]),
          reject,
        ),
      warmupMs,
    ),
  );
  await Promise.all([users.done, sagas.done]);
  stopEvents();
  gw.stop();
  vm.stop();
  const [gEnd, vEnd] = [(await gw.sample()).rssBytes, (await vm.sample()).rssBytes];

  const lag = gw.lagP99Ms(startedAt + warmupMs);
  for (const e of tally.examples) process.stderr.write(`unexpected: ${e}\n`);
  writeFileSync(path.join(RESULTS_DIR, 'soak-envoy-stats.txt'), await t.envoyStats());
  writeFileSync(
    path.join(RESULTS_DIR, 'soak-samples.json'),
    JSON.stringify({
      gateway: gw.samples,
      vmcontroller: vm.samples,
      unexpectedAt: tally.unexpectedAt,
      examples: tally.examples,
    }),
  );
  for (const e of events.errors) process.stderr.write(`event failed: ${e}\n`);
  const growthMiB = (gEnd - start[0]) / MiB;
  const pass = tally.unexpected === 0 && growthMiB <= o.rssGrowthMiB && events.errors.length === 0;
  const mib = (b: number) => (b / MiB).toFixed(1);
  const c = tally.counts;
  console.log(
    [
      `soak ${o.minutes} min (${o.transport}): requests ${tally.total} (user ${c.user + c.outsider}, saga ${c.saga})`,
      `unexpected ${tally.unexpected}`,
      `p99 ${tally.latency.percentile(99).toFixed(1)} ms (p50 ${tally.latency.percentile(50).toFixed(1)}, max ${tally.latency.percentile(100).toFixed(0)})`,
      `gateway sidecar RSS ${mib(start[0])} → ${mib(gEnd)} MiB (bound +${o.rssGrowthMiB})`,
      `vmcontroller sidecar RSS ${mib(start[1])} → ${mib(vEnd)} MiB`,
      `event-loop lag p99 ${lag.median.toFixed(1)} ms (median 5 s window after warm-up; worst ${lag.worst.toFixed(1)})`,
      `token-exchange restarts ${events.restarts.length} (down ${Math.max(0, ...events.restarts)} ms max)`,
      `signing keys seen ${events.kids.size}`,
      `cert renewals ${events.renewals.length} (picked up ${pickedUp(t.gateway.logFile, events.renewals)})`,
      `generator late ${users.late() + sagas.late()}`,
      `load ${load.toFixed(1)} → ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} CPUs`,
      pass ? 'PASS' : 'FAIL',
    ].join(' · '),
  );
  return pass ? 0 : 1;
}

/** Stops whatever has been started; set while the soak runs, so a signal can use it too. */
let cleanup: () => Promise<void> = async () => undefined;

async function main(argv: string[]): Promise<number> {
  let options: SoakOptions | undefined;
  try {
    options = parseSoakOptions(argv);
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (!options) {
    console.log(USAGE);
    return 0;
  }
  mkdirSync(RESULTS_DIR, { recursive: true });
  const work = mkdtempSync(path.join(os.tmpdir(), 'jwtx-soak-'));
  let platform: SoakPlatform | undefined;
  let topology: SoakTopology | undefined;
  cleanup = async () => {
    closeClients();
    await topology?.close();
    await platform?.close();
    rmSync(work, { recursive: true, force: true });
  };
  try {
    platform = await startPlatform(work, RESULTS_DIR);
    topology = await startTopology(platform, work, RESULTS_DIR, options.transport);
    return await soak(options, platform, topology);
  } finally {
    await cleanup();
  }
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(`soak: ${signal}, stopping everything\n`);
    void cleanup()
      .catch(() => killLiveChildren())
      .finally(() => process.exit(130));
  });
}
process.exitCode = await main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(`soak failed: ${(err as Error).stack ?? String(err)}`);
  killLiveChildren();
  return 1;
});
