import { describe, expect, it } from 'vitest';
import { denialOf, failureOf, type Peer } from '../../../src/check/failure.js';
import { JwtxError, type ReasonCode } from '../../../src/errors.js';
import { SpicedbFailure } from '../../../src/spicedb/failure.js';
import { TokenRequestError } from '../../../src/tokens/token-errors.js';

const refused = (oauthError: string) => new TokenRequestError('refused', 'refused', oauthError);
const transport = new TokenRequestError('transport', 'connect ECONNREFUSED');
const invalid = new TokenRequestError('invalid', 'token_type is not Bearer');
const bug = new TypeError('x is undefined');
const jwtx = new JwtxError('invalid_object_id', 'id too long');

/** [what is thrown, the peer waited on, the reason (undefined: rethrown), message] */
const TABLE: [string, unknown, Peer | undefined, ReasonCode | undefined, string?][] = [
  ['JwtxError, no peer', jwtx, undefined, 'invalid_object_id', 'id too long'],
  ['JwtxError, any peer', jwtx, 'spicedb', 'invalid_object_id', 'id too long'],
  ['a bug, no peer', bug, undefined, undefined],
  ['token-exchange refused', refused('invalid_grant'), 'token-exchange', 'token_exchange_refused'],
  ['token-exchange down', transport, 'token-exchange', 'token_exchange_unavailable'],
  ['token-exchange unusable answer', invalid, 'token-exchange', 'token_exchange_unavailable'],
  ['token-exchange, anything else', bug, 'token-exchange', 'token_exchange_unavailable'],
  ['service token refused', refused('invalid_target'), 'service-token', 'service_token_refused'],
  [
    'service token unusable',
    invalid,
    'service-token',
    'service_token_invalid',
    'token not injected: token_type is not Bearer',
  ],
  [
    'service token, token-exchange down',
    transport,
    'service-token',
    'service_token_unavailable',
    'no valid service token: connect ECONNREFUSED',
  ],
  ['service token, a bug', bug, 'service-token', undefined],
  ['delegation refused (saga)', refused('invalid_grant'), 'delegation', 'delegation_refused'],
  ['delegation server_error', refused('server_error'), 'delegation', 'delegation_unavailable'],
  [
    'delegation, token-exchange down',
    transport,
    'delegation',
    'delegation_unavailable',
    'no delegated token: connect ECONNREFUSED',
  ],
  ['delegation, a bug', bug, 'delegation', undefined],
  [
    'SpiceDB timeout',
    new SpicedbFailure('timeout', 'SpiceDB at x did not answer'),
    'spicedb',
    'spicedb_unavailable',
    'SpiceDB check failed (timeout)',
  ],
  ['SpiceDB, anything else', bug, 'spicedb', 'spicedb_unavailable', 'SpiceDB check failed (other)'],
];

describe('failureOf: the one mapping of a thrown failure to a reason', () => {
  it.each(TABLE)('%s', (_, err, peer, reason, message) => {
    const f = failureOf(err, peer);
    expect(f?.reason).toBe(reason);
    if (message !== undefined) expect(f?.message).toBe(message);
    if (reason === undefined) expect(() => denialOf(err, peer)).toThrow(err as Error);
    else expect(denialOf(err, peer)).toMatchObject({ allow: false, reason });
  });

  it('never shows a token-exchange description to the caller (it stays in detail)', () => {
    const err = new TokenRequestError(
      'refused',
      'token-exchange refused: invalid_grant',
      'invalid_grant',
      {
        detail: 'saga s1 belongs to someone else',
      },
    );
    expect(JSON.stringify(failureOf(err, 'delegation'))).not.toContain('someone else');
  });
});
