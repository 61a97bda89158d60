import { writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  credentials,
  makeGenericClientConstructor,
  status,
  type Client,
  type ServiceError,
} from '@grpc/grpc-js';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syntheticCheckRequest } from '../../src/envoy/client.js';
import { authorizationService, CHECK_METHOD_PATH } from '../../src/envoy/proto.js';
import type { CheckRequest, CheckResponse } from '../../src/envoy/types.js';
import { REASON_CODES, REASONS, type ReasonCode } from '../../src/errors.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { ForgeIssuer } from '../helpers/jwt-forge.js';
import {
  EXAMPLE_RELATIONSHIPS,
  startSpiceDb,
  stopSpiceDb,
  type RunningSpiceDb,
} from '../helpers/spicedb.js';
import { startTestTokenExchange, type TestTokenExchange } from '../helpers/token-exchange.js';

/**
 * Fuzzing the real server over gRPC: random protobuf bytes, mutations of valid CheckRequests and
 * generated ones (huge and odd header names and values, odd paths and context extensions, every
 * field missing). Whatever arrives, the server never crashes or hangs: every call ends, within a
 * deadline, as a CheckResponse carrying a decision with a reason, or as a gRPC error status; no
 * hostile input is an `internal` error; and health stays SERVING. Bounded: about a thousand
 * calls, a few seconds.
 */
const DEADLINE_MS = 10_000;
const RUNS = 300;

type RawClient = Client & {
  Check(
    req: Buffer,
    opts: { deadline: number },
    cb: (e: ServiceError | null, r?: Buffer) => void,
  ): void;
  Health(
    req: Buffer,
    opts: { deadline: number },
    cb: (e: ServiceError | null, r?: Buffer) => void,
  ): void;
};

const identity = (b: Buffer) => b;
const raw = (p: string) => ({
  path: p,
  requestStream: false,
  responseStream: false,
  requestSerialize: identity,
  requestDeserialize: identity,
  responseSerialize: identity,
  responseDeserialize: identity,
});

const check = authorizationService().Check!;
const encode = (req: CheckRequest) => check.requestSerialize(req) as Buffer;
const decode = (bytes: Buffer) => check.responseDeserialize(bytes) as CheckResponse;

let db: RunningSpiceDb;
let sts: TestTokenExchange;
let t: TestApp;
let client: RawClient;
let forge: ForgeIssuer;
let validToken: string;
/** Tokens the server trusts, with subjects that stress identity headers and SpiceDB ids. */
let oddTokens: string[] = [];
const answers = new Map<string, number>();

beforeAll(async () => {
  [db, sts] = await Promise.all([
    startSpiceDb({ relationships: EXAMPLE_RELATIONSHIPS }),
    startTestTokenExchange({ services: ['gateway', 'vmcontroller'] }),
  ]);
  t = await startTestApp((_issuer, dir) => {
    writeFileSync(path.join(dir, 'spicedb.key'), db.presharedKey);
    return {
      spicedb: { endpoint: db.endpoint, transport: 'plaintext', presharedKeyFile: 'spicedb.key' },
      authorization: {
        default: 'allow',
        rules: [
          {
            match: { http: 'POST /v2/namespaces/{cluster}' },
            resource: { type: 'cloud', id: { param: 'cluster' } },
            permission: 'create_saga',
          },
          {
            match: { grpc: 'gateway.v2.NamespaceService/*' },
            resource: { type: 'cloud', id: { header: 'x-cluster' } },
            permission: 'create_saga',
          },
        ],
      },
      outbound: {
        tokenExchange: {
          ...sts.clientSettings('gateway'),
        },
        audiences: [{ audience: 'vmcontroller' }],
      },
    };
  });
  validToken = await t.issuer.mint({ sub: 'cloud-teleport-aleksander.rykalin' });
  const oddSubs = [' admin', 'admin ', 'a,b;c', '%2F', '\0', '\r\nx-evil: 1', 'é😀', '\ud800', '*'];
  oddTokens = await Promise.all(
    [...oddSubs, 'x'.repeat(2_000)].map((sub) => t.issuer.mint({ sub, client_id: sub })),
  );
  forge = await ForgeIssuer.create();
  const Ctor = makeGenericClientConstructor(
    { Check: raw(CHECK_METHOD_PATH), Health: raw('/grpc.health.v1.Health/Check') },
    'Fuzz',
  );
  client = new Ctor(t.grpcAddress, credentials.createInsecure()) as unknown as RawClient;
}, 60_000);

afterAll(async () => {
  client?.close();
  await t?.app.shutdown();
  await sts?.close();
  await stopSpiceDb(db);
});

const HTTP_STATUS: Record<string, number> = {
  BadRequest: 400,
  Unauthorized: 401,
  Forbidden: 403,
  InternalServerError: 500,
  ServiceUnavailable: 503,
};

type Outcome = { error: ServiceError } | { response: CheckResponse };

function send(bytes: Buffer): Promise<Outcome> {
  return new Promise((resolve) =>
    client.Check(bytes, { deadline: Date.now() + DEADLINE_MS }, (error, res) =>
      resolve(error ? { error } : { response: decode(res!) }),
    ),
  );
}

