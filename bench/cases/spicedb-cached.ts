import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { v1 } from '@authzed/authzed-node';
import { Metadata } from '@grpc/grpc-js';
import { waitFor } from '../../test/helpers/ports.js';
import { startSpiceDb, stopSpiceDb, type RunningSpiceDb } from '../../test/helpers/spicedb.js';
import { benchUser } from '../lib/fixtures.js';
import { measure } from '../lib/measure.js';
import { hasSources } from '../lib/paths.js';
import { counterDelta, sumSamples } from '../lib/prom-text.js';
import { hitRatio, measured, skipped, type BenchCase, type CaseContext } from './case.js';
import { withJwtexchange } from './jwtexchange-server.js';

/** Callers cycled by the case: each is a member of cloud cl0, so every check allows. */
const USERS = 500;
const PATH = '/v2/namespaces/cl0';
const DECISION_CACHE = 'jwtexchange_spicedb_decision_cache_total';
const SPICEDB_CHECKS = 'jwtexchange_spicedb_checks_total';

/** The seed's rule: POST /v2/namespaces/{cluster} checks cloud:{cluster}#create_saga@user:{sub}. */
function spicedbConfig(db: RunningSpiceDb, keyFile: string) {
  return {
    spicedb: {
      endpoint: db.endpoint,
      transport: 'plaintext',
      presharedKeyFile: keyFile,
      timeoutMs: 250,
    },
    authorization: {
      default: 'deny',
      cache: { maxEntries: 10_000, ttlMs: 2_000 },
      rules: [
        {
          name: 'create-namespace',
          match: { http: 'POST /v2/namespaces/{cluster}' },
          resource: { type: 'cloud', id: { param: 'cluster' } },
          permission: 'create_saga',
        },
      ],
    },
  };
}

/**
 * Issue 5: after the token verifies, one SpiceDB CheckPermission per request, answered from the
 * decision cache while fresh. A real `spicedb serve` (memory datastore, loopback, preshared key)
 * holds `cloud:cl0#member@user:bench-user-<i>` for USERS users; the h2-cycler sends their tokens
 * round-robin, so each (user, cl0, create_saga) decision is refetched once per cache TTL (2 s).
 * SpiceDB runs on the same 2 cores, so cache misses cost the server twice.
 */
export const spicedbCachedCase: BenchCase = {
  name: 'spicedb-cached',
  summary: `inbound check + SpiceDB CheckPermission per request, ${USERS} users, decisions cached (h2-cycler)`,
  async run(ctx) {
    if (!hasSources('src/spicedb')) {
      return skipped(this, 'SpiceDB authorization (issue 5, src/spicedb/) is not built yet');
    }
    const relationships = Array.from(
      { length: USERS },
      (_, i) => `cloud:cl0#member@user:${benchUser(i)}`,
    ).join('\n');
    const db = await startSpiceDb({ relationships });
    try {
      await untilVisible(db, benchUser(USERS - 1));
      return await measureWith(this, ctx, db);
    } finally {
      await stopSpiceDb(db);
    }
  },
};

/**
 * minimize_latency reads a quantized revision (5 s by default), which can predate the write just
 * made: the server would deny, and cache the denial, for the first seconds. Wait until a
 * minimize_latency check sees the relationships, as the server's checks will.
 */
async function untilVisible(db: RunningSpiceDb, user: string): Promise<void> {
  const request = v1.CheckPermissionRequest.create({
    consistency: { requirement: { oneofKind: 'minimizeLatency', minimizeLatency: true } },
    resource: { objectType: 'cloud', objectId: 'cl0' },
    permission: 'create_saga',
    subject: { object: { objectType: 'user', objectId: user }, optionalRelation: '' },
  });
  const visible = async () =>
    (
      await db.client.promises.checkPermission(request, new Metadata(), {
        deadline: Date.now() + 1_000,
      })
    ).permissionship === v1.CheckPermissionResponse_Permissionship.HAS_PERMISSION;
  await waitFor(visible, 'the relationships to be visible at minimize_latency', 20_000);
}

async function measureWith(c: BenchCase, ctx: CaseContext, db: RunningSpiceDb) {
  const keyFile = path.join(ctx.fixtures.workDir, 'spicedb-key');
  writeFileSync(keyFile, db.presharedKey, { mode: 0o600 });
  const bodies = await ctx.fixtures.distinctInbound(USERS, PATH);
  const { result: m, profile } = await withJwtexchange(
    ctx,
    c.name,
    spicedbConfig(db, keyFile),
    (server) =>
      measure({
        server,
        generator: 'h2-cycler',
        bodies,
        expect: { ok: true, setsHeaders: ['x-jwtauth-subject'] },
        settings: ctx.settings,
        scratchDir: ctx.resultsDir,
      }),
  );
  const delta = (name: string, labels: Record<string, string> = {}) =>
    counterDelta(m.before.samples, m.after.samples, name, labels);
  // The server's counters cover warm-up and measurement alike.
  const seconds = ctx.settings.warmupSeconds + ctx.settings.durationSeconds;
  return measured(
    c,
    m,
    {
      decisionCacheHitRatio: hitRatio(
        delta(DECISION_CACHE, { result: 'hit' }),
        delta(DECISION_CACHE, { result: 'miss' }),
      ),
      spicedbCallsPerSecond: Math.round(delta(SPICEDB_CHECKS) / seconds),
      spicedbErrors: sumSamples(m.after.samples, SPICEDB_CHECKS, { result: 'error' }),
    },
    profile,
  );
}
