import { tool } from './tools.js';

/**
 * The allocator the container image preloads (Dockerfile: `ENV LD_PRELOAD=…/libjemalloc.so.2`,
 * kept in step by test/unit/dockerfile.test.ts). The bundle tests and the benchmarks run the
 * server on the image's terms: its Node, its V8 flags (src/server/node-flags.ts) and this.
 */
export const IMAGE_PRELOAD_LIBRARY = 'libjemalloc.so.2';

/** The environment the image adds for the server: jemalloc from .tools/bin (npm run setup). */
export function imageEnv(): { LD_PRELOAD: string } {
  return { LD_PRELOAD: tool('jemalloc') };
}
