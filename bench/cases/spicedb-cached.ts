import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { v1 } from '@authzed/authzed-node';
import { Metadata } from '@grpc/grpc-js';
import { waitFor } from '../../test/helpers/ports.js';
import {
  exampleRule,
  startSpiceDb,
  stopSpiceDb,
  type RunningSpiceDb,
} from '../../test/helpers/spicedb.js';
import { benchUser } from '../lib/fixtures.js';
import type { GrpcGenerator } from '../lib/load-result.js';
import { measure } from '../lib/measure.js';
import { hasSources } from '../lib/paths.js';
import { counterDelta, sumSamples } from '../lib/prom-text.js';
import { hitRatio, measured, skipped, type BenchCase, type CaseContext } from './case.js';
import { withJwtexchange } from './jwtexchange-server.js';

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
      rules: [exampleRule('create-namespace')],
    },
  };
}

/**
 * Issue 5: after the token verifies, one SpiceDB CheckPermission per request, answered from the
 * decision cache while fresh (TTL 2 s). A real `spicedb serve` (memory datastore, loopback,
 * preshared key) holds `cloud:cl0#member@user:bench-user-<i>` for every caller, so every check
 * allows. SpiceDB runs on the same 2 cores, so each cache miss costs the machine twice.
 */
function spicedbCase(spec: {
  name: string;
  users: number;
  generator: GrpcGenerator;
  summary: string;
}): BenchCase {
  return {
    name: spec.name,
    summary: spec.summary,
    async run(ctx) {
      if (!hasSources('src/spicedb')) {
        return skipped(this, 'SpiceDB authorization (issue 5, src/spicedb/) is not built yet');
      }
      const relationships = Array.from(
        { length: spec.users },
        (_, i) => `cloud:cl0#member@user:${benchUser(i)}`,
      ).join('\n');
      const db = await startSpiceDb({ relationships });
      try {
        await untilVisible(db, benchUser(spec.users - 1));
        return await measureWith(this, ctx, db, spec);
      } finally {
        await stopSpiceDb(db);
      }
    },
  };
}

/** One caller, h2load: the per-check cost of a cached decision, comparable with inbound-warm. */
export const spicedbCachedCase = spicedbCase({
  name: 'spicedb-cached',
  users: 1,
  generator: 'h2load',
  summary: 'inbound + SpiceDB check per request, one caller: decision cached (h2load)',
});

/** 500 callers round-robin: each decision is refetched once per TTL, a realistic hit ratio. */
export const spicedbUsersCase = spicedbCase({
  name: 'spicedb-500-users',
  users: 500,
  generator: 'h2-cycler',
  summary: 'inbound + SpiceDB check per request, 500 callers: refetch once per TTL (h2-cycler)',
});

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

async function measureWith(
  c: BenchCase,
  ctx: CaseContext,
  db: RunningSpiceDb,
  spec: { users: number; generator: GrpcGenerator },
) {
  const keyFile = path.join(ctx.fixtures.workDir, 'spicedb-key');
  writeFileSync(keyFile, db.presharedKey, { mode: 0o600 });
  const bodies = await ctx.fixtures.distinctInbound(spec.users, PATH);
  const { result: m, profile } = await withJwtexchange(
    ctx,
    c.name,
    spicedbConfig(db, keyFile),
    (server) =>
      measure({
        server,
        generator: spec.generator,
        bodies,
        expect: { ok: true, setsHeaders: ['x-jwtauth-subject'] },
        settings: ctx.settings,
        scratchDir: ctx.resultsDir,
        generatorCpus: ctx.cpus.generator,
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
      spicedbCallsPerSecond: Math.round((10 * delta(SPICEDB_CHECKS)) / seconds) / 10,
      spicedbErrors: sumSamples(m.after.samples, SPICEDB_CHECKS, { result: 'error' }),
    },
    profile,
  );
}
