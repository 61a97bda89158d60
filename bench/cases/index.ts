import { bareCase, bareGrpcJsCase, bareH2Case, bareHttpCase, bareLeanCase } from './bare.js';
import type { BenchCase } from './case.js';
import { cyclerCeilingCase, vegetaCeilingCase } from './cycler-ceiling.js';
import { inboundDistinctCase, inboundDistinctHttpCase } from './inbound-distinct.js';
import { inboundWarmCase, inboundWarmHttpCase } from './inbound-warm.js';
import { memoryChurnCase, memoryChurnOneWorkerCase } from './memory.js';
import { scaleOneCase, scaleTwoCase } from './scaling.js';
import { startCase } from './start.js';
import { opaDistinctCase } from './opa-distinct.js';
import { outboundWarmCase } from './outbound-warm.js';
import { spicedbCachedCase, spicedbUsersCase } from './spicedb-cached.js';
import { envoyReferenceCase, throughEnvoyCase } from './through-envoy.js';
import {
  warmPairedCase,
  warmPairedFloorCase,
  warmPairedHttpCase,
  warmPairedHttpFloorCase,
} from './warm-paired.js';

/**
 * Per load, the variants back to back, so each comparison sees the same background; then the
 * references in jwtexchange's place: bare Node servers answering a fixed allow (the hop alone:
 * over HTTP; over gRPC through the sidecar's listener and through node:http2 alone) and OPA (Go).
 */
const ENVOY_CASES = (['closed', 1000, 3000] as const).flatMap((load) => [
  throughEnvoyCase('none', load),
  throughEnvoyCase('jwt-authn', load),
  throughEnvoyCase('ext-authz', load, 'grpc'),
  throughEnvoyCase('ext-authz', load, 'http'),
  envoyReferenceCase(load, 'bare-http'),
  envoyReferenceCase(load, 'bare-lean'),
  envoyReferenceCase(load, 'bare-h2'),
  envoyReferenceCase(load, 'opa'),
]);

/**
 * Every case, in run order. Ratios are taken against `bare` (the HTTP cases' against
 * `bare-http`), so the ceilings run first; each HTTP case runs right after its gRPC sibling.
 */
export const CASES: readonly BenchCase[] = [
  bareCase,
  bareLeanCase,
  bareH2Case,
  bareGrpcJsCase,
  bareHttpCase,
  cyclerCeilingCase,
  vegetaCeilingCase,
  inboundWarmCase,
  inboundWarmHttpCase,
  warmPairedCase,
  warmPairedHttpCase,
  warmPairedFloorCase,
  warmPairedHttpFloorCase,
  inboundDistinctCase,
  inboundDistinctHttpCase,
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
