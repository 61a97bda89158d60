import cluster, { type Worker } from 'node:cluster';
import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import type { Logger } from '../log.js';
import type { CachedServiceToken, ServiceTokenCache } from '../tokens/service-token-cache.js';
import { TokenRequestError } from '../tokens/token-errors.js';
import { SERVER_NODE_FLAGS } from './node-flags.js';
import { workerEntry } from './worker-entry.js';
import type { GateStatus } from '../readiness.js';
import {
  isWorkerMessage,
  type ListeningPorts,
  type PrimaryMessage,
  type WorkerMessage,
} from './worker-messages.js';

type MetricsJson = MetricObjectWithValues<MetricValue<string>>[];

interface WorkerState {
  readonly worker: Worker;
  readonly startedAt: number;
  ports: ListeningPorts | undefined;
  ready: boolean;
  notReady: string[];
}

export interface WorkerPoolOptions {
  readonly count: number;
  /** The configuration file every worker loads (the primary's own, as an absolute path). */
  readonly configFile: string;
  readonly logger: Logger;
  /** The primary's service-token cache (undefined without `outbound`). */
  readonly tokens: ServiceTokenCache | undefined;
  /** Called when a worker's readiness changed (the primary re-evaluates its own). */
  readonly changed: () => void;
}

/**
 * The primary's node flags minus an inline script (-e), which a worker must not run again, plus
 * the server's heap settings where the primary was not started with its own.
 */
function workerExecArgv(): string[] {
  const out: string[] = [];
  const args = process.execArgv;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-e' || a === '--eval' || a === '-p' || a === '--print') i++;
    else if (!a.startsWith('--eval=') && !a.startsWith('--input-type')) out.push(a);
  }
  for (const flag of SERVER_NODE_FLAGS) {
    const name = flag.split('=')[0]!;
    if (!out.some((a) => a.split('=')[0] === name)) out.push(flag);
  }
  return out;
}

/**
 * The workers of `server.workers` > 1 (node:cluster, one shared listening port): forks them,
 * replaces one that dies, relays their token requests to the primary's cache and pushes every
 * token to all of them, collects their metrics, tracks their readiness, drains them.
 */
export class WorkerPool {
  private readonly states = new Map<number, WorkerState>();
  private readonly metricWaiters = new Map<number, (m: MetricsJson) => void>();
  private nextRequest = 1;
  private draining = false;
  private listening: ((ports: ListeningPorts) => void) | undefined;
  /** Until every worker listens: a worker that fails or dies fails the start (no re-fork). */
  private starting: ((err: Error) => void) | undefined;

  constructor(private readonly opts: WorkerPoolOptions) {}

  /**
   * Forks the workers; resolves with the gRPC port once every one of them listens, rejects with
   * the reason when one of them cannot start (the caller then drains the others).
   */
  start(): Promise<ListeningPorts> {
    cluster.setupPrimary({ exec: workerEntry(), execArgv: workerExecArgv(), args: [] });
    const port = new Promise<ListeningPorts>((resolve, reject) => {
      this.listening = (p) => {
        this.starting = undefined;
        resolve(p);
      };
      this.starting = (err) => {
        this.starting = undefined;
        this.draining = true; // nothing is re-forked from here
        reject(err);
      };
    });
    for (let i = 0; i < this.opts.count; i++) this.fork();
    return port;
  }

  /** The `workers` readiness gate of the pod. */
  status(): GateStatus {
    const states = [...this.states.values()];
    const ready = states.filter((s) => s.ready).length;
    const waiting = states
      .filter((s) => !s.ready)
      .map((s) => `worker ${s.worker.id}: ${s.notReady.join(', ') || 'starting'}`);
    return {
      ready: ready === this.opts.count,
      detail: [`${ready}/${this.opts.count} workers ready`, ...waiting].join('; '),
    };
  }

  /** Every token the primary's cache stores reaches every worker. */
  broadcast(token: CachedServiceToken): void {
    for (const s of this.states.values()) this.send(s.worker, { jwtx: 'service-token', token });
  }

  /** Each live worker's metrics (a worker that does not answer within 2 s is left out). */
  async collectMetrics(): Promise<MetricsJson[]> {
    const replies = [...this.states.values()].map((s) => {
      const id = this.nextRequest++;
      return new Promise<MetricsJson>((resolve) => {
        const timer = setTimeout(() => {
          this.metricWaiters.delete(id);
          resolve([]);
        }, 2_000);
        this.metricWaiters.set(id, (m) => {
          clearTimeout(timer);
          resolve(m);
        });
        this.send(s.worker, { jwtx: 'metrics-request', id });
      });
    });
    return Promise.all(replies);
  }

