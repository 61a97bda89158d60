import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSync } from '@grpc/proto-loader';
import { AuthorizationClient, syntheticCheckRequest } from '../../src/envoy/client.js';
import { EXT_AUTHZ_PROTO, LOADER_OPTIONS, protoIncludeDirs } from '../../src/envoy/proto.js';
import type { CheckResponse } from '../../src/envoy/types.js';
import { REASONS, type ReasonCode } from '../../src/errors.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import {
  assemble,
  b64url,
  encodeSegment,
  ForgeIssuer,
  jwks,
  newKey,
  signES256,
  signHS256,
  type ForgeKey,
} from '../helpers/jwt-forge.js';

/**
 * The JWT attack catalogue (RFC 8725; jwt_tool; PortSwigger) against the real server over gRPC.
 * Every case must be denied with its exact reason code and status, never crash the server, and
 * never put the token into a log line.
 */

interface World {
  readonly forge: ForgeIssuer;
  /** A key the server does not trust. */
  readonly attacker: ForgeKey;
  /** Where an attacker would like the server to fetch keys from (must never be contacted). */
  readonly attackerUrl: string;
  /** A second trusted issuer, with its own keys. */
  readonly other: ForgeIssuer;
}

interface AttackCase {
  readonly name: string;
  readonly reason: ReasonCode;
  /** The whole authorization header value, or undefined for none. */
  readonly authorization: (w: World) => string | undefined | Promise<string | undefined>;
}

const bearer = (token: string) => `Bearer ${token}`;
const sigOf = (token: string) => token.split('.')[2]!;

/** The client decodes envoy.type.v3.StatusCode as enum names ("Unauthorized"); map them back. */
const STATUS_NUMBERS = new Map(
  (
    loadSync(EXT_AUTHZ_PROTO, { ...LOADER_OPTIONS, includeDirs: protoIncludeDirs() })[
      'envoy.type.v3.StatusCode'
    ] as unknown as { type: { value: { name: string; number: number }[] } }
  ).type.value.map((v) => [v.name, v.number]),
);
const httpStatus = (res: CheckResponse): number | undefined => {
  const code = res.denied_response?.status.code as unknown;
  return typeof code === 'number' ? code : STATUS_NUMBERS.get(String(code));
};

const ALG_NONE_CASES: AttackCase[] = ['none', 'None', 'NONE', 'nOnE'].map((alg) => ({
  name: `alg ${alg} with an empty signature`,
  reason: 'algorithm_not_allowed',
  authorization: ({ forge }) => bearer(assemble(forge.header({ alg }), forge.claims())),
}));

const SIGNATURE_CASES: AttackCase[] = [
  {
    name: 'stripped signature (h.p.)',
    reason: 'malformed_token',
    authorization: ({ forge }) => bearer(forge.token().replace(/[^.]+$/, '')),
  },
  {
    name: 'HS256 signed with the issuer public key as PEM bytes',
    reason: 'algorithm_not_allowed',
    authorization: ({ forge }) =>
      bearer(signHS256(forge.key.publicPem, forge.header({ alg: 'HS256' }), forge.claims())),
  },
  {
    name: 'HS256 signed with the issuer public JWK text (via jose)',
    reason: 'algorithm_not_allowed',
    authorization: async ({ forge }) =>
      bearer(
        await new SignJWT(forge.claims())
          .setProtectedHeader({ alg: 'HS256', kid: forge.key.kid })
          .sign(new TextEncoder().encode(JSON.stringify(forge.key.publicJwk))),
      ),
  },
  {
    name: 'ECDSA r=s=0 (psychic signature, CVE-2022-21449)',
    reason: 'invalid_signature',
    authorization: ({ forge }) =>
      bearer(assemble(forge.header(), forge.claims(), b64url(Buffer.alloc(64)))),
  },
  {
    name: 'signed by an untrusted key that claims the trusted kid',
    reason: 'invalid_signature',
    authorization: ({ forge, attacker }) =>
      bearer(signES256(attacker, forge.header(), forge.claims())),
  },
  {
    name: 'signature of another valid token spliced onto changed claims',
    reason: 'invalid_signature',
    authorization: ({ forge }) =>
      bearer(assemble(forge.header(), forge.claims({ sub: 'admin' }), sigOf(forge.token()))),
  },
  {
    name: 'RS256 (an algorithm not on the issuer allowlist)',
    reason: 'algorithm_not_allowed',
    authorization: ({ forge }) =>
      bearer(assemble(forge.header({ alg: 'RS256' }), forge.claims(), b64url('x'.repeat(256)))),
  },
];

