/** One sample of the Prometheus text exposition format. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface Scrape {
  readonly samples: readonly Sample[];
  /** `# TYPE` declarations: family name → counter | gauge | histogram | summary | untyped. */
  readonly types: ReadonlyMap<string, string>;
  /** Sample names present (histograms show up as _bucket, _sum, _count). */
  readonly names: ReadonlySet<string>;
  /** Sum of the samples of `name` whose labels include `labels` (0 when there are none). */
  sum(name: string, labels?: Record<string, string>): number;
  /** The single matching sample's value; throws if there is none or more than one. */
  value(name: string, labels?: Record<string, string>): number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?/gy;

function parseLabels(text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  LABEL.lastIndex = 0;
  let consumed = 0;
  for (let m = LABEL.exec(text); m; m = LABEL.exec(text)) {
    labels[m[1]!] = m[2]!.replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c));
    consumed = LABEL.lastIndex;
  }
  if (consumed !== text.length) throw new Error(`bad label set in: ${line}`);
  return labels;
}

function parseValue(raw: string): number {
  if (raw === '+Inf') return Infinity;
  if (raw === '-Inf') return -Infinity;
  return Number(raw);
}

/** Parses the Prometheus text format (what /metrics serves); throws on a malformed line. */
export function parsePrometheusText(text: string): Scrape {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.startsWith('# TYPE ')) {
      const [, , name, type] = line.split(' ');
      types.set(name!, type!);
      continue;
    }
    if (line === '' || line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (!m) throw new Error(`not a Prometheus sample: ${line}`);
    samples.push({ name: m[1]!, labels: parseLabels(m[2] ?? '', line), value: parseValue(m[3]!) });
  }
  const matching = (name: string, labels: Record<string, string> = {}) =>
    samples.filter(
      (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
    );
  return {
    samples,
    types,
    names: new Set(samples.map((s) => s.name)),
    sum: (name, labels) => matching(name, labels).reduce((acc, s) => acc + s.value, 0),
    value(name, labels) {
      const found = matching(name, labels);
      if (found.length !== 1) {
        throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`);
      }
      return found[0]!.value;
    },
  };
}

/** GETs /metrics from a running server and parses it. */
export async function scrapeMetrics(httpPort: number): Promise<Scrape> {
  const res = await fetch(`http://127.0.0.1:${httpPort}/metrics`);
  if (!res.ok) throw new Error(`/metrics answered ${res.status}`);
  const type = res.headers.get('content-type') ?? '';
  if (!type.startsWith('text/plain')) throw new Error(`/metrics content-type is ${type}`);
  return parsePrometheusText(await res.text());
}

const PROMQL_KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
  'inf',
  'nan',
]);

export interface PromqlRefs {
  /** Metric names the expression selects. */
  readonly metrics: Set<string>;
  /** Label names matched in `{…}` selectors, per metric. */
  readonly selectorLabels: Map<string, Set<string>>;
  /** Label names used in by/without/on/ignoring/group_* clauses. */
  readonly groupingLabels: Set<string>;
}

/**
 * Metric and label names referenced by a PromQL expression (Grafana variables allowed). Not a
 * parser: strings, ranges and matchers are removed, then what is left that is not a function,
 * keyword or number is a metric name. Enough to check a dashboard against a scrape.
 */
export function promqlRefs(expr: string): PromqlRefs {
  const noStrings = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  const selectorLabels = new Map<string, Set<string>>();
  for (const m of noStrings.matchAll(/([a-zA-Z_:][\w:]*)\s*\{([^}]*)\}/g)) {
    const labels = selectorLabels.get(m[1]!) ?? new Set<string>();
    for (const l of m[2]!.matchAll(/([a-zA-Z_]\w*)\s*(?:=~|!=|!~|=)/g)) labels.add(l[1]!);
    selectorLabels.set(m[1]!, labels);
  }
  const groupingLabels = new Set<string>();
  const grouping = /\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g;
  for (const m of noStrings.matchAll(grouping)) {
    for (const l of m[1]!.split(',')) if (l.trim()) groupingLabels.add(l.trim());
  }
  const bare = noStrings
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/label_values\(\s*([^,)]+)(?:,[^)]*)?\)/g, ' $1 ')
    .replace(grouping, ' ')
    .replace(/\[[^\]]*\]/g, ' ');
  const metrics = new Set<string>();
  for (const m of bare.matchAll(/(?<![\w$:.])([a-zA-Z_:][\w:]*)(\s*\()?/g)) {
    if (m[2] || PROMQL_KEYWORDS.has(m[1]!.toLowerCase())) continue;
    metrics.add(m[1]!);
  }
  return { metrics, selectorLabels, groupingLabels };
}
