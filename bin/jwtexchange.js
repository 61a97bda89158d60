#!/usr/bin/env node
// Thin launcher: the CLI is one bundled file, dist/jwtexchange.mjs (built by `npm run build`,
// which `npm ci` runs through the prepare script; scripts/bundle.ts says why).
import module from 'node:module';

// Node >= 22.1 keeps V8's compiled code of the bundle on disk, so a restart skips most of the
// compiling. Best effort by design: it never throws, and an unwritable directory only reports
// FAILED (the default is $TMPDIR/node-compile-cache; NODE_COMPILE_CACHE overrides it,
// NODE_DISABLE_COMPILE_CACHE=1 turns it off). Node 20 has no such API and skips it.
try {
  const cache = module.enableCompileCache?.();
  // Workers of `server.workers` are forked from the bundle itself: the variable passes it on.
  if (cache?.directory && process.env.NODE_COMPILE_CACHE === undefined) {
    process.env.NODE_COMPILE_CACHE = cache.directory;
  }
} catch {
  // A cache is an optimisation; start without it.
}

// Imported after the cache is on (a static import would be compiled before this module runs).
const { main } = await import('../dist/jwtexchange.mjs');
process.exitCode = await main(process.argv.slice(2));
