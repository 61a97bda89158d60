import { EventEmitter } from 'node:events';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import type { ServingStatus } from '../../../src/server/health-codec.js';
import { HealthService } from '../../../src/server/health-service.js';

/** The handlers HealthService registers, called the way src/grpc/h2-server.ts calls them. */
function handlers(health: HealthService) {
  let impl: Readonly<Record<string, unknown>> = {};
  health.addToServer({ addService: (_def, i) => (impl = i) });
  const unary = (name: 'Check' | 'List', request: unknown) => {
    let answer: { err: unknown; value: unknown } | undefined;
    (impl[name] as (call: unknown, cb: (err: unknown, value?: unknown) => void) => void)(
      { request },
      (err, value) => (answer = { err, value }),
    );
    return answer!;
  };
  return {
    check: (request: unknown) => unary('Check', request),
    list: (request: unknown) => unary('List', request),
    watch(request: unknown) {
      const call = new FakeWatchCall(request);
      (impl.Watch as (call: unknown) => void)(call);
      return call;
    },
  };
}

/** A server stream: what was written, the status it ended with, and a switch for backpressure. */
class FakeWatchCall extends EventEmitter {
  readonly sent: ServingStatus[] = [];
  ended: { code: number; details: string } | undefined;
  writableNeedDrain = false;

  constructor(readonly request: unknown) {
    super();
  }

  end(e: { code: number; details: string } = { code: 0, details: '' }): void {
    if (this.ended) throw new Error('ended twice');
    this.ended = e;
  }

  write(msg: { status: ServingStatus }): boolean {
    if (this.ended) throw new Error('write after end');
    this.sent.push(msg.status);
    return true;
  }

  drain(): void {
    this.writableNeedDrain = false;
    this.emit('drain');
  }
}

const AUTHZ = 'envoy.service.auth.v3.Authorization';
const fresh = (limit?: number) =>
  new HealthService({ '': 'NOT_SERVING', [AUTHZ]: 'NOT_SERVING' }, limit);

describe('HealthService Check', () => {
  it('answers the status of a registered service, as it changes', () => {
    const health = fresh();
    const h = handlers(health);
    expect(h.check({ service: '' })).toEqual({ err: null, value: { status: 'NOT_SERVING' } });
    health.setStatus('', 'SERVING');
    expect(h.check({ service: '' })).toEqual({ err: null, value: { status: 'SERVING' } });
    expect(h.check({ service: AUTHZ }).value).toEqual({ status: 'NOT_SERVING' });
  });

  it('NOT_FOUND for a service it does not know, without echoing the name', () => {
    const h = handlers(fresh());
    const { err } = h.check({ service: 'secret.Name' });
    expect(err).toEqual({ code: GrpcStatus.NOT_FOUND, details: 'unknown service' });
  });

  it('INVALID_ARGUMENT for a malformed request', () => {
    const h = handlers(fresh());
    expect(h.check({ invalid: 'truncated varint' }).err).toEqual({
      code: GrpcStatus.INVALID_ARGUMENT,
      details: 'truncated varint',
    });
  });
});

describe('HealthService List', () => {
  it('lists every service with its status', () => {
    const health = fresh();
    health.setStatus(AUTHZ, 'SERVING');
    const { err, value } = handlers(health).list({});
    expect(err).toBeNull();
    expect({ ...(value as { statuses: object }).statuses }).toEqual({
      '': { status: 'NOT_SERVING' },
      [AUTHZ]: { status: 'SERVING' },
    });
  });

  it('RESOURCE_EXHAUSTED past the limit; INVALID_ARGUMENT for a malformed request', () => {
    const h = handlers(fresh(1));
    expect(h.list({}).err).toMatchObject({ code: GrpcStatus.RESOURCE_EXHAUSTED });
    expect(handlers(fresh()).list({ invalid: 'x' }).err).toMatchObject({
      code: GrpcStatus.INVALID_ARGUMENT,
    });
  });
});