/** The contract every answer must meet, whatever was sent. */
function expectDecision(outcome: Outcome, what: () => string): void {
  if ('error' in outcome) {
    // grpc-js refusing bytes it cannot parse is a status, not a crash; a deadline or a lost
    // connection would mean the server hung or died.
    const code = outcome.error.code;
    expect([status.DEADLINE_EXCEEDED, status.UNAVAILABLE, status.CANCELLED], what()).not.toContain(
      code,
    );
    answers.set(`grpc error ${code}`, (answers.get(`grpc error ${code}`) ?? 0) + 1);
    return;
  }
  const res = outcome.response;
  const code = res.status?.code ?? 0;
  let reason: ReasonCode;
  if (code === 0) {
    expect(res.ok_response, what()).toBeDefined();
    reason = 'allowed';
  } else {
    const header = res.denied_response?.headers.find((h) => h.header.key === 'x-jwtauth-reason');
    expect(header, what()).toBeDefined();
    reason = header!.header.value as ReasonCode;
    expect(REASON_CODES, what()).toContain(reason);
    expect(code, what()).toBe(REASONS[reason].grpc);
    // proto-loader decodes envoy.type.v3.StatusCode by name.
    expect(HTTP_STATUS[String(res.denied_response!.status.code)], what()).toBe(
      REASONS[reason].http,
    );
    expect(reason, `hostile input must never be an internal error: ${what()}`).not.toBe('internal');
  }
  answers.set(reason, (answers.get(reason) ?? 0) + 1);
}

// --- generators ---------------------------------------------------------------------------------

const odd = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom(
    '',
    ' ',
    '\0',
    '\r\n',
    '%',
    '%2F',
    '..',
    ';',
    '\\',
    'eyJ',
    ':path',
    'Bearer',
    'bearer ',
  ),
);
const huge = fc.oneof(
  fc
    .constantFrom('a', 'eyJ', '%2F', '/', ' ', 'é', ',')
    .map((s) => s.repeat(Math.ceil(60_000 / s.length))),
  fc.integer({ min: 1, max: 200_000 }).map((n) => 'x'.repeat(n)),
);
const value = fc.oneof({ weight: 5, arbitrary: odd }, { weight: 1, arbitrary: huge });
const headerName = fc.oneof(
  fc.constantFrom(
    'authorization',
    'x-request-id',
    'content-type',
    'x-cluster',
    'x-spicedb-zedtoken',
    'x-jwtauth-subject',
    'x-saga-id',
    ':path',
    ':method',
    '',
  ),
  odd,
  huge,
);
const authorization = fc.oneof(
  value,
  fc.constantFrom('Bearer ', 'Bearer a,b', 'Basic dXNlcjpwYXNz'),
  fc.constant(null).map(() => `Bearer ${validToken}`),
  fc.nat().map((i) => `Bearer ${oddTokens[i % oddTokens.length]}`),
  value.map((v) => `Bearer ${v}`),
  fc
    .record({ sub: odd, kid: fc.option(odd) })
    .map(
      ({ sub, kid }) =>
        `Bearer ${forge.token({ sub }, kid === null ? { kid: undefined } : { kid })}`,
    ),
);
const pathArb = fc.oneof(
  fc.constantFrom(
    '/v2/namespaces/cl0',
    '/gateway.v2.NamespaceService/CreateNamespace',
    '/v2%2Fnamespaces%2Fcl0',
    '/v2;/namespaces/cl0',
    '/../x',
    '*',
    '',
  ),
  value,
  fc.array(odd, { maxLength: 8 }).map((s) => '/' + s.join('/')),
);
const extensions = fc.dictionary(
  fc.oneof(
    fc.constantFrom(
      'jwtexchange.direction',
      'jwtexchange.exempt',
      'jwtexchange.audience',
      'jwtexchange.scope',
      'jwtexchange.when-header',
    ),
    odd,
  ),
  fc.oneof(
    fc.constantFrom('inbound', 'outbound', 'true', 'vmcontroller', 'billing', 'x-saga-id'),
    value,
  ),
  { maxKeys: 4 },
);

const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });

const checkRequest: fc.Arbitrary<CheckRequest> = fc
  .record({
    method: maybe(fc.oneof(fc.constantFrom('GET', 'POST', 'DELETE'), odd)),
    path: maybe(pathArb),
    host: maybe(value),
    headers: maybe(
      fc
        .tuple(fc.dictionary(headerName, value, { maxKeys: 6 }), maybe(authorization))
        .map(([h, a]) => (a === undefined ? h : { ...h, authorization: a })),
    ),
    extensions: maybe(extensions),
    principal: maybe(value),
    shape: fc.constantFrom('full', 'no-http', 'no-request', 'no-attributes', 'empty'),
  })
  .map(({ method, path: p, host, headers, extensions: ext, principal, shape }): CheckRequest => {
    if (shape === 'empty') return {};
    if (shape === 'no-attributes') return { attributes: undefined };
    if (shape === 'no-request') return { attributes: { context_extensions: ext ?? {} } };
    if (shape === 'no-http') return { attributes: { request: {}, context_extensions: ext ?? {} } };
    return {
      attributes: {
        ...(principal !== undefined ? { source: { principal } } : {}),
        request: {
          http: {
            ...(method !== undefined ? { method } : {}),
            ...(p !== undefined ? { path: p } : {}),
            ...(host !== undefined ? { host } : {}),
            ...(headers ? { headers } : {}),
          },
        },
        ...(ext ? { context_extensions: ext } : {}),
      },
    };
  });

