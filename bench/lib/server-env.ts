import { imageEnv } from '../../test/helpers/image-runtime.js';

/** The malloc the servers under test run with. */
export type Allocator = 'jemalloc' | 'glibc';

/**
 * jemalloc, preloaded as the container image does (Dockerfile), unless JWTX_BENCH_MALLOC=glibc
 * asks for Node's own malloc, to compare (bench/README.md).
 */
export function allocator(): Allocator {
  const wanted = process.env.JWTX_BENCH_MALLOC ?? 'jemalloc';
  if (wanted !== 'jemalloc' && wanted !== 'glibc') {
    throw new Error(`JWTX_BENCH_MALLOC must be jemalloc or glibc, not ${JSON.stringify(wanted)}`);
  }
  return wanted;
}

/** The environment of every server under test (jwtexchange and the bare ceilings alike). */
export function serverEnv(): NodeJS.ProcessEnv {
  return allocator() === 'jemalloc' ? { ...process.env, ...imageEnv() } : process.env;
}
