import { JwtxError } from '../../../../src/errors.js';
import { buildIdentity } from '../../../../src/jwt/identity.js';
import type { TokenVerifier } from '../../../../src/jwt/verifier.js';

/**
 * A verifier fake: tokens named `good-<sub>` verify, `saga-<sub>` verify as a saga-delegated token
 * (act.sub gateway, saga s-1), anything else is a bad signature.
 */
export function fakeVerifier(calls: string[] = []): TokenVerifier {
  return {
    verify: async (token: string) => {
      calls.push(token);
      const exp = Math.floor(Date.UTC(2026, 0, 1) / 1000) + 3600;
      if (token.startsWith('saga-')) {
        return buildIdentity('https://issuer', {
          sub: token.slice('saga-'.length),
          aud: 'gateway',
          exp,
          client_id: 'gateway',
          act: { sub: 'gateway' },
          saga: 's-1',
        });
      }
      if (!token.startsWith('good-')) {
        throw new JwtxError('invalid_signature', 'the signature does not verify');
      }
      return buildIdentity('https://issuer', {
        sub: token.slice('good-'.length),
        aud: 'gateway',
        exp,
      });
    },
  } as unknown as TokenVerifier;
}