const SEEDS: CheckRequest[] = [
  syntheticCheckRequest({
    method: 'POST',
    path: '/v2/namespaces/cl0',
    headers: { authorization: 'Bearer x' },
  }),
  syntheticCheckRequest({
    extensions: { 'jwtexchange.direction': 'outbound', 'jwtexchange.audience': 'vmcontroller' },
  }),
  syntheticCheckRequest({
    method: 'POST',
    path: '/gateway.v2.NamespaceService/CreateNamespace',
    headers: { 'content-type': 'application/grpc', 'x-cluster': 'cl0' },
  }),
];

const mutation = fc
  .record({
    seed: fc.constantFrom(...SEEDS.map(encode)),
    edits: fc.array(
      fc.record({
        at: fc.nat(),
        op: fc.constantFrom('flip', 'cut', 'insert', 'dup'),
        byte: fc.integer({ min: 0, max: 255 }),
        bytes: fc.uint8Array({ maxLength: 16 }),
      }),
      { minLength: 1, maxLength: 6 },
    ),
  })
  .map(({ seed, edits }) => {
    let b = Buffer.from(seed);
    for (const e of edits) {
      const at = b.length === 0 ? 0 : e.at % b.length;
      if (e.op === 'flip' && b.length > 0) b[at] = e.byte;
      else if (e.op === 'cut') b = b.subarray(0, at);
      else if (e.op === 'insert') b = Buffer.concat([b.subarray(0, at), e.bytes, b.subarray(at)]);
      else b = Buffer.concat([b.subarray(0, at), b.subarray(at)]);
    }
    return b;
  });

// --- the fuzzing --------------------------------------------------------------------------------

describe('Check under fuzzing', () => {
  it('answers random protobuf bytes with a decision or a gRPC error', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2_048 }), async (bytes) => {
        expectDecision(
          await send(Buffer.from(bytes)),
          () => `bytes ${Buffer.from(bytes).toString('hex')}`,
        );
      }),
      { numRuns: RUNS },
    );
  });

  it('answers mutated valid CheckRequests with a decision or a gRPC error', async () => {
    await fc.assert(
      fc.asyncProperty(mutation, async (bytes) => {
        expectDecision(await send(bytes), () => `bytes ${bytes.toString('hex')}`);
      }),
      { numRuns: RUNS },
    );
  });

  it('answers generated CheckRequests (odd and huge fields, missing fields) with a decision', async () => {
    await fc.assert(
      fc.asyncProperty(checkRequest, async (req) => {
        const outcome = await send(encode(req));
        expect('error' in outcome ? outcome.error.message : '', 'a well-formed CheckRequest').toBe(
          '',
        );
        expectDecision(outcome, () => JSON.stringify(req).slice(0, 2_000));
      }),
      { numRuns: RUNS },
    );
  });

  it('answers any path spelling of an authenticated request with a decision', async () => {
    await fc.assert(
      fc.asyncProperty(
        pathArb,
        fc.constantFrom('GET', 'POST'),
        fc.boolean(),
        async (p, method, grpc) => {
          const req = syntheticCheckRequest({
            method,
            path: p,
            headers: {
              authorization: `Bearer ${validToken}`,
              'x-cluster': 'cl0',
              ...(grpc ? { 'content-type': 'application/grpc' } : {}),
            },
          });
          expectDecision(await send(encode(req)), () => `${method} ${p.slice(0, 200)}`);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('still serves, and health still says SERVING', async () => {
    const ok = await send(
      encode(syntheticCheckRequest({ headers: { authorization: `Bearer ${validToken}` } })),
    );
    expect('response' in ok && ok.response.status.code).toBe(0);
    const health = await new Promise<Buffer>((resolve, reject) =>
      client.Health(Buffer.alloc(0), { deadline: Date.now() + DEADLINE_MS }, (e, r) =>
        e ? reject(e) : resolve(r!),
      ),
    );
    // HealthCheckResponse { status: SERVING (1) }
    expect(health).toEqual(Buffer.from([0x08, 0x01]));
    expect(t.logs.some((l) => l.includes('check failed unexpectedly'))).toBe(false);
    // The fuzzing reached the interesting decisions, not only one kind of refusal.
    for (const reason of ['bad_request', 'missing_token', 'malformed_token', 'allowed']) {
      expect(
        answers.get(reason) ?? 0,
        `${reason} in ${JSON.stringify([...answers])}`,
      ).toBeGreaterThan(0);
    }
  });
});
