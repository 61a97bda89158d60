import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { BUNDLE_RUNTIME, BundleModules } from './bundle-modules.js';
import { ROOT } from './paths.js';

/**
 * Node flags that write the process's CPU profiles into a fresh directory. Node writes one file
 * per thread (tsx runs a loader thread), so mainThreadProfile() picks the main thread's file.
 */
export function cpuProfFlags(dir: string, name: string): { flags: string[]; dir: string } {
  const profileDir = path.join(dir, `${name}.cpuprofiles`);
  rmSync(profileDir, { recursive: true, force: true });
  return { flags: ['--cpu-prof', '--cpu-prof-dir', profileDir], dir: profileDir };
}

/** The busiest profile in dir: the main thread's, where the server does its work. */
export function mainThreadProfile(dir: string): string {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => path.join(dir, f));
  if (files.length === 0) throw new Error(`no CPU profile was written to ${dir}`);
  return files.reduce((a, b) => (statSync(b).size > statSync(a).size ? b : a));
}

/** The parts of a V8 .cpuprofile (node --cpu-prof) this summary reads. */
interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    children?: number[];
  }[];
  samples: number[];
  timeDeltas: number[];
}

export interface HotSpot {
  readonly function: string;
  /** Where it lives, relative to the repo (or node:internal/…). */
  readonly location: string;
  readonly area: string;
  /** Share of busy (non-idle) CPU time: self time in `top`, inclusive in `ownInclusive`. */
  readonly percent: number;
}

export interface ProfileSummary {
  readonly file: string;
  readonly busyMs: number;
  /** Busy time by area (grpc-js, protobufjs, jwtexchange, gc, …), percent, descending. */
  readonly areas: readonly { readonly area: string; readonly percent: number }[];
  readonly top: readonly HotSpot[];
  /** This repo's functions by inclusive time: where the server's own logic spends the CPU. */
  readonly ownInclusive: readonly HotSpot[];
}

const AREAS: readonly [RegExp, string][] = [
  [/node_modules\/@grpc\/grpc-js\//, 'grpc-js'],
  [/node_modules\/protobufjs\//, 'protobufjs'],
  [/node_modules\/@grpc\/proto-loader\//, 'proto-loader'],
  [/node_modules\/prom-client\//, 'prom-client'],
  [/node_modules\/lru-cache\//, 'lru-cache'],
  [/node_modules\/jose\//, 'jose'],
  [/node_modules\//, 'other deps'],
  [/^node:/, 'node internals'],
  [new RegExp(`^${BUNDLE_RUNTIME}$`), 'bundle runtime'],
];

/**
 * This repo's code: dist/ (tsc's output), src/ (and the bundle's src/ modules, see placeOf) and
 * bench/ (the bare server runs via tsx).
 */
const OWN_CODE = ['dist', 'src', 'bench'].map((d) => `file://${ROOT}/${d}/`);
const isOwn = (url: string) => OWN_CODE.some((prefix) => url.startsWith(prefix));

function areaOf(fn: string, url: string): string {
  if (fn === '(garbage collector)') return 'gc';
  if (fn === '(program)' || fn === '(idle)') return fn.slice(1, -1);
  if (url === '') return 'native/builtins';
  if (isOwn(url)) return 'jwtexchange';
  return AREAS.find(([re]) => re.test(url))?.[1] ?? 'other';
}

function shortLocation(url: string, line: number): string {
  if (!url) return '';
  const file = url.replace(/^file:\/\//, '').replace(`${ROOT}/`, '');
  return `${file}:${line + 1}`;
}

type CallFrame = CpuProfile['nodes'][number]['callFrame'];

/**
 * A frame's URL for areas and ownership, and where it is: a frame in the CLI bundle is counted
 * for the module it came from (location: that module, then the bundle's line).
 */
function placeOf(frame: CallFrame, bundle: BundleModules): { url: string; location: string } {
  const location = shortLocation(frame.url, frame.lineNumber);
  const module = bundle.moduleAt(frame.url, frame.lineNumber);
  if (module === undefined) return { url: frame.url, location };
  const url = module === BUNDLE_RUNTIME ? module : `file://${ROOT}/${module}`;
  return { url, location: `${module} (${location})` };
}

/** Self-time hot spots of the main thread's profile in dir, by function, idle time taken out. */
export function summarizeProfile(dir: string, topN = 15): ProfileSummary {
  const file = mainThreadProfile(dir);
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const bundle = new BundleModules();
  const self = new Map<string, { fn: string; location: string; area: string; us: number }>();
  const areas = new Map<string, number>();
  let busy = 0;
  profile.samples.forEach((id, i) => {
    const frame = byId.get(id);
    const us = profile.timeDeltas[i] ?? 0;
    if (!frame || frame.functionName === '(idle)') return;
    const fn = frame.functionName || '(anonymous)';
    const { url, location } = placeOf(frame, bundle);
    const area = areaOf(frame.functionName, url);
    const key = `${fn}@${location}`;
    const entry = self.get(key) ?? { fn, location, area, us: 0 };
    entry.us += us;
    self.set(key, entry);
    areas.set(area, (areas.get(area) ?? 0) + us);
    busy += us;
  });
  const pct = (us: number) => (busy === 0 ? 0 : (100 * us) / busy);
  return {
    file,
    busyMs: busy / 1000,
    areas: [...areas].sort((a, b) => b[1] - a[1]).map(([area, us]) => ({ area, percent: pct(us) })),
    top: [...self.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, topN)
      .map((e) => ({
        function: e.fn,
        location: e.location,
        area: e.area,
        percent: pct(e.us),
      })),
    ownInclusive: ownInclusive(profile, pct, topN, bundle),
  };
}

/** Inclusive time of this repo's functions (each counted once per sample, however deep). */
function ownInclusive(
  profile: CpuProfile,
  pct: (us: number) => number,
  topN: number,
  bundle: BundleModules,
): HotSpot[] {
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const byId = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const total = new Map<string, { fn: string; location: string; us: number }>();
  profile.samples.forEach((leaf, i) => {
    if (byId.get(leaf)?.functionName === '(idle)') return;
    const seen = new Set<string>();
    for (let id: number | undefined = leaf; id !== undefined; id = parent.get(id)) {
      const frame = byId.get(id);
      if (!frame) continue;
      const { url, location } = placeOf(frame, bundle);
      if (!isOwn(url)) continue;
      const fn = frame.functionName || '(anonymous)';
      const key = `${fn}@${location}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const entry = total.get(key) ?? { fn, location, us: 0 };
      entry.us += profile.timeDeltas[i] ?? 0;
      total.set(key, entry);
    }
  });
  return [...total.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, topN)
    .map((e) => ({
      function: e.fn,
      location: e.location,
      area: 'jwtexchange',
      percent: pct(e.us),
    }));
}
