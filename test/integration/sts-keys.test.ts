import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../helpers/manual-time.js';
import { httpRequest } from '../../src/net/http-client.js';
import { parseTokenExchangeConfig } from '../../src/token-exchange/config.js';
import { startTokenExchange } from '../../src/token-exchange/server.js';
import {
  postToken,
  startTestTokenExchange,
  type TestTokenExchange,
} from '../helpers/token-exchange.js';
import { testLogger } from '../helpers/run-logs.js';

const HOUR = 3_600_000;
const TTL_SECONDS = 300;

// Key rotation and restarts, over real mTLS, with time driven by a ManualClock.
describe('token-exchange signing keys', () => {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  let sts: TestTokenExchange;

  beforeAll(async () => {
    sts = await startTestTokenExchange({
      services: ['gateway', 'vmcontroller'],
      ttlSeconds: TTL_SECONDS,
      clock,
      extra: { keys: { rotateEverySeconds: 3600, publishAheadSeconds: 600 } },
    });
  });

  afterAll(() => sts?.close());

  const jwks = async (): Promise<JSONWebKeySet> => {
    const res = await httpRequest(sts.jwksUrl, {
      timeoutMs: 30_000,
      ca: readFileSync(sts.pki.caFile),
    });
    expect(res.status).toBe(200);
    return JSON.parse(res.body) as JSONWebKeySet;
  };
  const kids = async () => (await jwks()).keys.map((k) => k.kid);
  const issue = async () => {
    const res = await postToken(sts, 'gateway', {
      grant_type: 'client_credentials',
      audience: 'vmcontroller',
    });
    expect(res.status).toBe(200);
    return res.body.access_token as string;
  };
  const verifiesNow = async (token: string) => {
    const keys = createLocalJWKSet(await jwks());
    await jwtVerify(token, keys, { issuer: sts.issuer, currentDate: new Date(clock.now()) });
    return true;
  };

  it('publishes only public EC keys with kid, alg and use', async () => {
    const set = await jwks();
    expect(set.keys.length).toBeGreaterThan(0);
    for (const k of set.keys) {
      expect(k).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
      expect(k.d).toBeUndefined();
    }
  });

  it('rotates, announces the next key ahead, and keeps old keys until their tokens expired', async () => {
    const early = await issue();
    const firstKid = decodeProtectedHeader(early).kid!;
    expect(await kids()).toEqual([firstKid]);

    clock.advance(HOUR - 2 * 60_000); // inside the publish-ahead window (10 min)
    const announced = await kids();
    expect(announced).toHaveLength(2);

    clock.advance(2 * 60_000); // rotation due, but the next key was listed only 2 min ago
    expect(decodeProtectedHeader(await issue()).kid).toBe(firstKid);
    clock.advance(8 * 60_000 - 1_000);
    const lastOld = await issue(); // still signed by the first key
    expect(decodeProtectedHeader(lastOld).kid).toBe(firstKid);

    clock.advance(1_000); // listed for the whole publish-ahead window now: rotation
    const fresh = await issue();
    const secondKid = decodeProtectedHeader(fresh).kid!;
    expect(secondKid).not.toBe(firstKid);
    expect(announced).toContain(secondKid); // verifiers had it a full window before it signed
    expect(await kids()).toContain(firstKid);
    expect(await verifiesNow(lastOld)).toBe(true); // issued 1 s ago by the retired key: still valid

    clock.advance((TTL_SECONDS + 30 + 300) * 1000 + 1_000); // past retention
    expect(await kids()).not.toContain(firstKid);
    expect(await kids()).toContain(secondKid);
  });

  it('keeps issuing with and publishing the same keys after a restart on the same port', async () => {
    const before = await issue();
    const kidsBefore = await kids();
    const countBefore = sts.requestCount();
    await sts.stop();
    await expect(
      postToken(sts, 'gateway', { grant_type: 'client_credentials', audience: 'vmcontroller' }),
    ).rejects.toThrow(/ECONNREFUSED/);
    await sts.start();
    expect(await kids()).toEqual(kidsBefore);
    expect(await verifiesNow(before)).toBe(true);
    const after = await issue();
    expect(decodeProtectedHeader(after).kid).toBe(decodeProtectedHeader(before).kid);
    expect(sts.requestCount()).toBe(countBefore + 1);
  });
});

describe('token-exchange with keys.stateFile', () => {
  it('keeps its keys across a restart of the whole server', async () => {
    const base = await startTestTokenExchange({ services: ['gateway', 'vmcontroller'] });
    await base.stop(); // only its PKI and port are used here
    const config = parseTokenExchangeConfig(
      {
        ...stsDocument(base),
        keys: { stateFile: path.join(base.pki.dir, 'keys.json') },
      },
      base.pki.dir,
    );
    try {
      const first = await startTokenExchange(config, { env: {}, logger: testLogger('sts-keys') });
      const res = await postToken(base, 'gateway', {
        grant_type: 'client_credentials',
        audience: 'vmcontroller',
      });
      const token = res.body.access_token as string;
      await first.close();

      const second = await startTokenExchange(config, { env: {}, logger: testLogger('sts-keys') });
      try {
        const jwks = await httpRequest(second.jwksUrl, {
          timeoutMs: 30_000,
          ca: readFileSync(base.pki.caFile),
        });
        await jwtVerify(token, createLocalJWKSet(JSON.parse(jwks.body) as JSONWebKeySet));
        const again = await postToken(base, 'gateway', {
          grant_type: 'client_credentials',
          audience: 'vmcontroller',
        });
        expect(decodeProtectedHeader(again.body.access_token as string).kid).toBe(
          decodeProtectedHeader(token).kid,
        );
      } finally {
        await second.close();
      }
    } finally {
      await base.close();
    }
  });
});

/** The helper's config as a document again, to change one key. */
function stsDocument(sts: TestTokenExchange): Record<string, unknown> {
  const c = sts.config;
  return {
    listen: c.listen,
    issuer: c.issuer,
    tls: c.tls,
    allowlist: c.allowlist,
    services: c.services,
  };
}
