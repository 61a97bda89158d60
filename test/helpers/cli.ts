import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { captureChildOutput, runLogSink } from './run-logs.js';
import { ROOT } from './tools.js';

/*
 * The CLI as a real process. bin/jwtexchange.js runs the compiled dist/, which may be stale or
 * absent in a test run, so the CLI is started from source: `node --import tsx -e <import
 * src/cli/main.ts and run main>` — exactly main() with process.argv, without a prior build.
 */
const ENTRY =
  "import { main } from './src/cli/main.ts'; process.exitCode = await main(process.argv.slice(1));";

/**
 * Starts the CLI. Its stderr (logs and errors) goes to the run's log folder for the leak check;
 * stdout is a command's answer and may rightly hold a token (`token --raw`, `dev-token`).
 */
export function cli(args: string[], env: NodeJS.ProcessEnv = {}, stdin = false): ChildProcess {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', ENTRY, '--', ...args],
    {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: [stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    },
  );
  captureChildOutput(child, `cli-${args[0] ?? 'none'}`, ['stderr']);
  return child;
}

/** Runs the CLI to completion; `input`, when given, is written to its standard input. */
export function runCli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  input?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = cli(args, env, input !== undefined);
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
  const jwtx = `jwtexchange() { node --import tsx --input-type=module -e "${ENTRY}" -- "$@"; }`;
  const script = `${jwtx}\n${command.replace(/npx jwtexchange/g, 'jwtexchange')}`;
  return new Promise((resolve) => {
    execFile('bash', ['-c', script], { cwd: ROOT }, (err, stdout, stderr) => {
      runLogSink('cli-printed')(stderr);
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}
