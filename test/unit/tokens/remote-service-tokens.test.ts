import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../helpers/manual-time.js';
import { RemoteServiceTokens } from '../../../src/tokens/remote-service-tokens.js';
import type { CachedServiceToken, TokenKey } from '../../../src/tokens/service-token-cache.js';
import { TokenRequestError } from '../../../src/tokens/token-errors.js';

const KEY: TokenKey = { audience: 'vmcontroller', scope: '' };

function setup() {
  const clock = new ManualClock();
  const requests: { id: number; key: TokenKey }[] = [];
  const stale: string[] = [];
  let changed = 0;
  const tokens = new RemoteServiceTokens({
    clock,
    channel: { request: (id, key) => requests.push({ id, key }) },
    servedStale: (audience) => stale.push(audience),
    changed: () => changed++,
  });
  const token = (accessToken: string, ttlMs: number, isStale = false): CachedServiceToken => ({
    key: KEY,
    accessToken,
    usableUntilMs: clock.now() + ttlMs,
    stale: isStale,
  });
  return { clock, requests, stale, tokens, token, changed: () => changed };
}

describe('RemoteServiceTokens (a worker’s copy of the primary’s cache)', () => {
  it('answers from a pushed token synchronously, without asking the primary', () => {
    const t = setup();
    t.tokens.store(t.token('a', 60_000));
    expect(t.tokens.get(KEY)).toBe('a');
    expect(t.tokens.isWarm(KEY)).toBe(true);
    expect(t.requests).toEqual([]);
    expect(t.changed()).toBe(1);
  });

  it('asks the primary once for concurrent checks when it holds no usable token', async () => {
    const t = setup();
    t.tokens.store(t.token('old', 1_000));
    t.clock.advance(1_000); // usableUntil reached: never served at or after it
    const a = t.tokens.get(KEY);
    const b = t.tokens.get(KEY);
    expect(a).toBeInstanceOf(Promise);
    expect(t.requests).toHaveLength(1);
    t.tokens.reply(t.requests[0]!.id, t.token('new', 60_000), undefined);
    expect(await a).toBe('new');
    expect(await b).toBe('new');
    expect(t.tokens.get(KEY)).toBe('new'); // kept for the next checks
  });

  it('rebuilds the primary’s refusal, so the check denies with the same reason', async () => {
    const t = setup();
    const pending = t.tokens.get(KEY) as Promise<string>;
    t.tokens.reply(t.requests[0]!.id, undefined, {
      kind: 'refused',
      message: 'token-exchange refused: invalid_target',
      oauthError: 'invalid_target',
    });
    const err = await pending.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TokenRequestError);
    expect(err).toMatchObject({
      kind: 'refused',
      oauthError: 'invalid_target',
      deterministic: true,
    });
  });

  it('counts a token the primary could not refresh as served stale', () => {
    const t = setup();
    t.tokens.store(t.token('a', 60_000, true));
    expect(t.tokens.get(KEY)).toBe('a');
    expect(t.stale).toEqual(['vmcontroller']);
  });

  it('fails waiting checks when the primary is gone, rather than leaving them hanging', async () => {
    const t = setup();
    const pending = t.tokens.get(KEY) as Promise<string>;
    t.tokens.close();
    await expect(pending).rejects.toBeInstanceOf(TokenRequestError);
  });
});