  /** Tells every worker to drain (they finish in-flight checks and exit); kills stragglers. */
  async drain(timeoutMs: number): Promise<void> {
    this.draining = true;
    const exits = [...this.states.values()].map(
      (s) => new Promise<void>((r) => (s.worker.isDead() ? r() : s.worker.once('exit', () => r()))),
    );
    for (const s of this.states.values()) this.send(s.worker, { jwtx: 'drain' });
    const timer = setTimeout(() => {
      this.opts.logger.warn('workers did not stop in time; killing them', {
        workers: [...this.states.keys()],
      });
      for (const s of this.states.values()) s.worker.process.kill('SIGKILL');
    }, timeoutMs);
    await Promise.all(exits);
    clearTimeout(timer);
  }

  private fork(): void {
    const worker = cluster.fork({ JWTX_WORKER_CONFIG: this.opts.configFile });
    const state: WorkerState = {
      worker,
      startedAt: Date.now(),
      ports: undefined,
      ready: false,
      notReady: [],
    };
    this.states.set(worker.id, state);
    worker.on('message', (m: unknown) => {
      if (isWorkerMessage(m)) this.onMessage(state, m);
    });
    worker.on('exit', (code, signal) => this.onExit(state, code, signal));
  }

  private onMessage(state: WorkerState, m: WorkerMessage): void {
    switch (m.jwtx) {
      case 'hello':
        for (const token of this.opts.tokens?.snapshot() ?? [])
          this.send(state.worker, { jwtx: 'service-token', token });
        return;
      case 'listening':
        state.ports = m.ports;
        if ([...this.states.values()].every((s) => s.ports !== undefined))
          this.listening?.(m.ports);
        return;
      case 'start-failed':
        this.starting?.(new Error(m.message));
        return;
      case 'readiness':
        state.ready = m.ready;
        state.notReady = Object.entries(m.gates)
          .filter(([, g]) => !g.ready)
          .map(([name, g]) => `${name} (${g.detail ?? 'not ready'})`);
        this.opts.changed();
        return;
      case 'token-request':
        void this.answerToken(state.worker, m.id, m.key);
        return;
      case 'metrics-reply': {
        const waiter = this.metricWaiters.get(m.id);
        this.metricWaiters.delete(m.id);
        waiter?.(m.metrics);
        return;
      }
    }
  }

  /** A worker lacks a usable token: the primary's cache answers (one exchange for everyone). */
  private async answerToken(
    worker: Worker,
    id: number,
    key: CachedServiceToken['key'],
  ): Promise<void> {
    const cache = this.opts.tokens;
    try {
      if (!cache) throw new TokenRequestError('transport', 'outbound is not configured');
      const accessToken = await cache.get(key);
      const same = (t: CachedServiceToken) =>
        t.key.audience === key.audience && t.key.scope === key.scope;
      // A token that is not usable from cache (shorter-lived than the margin) serves this check only.
      const token = cache.snapshot().find(same) ?? {
        key,
        accessToken,
        usableUntilMs: 0,
        stale: false,
      };
      this.send(worker, { jwtx: 'token-reply', id, token });
    } catch (err) {
      const e =
        err instanceof TokenRequestError ? err : new TokenRequestError('transport', String(err));
      const error = { kind: e.kind, message: e.message, oauthError: e.oauthError };
      this.send(worker, { jwtx: 'token-reply', id, error });
    }
  }

  private onExit(state: WorkerState, code: number | null, signal: string | null): void {
    this.states.delete(state.worker.id);
    this.opts.changed();
    const failed = `worker ${state.worker.id} exited while starting (code ${code}, signal ${signal})`;
    this.starting?.(new Error(failed));
    if (this.draining) return;
    // A worker that dies right after starting would otherwise be re-forked in a tight loop.
    const delay = Date.now() - state.startedAt < 5_000 ? 1_000 : 0;
    this.opts.logger.error('worker exited unexpectedly; starting another', {
      worker: state.worker.id,
      code,
      signal,
    });
    setTimeout(() => {
      if (!this.draining) this.fork();
    }, delay).unref();
  }

  private send(worker: Worker, message: PrimaryMessage): void {
    if (worker.isConnected()) worker.send(message);
  }
}
