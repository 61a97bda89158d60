import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthorizationClient, syntheticCheckRequest } from '../../src/envoy/client.js';
import { connect } from 'node:net';
import { frame, settingsFrame } from '../../src/h2/frame-writer.js';
import { encodeHeaderBlock } from '../../src/h2/hpack-encoder.js';
import { Flag, FrameType, PREFACE } from '../../src/h2/protocol.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { parseFrames } from '../helpers/h2-frames.js';
import { scrapeMetrics, type Scrape } from '../helpers/prometheus.js';

/**
 * A real server, a scripted mix of checks over real gRPC, then a real scrape of /metrics over
 * HTTP: the families move exactly as docs/metrics.md says.
 */
describe('/metrics after a scripted mix of checks', () => {
  let t: TestApp;
  let client: AuthorizationClient;
  let before: Scrape;
  let after: Scrape;

  const inbound = (headers: Record<string, string> = {}, extensions: Record<string, string> = {}) =>
    client.check(syntheticCheckRequest({ path: '/v2/namespaces', headers, extensions }));
  const outbound = (extensions: Record<string, string>) =>
    client.check(
      syntheticCheckRequest({
        path: '/vmcontroller.v1.VMService/CreateNamespace',
        extensions: { 'jwtexchange.direction': 'outbound', ...extensions },
      }),
    );

  beforeAll(async () => {
    t = await startTestApp();
    client = new AuthorizationClient(t.grpcAddress);
    before = await scrapeMetrics(t.app.httpPort);

    const valid = await t.issuer.mint({ sub: 'alice' });
    const expired = await t.issuer.mint({ sub: 'bob', ttlSeconds: -600 });
    const otherAudience = await t.issuer.mint({ sub: 'carol', aud: 'billing' });
    // 3 allows of one token (1 verification, 2 cache hits), 1 exempt health check.
    for (let i = 0; i < 3; i++) await inbound({ authorization: `Bearer ${valid}` });
    await inbound({}, { 'jwtexchange.exempt': 'true' });
    // 4 inbound denials: 2 without a token, 1 expired, 1 for another audience.
    await inbound();
    await inbound();
    await inbound({ authorization: `Bearer ${expired}` });
    await inbound({ authorization: `Bearer ${otherAudience}` });
    // Outbound: an untagged route passes; a saga-tagged one is refused without an outbound section.
    await outbound({});
    await outbound({ 'jwtexchange.audience': 'vmcontroller' });
    // A CheckRequest that cannot be read at all.
    await client.check({ attributes: {} });

    after = await scrapeMetrics(t.app.httpPort);
  });

  afterAll(async () => {
    client?.close();
    await t?.app.shutdown();
  });

  const checks = (direction: string, decision: string, reason: string) =>
    after.sum('jwtexchange_checks_total', { direction, decision, reason });

  it('starts with no checks counted', () => {
    expect(before.sum('jwtexchange_checks_total')).toBe(0);
    expect(before.sum('jwtexchange_check_duration_seconds_count')).toBe(0);
  });

  it('counts every check by direction, decision and reason', () => {
    expect(checks('inbound', 'allow', 'allowed')).toBe(3);
    expect(checks('inbound', 'allow', 'exempt')).toBe(1);
    expect(checks('inbound', 'deny', 'missing_token')).toBe(2);
    expect(checks('inbound', 'deny', 'token_expired')).toBe(1);
    expect(checks('inbound', 'deny', 'invalid_audience')).toBe(1);
    expect(checks('outbound', 'allow', 'passthrough')).toBe(1);
    expect(checks('outbound', 'deny', 'audience_not_allowed')).toBe(1);
    expect(checks('unknown', 'deny', 'bad_request')).toBe(1);
    expect(after.sum('jwtexchange_checks_total')).toBe(11);
  });

  it('times every check in the duration histogram, per direction', () => {
    const count = (direction: string) =>
      after.value('jwtexchange_check_duration_seconds_count', { direction });
    expect(count('inbound')).toBe(8);
    expect(count('outbound')).toBe(2);
    expect(count('unknown')).toBe(1);
    const buckets = after.samples
      .filter((s) => s.name === 'jwtexchange_check_duration_seconds_bucket')
      .filter((s) => s.labels.direction === 'inbound')
      .map((s) => s.value);
    expect(buckets.at(-1)).toBe(8); // le="+Inf"
    for (let i = 1; i < buckets.length; i++)
      expect(buckets[i]).toBeGreaterThanOrEqual(buckets[i - 1]!);
    expect(after.sum('jwtexchange_check_duration_seconds_sum')).toBeGreaterThan(0);
  });

  it('times the phases that did asynchronous work, and only those', () => {
    const phase = (name: string) =>
      after.value('jwtexchange_phase_duration_seconds_count', { phase: name });
    expect(phase('authenticate')).toBe(3); // the three verifications (cache misses); hits are not timed
    // In-memory phases answer synchronously and never appear.
    expect(after.sum('jwtexchange_phase_duration_seconds_count', { phase: 'exempt' })).toBe(0);
    expect(
      after.sum('jwtexchange_phase_duration_seconds_count', { phase: 'identity_headers' }),
    ).toBe(0);
  });

  it('counts verified-token cache hits and misses', () => {
    expect(after.value('jwtexchange_verified_token_cache_total', { result: 'hit' })).toBe(2);
    // The valid token once; the expired and wrong-audience tokens are verified, then refused.
    expect(after.value('jwtexchange_verified_token_cache_total', { result: 'miss' })).toBe(3);
  });

  it('returns the in-flight gauge to zero', () => {
    expect(after.value('jwtexchange_checks_in_flight')).toBe(0);
  });

  it('reports the key set: loads, key count and a fresh age', () => {
    const issuer = t.issuer.issuer;
    expect(after.value('jwtexchange_jwks_fetches_total', { issuer, result: 'success' })).toBe(
      before.value('jwtexchange_jwks_fetches_total', { issuer, result: 'success' }),
    );
    expect(
      after.value('jwtexchange_jwks_fetches_total', { issuer, result: 'success' }),
    ).toBeGreaterThanOrEqual(1);
    expect(after.sum('jwtexchange_jwks_fetches_total', { result: 'failure' })).toBe(0);
    expect(after.value('jwtexchange_jwks_keys', { issuer })).toBe(1);
    const age = after.value('jwtexchange_jwks_age_seconds', { issuer });
    expect(age).toBeGreaterThanOrEqual(0);
    expect(age).toBeLessThan(60);
  });

  it('exports build info and the default process metrics', () => {
    expect(after.sum('jwtexchange_build_info')).toBe(1);
    expect(after.types.get('process_cpu_seconds_total')).toBe('counter');
    expect(after.names.has('process_resident_memory_bytes')).toBe(true);
    expect(after.names.has('nodejs_eventloop_lag_p99_seconds')).toBe(true);
  });

  it('never puts a token or a subject in a label', () => {
    for (const s of after.samples) {
      for (const v of Object.values(s.labels)) {
        expect(v).not.toMatch(/^eyJ/);
        expect(['alice', 'bob', 'carol']).not.toContain(v);
      }
    }
  });
});

