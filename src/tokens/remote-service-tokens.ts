import type { Clock } from '../clock.js';
import type { CachedServiceToken, TokenKey } from './service-token-cache.js';
import { TokenRequestError, type TokenFailureKind } from './token-errors.js';

/** Where the outbound phase gets service tokens: synchronously when it has a usable one. */
export interface ServiceTokenSource {
  get(key: TokenKey): string | Promise<string>;
}

export interface RemoteTokenChannel {
  /** Asks the owner of the cache for a token (the primary process answers with reply()). */
  request(id: number, key: TokenKey): void;
}

const keyId = (key: TokenKey) => `${key.audience}\u0000${key.scope}`;

/**
 * A worker process's copy of the primary's service-token cache (`server.workers` > 1). The primary
 * pushes every token it fetches or refreshes (store()), so checks are answered from memory; a
 * key the copy lacks, or whose token is no longer usable, is asked of the primary, whose cache
 * shares one exchange among all workers. Only the primary talks to token-exchange: one exchange
 * per audience per refresh for the whole pod.
 */
export class RemoteServiceTokens implements ServiceTokenSource {
  private readonly tokens = new Map<string, CachedServiceToken>();
  private readonly inflight = new Map<string, Promise<string>>();
  private readonly pending = new Map<
    number,
    { resolve(t: CachedServiceToken): void; reject(e: Error): void }
  >();
  private nextId = 1;

  constructor(
    private readonly opts: {
      readonly clock: Clock;
      readonly channel: RemoteTokenChannel;
      /** A token was served past its refresh point (the primary's refresh is failing). */
      readonly servedStale?: (audience: string) => void;
      /** A token arrived (readiness may have changed). */
      readonly changed?: () => void;
    },
  ) {}

  get(key: TokenKey): string | Promise<string> {
    const cached = this.tokens.get(keyId(key));
    if (cached && this.opts.clock.now() < cached.usableUntilMs) {
      if (cached.stale) this.opts.servedStale?.(key.audience);
      return cached.accessToken;
    }
    let pending = this.inflight.get(keyId(key));
    if (!pending) {
      pending = this.ask(key)
        .then((t) => t.accessToken)
        .finally(() => this.inflight.delete(keyId(key)));
      this.inflight.set(keyId(key), pending);
    }
    return pending;
  }

  isWarm(key: TokenKey): boolean {
    const cached = this.tokens.get(keyId(key));
    return cached !== undefined && this.opts.clock.now() < cached.usableUntilMs;
  }

  /** A token pushed by the primary, or carried by its reply. */
  store(token: CachedServiceToken): void {
    this.tokens.set(keyId(token.key), token);
    this.opts.changed?.();
  }

  /** The primary's answer to request(id). */
  reply(
    id: number,
    token: CachedServiceToken | undefined,
    error: { kind: TokenFailureKind; message: string; oauthError?: string } | undefined,
  ): void {
    const waiter = this.pending.get(id);
    if (!waiter) return;
    this.pending.delete(id);
    if (token) {
      this.store(token);
      waiter.resolve(token);
    } else {
      const e = error ?? { kind: 'transport', message: 'no answer from the primary process' };
      waiter.reject(new TokenRequestError(e.kind, e.message, e.oauthError));
    }
  }

  /** The primary is gone: every waiting check fails rather than hangs. */
  close(): void {
    for (const id of [...this.pending.keys()]) this.reply(id, undefined, undefined);
  }

  private ask(key: TokenKey): Promise<CachedServiceToken> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.opts.channel.request(id, key);
    });
  }
}
