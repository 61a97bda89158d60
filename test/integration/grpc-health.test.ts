import {
  credentials,
  makeGenericClientConstructor,
  status as GrpcStatus,
  type ClientReadableStream,
  type ServiceError,
} from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { waitFor } from '../helpers/ports.js';

/**
 * The sidecar's grpc.health.v1.Health (src/server/health-service.ts, on its own codec) as an
 * independent client sees it: grpc-health-check's proto-loader definition of grpc's health.proto.
 * Readiness is moved by a gate the test owns, through the same path as the real gates
 * (Readiness.recheck → listeners.ts → setServing).
 */

const AUTHZ = 'envoy.service.auth.v3.Authorization';
type Status = 'UNKNOWN' | 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';
type Callback<T> = (err: ServiceError | null, res?: T) => void;
interface HealthClient {
  check(req: { service: string }, cb: Callback<{ status: Status }>): void;
  list(req: object, cb: Callback<{ statuses: Record<string, { status: Status }> }>): void;
  watch(req: { service: string }): ClientReadableStream<{ status: Status }>;
  close(): void;
}
/** Bytes in, bytes out: for requests no well-behaved client would send. */
interface RawClient {
  Check(req: Buffer, cb: Callback<Buffer>): void;
  List(req: Buffer, cb: Callback<Buffer>): void;
  Watch(req: Buffer): ClientReadableStream<Buffer>;
  close(): void;
}

const Health = makeGenericClientConstructor(healthService, 'Health');
const raw = (name: string, responseStream: boolean) => ({
  path: `/grpc.health.v1.Health/${name}`,
  requestStream: false,
  responseStream,
  requestSerialize: (b: Buffer) => b,
  requestDeserialize: (b: Buffer) => b,
  responseSerialize: (b: Buffer) => b,
  responseDeserialize: (b: Buffer) => b,
});
const Raw = makeGenericClientConstructor(
  { Check: raw('Check', false), List: raw('List', false), Watch: raw('Watch', true) },
  'RawHealth',
);

const call = <T>(fn: (cb: Callback<T>) => void) =>
  new Promise<{ err: ServiceError | null; res?: T }>((resolve) =>
    fn((err, res) => resolve({ err, res })),
  );

/** Every status a Watch stream received, and how it ended. */
function watched(stream: ClientReadableStream<{ status: Status }>) {
  const seen: Status[] = [];
  let ended: ServiceError | undefined;
  stream.on('data', (m: { status: Status }) => seen.push(m.status));
  stream.on('error', (e: ServiceError) => (ended = e));
  return { seen, ended: () => ended };
}

