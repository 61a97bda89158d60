/**
 * `npm run stress -- [--runs N] [--hogs N] [--churn-rate N] [-- vitest args]`: runs the vitest
 * suite N times in a row next to a competing load, and prints one line per run and a summary.
 *
 * The load is what made the suite flaky on busy machines: CPU hogs (more busy-loop processes than
 * cores) and a process churning outgoing loopback TCP connections (many short connect/close per
 * second to a local listener), which takes ephemeral ports from under anything that releases a
 * port and expects it to be free a moment later. Exits 1 if any run failed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CHURN = path.join(ROOT, 'scripts', 'stress-churn.ts');

const USAGE = `usage: npm run stress -- [--runs N] [--hogs N] [--churn-rate N] [--listen-rate N] [-- vitest args]
  --runs N          suite runs, one after the other (default 3)
  --hogs N          busy-loop processes (default: twice the cores, ${os.cpus().length * 2} here)
  --churn-rate N    loopback connections opened and closed per second (default 300)
  --listen-rate N   port-0 listeners opened per second, each held 1 s (default 100)
  vitest args       e.g. a test file, to stress one file instead of the whole suite`;

interface RunResult {
  readonly run: number;
  readonly ok: boolean;
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
  readonly seconds: number;
  readonly load: { mean: number; max: number };
  readonly failures: string[];
  readonly log: string;
}

interface VitestJson {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  testResults: {
    name: string;
    status: string;
    message?: string;
    assertionResults: { fullName: string; status: string }[];
  }[];
}

function startHogs(n: number): ChildProcess[] {
  return Array.from({ length: n }, () =>
    spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }),
  );
}

interface Churn {
  readonly child: ChildProcess;
  /** Connections and listeners opened so far. */
  counts(): [number, number];
}

function startChurn(connectRate: number, listenRate: number): Churn {
  let counts: [number, number] = [0, 0];
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', CHURN, String(connectRate), String(listenRate)],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  child.stdout!.on('data', (d: Buffer) => {
    const last = d.toString().trim().split('\n').at(-1);
    if (last) counts = last.split(' ').map(Number) as [number, number];
  });
  return { child, counts: () => counts };
}

/** Samples the 1-minute load average every 5 s while a run lasts. */
function sampleLoad(): () => { mean: number; max: number } {
  const samples = [os.loadavg()[0]!];
  const timer = setInterval(() => samples.push(os.loadavg()[0]!), 5_000);
  return () => {
    clearInterval(timer);
    const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
    return { mean, max: Math.max(...samples) };
  };
}

function failuresOf(report: VitestJson): string[] {
  const out: string[] = [];
  for (const file of report.testResults) {
    const rel = path.relative(ROOT, file.name);
    const failed = file.assertionResults.filter((a) => a.status === 'failed');
    for (const a of failed) out.push(`${rel} > ${a.fullName}`);
    if (file.status === 'failed' && failed.length === 0) {
      out.push(`${rel} (file failed: ${(file.message ?? '').split('\n')[0]})`);
    }
  }
  return out;
}

async function runSuite(run: number, dir: string, vitestArgs: string[]): Promise<RunResult> {
  const json = path.join(dir, `run-${run}.json`);
  const log = path.join(dir, `run-${run}.log`);
  const started = Date.now();
  const load = sampleLoad();
  const child = spawn(
    process.execPath,
    [
      path.join(ROOT, 'node_modules', 'vitest', 'vitest.mjs'),
      'run',
      '--reporter=default',
      '--reporter=json',
      `--outputFile.json=${json}`,
      ...vitestArgs,
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CI: '1' } },
  );
  // Streamed, so a long run can be followed with tail -f.
  const out = createWriteStream(log);
  child.stdout!.pipe(out, { end: false });
  child.stderr!.pipe(out, { end: false });
  const code = await new Promise<number>((r) => child.once('close', (c) => r(c ?? 1)));
  await new Promise((r) => out.end(r));
  const seconds = (Date.now() - started) / 1000;
  let report: VitestJson | undefined;
  try {
    report = JSON.parse(readFileSync(json, 'utf8')) as VitestJson;
  } catch {
    // vitest died before writing its report: the run failed, the log says why
  }
  return {
    run,
    ok: code === 0 && report !== undefined,
    passed: report?.numPassedTests ?? 0,
    failed: report?.numFailedTests ?? 0,
    skipped: (report?.numPendingTests ?? 0) + (report?.numTodoTests ?? 0),
    seconds,
    load: load(),
    failures: report ? failuresOf(report) : [`vitest exited ${code} without a report`],
    log,
  };
}

