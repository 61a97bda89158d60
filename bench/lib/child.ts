import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { unlessExited as unlessExitedWithOutput } from '../../test/helpers/processes.js';

const live = new Set<ChildProcess>();

/** Kills every child still running (on Ctrl-C or a crash of the orchestrator: no orphans). */
export function killLiveChildren(): void {
  for (const child of live) child.kill('SIGKILL');
}

/**
 * `taskset -c <cpus>` in front of a command when cpus is set: the process (and its threads and
 * children) may run only on those CPUs. taskset execs the command, so the pid is the command's.
 */
export function pinned(command: string, args: readonly string[], cpus: string | undefined) {
  return cpus === undefined
    ? { command, args: [...args] }
    : { command: 'taskset', args: ['-c', cpus, command, ...args] };
}

/** A node child process whose stdout and stderr go to a log file (kept for post-mortems). */
export function spawnLogged(
  args: readonly string[],
  logFile: string,
  options: { ipc?: boolean; env?: NodeJS.ProcessEnv; cpus?: string } = {},
): ChildProcess {
  const fd = openSync(logFile, 'w');
  const stdio: StdioOptions = options.ipc ? ['ignore', fd, fd, 'ipc'] : ['ignore', fd, fd];
  try {
    const cmd = pinned(process.execPath, args, options.cpus);
    const child = spawn(cmd.command, cmd.args, { stdio, env: options.env ?? process.env });
    live.add(child);
    child.once('exit', () => live.delete(child));
    return child;
  } finally {
    closeSync(fd);
  }
}

/** Last lines of a log file, for error messages when a child fails to start. */
export function logTail(logFile: string, lines = 15): string {
  try {
    return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Rejects if the child exits before `ready` settles (its output is in its log file). */
export function unlessExited<T>(child: ChildProcess, what: string, ready: Promise<T>): Promise<T> {
  return unlessExitedWithOutput(child, what, () => '(see its log)', ready);
}

/** SIGTERM (graceful: lets --cpu-prof write its profile), SIGKILL after timeoutMs. */
export function stopChild(child: ChildProcess, timeoutMs = 15_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
