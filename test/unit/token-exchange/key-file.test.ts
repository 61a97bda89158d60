import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SignJWT, jwtVerify, createLocalJWKSet } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../helpers/manual-time.js';
import { readKeyState, writeKeyState } from '../../../src/token-exchange/key-file.js';
import { KeyStore } from '../../../src/token-exchange/key-store.js';

const dir = mkdtempSync(path.join(tmpdir(), 'jwtx-keyfile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const HOUR = 3_600_000;

function persisted(file: string, clock: ManualClock): KeyStore {
  return new KeyStore({
    clock,
    rotateEverySeconds: 3600,
    publishAheadSeconds: 600,
    retainSeconds: 900,
    state: readKeyState(file),
    onChange: (s) => writeKeyState(file, s),
  });
}

describe('key state file', () => {
  it('lets a new process sign with the same key and publish the same key set', async () => {
    const file = path.join(dir, 'keys.json');
    const clock = new ManualClock();
    const first = persisted(file, clock);
    const key = first.signingKey();
    clock.advance(HOUR); // rotate: the first key is now retired but still published
    first.signingKey();
    const token = await new SignJWT({ sub: 'gateway' })
      .setProtectedHeader({ alg: 'ES256', kid: key.kid })
      .sign(key.privateKey);

    const second = persisted(file, clock);
    expect(second.jwks()).toEqual(first.jwks());
    expect(second.signingKey().kid).toBe(first.signingKey().kid);
    await expect(jwtVerify(token, createLocalJWKSet(second.jwks()))).resolves.toBeDefined();
  });

  it('is written atomically with mode 0600 and holds the private key only for signing keys', () => {
    const file = path.join(dir, 'keys-mode.json');
    persisted(file, new ManualClock()).signingKey();
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const saved = JSON.parse(readFileSync(file, 'utf8')) as {
      version: number;
      active: { privateJwk: { d?: string } };
    };
    expect(saved.version).toBe(1);
    expect(typeof saved.active.privateJwk.d).toBe('string');
  });

  it('is absent before the first write, and a damaged file is an error, not new keys', () => {
    expect(readKeyState(path.join(dir, 'none.json'))).toBeUndefined();
    const bad = path.join(dir, 'bad.json');
    writeFileSync(bad, '{"version":1,"active":{}}');
    expect(() => readKeyState(bad)).toThrow(/not a key state written by token-exchange/);
    writeFileSync(bad, 'not json');
    expect(() => readKeyState(bad)).toThrow(/cannot be read as JSON/);
  });
});
