import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { PLANTED, type Secret } from './run-logs.js';

/** One secret found in one log file; never carries the secret itself (the report is printed). */
export interface Leak {
  readonly file: string;
  readonly line: number;
  readonly what: string;
}

export interface ScanResult {
  readonly files: number;
  readonly bytes: number;
  readonly secrets: number;
  readonly leaks: readonly Leak[];
}

export const plantedSecrets = (): Secret[] =>
  Object.entries(PLANTED).map(([what, value]) => ({
    kind: 'text',
    what: `planted ${what}`,
    value,
  }));

/** The secrets helpers recorded during the run, plus the planted ones. */
export function readSecrets(dir: string): Secret[] {
  const byValue = new Map(plantedSecrets().map((s) => [s.value, s]));
  const folder = path.join(dir, 'secrets');
  if (!existsSync(folder)) return [...byValue.values()];
  for (const f of readdirSync(folder)) {
    for (const line of readFileSync(path.join(folder, f), 'utf8').split('\n')) {
      if (!line) continue;
      const s = JSON.parse(line) as Secret;
      if (!byValue.has(s.value)) byValue.set(s.value, s);
    }
  }
  return [...byValue.values()];
}

const RUN = /[A-Za-z0-9_-]{16,}/g;

/**
 * The secrets that occur in `text`: `run` secrets as a whole base64url run (one pass collects the
 * runs into a set, so thousands of tokens cost one scan), `text` secrets as any substring.
 */
export function findSecrets(text: string, secrets: readonly Secret[]): Secret[] {
  const runs = new Set(text.match(RUN));
  return secrets.filter((s) => (s.kind === 'run' ? runs.has(s.value) : text.includes(s.value)));
}

function lineOf(text: string, value: string): number {
  const at = text.indexOf(value);
  return at === -1 ? 0 : text.slice(0, at).split('\n').length;
}

/** Every *.log file of a run's log folder checked against every recorded and planted secret. */
export function scanRunLogs(dir: string): ScanResult {
  const secrets = readSecrets(dir);
  const leaks: Leak[] = [];
  let files = 0;
  let bytes = 0;
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.log'))) {
    const text = readFileSync(path.join(dir, f), 'utf8');
    files++;
    bytes += text.length;
    for (const s of findSecrets(text, secrets)) {
      leaks.push({ file: f, line: lineOf(text, s.value), what: s.what });
    }
  }
  return { files, bytes, secrets: secrets.length, leaks };
}