const KEY_SELECTION_CASES: AttackCase[] = [
  {
    name: 'embedded jwk header carrying the attacker key',
    reason: 'forbidden_header',
    authorization: ({ forge, attacker }) =>
      bearer(
        signES256(
          attacker,
          forge.header({ kid: attacker.kid, jwk: attacker.publicJwk }),
          forge.claims(),
        ),
      ),
  },
  {
    name: 'jku pointing at an attacker JWKS',
    reason: 'forbidden_header',
    authorization: ({ forge, attacker, attackerUrl }) =>
      bearer(
        signES256(attacker, forge.header({ kid: attacker.kid, jku: attackerUrl }), forge.claims()),
      ),
  },
  {
    name: 'x5u pointing at an attacker certificate',
    reason: 'forbidden_header',
    authorization: ({ forge, attacker, attackerUrl }) =>
      bearer(
        signES256(attacker, forge.header({ kid: attacker.kid, x5u: attackerUrl }), forge.claims()),
      ),
  },
  {
    name: 'kid path traversal (../../../../dev/null)',
    reason: 'unknown_key',
    authorization: ({ forge }) => bearer(forge.token({}, { kid: '../../../../dev/null' })),
  },
  {
    name: 'kid SQL injection',
    reason: 'unknown_key',
    authorization: ({ forge }) =>
      bearer(forge.token({}, { kid: "x' UNION SELECT 'secret' AS key;--" })),
  },
  {
    name: 'a token of one trusted issuer claiming to be from another',
    reason: 'unknown_key',
    authorization: ({ forge, other }) => bearer(other.token({ iss: forge.issuer })),
  },
];

const CLAIM_CASES: AttackCase[] = [
  {
    name: 'expired',
    reason: 'token_expired',
    authorization: ({ forge }) => {
      const now = forge.nowSeconds();
      return bearer(forge.token({ iat: now - 7200, exp: now - 3600 }));
    },
  },
  {
    name: 'nbf in the future',
    reason: 'token_not_yet_valid',
    authorization: ({ forge }) => bearer(forge.token({ nbf: forge.nowSeconds() + 3600 })),
  },
  {
    name: 'iat in the future beyond the clock tolerance',
    reason: 'token_not_yet_valid',
    authorization: ({ forge }) => {
      const now = forge.nowSeconds();
      return bearer(forge.token({ iat: now + 3600, exp: now + 7200 }));
    },
  },
  {
    name: 'wrong iss',
    reason: 'unknown_issuer',
    authorization: ({ forge }) => bearer(forge.token({ iss: 'https://evil.example' })),
  },
  {
    name: 'wrong aud',
    reason: 'invalid_audience',
    authorization: ({ forge }) => bearer(forge.token({ aud: ['billing', 'admin'] })),
  },
  {
    name: 'missing exp',
    reason: 'invalid_claims',
    authorization: ({ forge }) => bearer(forge.token({ exp: undefined })),
  },
  {
    name: 'non-numeric exp ("9999999999")',
    reason: 'invalid_claims',
    authorization: ({ forge }) => bearer(forge.token({ exp: '9999999999' })),
  },
  {
    name: 'missing sub',
    reason: 'invalid_claims',
    authorization: ({ forge }) => bearer(forge.token({ sub: undefined })),
  },
];

