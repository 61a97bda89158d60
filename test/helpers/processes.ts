import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

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

/**
 * Processes alive in a process group (Linux /proc): a child spawned with `detached: true` leads a
 * group of its own, and everything it starts stays in it unless it asks otherwise. Empty after
 * the leader exited means nothing it started was left behind.
 */
export function processesInGroup(pgid: number): { pid: number; command: string }[] {
  const found: { pid: number; command: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited while we looked
    }
    // pid (comm) state ppid pgrp …: comm may hold spaces and parentheses, so split after the last ')'.
    const close = stat.lastIndexOf(')');
    const [state, , pgrp] = stat.slice(close + 2).split(' ');
    if (Number(pgrp) !== pgid || state === 'Z') continue;
    found.push({ pid: Number(entry), command: stat.slice(stat.indexOf('(') + 1, close) });
  }
  return found;
}