describe('HealthService Watch', () => {
  it('sends the current status at once, then each change, never the same one twice', () => {
    const health = fresh();
    const call = handlers(health).watch({ service: AUTHZ });
    expect(call.sent).toEqual(['NOT_SERVING']);
    health.setStatus(AUTHZ, 'NOT_SERVING');
    health.setStatus(AUTHZ, 'SERVING');
    health.setStatus(AUTHZ, 'SERVING');
    health.setStatus('', 'NOT_SERVING'); // another service
    health.setStatus(AUTHZ, 'NOT_SERVING');
    expect(call.sent).toEqual(['NOT_SERVING', 'SERVING', 'NOT_SERVING']);
    expect(call.ended).toBeUndefined();
  });

  it('an unknown service: SERVICE_UNKNOWN, the stream stays open, its status once known', () => {
    const health = fresh();
    const call = handlers(health).watch({ service: 'later' });
    expect(call.sent).toEqual(['SERVICE_UNKNOWN']);
    expect(call.ended).toBeUndefined();
    health.setStatus('later', 'SERVING');
    expect(call.sent).toEqual(['SERVICE_UNKNOWN', 'SERVING']);
  });

  it('a stream that does not read gets only the latest status once it drains', () => {
    const health = fresh();
    const call = handlers(health).watch({ service: '' });
    call.writableNeedDrain = true;
    for (const s of ['SERVING', 'NOT_SERVING', 'SERVING'] as const) health.setStatus('', s);
    expect(call.sent).toEqual(['NOT_SERVING']);
    call.drain();
    expect(call.sent).toEqual(['NOT_SERVING', 'SERVING']);

    // Back where it was while full: nothing to send.
    call.writableNeedDrain = true;
    health.setStatus('', 'NOT_SERVING');
    health.setStatus('', 'SERVING');
    call.drain();
    expect(call.sent).toEqual(['NOT_SERVING', 'SERVING']);
  });

  it('a cancelled stream gets nothing more and frees its place', () => {
    const health = fresh(1);
    const h = handlers(health);
    const first = h.watch({ service: '' });
    const refused = h.watch({ service: '' });
    expect(refused.ended).toMatchObject({ code: GrpcStatus.RESOURCE_EXHAUSTED });
    expect(refused.sent).toEqual([]);
    first.emit('cancelled');
    health.setStatus('', 'SERVING');
    expect(first.sent).toEqual(['NOT_SERVING']);
    expect(h.watch({ service: '' }).sent).toEqual(['SERVING']);
  });

  it('INVALID_ARGUMENT for a malformed request', () => {
    const call = handlers(fresh()).watch({ invalid: 'field number 0' });
    expect(call.ended).toEqual({ code: GrpcStatus.INVALID_ARGUMENT, details: 'field number 0' });
    expect(call.sent).toEqual([]);
  });

  it('shutdown: NOT_SERVING to every watcher, then every stream ends; later changes ignored', () => {
    const health = fresh();
    const h = handlers(health);
    health.setStatus('', 'SERVING');
    const all = h.watch({ service: '' });
    const unknown = h.watch({ service: 'other' });
    health.shutdown();
    expect(all.sent).toEqual(['SERVING', 'NOT_SERVING']);
    expect(unknown.sent).toEqual(['SERVICE_UNKNOWN']);
    for (const call of [all, unknown]) {
      expect(call.ended).toEqual({ code: GrpcStatus.UNAVAILABLE, details: 'server shutting down' });
    }
    health.setStatus('', 'SERVING');
    expect(h.check({ service: '' }).value).toEqual({ status: 'NOT_SERVING' });
    expect(h.watch({ service: '' }).ended).toMatchObject({ code: GrpcStatus.UNAVAILABLE });
  });

  it('shutdown: a stream that does not read still has NOT_SERVING queued before its end', () => {
    const health = fresh();
    health.setStatus('', 'SERVING');
    const call = handlers(health).watch({ service: '' });
    call.writableNeedDrain = true;
    health.shutdown();
    expect(call.sent).toEqual(['SERVING', 'NOT_SERVING']);
    expect(call.ended).toMatchObject({ code: GrpcStatus.UNAVAILABLE });
  });
});