describe('gRPC health (grpc.health.v1) on the ext_authz port', () => {
  let t: TestApp;
  let client: HealthClient;
  let ready = false;
  let stopped = false;
  const setReady = (r: boolean) => {
    ready = r;
    t.app.readiness.recheck();
  };

  beforeAll(async () => {
    // Patience only: shutdown must not wait for open Watch streams (the last test).
    t = await startTestApp(() => ({ server: { shutdownGraceMs: 300_000, drainDelayMs: 0 } }));
    t.app.readiness.register('test gate', () => ({ ready }));
    t.app.readiness.recheck();
    client = new Health(t.grpcAddress, credentials.createInsecure()) as unknown as HealthClient;
  }, 60_000);
  afterAll(async () => {
    client?.close();
    if (!stopped) await t?.app.shutdown();
  });

  it('Check follows readiness for the server and the ext_authz service', async () => {
    for (const service of ['', AUTHZ]) {
      expect((await call((cb) => client.check({ service }, cb))).res).toEqual({
        status: 'NOT_SERVING',
      });
    }
    setReady(true);
    for (const service of ['', AUTHZ]) {
      expect((await call((cb) => client.check({ service }, cb))).res).toEqual({
        status: 'SERVING',
      });
    }
  });

  it('Check of an unknown service is NOT_FOUND', async () => {
    const { err } = await call((cb) => client.check({ service: 'no.such.Service' }, cb));
    expect(err?.code).toBe(GrpcStatus.NOT_FOUND);
  });

  it('List names both services with their status', async () => {
    setReady(true);
    const { err, res } = await call((cb) => client.list({}, cb));
    expect(err).toBeNull();
    expect(res).toEqual({
      statuses: { '': { status: 'SERVING' }, [AUTHZ]: { status: 'SERVING' } },
    });
  });

  it('Watch: the current status at once, then each flip of readiness, no repeats', async () => {
    setReady(true);
    const w = watched(client.watch({ service: AUTHZ }));
    await waitFor(() => w.seen.length === 1, 'the first status');
    setReady(false);
    setReady(false);
    await waitFor(() => w.seen.length === 2, 'NOT_SERVING');
    setReady(true);
    await waitFor(() => w.seen.length === 3, 'SERVING again');
    // A status that did not change is not sent: a Check round trip orders it after any repeat.
    t.app.readiness.recheck();
    await call((cb) => client.check({ service: '' }, cb));
    expect(w.seen).toEqual(['SERVING', 'NOT_SERVING', 'SERVING']);
    expect(w.ended()).toBeUndefined();
  });

  it('Watch of an unknown service says SERVICE_UNKNOWN and stays open', async () => {
    const stream = client.watch({ service: 'no.such.Service' });
    const w = watched(stream);
    await waitFor(() => w.seen.length === 1, 'SERVICE_UNKNOWN');
    await call((cb) => client.check({ service: '' }, cb));
    expect(w.seen).toEqual(['SERVICE_UNKNOWN']);
    expect(w.ended()).toBeUndefined();
    stream.cancel();
  });

  it('malformed requests get INVALID_ARGUMENT on every method, and health keeps answering', async () => {
    const r = new Raw(t.grpcAddress, credentials.createInsecure()) as unknown as RawClient;
    const hostile = [
      Buffer.from([0x0a, 0x05, 0x61]), // service longer than the message
      Buffer.from([0x08, 0x01]), // service as a varint
      Buffer.from([0x0a, 0x02, 0xc3, 0x28]), // service not UTF-8
      Buffer.from([0x10, ...Array<number>(11).fill(0xff)]), // varint over 10 bytes
    ];
    for (const bytes of hostile) {
      const { err } = await call<Buffer>((cb) => r.Check(bytes, cb));
      expect(err?.code).toBe(GrpcStatus.INVALID_ARGUMENT);
      const watch = r.Watch(bytes) as ClientReadableStream<Buffer>;
      const ended = await new Promise<ServiceError>((resolve) => watch.on('error', resolve));
      expect(ended.code).toBe(GrpcStatus.INVALID_ARGUMENT);
    }
    const list = await call<Buffer>((cb) => r.List(Buffer.from([0x00]), cb));
    expect(list.err?.code).toBe(GrpcStatus.INVALID_ARGUMENT);
    // Unknown fields are skipped, as protobuf says.
    const skipped = await call<Buffer>((cb) => r.Check(Buffer.from([0x10, 0x01]), cb));
    expect(skipped.err).toBeNull();
    r.close();
    expect((await call((cb) => client.check({ service: '' }, cb))).err).toBeNull();
  });

  it('shutdown: watchers see NOT_SERVING, then their streams end, so the drain does not wait', async () => {
    setReady(true);
    const w = watched(client.watch({ service: '' }));
    await waitFor(() => w.seen.at(-1) === 'SERVING', 'SERVING on the watch');
    // With a 5-minute grace, an open stream would hold this until the test times out.
    stopped = true;
    await t.app.shutdown();
    await waitFor(() => w.ended(), 'the watch to end');
    expect(w.seen.at(-1)).toBe('NOT_SERVING');
    expect(w.ended()!.code).toBe(GrpcStatus.UNAVAILABLE);
  }, 60_000);
});
