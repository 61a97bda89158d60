import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { waitFor } from './ports.js';
import { exitOf, unlessExited } from './processes.js';
import { captureChildOutput, runLogSink } from './run-logs.js';
import { ROOT } from './tools.js';

/*
 * The CLI as a real process. `npm test` builds first and sets JWTX_TEST_CLI=bundle: the tests then
 * run bin/jwtexchange.js, the one-file bundle that ships. A single test file run on its own
 * (`npx vitest run …`) may find dist/ stale or absent, so it starts the CLI from source:
 * `node --import tsx -e <import src/cli/main.ts and run main>` — exactly main() with process.argv.
 */
const ENTRY =
  "import { main } from './src/cli/main.ts'; process.exitCode = await main(process.argv.slice(1));";

const FROM_BUNDLE = process.env.JWTX_TEST_CLI === 'bundle';

/** node's arguments before the command's own. */
const CLI_ARGS = FROM_BUNDLE
  ? [path.join(ROOT, 'bin', 'jwtexchange.js')]
  : ['--import', 'tsx', '--input-type=module', '-e', ENTRY, '--'];

/**
 * The CLI as a child process. `stdin`: a pipe to write to (else ignored); `detached`: it leads a
 * process group of its own (see processesInGroup). Its stderr (logs and errors) goes to the run's
 * log folder for the leak check; stdout is a command's answer and may rightly hold a token
 * (`token --raw`, `dev-token`).
 */
export function cli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  options: { stdin?: boolean; detached?: boolean } = {},
): ChildProcess {
  const child = spawn(process.execPath, [...CLI_ARGS, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    detached: options.detached ?? false,
  });
  captureChildOutput(child, `cli-${args[0] ?? 'none'}`, ['stderr']);
  return child;
}

/** Runs the CLI to completion; `input`, when given, is written to its standard input. */
export function runCli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  input?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = cli(args, env, { stdin: input !== undefined });
  if (input !== undefined) child.stdin!.end(input);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) =>
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr })),
  );
}

/**
 * A command exactly as the project prints it (npm start, demo --keep, the docs), run by bash;
 * `npx jwtexchange` is this source tree's CLI (no build needed).
 */
export function runPrinted(
  command: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const jwtx = FROM_BUNDLE
    ? `jwtexchange() { node bin/jwtexchange.js "$@"; }`
    : `jwtexchange() { node --import tsx --input-type=module -e "${ENTRY}" -- "$@"; }`;
  const script = `${jwtx}\n${command.replace(/npx jwtexchange/g, 'jwtexchange')}`;
  return new Promise((resolve) => {
    execFile('bash', ['-c', script], { cwd: ROOT }, (err, stdout, stderr) => {
      runLogSink('cli-printed')(stderr);
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

export interface CliServer {
  readonly child: ChildProcess;
  /** What the command wrote to --addresses-file (e.g. grpc, http, url, metrics). */
  readonly addresses: Record<string, string>;
  /** stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code (or signal name) once the command has exited. */
  readonly exited: Promise<number | string>;
  /** SIGTERM, then waits for the exit; resolves with the exit code. */
  stop(): Promise<number | string>;
}

/**
 * Starts a serving command (`serve`, `sts`, `dev-auth serve`, `dev`) with --addresses-file and
 * resolves once it has written the addresses its listeners bound, so configs can say port 0.
 * Rejects at once if the command exits first.
 */
export async function startCliServer(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 60_000,
): Promise<CliServer> {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'jwtx-cli-')), 'addresses.json');
  const child = cli([...args, '--addresses-file', file], env);
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exit = exitOf(child);
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    return exit;
  };
  const written = waitFor(
    () =>
      existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>) : null,
    `jwtexchange ${args[0]} to write its addresses`,
    timeoutMs,
  );
  try {
    const addresses = await unlessExited(child, `jwtexchange ${args[0]}`, () => output, written);
    return { child, addresses, output: () => output, exited: exit, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
