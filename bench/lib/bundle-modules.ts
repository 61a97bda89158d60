import { readFileSync } from 'node:fs';
import { ROOT } from './paths.js';

const BUNDLE_PREFIX = `file://${ROOT}/dist/`;
/** What precedes the first module: esbuild's helpers (__esm, __commonJS, __require). */
export const BUNDLE_RUNTIME = 'bundle-runtime';
/** esbuild's marker before each module of an unminified bundle: `// src/…` or `// node_modules/…`. */
const MODULE_MARKER = /^\/\/ ((?:src|node_modules)\/\S+)$/;

interface Sections {
  /** 0-based line of each marker, ascending, with the module it opens. */
  readonly starts: number[];
  readonly modules: string[];
}

/**
 * Which module a line of the CLI bundle (dist/jwtexchange.mjs) came from. A CPU profile names only
 * the bundle, so without this every bundled package would count as jwtexchange's own code.
 */
export class BundleModules {
  private readonly files = new Map<string, Sections | undefined>();

  /**
   * The repo-relative path of the module at `line` (0-based) of `url` (BUNDLE_RUNTIME before the
   * first module); undefined when `url` is not a bundle.
   */
  moduleAt(url: string, line: number): string | undefined {
    if (!url.startsWith(BUNDLE_PREFIX) || !url.endsWith('.mjs')) return undefined;
    if (!this.files.has(url)) this.files.set(url, readSections(url));
    const sections = this.files.get(url);
    if (!sections) return undefined;
    let lo = 0;
    let hi = sections.starts.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (sections.starts[mid]! <= line) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found < 0 ? BUNDLE_RUNTIME : sections.modules[found];
  }
}

function readSections(url: string): Sections | undefined {
  let text: string;
  try {
    text = readFileSync(new URL(url), 'utf8');
  } catch {
    return undefined;
  }
  const starts: number[] = [];
  const modules: string[] = [];
  text.split('\n').forEach((l, i) => {
    const m = MODULE_MARKER.exec(l);
    if (m) {
      starts.push(i);
      modules.push(m[1]!);
    }
  });
  return starts.length > 0 ? { starts, modules } : undefined;
}
