/**
 * Route matching for authorization rules: `POST /v2/namespaces/{cluster}` (HTTP method + path
 * template) or `gateway.v2.NamespaceService/CreateNamespace` (gRPC service/method, `/*` for all
 * methods of a service).
 *
 * Matchers compare the canonical segments of canonical-path.ts, so `//v2/namespaces/` and
 * `/v2/%6Eamespaces` match like `/v2/namespaces`, and spellings routers disagree on (`%2F`, `;`,
 * dot segments…) never reach a matcher: a rule cannot be sidestepped by spelling the same path
 * differently. Template literals must be written in canonical form themselves.
 */

export type PathParams = Readonly<Record<string, string>>;

export interface RouteMatcher {
  /** The spec as written in the config, for logs and errors. */
  readonly spec: string;
  /** Path parameters the template names (HTTP only). */
  readonly params: readonly string[];
  /** Parameters when the request matches, otherwise undefined. */
  match(method: string, segments: readonly string[]): PathParams | undefined;
}

type Segment = { literal: string } | { param: string };

const METHOD = /^(\*|[A-Z]+)$/;
const PARAM = /^\{([A-Za-z_][A-Za-z0-9_]*)\}$/;
const GRPC = /^([A-Za-z_][A-Za-z0-9_.]*)\/(\*|[A-Za-z_][A-Za-z0-9_]*)$/;

/** Compiles `METHOD /path/{param}`; throws Error with a message fit for a config problem. */
export function compileHttpMatch(spec: string): RouteMatcher {
  const space = spec.indexOf(' ');
  const method = spec.slice(0, space);
  const path = spec.slice(space + 1);
  if (space < 1 || !METHOD.test(method) || !path.startsWith('/')) {
    throw new Error(`"${spec}" must be "METHOD /path" (METHOD upper-case or *)`);
  }
  const template: Segment[] = [];
  const params: string[] = [];
  for (const part of path.split('/').filter((p) => p !== '')) {
    const param = PARAM.exec(part)?.[1];
    if (param !== undefined) {
      if (params.includes(param)) throw new Error(`"${spec}" names {${param}} twice`);
      params.push(param);
      template.push({ param });
    } else if (/[{}]/.test(part)) {
      throw new Error(`"${spec}": a segment is either literal or a whole {name}`);
    } else if (/[%;\\]/.test(part) || part === '.' || part === '..') {
      // Requests are matched decoded and refused with these: such a literal could never match.
      throw new Error(
        `"${spec}": write literal segments decoded, without %, ;, \\ or dot segments`,
      );
    } else {
      template.push({ literal: part });
    }
  }
  return {
    spec,
    params,
    match(reqMethod, segments) {
      if (method !== '*' && method !== reqMethod) return undefined;
      if (segments.length !== template.length) return undefined;
      const found: Record<string, string> = {};
      for (let i = 0; i < template.length; i++) {
        const t = template[i]!;
        const s = segments[i]!;
        if ('literal' in t) {
          if (t.literal !== s) return undefined;
        } else {
          found[t.param] = s;
        }
      }
      return found;
    },
  };
}

/** Compiles `package.Service/Method` or `package.Service/*`. */
export function compileGrpcMatch(spec: string): RouteMatcher {
  const m = GRPC.exec(spec);
  if (!m) throw new Error(`"${spec}" must be "package.Service/Method" or "package.Service/*"`);
  const [, service, method] = m as unknown as [string, string, string];
  return {
    spec,
    params: [],
    match(_method, segments) {
      if (segments.length !== 2 || segments[0] !== service) return undefined;
      return method === '*' || segments[1] === method ? {} : undefined;
    },
  };
}
