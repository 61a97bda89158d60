import type { Clock } from '../../src/clock.js';

/**
 * A minimal saga executor like the users' sagaExecutor.Add: a task runs in the background with an
 * EMPTY context (no caller token), retried with exponential backoff; every attempt is recorded.
 */
export interface Attempt {
  readonly at: string;
  readonly ok: boolean;
  readonly status: number | undefined;
  readonly error: string | undefined;
}

export interface SagaState {
  readonly id: string;
  readonly kind: string;
  status: 'running' | 'succeeded' | 'failed';
  readonly attempts: Attempt[];
}

export type SagaStep = () => Promise<{ ok: boolean; status?: number; error?: string }>;

export interface SagaExecutorOptions {
  readonly clock: Clock;
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  readonly maxAttempts?: number;
  readonly onAttempt?: (saga: SagaState, attempt: Attempt) => void;
}

export class SagaExecutor {
  readonly sagas = new Map<string, SagaState>();
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly opts: SagaExecutorOptions) {}

  add(id: string, kind: string, step: SagaStep): SagaState {
    const saga: SagaState = { id, kind, status: 'running', attempts: [] };
    this.sagas.set(id, saga);
    this.schedule(saga, step, 0);
    return saga;
  }

  stop(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private schedule(saga: SagaState, step: SagaStep, delayMs: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.attempt(saga, step);
    }, delayMs);
    this.timers.add(timer);
  }

  private async attempt(saga: SagaState, step: SagaStep): Promise<void> {
    const result = await step().catch((err: unknown) => ({
      ok: false,
      status: undefined,
      error: (err as Error).message,
    }));
    const attempt: Attempt = {
      at: new Date(this.opts.clock.now()).toISOString(),
      ok: result.ok,
      status: result.status,
      error: result.error,
    };
    saga.attempts.push(attempt);
    this.opts.onAttempt?.(saga, attempt);
    if (result.ok) {
      saga.status = 'succeeded';
      return;
    }
    if (saga.attempts.length >= (this.opts.maxAttempts ?? 50)) {
      saga.status = 'failed';
      return;
    }
    const base = this.opts.baseDelayMs ?? 200;
    const delay = Math.min(this.opts.maxDelayMs ?? 2_000, base * 2 ** (saga.attempts.length - 1));
    this.schedule(saga, step, delay * (0.8 + Math.random() * 0.4));
  }
}
