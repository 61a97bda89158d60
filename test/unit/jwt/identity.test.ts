import { describe, expect, it } from 'vitest';
import { decodeHeaderValue, encodeHeaderValue } from '../../../src/jwt/header-value.js';
import { buildIdentity, currentActor } from '../../../src/jwt/identity.js';

const base = { sub: 'cloud-teleport-aleksander.rykalin', exp: 2_000_000_000 };
const headers = (claims: Record<string, unknown>) =>
  Object.fromEntries(buildIdentity('https://sts', { ...base, ...claims }).headers);

describe('buildIdentity: actor and saga of delegated tokens', () => {
  it('exposes the current actor and the saga of a saga-delegated token', () => {
    const id = buildIdentity('https://sts', {
      ...base,
      client_id: 'gateway',
      act: { sub: 'gateway', act: { sub: 'scheduler' } },
      saga: 'saga-42',
    });
    expect(id).toMatchObject({ kind: 'user', actor: 'gateway', saga: 'saga-42' });
    expect(Object.fromEntries(id.headers)).toMatchObject({
      'x-jwtauth-subject': 'cloud-teleport-aleksander.rykalin',
      'x-jwtauth-actor': 'gateway',
      'x-jwtauth-saga': 'saga-42',
    });
  });

  it('sets neither header for tokens without act or saga', () => {
    const h = headers({ client_id: 'gateway', sub: 'gateway' });
    expect(h['x-jwtauth-actor']).toBeUndefined();
    expect(h['x-jwtauth-saga']).toBeUndefined();
  });

  it.each([
    ['act is a string', { act: 'gateway' }],
    ['act is an array', { act: [{ sub: 'gateway' }] }],
    ['act.sub is a number', { act: { sub: 7 } }],
    ['act.sub is empty', { act: { sub: '' } }],
    ['act is null', { act: null }],
  ])('names no actor when %s', (_name, claims) => {
    expect(currentActor({ ...base, ...claims })).toBeUndefined();
    expect(headers(claims)['x-jwtauth-actor']).toBeUndefined();
  });

  it.each([
    ['not a string', 42],
    ['not a SpiceDB-safe id', 'saga 1\r\nx-evil: 1'],
    ['too long', 's'.repeat(129)],
  ])('does not export a saga claim that is %s', (_name, saga) => {
    expect(headers({ saga })['x-jwtauth-saga']).toBeUndefined();
  });

  it('encodes an actor like every identity header value', () => {
    const actor = 'svc\r\nx-evil: 1';
    const value = headers({ act: { sub: actor } })['x-jwtauth-actor'];
    expect(value).toBe(encodeHeaderValue(actor));
    expect(value).toBe('svc%0D%0Ax-evil:%201');
    expect(decodeHeaderValue(value!)).toBe(actor);
  });
});
