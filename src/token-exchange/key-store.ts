import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import type { JWK } from 'jose';
import { generateEcKeyPair } from '../pki/ec-key-pair.js';
import { systemClock, type Clock } from '../clock.js';

/** One ES256 signing key and the window in which it is published and used. */
export interface SigningKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly publicJwk: JWK;
  /** Epoch ms from which it signs. */
  readonly activeFrom: number;
  /** Epoch ms from which the JWKS lists it; a next key signs only publishAheadSeconds later. */
  readonly publishedAt: number;
}

export interface KeyStoreOptions {
  readonly clock?: Clock;
  /** How long one key signs before the next one takes over. */
  readonly rotateEverySeconds: number;
  /** The next key is published this long before it starts signing. */
  readonly publishAheadSeconds: number;
  /**
   * How long a retired key stays published: at least the longest token lifetime plus the
   * verifiers' clock tolerance, so every token it signed expires before its key disappears.
   */
  readonly retainSeconds: number;
  /** Keys saved by an earlier process (onChange); verified and reused. */
  readonly state?: KeyStoreState;
  /** Called after every key change, e.g. to persist the state. */
  readonly onChange?: (state: KeyStoreState) => void;
}

/** RFC 7638 thumbprint of an EC public key: a stable kid that says nothing secret. */
function thumbprint(jwk: JWK): string {
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  return createHash('sha256').update(canonical).digest('base64url');
}

function fromPrivateKey(
  privateKey: KeyObject,
  activeFrom: number,
  publishedAt: number,
): SigningKey {
  const publicKey = createPublicKey(privateKey);
  const exported = publicKey.export({ format: 'jwk' }) as JWK;
  const kid = thumbprint(exported);
  return {
    kid,
    privateKey,
    publicKey,
    activeFrom,
    publishedAt,
    publicJwk: {
      kty: 'EC',
      crv: 'P-256',
      x: exported.x,
      y: exported.y,
      kid,
      alg: 'ES256',
      use: 'sig',
    },
  };
}

function generate(activeFrom: number, publishedAt: number): SigningKey {
  const { privateKey } = generateEcKeyPair();
  return fromPrivateKey(privateKey, activeFrom, publishedAt);
}

/**
 * What a KeyStore needs to survive a process restart (see key-file.ts). Contains private keys:
 * it is written only to a file readable by the owner.
 */
export interface KeyStoreState {
  readonly active: { readonly privateJwk: JWK; readonly activeFrom: number };
  /** publishedAt is absent in files written before it existed: then it counts from the restore. */
  readonly next?: {
    readonly privateJwk: JWK;
    readonly activeFrom: number;
    readonly publishedAt?: number;
  };
  /** Retired keys only verify: their public halves are enough. */
  readonly retired: readonly { readonly publicJwk: JWK; readonly until: number }[];
}

/**
 * The signing keys of token-exchange, rotated by time. State advances lazily whenever a key or
 * the key set is asked for, so rotation needs no timer and tests drive it with a ManualClock.
 * Sharing one KeyStore between server instances keeps issued tokens valid across a restart of
 * the listener; `state`/`onChange` carry the keys across a restart of the process.
 */
export class KeyStore {
  private readonly clock: Clock;
  private active: SigningKey | undefined;
  private next: SigningKey | undefined;
  /** Retired keys and the time (epoch ms) until which they stay published. */
  private retired: { key: Pick<SigningKey, 'kid' | 'publicKey' | 'publicJwk'>; until: number }[] =
    [];

  constructor(private readonly opts: KeyStoreOptions) {
    this.clock = opts.clock ?? systemClock;
    if (opts.state) this.restore(opts.state);
  }

  /** The current keys, private halves included, for persisting. */
  exportState(): KeyStoreState {
    const active = this.advance();
    const priv = (k: SigningKey) => ({
      privateJwk: { ...(k.privateKey.export({ format: 'jwk' }) as JWK), kid: k.kid },
      activeFrom: k.activeFrom,
    });
    return {
      active: priv(active),
      ...(this.next ? { next: { ...priv(this.next), publishedAt: this.next.publishedAt } } : {}),
      retired: this.retired.map((r) => ({ publicJwk: { ...r.key.publicJwk }, until: r.until })),
    };
  }

  private restore(state: KeyStoreState): void {
    const now = this.clock.now();
    const load = (k: { privateJwk: JWK; activeFrom: number; publishedAt?: number }) =>
      fromPrivateKey(
        createPrivateKey({ key: k.privateJwk as never, format: 'jwk' }),
        k.activeFrom,
        // Unknown publication time (an older file): count the window from now, never shorter.
        Math.min(k.publishedAt ?? now, now),
      );
    this.active = load({ ...state.active, publishedAt: state.active.activeFrom });
    this.next = state.next ? load(state.next) : undefined;
    this.retired = state.retired.map((r) => {
      const publicKey = createPublicKey({ key: r.publicJwk as never, format: 'jwk' });
      const kid = thumbprint(r.publicJwk);
      return { key: { kid, publicKey, publicJwk: { ...r.publicJwk, kid } }, until: r.until };
    });
  }

  /** The key that signs now. */
  signingKey(): SigningKey {
    return this.advance();
  }

  /** Public keys verifiers need now: retired-but-retained, active, and the announced next key. */
  jwks(): { keys: JWK[] } {
    const active = this.advance();
    const keys = [...(this.next ? [this.next] : []), active, ...this.retired.map((r) => r.key)];
    return { keys: keys.map((k) => ({ ...k.publicJwk })) };
  }

  /** A published public key by kid (for verifying this server's own tokens). */
  publicKey(kid: string): KeyObject | undefined {
    this.advance();
    const all = [this.active, this.next, ...this.retired.map((r) => r.key)];
    return all.find((k) => k?.kid === kid)?.publicKey;
  }

  /**
   * Moves the keys to where the clock says they are. A next key is announced (listed in the JWKS)
   * publishAheadSeconds before its rotation is due, and signs only once it has been listed for
   * that whole window — counted from when this store first listed it, whether or not anyone
   * read the JWKS. If nobody asked in time (an idle server), the rotation waits: the current key
   * signs a little longer rather than a key verifiers could not have seen.
   */
  private advance(): SigningKey {
    const before = this.fingerprint();
    const now = this.clock.now();
    const rotateMs = this.opts.rotateEverySeconds * 1000;
    const aheadMs = this.opts.publishAheadSeconds * 1000;
    if (!this.active) this.active = generate(now, now);
    const due = this.active.activeFrom + rotateMs;
    if (!this.next && now >= due - aheadMs) this.next = generate(due, now);
    if (this.next && now >= due && now >= this.next.publishedAt + aheadMs) {
      // The old key signed until now; it stays published until its last token has expired.
      this.retired.push({ key: this.active, until: now + this.opts.retainSeconds * 1000 });
      this.active = { ...this.next, activeFrom: now };
      this.next = undefined;
    }
    this.retired = this.retired.filter((r) => r.until > now);
    if (this.opts.onChange && this.fingerprint() !== before) this.opts.onChange(this.exportState());
    return this.active;
  }

  /** Which keys are in which role: changes exactly when the state worth saving changes. */
  private fingerprint(): string {
    return [this.active?.kid, this.next?.kid, ...this.retired.map((r) => r.key.kid)].join(',');
  }
}
