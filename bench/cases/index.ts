import { bareCase } from './bare.js';
import type { BenchCase } from './case.js';
import { cyclerCeilingCase } from './cycler-ceiling.js';
import { inboundDistinctCase } from './inbound-distinct.js';
import { inboundWarmCase } from './inbound-warm.js';
import { outboundWarmCase } from './outbound-warm.js';
import { spicedbCachedCase, spicedbUsersCase } from './spicedb-cached.js';

/** Every case, in run order. Ratios are taken against `bare`, so it runs first. */
export const CASES: readonly BenchCase[] = [
  bareCase,
  cyclerCeilingCase,
  inboundWarmCase,
  inboundDistinctCase,
  outboundWarmCase,
  spicedbCachedCase,
  spicedbUsersCase,
];
