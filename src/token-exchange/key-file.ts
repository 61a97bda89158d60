import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import * as z from 'zod';
import type { KeyStoreState } from './key-store.js';

/**
 * Persists the signing keys (keys.stateFile) so a restarted token-exchange keeps signing with,
 * and publishing, the keys of the tokens already out there. The file holds private keys: it is
 * written with mode 0600, atomically (temp file + rename), and never logged.
 */
const ecPrivate = z.looseObject({
  kty: z.literal('EC'),
  crv: z.literal('P-256'),
  x: z.string(),
  y: z.string(),
  d: z.string(),
});
const ecPublic = z.looseObject({
  kty: z.literal('EC'),
  crv: z.literal('P-256'),
  x: z.string(),
  y: z.string(),
});
const signing = z.object({ privateJwk: ecPrivate, activeFrom: z.number() });
const stateSchema = z.object({
  version: z.literal(1),
  active: signing,
  next: signing.extend({ publishedAt: z.number().optional() }).optional(),
  retired: z.array(z.object({ publicJwk: ecPublic, until: z.number() })),
});

/** The saved state, or undefined if the file does not exist yet. Throws on a damaged file. */
export function readKeyState(file: string): KeyStoreState | undefined {
  if (!existsSync(file)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`keys.stateFile ${file} cannot be read as JSON: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const result = stateSchema.safeParse(parsed);
  if (!result.success) {
    throw new Error(`keys.stateFile ${file} is not a key state written by token-exchange`);
  }
  const { active, next, retired } = result.data;
  return { active, retired, ...(next ? { next } : {}) };
}

export function writeKeyState(file: string, state: KeyStoreState): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify({ version: 1, ...state }), { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}