function line(r: RunResult): string {
  const cells = [
    `run ${r.run}`,
    r.ok ? 'PASS' : 'FAIL',
    `${r.passed} passed`,
    `${r.failed} failed`,
    `${r.skipped} skipped`,
    `${r.seconds.toFixed(0)} s`,
    `load avg ${r.load.mean.toFixed(1)} (max ${r.load.max.toFixed(1)})`,
  ];
  return cells.join(' | ');
}

async function main(argv: string[]): Promise<number> {
  const split = argv.indexOf('--');
  const own = split === -1 ? argv : argv.slice(0, split);
  const vitestArgs = split === -1 ? [] : argv.slice(split + 1);
  const { values } = parseArgs({
    args: own,
    options: {
      runs: { type: 'string', default: '3' },
      hogs: { type: 'string', default: String(os.cpus().length * 2) },
      'churn-rate': { type: 'string', default: '300' },
      'listen-rate': { type: 'string', default: '100' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const [runs, hogs, rate, listenRate] = [
    values.runs,
    values.hogs,
    values['churn-rate'],
    values['listen-rate'],
  ].map(Number);
  if (![runs, hogs, rate, listenRate].every((n) => Number.isInteger(n) && n! >= 0) || runs! < 1) {
    console.error(USAGE);
    return 2;
  }
  const dir = path.join(os.tmpdir(), `jwtx-stress-${Date.now()}`);
  mkdirSync(dir, { recursive: true });
  console.log(
    `stress: ${runs} run(s) of vitest ${vitestArgs.join(' ') || '(whole suite)'} on ${os.cpus().length} CPUs` +
      ` next to ${hogs} CPU hog(s), ${rate} loopback connections/s and ${listenRate} port-0 listeners/s;` +
      ` logs in ${dir}`,
  );
  const hogProcs = startHogs(hogs!);
  const churn = rate! + listenRate! > 0 ? startChurn(rate!, listenRate!) : undefined;
  const stopLoad = () => [...hogProcs, ...(churn ? [churn.child] : [])].forEach((c) => c.kill());
  process.once('exit', stopLoad);
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => process.exit(130));
  const results: RunResult[] = [];
  const startedAt = Date.now();
  try {
    for (let run = 1; run <= runs!; run++) {
      const r = await runSuite(run, dir, vitestArgs);
      results.push(r);
      console.log(line(r));
      for (const f of r.failures) console.log(`    failed: ${f}`);
    }
  } finally {
    stopLoad();
  }
  const [churned, listened] = churn?.counts() ?? [0, 0];
  const elapsed = (Date.now() - startedAt) / 1000;
  const failedRuns = results.filter((r) => !r.ok).length;
  console.log(
    `summary: ${results.length - failedRuns}/${results.length} runs passed` +
      ` · ${results.reduce((a, r) => a + r.passed, 0)} tests passed, ${results.reduce((a, r) => a + r.failed, 0)} failed` +
      ` · ${hogs} hogs · ${churned} loopback connections (${(churned / elapsed).toFixed(0)}/s)` +
      ` and ${listened} port-0 listeners (${(listened / elapsed).toFixed(0)}/s) churned`,
  );
  return failedRuns === 0 ? 0 : 1;
}

process.exitCode = await main(process.argv.slice(2));
