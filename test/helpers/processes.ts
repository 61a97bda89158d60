import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/**
 * Kills the child (SIGKILL) if this process exits first, so a crashed test run leaves nothing
 * behind; resolves once the child has exited.
 */
export function reapOnExit(child: ChildProcess): Promise<void> {
  const reap = () => child.kill('SIGKILL');
  process.once('exit', reap);
  return new Promise<void>((r) =>
    child.once('exit', () => {
      process.off('exit', reap);
      r();
    }),
  );
}

/**
 * Resolves `ready`, unless the child exits first: then rejects at once with what it printed, so
 * a crashed start fails the test now instead of at the end of a wait.
 */
export function unlessExited<T>(
  child: ChildProcess,
  what: string,
  output: () => string,
  ready: Promise<T>,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onExit = (code: number | null, signal: string | null) =>
      reject(new Error(`${what} exited (code ${code}, signal ${signal}):\n${output()}`));
    if (child.exitCode !== null || child.signalCode !== null) {
      ready.catch(() => undefined);
      onExit(child.exitCode, child.signalCode);
      return;
    }
    child.once('exit', onExit);
    ready.then(
      (v) => {
        child.off('exit', onExit);
        resolve(v);
      },
      (err: unknown) => {
        child.off('exit', onExit);
        reject(err as Error);
      },
    );
  });
}

/** Resolves with the exit code (or the signal's name) once the child has exited. */
export function exitOf(child: ChildProcess): Promise<number | string> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  if (child.signalCode !== null) return Promise.resolve(child.signalCode);
  return new Promise((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
}

function statText(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined; // exited while we looked
  }
}

/** pid (comm) state ppid pgrp …: comm may hold spaces and parentheses, so split after the last ')'. */
const fieldsOf = (text: string) => text.slice(text.lastIndexOf(')') + 2).split(' ');

/** The fields of /proc/PID/stat after `(comm)`, or undefined once the process is gone. */
export function procStat(pid: number): string[] | undefined {
  const text = statText(pid);
  return text === undefined ? undefined : fieldsOf(text);
}

const PIDS = /^\d+$/;

/**
 * Processes alive in a process group (Linux /proc): a child spawned with `detached: true` leads a
 * group of its own, and everything it starts stays in it unless it asks otherwise. Empty after
 * the leader exited means nothing it started was left behind.
 */
export function processesInGroup(pgid: number): { pid: number; command: string }[] {
  const found: { pid: number; command: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!PIDS.test(entry)) continue;
    const text = statText(Number(entry));
    if (text === undefined) continue;
    const [state, , pgrp] = fieldsOf(text);
    if (Number(pgrp) !== pgid || state === 'Z') continue;
    found.push({
      pid: Number(entry),
      command: text.slice(text.indexOf('(') + 1, text.lastIndexOf(')')),
    });
  }
  return found;
}

/** The process and every descendant (the workers of `server.workers` > 1), by parent ids. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!PIDS.test(entry)) continue;
    const ppid = Number(procStat(Number(entry))?.[1]);
    if (!children.has(ppid)) children.set(ppid, []);
    children.get(ppid)!.push(Number(entry));
  }
  const out: number[] = [];
  const visit = (pid: number) => {
    out.push(pid);
    for (const c of children.get(pid) ?? []) visit(c);
  };
  visit(root);
  return out;
}

export interface Finished {
  /** Exit code, or the signal's name. */
  readonly code: number | string;
  readonly stdout: string;
  readonly stderr: string;
  /** Processes of the child's group still alive after it exited (should be none). */
  readonly leftBehind: { pid: number; command: string }[];
}

/**
 * Waits for a child spawned with `detached: true` (and piped stdout/stderr) to exit by itself.
 * The deadline is generous: it turns a hang into a failure, it does not time anything. On a hang
 * the whole group is killed and the error says what the child printed.
 */
export async function finished(child: ChildProcess, deadlineMs = 90_000): Promise<Finished> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const closed = new Promise<void>((r) => child.once('close', () => r()));
  // If the test run ends first (a test timeout), the group must not outlive it.
  const reap = () => killGroup(child.pid!);
  process.once('exit', reap);
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<'hung'>((r) => (timer = setTimeout(() => r('hung'), deadlineMs)));
  const code = await Promise.race([exitOf(child), hung]);
  clearTimeout(timer);
  process.off('exit', reap);
  if (code === 'hung') {
    killGroup(child.pid!);
    throw new Error(
      `still running after ${deadlineMs} ms (killed):\nstdout: ${stdout}\nstderr: ${stderr}`,
    );
  }
  await closed; // all output read
  const leftBehind = processesInGroup(child.pid!);
  killGroup(child.pid!); // never leave them running, even when the test then fails
  return { code, stdout, stderr, leftBehind };
}

function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // nothing left in the group
  }
}