const STRUCTURE_CASES: AttackCase[] = [
  {
    name: 'unknown crit extension',
    reason: 'forbidden_header',
    authorization: ({ forge }) =>
      bearer(forge.token({}, { crit: ['urn:evil:ext'], 'urn:evil:ext': true })),
  },
  {
    name: 'b64=false (unencoded payload)',
    reason: 'forbidden_header',
    authorization: ({ forge }) => bearer(forge.token({}, { b64: false, crit: ['b64'] })),
  },
  {
    name: 'nested JWT (cty JWT)',
    reason: 'malformed_token',
    authorization: ({ forge }) => {
      const inner = forge.token();
      const input = `${encodeSegment(forge.header({ cty: 'JWT' }))}.${b64url(inner)}`;
      return bearer(`${input}.${sigOf(inner)}`);
    },
  },
  {
    name: 'JWE (five parts)',
    reason: 'malformed_token',
    authorization: () =>
      bearer(
        [
          encodeSegment({ alg: 'RSA-OAEP-256', enc: 'A256GCM' }),
          b64url('k'),
          b64url('iv'),
          b64url('ct'),
          b64url('tag'),
        ].join('.'),
      ),
  },
  {
    name: 'oversized token',
    reason: 'token_too_large',
    authorization: ({ forge }) => bearer(forge.token({ pad: 'x'.repeat(64 * 1024) })),
  },
  {
    name: 'duplicate claims (two "sub" members), validly signed',
    reason: 'malformed_token',
    authorization: ({ forge }) => {
      const claims = JSON.stringify(forge.claims({ sub: 'svc-gateway' }));
      return bearer(signES256(forge.key, forge.header(), claims.replace('{', '{"sub":"admin",')));
    },
  },
  {
    name: 'duplicate header members (two "alg"), validly signed',
    reason: 'malformed_token',
    authorization: ({ forge }) => {
      const header = JSON.stringify(forge.header()).replace('{', '{"alg":"none",');
      return bearer(signES256(forge.key, header, forge.claims()));
    },
  },
  {
    name: 'garbage base64',
    reason: 'malformed_token',
    authorization: () => bearer('!!!not*base64.@@@.###'),
  },
  {
    name: 'payload that is not a JSON object',
    reason: 'malformed_token',
    authorization: ({ forge }) => bearer(signES256(forge.key, forge.header(), '["sub","admin"]')),
  },
  {
    name: 'invalid UTF-8 in the payload, validly signed',
    reason: 'malformed_token',
    authorization: ({ forge }) => {
      const [before, after] = JSON.stringify(forge.claims({ note: '@@' })).split('@@');
      const payload = Buffer.concat([
        Buffer.from(before!),
        Buffer.from([0xff, 0xfe]),
        Buffer.from(after!),
      ]);
      return bearer(signES256(forge.key, forge.header(), payload));
    },
  },
];

const HEADER_CASES: AttackCase[] = [
  { name: 'no authorization header', reason: 'missing_token', authorization: () => undefined },
  { name: 'empty Bearer', reason: 'missing_token', authorization: () => 'Bearer ' },
  {
    name: 'wrong scheme (Basic)',
    reason: 'missing_token',
    authorization: () => `Basic ${b64url('admin:admin')}`,
  },
  {
    name: 'two tokens in one header',
    reason: 'malformed_token',
    authorization: ({ forge }) => `Bearer ${forge.token()}, Bearer ${forge.token()}`,
  },
];

const CASES: AttackCase[] = [
  ...ALG_NONE_CASES,
  ...SIGNATURE_CASES,
  ...KEY_SELECTION_CASES,
  ...CLAIM_CASES,
  ...STRUCTURE_CASES,
  ...HEADER_CASES,
];

