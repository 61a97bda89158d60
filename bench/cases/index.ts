import { bareCase, bareLeanCase } from './bare.js';
import type { BenchCase } from './case.js';
import { cyclerCeilingCase } from './cycler-ceiling.js';
import { inboundDistinctCase } from './inbound-distinct.js';
import { inboundWarmCase } from './inbound-warm.js';
import { memoryChurnCase, memoryChurnOneWorkerCase } from './memory.js';
import { scaleOneCase, scaleTwoCase } from './scaling.js';
import { startCase } from './start.js';
import { opaDistinctCase } from './opa-distinct.js';
import { outboundWarmCase } from './outbound-warm.js';
import { spicedbCachedCase, spicedbUsersCase } from './spicedb-cached.js';
import { throughEnvoyCase } from './through-envoy.js';

/** Per load, the variants back to back, so each comparison sees the same background. */
const ENVOY_CASES = (['closed', 1000, 3000] as const).flatMap((load) => [
  throughEnvoyCase('none', load),
  throughEnvoyCase('jwt-authn', load),
  throughEnvoyCase('ext-authz', load, 'grpc'),
  throughEnvoyCase('ext-authz', load, 'http'),
]);

/** Every case, in run order. Ratios are taken against `bare`, so it runs first. */
export const CASES: readonly BenchCase[] = [
  bareCase,
  bareLeanCase,
  cyclerCeilingCase,
  inboundWarmCase,
  inboundDistinctCase,
  opaDistinctCase,
  outboundWarmCase,
  spicedbCachedCase,
  spicedbUsersCase,
  scaleOneCase,
  scaleTwoCase,
  ...ENVOY_CASES,
  memoryChurnCase,
  memoryChurnOneWorkerCase,
  startCase,
];
