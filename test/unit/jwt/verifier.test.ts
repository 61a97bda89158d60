import { errors as joseErrors } from 'jose';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../helpers/manual-time.js';
import { inboundSection } from '../../../src/config/sections/inbound.js';
import { JwtxError, type ReasonCode } from '../../../src/errors.js';
import { JwksSource, type JwksLoader } from '../../../src/jwt/jwks-source.js';
import {
  MAX_KEY_CANDIDATES,
  toJwtxError,
  TokenVerifier,
  type TrustedIssuer,
} from '../../../src/jwt/verifier.js';
import { ForgeIssuer, jwks, newKey } from '../../helpers/jwt-forge.js';

describe('toJwtxError', () => {
  const claimFailure = (claim: string, reason: 'missing' | 'check_failed' | 'invalid') =>
    new joseErrors.JWTClaimValidationFailed(`"${claim}" failed`, {}, claim, reason);

  it.each<[string, unknown, ReasonCode]>([
    [
      'JWTExpired',
      new joseErrors.JWTExpired('expired', {}, 'exp', 'check_failed'),
      'token_expired',
    ],
    ['aud check failed', claimFailure('aud', 'check_failed'), 'invalid_audience'],
    ['aud missing', claimFailure('aud', 'missing'), 'invalid_audience'],
    ['nbf in the future', claimFailure('nbf', 'check_failed'), 'token_not_yet_valid'],
    ['iat in the future', claimFailure('iat', 'check_failed'), 'token_not_yet_valid'],
    ['nbf not a number', claimFailure('nbf', 'invalid'), 'invalid_claims'],
    ['exp missing', claimFailure('exp', 'missing'), 'invalid_claims'],
    ['exp not a number', claimFailure('exp', 'invalid'), 'invalid_claims'],
    ['typ mismatch', claimFailure('typ', 'check_failed'), 'invalid_claims'],
    ['iss mismatch', claimFailure('iss', 'check_failed'), 'invalid_claims'],
    ['bad signature', new joseErrors.JWSSignatureVerificationFailed(), 'invalid_signature'],
    ['alg not allowed', new joseErrors.JOSEAlgNotAllowed('no'), 'algorithm_not_allowed'],
    ['no matching key', new joseErrors.JWKSNoMatchingKey(), 'unknown_key'],
    ['several matching keys', new joseErrors.JWKSMultipleMatchingKeys(), 'unknown_key'],
    ['unsupported feature', new joseErrors.JOSENotSupported('crit'), 'forbidden_header'],
    ['invalid JWS', new joseErrors.JWSInvalid('Invalid Compact JWS'), 'malformed_token'],
    ['invalid JWT', new joseErrors.JWTInvalid('not an object'), 'malformed_token'],
    ['a plain Error', new Error('boom'), 'internal'],
    ['a TypeError', new TypeError('bad option'), 'internal'],
    ['a non-error value', 'weird', 'internal'],
  ])('maps %s', (_name, err, code) => {
    const mapped = toJwtxError(err);
    expect(mapped).toBeInstanceOf(JwtxError);
    expect(mapped.code).toBe(code);
    expect(mapped.cause).toBe(err);
  });

  it('passes a JwtxError (e.g. jwks_unavailable from the key resolver) through unchanged', () => {
    const err = new JwtxError('jwks_unavailable', 'down');
    expect(toJwtxError(err)).toBe(err);
  });
});

const TOLERANCE = 30;

async function setup(
  opts: {
    typ?: string;
    requiredClaims?: string[];
    loader?: JwksLoader;
    /** Issuer b is token-exchange (serviceTokens: true). */
    bMintsServiceTokens?: boolean;
  } = {},
) {
  const clock = new ManualClock();
  const now = () => clock.now();
  const a = new ForgeIssuer('https://a.example', await newKey(), 'gateway', now);
  const b = new ForgeIssuer('https://b.example', await newKey(), 'gateway', now);
  const inbound = inboundSection({ baseDir: '/' }).parse({
    issuers: [a, b].map((i) => ({
      issuer: i.issuer,
      jwksFile: '/unused.json',
      audiences: ['gateway', 'gateway-admin'],
      ...(opts.typ ? { typ: opts.typ } : {}),
      ...(opts.requiredClaims ? { requiredClaims: opts.requiredClaims } : {}),
      ...(i === b && opts.bMintsServiceTokens ? { serviceTokens: true } : {}),
    })),
  });
  const issuers: TrustedIssuer[] = inbound.issuers.map((config, n) => {
    const issuer = [a, b][n]!;
    const load: JwksLoader = opts.loader ?? (async () => jwks(issuer.key));
    const keys = new JwksSource({
      name: config.issuer,
      load,
      clock,
      refreshIntervalMs: 300_000,
      cooldownMs: 30_000,
      maxStaleMs: 3_600_000,
    });
    return { policy: config, keys };
  });
  const verifier = new TokenVerifier({
    issuers,
    clock,
    maxTokenBytes: 8192,
    clockToleranceSeconds: TOLERANCE,
  });
  const reason = async (token: string): Promise<ReasonCode | 'allowed'> => {
    try {
      await verifier.verify(token);
      return 'allowed';
    } catch (err) {
      expect(err).toBeInstanceOf(JwtxError);
      return (err as JwtxError).code;
    }
  };
  return { clock, a, b, verifier, reason, nowS: a.nowSeconds() };
}

