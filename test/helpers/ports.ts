import { randomInt } from 'node:crypto';
import {
  closeSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

/*
 * Ports for processes that cannot bind port 0 and report what they bound, or that must come back
 * on the same port after a restart. Never "bind 0, close, hand the number over": that number is
 * from the kernel's ephemeral range, and any outgoing connection on the machine may take it
 * before the child binds it. A reserved port comes from below that range (the kernel never picks
 * it on its own) and is locked by a file under the temp dir, so parallel test runs of this
 * project never hand out the same one.
 */
const LOWEST = 20_000;
/**
 * The machine's temp dir, which a test run's global setup keeps here before it points TMPDIR at
 * the run's own folder: the locks must be seen by every run on the machine, not by one.
 */
export const SHARED_TMPDIR_ENV = 'JWTX_SHARED_TMPDIR';
const LOCK_DIR = path.join(process.env[SHARED_TMPDIR_ENV] ?? tmpdir(), 'jwtexchange-ports');
const held = new Set<number>();

/** The first port of the kernel's ephemeral range (connect() and bind(0) pick from there). */
export function ephemeralLow(): number {
  try {
    const low = Number(
      readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').split(/\s+/)[0],
    );
    if (Number.isInteger(low) && low > LOWEST + 1_000) return low;
  } catch {
    // not Linux: assume the IANA dynamic range
  }
  return 49_152;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Creates the lock file of a port; takes over a lock whose process is gone. */
function lock(port: number): boolean {
  const file = path.join(LOCK_DIR, String(port));
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      // An empty file is a lock being written right now: leave it alone.
      const owner = Number(readFileSync(file, 'utf8').trim() || '0');
      if (!(owner > 0) || alive(owner)) return false;
      try {
        unlinkSync(file);
      } catch {
        // another process took it over first
      }
    }
  }
  return false;
}

function unlock(port: number): void {
  held.delete(port);
  try {
    unlinkSync(path.join(LOCK_DIR, String(port)));
  } catch {
    // already gone
  }
}

process.once('exit', () => [...held].forEach(unlock));

/**
 * Removes the locks of processes that are gone (a test worker killed before its exit handler
 * ran), once per process, so they do not pile up under the temp dir.
 */
let swept = false;
function sweepStaleLocks(): void {
  if (swept) return;
  swept = true;
  for (const name of readdirSync(LOCK_DIR)) {
    try {
      const owner = Number(readFileSync(path.join(LOCK_DIR, name), 'utf8').trim() || '0');
      if (owner > 0 && !alive(owner)) unlinkSync(path.join(LOCK_DIR, name));
    } catch {
      // taken over or removed meanwhile
    }
  }
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen({ port, host: '127.0.0.1', exclusive: true }, () =>
      probe.close(() => resolve(true)),
    );
  });
}

export interface ReservedPort {
  readonly port: number;
  /** Gives the port back (also done when the process exits). */
  release(): void;
}

/**
 * A loopback port outside the kernel's ephemeral range, held for this process until release():
 * for a child that cannot report the port it bound (`spicedb serve`), or a server that must
 * restart on the same port (token-exchange's URL is its issuer).
 */
export async function reservePort(): Promise<ReservedPort> {
  mkdirSync(LOCK_DIR, { recursive: true });
  sweepStaleLocks();
  const high = ephemeralLow();
  for (let tries = 0; tries < 500; tries++) {
    const port = randomInt(LOWEST, high);
    if (held.has(port) || !lock(port)) continue;
    held.add(port);
    if (await bindable(port)) return { port, release: () => unlock(port) };
    unlock(port);
  }
  throw new Error(`no free port between ${LOWEST} and ${high} after 500 tries`);
}

/**
 * A reserved port (see reservePort) kept until the process exits. Prefer binding port 0 and
 * asking the process what it bound; use this only where that is impossible.
 */
export async function freePort(): Promise<number> {
  return (await reservePort()).port;
}

type Truthy<T> = Exclude<T, false | null | undefined | 0 | ''>;

/**
 * Waits until fn resolves truthy, polling; rejects with `what` after timeoutMs. The deadline is
 * patience, not a measurement: generous, so a busy machine only makes the wait longer.
 */
export async function waitFor<T>(
  fn: () => Promise<T> | T,
  what: string,
  timeoutMs = 60_000,
): Promise<Truthy<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as Truthy<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
