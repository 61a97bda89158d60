import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { JWK } from 'jose';
import { systemClock, type Clock } from '../clock.js';

/** One ES256 signing key and the window in which it is published and used. */
export interface SigningKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly publicJwk: JWK;
  /** Epoch ms from which it signs. */
  readonly activeFrom: number;
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
}

/** RFC 7638 thumbprint of an EC public key: a stable kid that says nothing secret. */
function thumbprint(jwk: JWK): string {
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  return createHash('sha256').update(canonical).digest('base64url');
}

function generate(activeFrom: number): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const exported = publicKey.export({ format: 'jwk' }) as JWK;
  const kid = thumbprint(exported);
  return {
    kid,
    privateKey,
    publicKey,
    activeFrom,
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

/**
 * The signing keys of token-exchange, rotated by time. State advances lazily whenever a key or
 * the key set is asked for, so rotation needs no timer and tests drive it with a ManualClock.
 * Keys live in memory: sharing one KeyStore between server instances keeps issued tokens valid
 * across a restart of the listener.
 */
export class KeyStore {
  private readonly clock: Clock;
  private active: SigningKey | undefined;
  private next: SigningKey | undefined;
  /** Retired keys and the time (epoch ms) until which they stay published. */
  private retired: { key: SigningKey; until: number }[] = [];

  constructor(private readonly opts: KeyStoreOptions) {
    this.clock = opts.clock ?? systemClock;
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

  private advance(): SigningKey {
    const now = this.clock.now();
    const rotateMs = this.opts.rotateEverySeconds * 1000;
    if (!this.active) this.active = generate(now);
    if (now >= this.active.activeFrom + rotateMs) {
      // The old key signed until now; it stays published until its last token has expired.
      // After a long idle period one rotation is enough: nothing was signed in between.
      this.retired.push({ key: this.active, until: now + this.opts.retainSeconds * 1000 });
      this.active = { ...(this.next ?? generate(now)), activeFrom: now };
      this.next = undefined;
    }
    this.retired = this.retired.filter((r) => r.until > now);
    const announceAt = this.active.activeFrom + rotateMs - this.opts.publishAheadSeconds * 1000;
    if (!this.next && now >= announceAt) this.next = generate(this.active.activeFrom + rotateMs);
    return this.active;
  }
}
