import { status as GrpcStatus } from '@grpc/grpc-js';
import { grpcError, type Call, type ServerStreamCall, type UnaryCallback } from '../grpc/calls.js';
import type { H2GrpcServer } from '../grpc/h2-server.js';
import {
  healthServiceDefinition,
  type Decoded,
  type HealthCheckRequest,
  type HealthCheckResponse,
  type HealthListRequest,
  type HealthListResponse,
  type ServingStatus,
} from './health-codec.js';

type WatchCall = ServerStreamCall<Decoded<HealthCheckRequest>, HealthCheckResponse>;

/** One open Watch stream: what it was last sent, and what waits for the stream to drain. */
interface Watcher {
  readonly call: WatchCall;
  lastSent: ServingStatus | undefined;
  pending: ServingStatus | undefined;
}

/** Watch streams open at once, and services List answers, before RESOURCE_EXHAUSTED. */
const DEFAULT_LIMIT = 100;

/**
 * grpc.health.v1.Health as https://github.com/grpc/grpc/blob/master/doc/health-checking.md
 * specifies it (Check, Watch and List, as grpc-health-check v2 implements them):
 * - Check: the status of a registered service; NOT_FOUND for any other name.
 * - Watch: the current status at once (SERVICE_UNKNOWN for a name not registered; the stream
 *   stays open), then each change, never the same status twice in a row. A stream that does not
 *   read gets only the latest status once it drains, so a slow reader holds one status, not a queue.
 * - List: every service and its status.
 * A malformed request is INVALID_ARGUMENT (health-codec.ts never throws). shutdown() says
 * NOT_SERVING, then ends every Watch stream, so open streams do not hold up a graceful stop.
 */
export class HealthService {
  private readonly statuses = new Map<string, ServingStatus>();
  private readonly watchers = new Map<string, Set<Watcher>>();
  private watching = 0;
  private stopped = false;

  constructor(
    initial: Readonly<Record<string, ServingStatus>>,
    private readonly limit = DEFAULT_LIMIT,
  ) {
    for (const [service, status] of Object.entries(initial)) this.statuses.set(service, status);
  }

  /** Sets a service's status and tells its watchers if it changed. Ignored after shutdown(). */
  setStatus(service: string, status: ServingStatus): void {
    if (this.stopped || this.statuses.get(service) === status) return;
    this.statuses.set(service, status);
    for (const w of this.watchers.get(service) ?? []) send(w, status);
  }

  /** NOT_SERVING for every service, then every Watch stream ends with UNAVAILABLE. */
  shutdown(): void {
    for (const service of this.statuses.keys()) this.setStatus(service, 'NOT_SERVING');
    this.stopped = true;
    for (const [service, set] of this.watchers) {
      for (const w of set) {
        this.unwatch(service, w);
        // A full stream still gets its last status, queued before the end.
        if (w.pending !== undefined && w.pending !== w.lastSent)
          w.call.write({ status: w.pending });
        end(w.call, GrpcStatus.UNAVAILABLE, 'server shutting down');
      }
    }
  }

  addToServer(server: Pick<H2GrpcServer, 'addService'>): void {
    server.addService(healthServiceDefinition(), {
      Check: (call: Call<Decoded<HealthCheckRequest>>, done: UnaryCallback<HealthCheckResponse>) =>
        this.check(call.request, done),
      Watch: (call: WatchCall) => this.watch(call),
      List: (call: Call<Decoded<HealthListRequest>>, done: UnaryCallback<HealthListResponse>) =>
        this.list(call.request, done),
    });
  }

  private check(req: Decoded<HealthCheckRequest>, done: UnaryCallback<HealthCheckResponse>): void {
    if ('invalid' in req) return done(grpcError(GrpcStatus.INVALID_ARGUMENT, req.invalid));
    const status = this.statuses.get(req.service);
    // The caller's service name is not echoed back: it may be megabytes long.
    if (status === undefined) return done(grpcError(GrpcStatus.NOT_FOUND, 'unknown service'));
    done(null, { status });
  }

  private list(req: Decoded<HealthListRequest>, done: UnaryCallback<HealthListResponse>): void {
    if ('invalid' in req) return done(grpcError(GrpcStatus.INVALID_ARGUMENT, req.invalid));
    if (this.statuses.size > this.limit) {
      return done(grpcError(GrpcStatus.RESOURCE_EXHAUSTED, 'too many services to list'));
    }
    const statuses: Record<string, HealthCheckResponse> = Object.create(null) as Record<
      string,
      HealthCheckResponse
    >;
    for (const [service, status] of this.statuses) statuses[service] = { status };
    done(null, { statuses });
  }

  private watch(call: WatchCall): void {
    const req = call.request;
    const refuse = (code: GrpcStatus, details: string) => end(call, code, details);
    if ('invalid' in req) return refuse(GrpcStatus.INVALID_ARGUMENT, req.invalid);
    if (this.stopped) return refuse(GrpcStatus.UNAVAILABLE, 'server shutting down');
    if (this.watching >= this.limit) {
      return refuse(GrpcStatus.RESOURCE_EXHAUSTED, 'too many health watches');
    }
    const w: Watcher = { call, lastSent: undefined, pending: undefined };
    let set = this.watchers.get(req.service);
    if (!set) this.watchers.set(req.service, (set = new Set()));
    set.add(w);
    this.watching++;
    call.on('cancelled', () => this.unwatch(req.service, w));
    call.on('drain', () => {
      const next = w.pending;
      w.pending = undefined;
      if (next !== undefined) send(w, next);
    });
    send(w, this.statuses.get(req.service) ?? 'SERVICE_UNKNOWN');
  }

  private unwatch(service: string, w: Watcher): void {
    const set = this.watchers.get(service);
    if (!set?.delete(w)) return;
    this.watching--;
    if (set.size === 0) this.watchers.delete(service);
  }
}

/** Ends a stream with a status, after what is queued. */
function end(call: WatchCall, code: GrpcStatus, details: string): void {
  call.end(grpcError(code, details));
}

/** Writes a status unless it is the one last sent; while the stream is full, keeps only the latest. */
function send(w: Watcher, status: ServingStatus): void {
  if (w.call.writableNeedDrain) {
    w.pending = status;
    return;
  }
  if (status === w.lastSent) return;
  w.lastSent = status;
  w.call.write({ status });
}
