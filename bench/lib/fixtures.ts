import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ensureDevIssuer, type DevIssuer } from '../../src/dev/dev-issuer.js';
import type { CheckRequest } from '../../src/envoy/types.js';
import { envoyLikeCheckRequest } from './check-request.js';
import { framedCheckRequest } from './grpc-frame.js';
import { envoyLikeHttpCheck, type HttpCheckSet } from './http-check-request.js';

const DEFAULT_PATH = '/v2/namespaces';

/** The subject of the i-th distinct token. */
export const benchUser = (i: number) => `bench-user-${i}`;

/** A set of pre-framed request bodies on disk (h2load reads one; the h2-cycler reads them all). */
export interface BodySet {
  readonly file: string;
  readonly bodies: readonly Buffer[];
}

/**
 * Everything the cases send, built once per run in a private temp dir: a dev issuer (ES256, like
 * token-exchange), one warm token, N distinct tokens. Tokens never leave this dir.
 */
export class Fixtures {
  readonly workDir = mkdtempSync(path.join(tmpdir(), 'jwtx-bench-'));
  private issuerP: Promise<DevIssuer> | undefined;
  private readonly sets = new Map<string, Promise<BodySet>>();
  private readonly tokenSets = new Map<number, Promise<string[]>>();

  issuer(): Promise<DevIssuer> {
    this.issuerP ??= ensureDevIssuer(path.join(this.workDir, 'issuer'));
    return this.issuerP;
  }

  /** The `inbound` config section trusting the dev issuer. */
  async inboundConfig(verifiedCacheSize: number): Promise<Record<string, unknown>> {
    const issuer = await this.issuer();
    return {
      verifiedCacheSize,
      issuers: [
        {
          issuer: issuer.issuer,
          jwksFile: issuer.jwksFile,
          audiences: ['gateway'],
          algorithms: ['ES256'],
        },
      ],
    };
  }

  /** Memoized body sets, keyed by name, so cases that share one do not rebuild it. */
  bodySet(name: string, build: () => Promise<CheckRequest[]>): Promise<BodySet> {
    let set = this.sets.get(name);
    if (!set) {
      set = build().then((requests) => {
        const bodies = requests.map(framedCheckRequest);
        const file = path.join(this.workDir, `${name}.bin`);
        writeFileSync(file, Buffer.concat(bodies));
        return { file, bodies };
      });
      this.sets.set(name, set);
    }
    return set;
  }

  private warm: Promise<string> | undefined;

  /** The one valid token of the warm cases (subject `bench-user`). */
  warmToken(): Promise<string> {
    this.warm ??= this.issuer().then((i) => i.mint({ sub: 'bench-user' }));
    return this.warm;
  }

  /** One inbound request with one valid token, repeated: every check after the first is a hit. */
  warmInbound(): Promise<BodySet> {
    return this.bodySet('inbound-warm', async () => {
      const token = await this.warmToken();
      return [envoyLikeCheckRequest({ token, requestId: randomUUID() })];
    });
  }

  /**
   * `count` valid tokens, the i-th for user `bench-user-<i>` (distinct jti and sub), minted once
   * per run and shared by the gRPC and HTTP distinct-token cases.
   */
  distinctTokens(count: number): Promise<string[]> {
    let tokens = this.tokenSets.get(count);
    if (!tokens) {
      tokens = (async () => {
        const issuer = await this.issuer();
        const out: string[] = [];
        // Signing runs on the libuv pool; a few in parallel roughly halves the minting time.
        for (let i = 0; i < count; i += 32) {
          const batch = Array.from({ length: Math.min(32, count - i) }, (_, j) =>
            issuer.mint({ sub: benchUser(i + j) }),
          );
          out.push(...(await Promise.all(batch)));
        }
        return out;
      })();
      this.tokenSets.set(count, tokens);
    }
    return tokens;
  }

  /** `count` requests to `requestPath`, each with its own token of distinctTokens(count). */
  distinctInbound(count: number, requestPath = DEFAULT_PATH): Promise<BodySet> {
    return this.bodySet(`inbound-distinct-${count}-${requestPath.replace(/\W+/g, '_')}`, async () =>
      (await this.distinctTokens(count)).map((token) =>
        envoyLikeCheckRequest({ token, path: requestPath, requestId: randomUUID() }),
      ),
    );
  }

  /** The warm request as Envoy's HTTP mode sends it (one token, repeated). */
  async warmInboundHttp(): Promise<HttpCheckSet> {
    const token = await this.warmToken();
    return {
      requests: [envoyLikeHttpCheck({ token, requestId: randomUUID() })],
      dir: this.workDir,
    };
  }

  /** The distinct-token requests (the same tokens as distinctInbound) in HTTP mode. */
  async distinctInboundHttp(count: number): Promise<HttpCheckSet> {
    const tokens = await this.distinctTokens(count);
    return {
      requests: tokens.map((token) => envoyLikeHttpCheck({ token, requestId: randomUUID() })),
      dir: this.workDir,
    };
  }

  /**
   * A saga's outbound call on the tagged egress route (envoy/egress.yaml): no caller token, the
   * `x-saga-id` header that selects injection, the audience from the route's context extensions.
   */
  outboundSaga(audience: string): Promise<BodySet> {
    return this.bodySet(`outbound-${audience}`, () =>
      Promise.resolve([
        envoyLikeCheckRequest({
          requestId: randomUUID(),
          path: '/v1/clusters/cl0/namespaces',
          headers: { ':authority': `${audience}:8080`, 'x-saga-id': randomUUID() },
          extensions: {
            'jwtexchange.direction': 'outbound',
            'jwtexchange.audience': audience,
            'jwtexchange.when-header': 'x-saga-id',
          },
        }),
      ]),
    );
  }

  cleanup(): void {
    rmSync(this.workDir, { recursive: true, force: true });
  }
}