describe('/metrics in dry-run', () => {
  let t: TestApp;
  let client: AuthorizationClient;

  beforeAll(async () => {
    t = await startTestApp(() => ({ inbound: { mode: 'dry-run' } }));
    client = new AuthorizationClient(t.grpcAddress);
  });

  afterAll(async () => {
    client?.close();
    await t?.app.shutdown();
  });

  it('counts a would-be denial as decision="dry_run" under the reason it would deny for', async () => {
    const res = await client.check(syntheticCheckRequest({ path: '/v2/namespaces' }));
    expect(res.status?.code ?? 0).toBe(0);
    const scrape = await scrapeMetrics(t.app.httpPort);
    expect(scrape.sum('jwtexchange_checks_total', { decision: 'dry_run' })).toBe(1);
    expect(
      scrape.sum('jwtexchange_checks_total', { decision: 'dry_run', reason: 'missing_token' }),
    ).toBe(1);
    expect(scrape.sum('jwtexchange_checks_total', { decision: 'deny' })).toBe(0);
  });
});

describe('/metrics: HTTP/2 errors the gRPC listener sends', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });

  afterAll(async () => {
    await t?.app.shutdown();
  });

  /** Sends frames after the preface and reads until the frame of `type` comes back, or close. */
  function exchange(frames: Buffer[], until: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = connect(t.app.grpcPort, '127.0.0.1');
      let got = Buffer.alloc(0);
      socket.on('error', reject);
      socket.on('close', () => resolve());
      socket.on('data', (chunk: Buffer) => {
        got = Buffer.concat([got, chunk]);
        if (parseFrames(got).some((f) => f.type === until)) socket.destroy();
      });
      socket.write(Buffer.concat([PREFACE, settingsFrame([]), ...frames]));
    });
  }

  it('counts a reset malformed request and a connection ended by GOAWAY, by scope and code', async () => {
    const malformed = encodeHeaderBlock([
      [':method', 'POST'],
      [':scheme', 'http'],
      [':path', '/envoy.service.auth.v3.Authorization/Check'],
      ['X-Upper', 'v'],
    ]);
    await exchange(
      [frame(FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM, 1, malformed)],
      FrameType.RST_STREAM,
    );
    await exchange([frame(FrameType.HEADERS, Flag.END_HEADERS, 2, malformed)], FrameType.GOAWAY);
    const scrape = await scrapeMetrics(t.app.httpPort);
    const errors = (scope: string) =>
      scrape.sum('jwtexchange_grpc_protocol_errors_total', { scope, error: 'PROTOCOL_ERROR' });
    expect(errors('stream')).toBe(1);
    expect(errors('connection')).toBe(1);
    // The connection's end is also a log line naming the code and the peer; the reset is not.
    const lines = t.logs
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.msg === 'grpc connection ended on an error');
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'warn',
        error: 'PROTOCOL_ERROR',
        peer: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
      }),
    ]);
  });
});