describe('TokenVerifier', () => {
  it('returns the verified identity with exp in milliseconds', async () => {
    const { a, verifier, nowS } = await setup();
    const id = await verifier.verify(a.token({ sub: 'alice', exp: nowS + 60 }));
    expect(id).toMatchObject({
      issuer: a.issuer,
      subject: 'alice',
      expiresAtMs: (nowS + 60) * 1000,
    });
  });

  it('accepts an audience list that contains one accepted audience', async () => {
    const { a, reason } = await setup();
    expect(await reason(a.token({ aud: ['billing', 'gateway-admin'] }))).toBe('allowed');
    expect(await reason(a.token({ aud: ['billing'] }))).toBe('invalid_audience');
  });

  it('applies the clock tolerance to exp, nbf and iat, and no more', async () => {
    const { a, reason, nowS } = await setup();
    const t = TOLERANCE;
    expect(await reason(a.token({ exp: nowS - t + 1 }))).toBe('allowed');
    expect(await reason(a.token({ exp: nowS - t - 1 }))).toBe('token_expired');
    expect(await reason(a.token({ nbf: nowS + t - 1 }))).toBe('allowed');
    expect(await reason(a.token({ nbf: nowS + t + 1 }))).toBe('token_not_yet_valid');
    expect(await reason(a.token({ iat: nowS + t }))).toBe('allowed');
    expect(await reason(a.token({ iat: nowS + t + 1 }))).toBe('token_not_yet_valid');
  });

  it('requires exp and a non-empty string sub', async () => {
    const { a, reason } = await setup();
    expect(await reason(a.token({ exp: undefined }))).toBe('invalid_claims');
    expect(await reason(a.token({ exp: '9999999999' }))).toBe('invalid_claims');
    expect(await reason(a.token({ sub: undefined }))).toBe('invalid_claims');
    expect(await reason(a.token({ sub: '' }))).toBe('invalid_claims');
    expect(await reason(a.token({ sub: 42 }))).toBe('invalid_claims');
  });

  it('refuses a sub that is not well-formed Unicode instead of failing on it', async () => {
    const { a, reason } = await setup();
    expect(await reason(a.token({ sub: '\ud800admin' }))).toBe('invalid_claims');
    expect(await reason(a.token({ sub: 'admin\udfff' }))).toBe('invalid_claims');
    expect(await reason(a.token({ act: { sub: 'svc\ud800' } }))).toBe('invalid_claims');
    expect(await reason(a.token({ sub: 'алекс 😀' }))).toBe('allowed');
  });

  // Finding 4: " admin" and "admin " reached the app as the same header once HTTP trimmed it.
  it('forwards subjects that differ only in whitespace as different, reversible headers', async () => {
    const { a, verifier } = await setup();
    const subjectHeader = async (sub: string) =>
      (await verifier.verify(a.token({ sub }))).headers.find(
        ([k]) => k === 'x-jwtauth-subject',
      )![1];
    const values = await Promise.all(['admin', ' admin', 'admin ', 'admin\t'].map(subjectHeader));
    expect(values).toEqual(['admin', '%20admin', 'admin%20', 'admin%09']);
    expect(values.map(decodeURIComponent)).toEqual(['admin', ' admin', 'admin ', 'admin\t']);
    expect(await subjectHeader('cloud-teleport-aleksander.rykalin')).toBe(
      'cloud-teleport-aleksander.rykalin',
    );
  });

  // Finding 9: a user IdP's token with sub = client_id = "gateway" was taken for the service.
  it('gives kind service only to tokens of the issuer that mints service tokens', async () => {
    const { a, b, verifier } = await setup({ bMintsServiceTokens: true });
    const service = { sub: 'gateway', client_id: 'gateway' };
    expect((await verifier.verify(a.token(service))).kind).toBe('user');
    expect((await verifier.verify(b.token(service))).kind).toBe('service');
    const kindHeader = (await verifier.verify(a.token(service))).headers.find(
      ([k]) => k === 'x-jwtauth-kind',
    );
    expect(kindHeader).toEqual(['x-jwtauth-kind', 'user']);
    const delegated = { ...service, act: { sub: 'saga-executor' } };
    expect((await verifier.verify(b.token(delegated))).kind).toBe('user');
    expect((await verifier.verify(b.token({ sub: 'alice', client_id: 'gateway' }))).kind).toBe(
      'user',
    );
  });

  // Finding 7: RFC 7515 makes kid optional; two fitting keys used to mean unknown_key.
  describe('a token without kid', () => {
    // The loaders run on first use, after setup() returned the issuer whose key they publish.
    it('verifies against whichever of the fitting keys signed it', async () => {
      const others = await Promise.all([newKey(), newKey()]);
      const { a, reason } = await setup({
        loader: async () => jwks(others[0]!, a.key, others[1]!),
      });
      expect(await reason(a.token({}, { kid: undefined }))).toBe('allowed');
      // A wrong signature fails every candidate: invalid_signature, not unknown_key.
      const forged = new ForgeIssuer(a.issuer, await newKey(), 'gateway', () => Date.now());
      expect(await reason(forged.token({}, { kid: undefined }))).toBe('invalid_signature');
    });

    it(`tries at most ${MAX_KEY_CANDIDATES} keys: a larger fitting set is refused before any signature check`, async () => {
      const others = await Promise.all(Array.from({ length: MAX_KEY_CANDIDATES }, () => newKey()));
      const { a, reason } = await setup({ loader: async () => jwks(...others, a.key) });
      expect(await reason(a.token({}, { kid: undefined }))).toBe('unknown_key');
      // With a kid the same set is fine: exactly one key fits.
      expect(await reason(a.token())).toBe('allowed');
    });

    it('still checks the claims with the key that verified', async () => {
      const other = await newKey();
      const { a, reason, nowS } = await setup({
        loader: async () => jwks(other, a.key),
      });
      expect(await reason(a.token({ exp: nowS - 3600 }, { kid: undefined }))).toBe('token_expired');
      expect(await reason(a.token({ aud: 'billing' }, { kid: undefined }))).toBe(
        'invalid_audience',
      );
    });
  });

  it('picks the issuer by iss and only trusts that issuer keys', async () => {
    const { a, b, reason } = await setup();
    expect(await reason(b.token())).toBe('allowed');
    expect(await reason(b.token({ iss: a.issuer }))).toBe('unknown_key');
    expect(await reason(a.token({ iss: 'https://c.example' }))).toBe('unknown_issuer');
    expect(await reason(a.token({ iss: undefined }))).toBe('unknown_issuer');
  });

  it('refuses algorithms outside the issuer allowlist before looking for a key', async () => {
    const { a, reason } = await setup();
    expect(await reason(a.token({}, { alg: 'ES384' }))).toBe('algorithm_not_allowed');
    expect(await reason(a.token({}, { alg: 'HS256' }))).toBe('algorithm_not_allowed');
  });

  it('checks typ when configured (case-insensitive, application/ prefix optional)', async () => {
    const { a, reason } = await setup({ typ: 'at+jwt' });
    expect(await reason(a.token({}, { typ: 'at+jwt' }))).toBe('allowed');
    expect(await reason(a.token({}, { typ: 'application/AT+JWT' }))).toBe('allowed');
    expect(await reason(a.token({}, { typ: 'JWT' }))).toBe('invalid_claims');
    expect(await reason(a.token({}, { typ: undefined }))).toBe('invalid_claims');
    // Each typ's header is built once and reused: the second time gives the same answers.
    expect(await reason(a.token({}, { typ: 'JWT' }))).toBe('invalid_claims');
    expect(await reason(a.token({}, { typ: 'at+jwt' }))).toBe('allowed');
  });

  it('enforces configured required claims', async () => {
    const { a, reason } = await setup({ requiredClaims: ['client_id'] });
    expect(await reason(a.token())).toBe('invalid_claims');
    expect(await reason(a.token({ client_id: 'gw' }))).toBe('allowed');
  });

  it('answers jwks_unavailable when no key set was ever loaded', async () => {
    const { a, reason } = await setup({
      loader: async () => {
        throw new Error('connection refused');
      },
    });
    expect(await reason(a.token())).toBe('jwks_unavailable');
  });
});