describe('JWT attack suite against the real server', () => {
  let t: TestApp;
  let client: AuthorizationClient;
  let world: World;
  let attackerServer: http.Server;
  let attackerHits = 0;
  const sent: string[] = [];

  beforeAll(async () => {
    const forge = await ForgeIssuer.create();
    const other = await ForgeIssuer.create('https://other.jwtexchange.test');
    const attacker = await newKey();
    attackerServer = http.createServer((_req, res) => {
      attackerHits++;
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify(jwks(attacker)));
    });
    await new Promise<void>((r) => attackerServer.listen(0, '127.0.0.1', r));
    const { port } = attackerServer.address() as AddressInfo;
    const attackerUrl = `http://127.0.0.1:${port}/jwks.json`;
    t = await startTestApp((_dev, dir) => {
      const trust = (issuer: ForgeIssuer) => {
        const jwksFile = path.join(dir, `${new URL(issuer.issuer).hostname}.jwks.json`);
        issuer.writeJwks(jwksFile);
        return { issuer: issuer.issuer, jwksFile, audiences: ['gateway'], algorithms: ['ES256'] };
      };
      return { inbound: { issuers: [trust(forge), trust(other)] } };
    });
    world = { forge, other, attacker, attackerUrl };
    client = new AuthorizationClient(t.grpcAddress);
  });

  afterAll(async () => {
    client?.close();
    await t?.app.shutdown();
    await new Promise((r) => attackerServer?.close(r));
  });

  const check = (authorization: string | undefined, contentType?: string) => {
    const headers: Record<string, string> = {};
    if (authorization !== undefined) headers.authorization = authorization;
    if (contentType) headers['content-type'] = contentType;
    return client.check(syntheticCheckRequest({ path: '/v2/namespaces', headers }));
  };

  const header = (res: CheckResponse, name: string) =>
    res.denied_response?.headers.find((h) => h.header.key === name)?.header.value;

  function expectDenied(res: CheckResponse, reason: ReasonCode): void {
    const spec = REASONS[reason];
    expect(res.status.code).toBe(spec.grpc);
    expect(res.status.message).toMatch(new RegExp(`^${reason}: \\S`));
    expect(res.ok_response).toBeUndefined();
    expect(httpStatus(res)).toBe(spec.http);
    expect(header(res, 'x-jwtauth-reason')).toBe(reason);
    expect(JSON.parse(res.denied_response!.body)).toMatchObject({ error: reason });
    const challenge = header(res, 'www-authenticate');
    if (reason === 'missing_token') expect(challenge).toBe('Bearer realm="jwtexchange"');
    else
      expect(challenge).toMatch(
        /^Bearer realm="jwtexchange", error="invalid_token", error_description="[^"]+"$/,
      );
  }

  it('covers at least 20 attacks', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(20);
    expect(new Set(CASES.map((c) => c.name)).size).toBe(CASES.length);
  });

  it.each(CASES)('denies $name with $reason', async ({ authorization, reason }) => {
    const value = await authorization(world);
    if (value) sent.push(value);
    expectDenied(await check(value), reason);
  });

  it('denies a gRPC caller with the same reason and a plain-text body', async () => {
    const res = await check(bearer(world.forge.token({ aud: 'billing' })), 'application/grpc');
    expect(res.status.code).toBe(REASONS.invalid_audience.grpc);
    expect(res.denied_response?.body).toMatch(/^invalid_audience: /);
  });

  it('never contacted the attacker jku/x5u URL', () => {
    expect(attackerHits).toBe(0);
  });

  it('never wrote a token or a signature to the log', () => {
    const logs = t.logs.join('\n');
    expect(t.logs.length).toBeGreaterThan(0);
    for (const value of sent) {
      const token = value.replace(/^\S+\s*/, '');
      for (const part of token.split('.').filter((p) => p.length >= 16)) {
        expect(logs).not.toContain(part);
      }
    }
  });

  it('still allows a valid token and answers /healthz and /readyz after the suite', async () => {
    for (const token of [world.forge.token(), world.other.token()]) {
      const res = await check(bearer(token));
      expect(res.status.code).toBe(0);
      const set = res.ok_response?.headers.map((h) => h.header.key);
      expect(set).toEqual(expect.arrayContaining(['x-jwtauth-subject', 'x-jwtauth-issuer']));
    }
    const base = `http://127.0.0.1:${t.app.httpPort}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
  });
});
