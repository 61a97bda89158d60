import { connectH2c, grpcCall } from './h2-grpc.js';
import { decodeCheckResponse } from './grpc-frame.js';

/** What a case expects every response of its load to be. */
export interface Expectation {
  /** true: an OK CheckResponse; false: a denial. */
  readonly ok: boolean;
  /** Header names the OK response must set on the upstream request. */
  readonly setsHeaders?: readonly string[];
}

/**
 * Sends up to `count` of the bodies one by one and fully decodes each CheckResponse, so a case
 * fails loudly before it measures anything if the server answers differently than expected
 * (a fast denial would otherwise look like a great number). Returns the problems found.
 */
export async function checkSample(
  address: string,
  bodies: readonly Buffer[],
  expect: Expectation,
  count = 8,
): Promise<string[]> {
  const session = await connectH2c(address);
  const problems: string[] = [];
  try {
    for (const body of bodies.slice(0, count)) {
      const reply = await grpcCall(session, body);
      if (reply.grpcStatus !== 0) {
        problems.push(`sample: the RPC failed with grpc-status ${reply.grpcStatus}`);
        continue;
      }
      const response = decodeCheckResponse(reply.body);
      const code = response.status?.code ?? 0;
      if (expect.ok !== (code === 0)) {
        problems.push(
          `sample: expected ${expect.ok ? 'OK' : 'a denial'}, got status ${code} (${response.status?.message ?? ''})`,
        );
        continue;
      }
      const set = new Set((response.ok_response?.headers ?? []).map((h) => h.header.key));
      for (const name of expect.setsHeaders ?? []) {
        if (!set.has(name)) problems.push(`sample: OK response does not set ${name}`);
      }
    }
  } finally {
    session.close();
  }
  return [...new Set(problems)];
}
