import { CALLER_MESSAGES, REASONS } from '../errors.js';
import type { CheckResponse, HeaderValueOption } from '../envoy/types.js';
import type { Decision } from './decision.js';
import type { RequestContext } from './request-context.js';

/**
 * The one place a Decision becomes Envoy's CheckResponse. Denials are answers (a non-OK status
 * inside a successful RPC), never RPC failures: Envoy treats a failed RPC as an error, not a deny.
 * What a caller sees of a denial is its reason code and that code's fixed sentence
 * (CALLER_MESSAGES); the decision's own message holds details for the log only.
 */

/** Shared by every option: nothing changes it after it is built (CheckResponses are read only). */
const NO_APPEND = Object.freeze({ value: false });

/**
 * append:false wins on Envoy <= 1.36, append_action on the versions that read it. Built per
 * check: two small objects per header cost less than looking a reused one up (a WeakMap on the
 * identity's frozen pairs took ~0.3 µs per warm check, and ~5 µs per new token: bench/README.md).
 */
function overwrite(key: string, value: string): HeaderValueOption {
  return {
    header: { key, value },
    append: NO_APPEND,
    append_action: 'OVERWRITE_IF_EXISTS_OR_ADD',
  };
}

export const REASON_HEADER = 'x-jwtauth-reason';

function quoted(text: string): string {
  return text.replace(/["\\]/g, "'").replace(/[^\x20-\x7e]/g, '?');
}

function denialHeaders(decision: Decision, ctx: RequestContext | undefined): HeaderValueOption[] {
  const http = REASONS[decision.reason].http;
  const headers = [overwrite(REASON_HEADER, decision.reason)];
  if (http === 401) {
    // RFC 6750 §3.1: no error code when the request carried no credentials at all.
    const challenge =
      decision.reason === 'missing_token'
        ? 'Bearer realm="jwtexchange"'
        : `Bearer realm="jwtexchange", error="invalid_token", error_description="${quoted(CALLER_MESSAGES[decision.reason])}"`;
    headers.push(overwrite('www-authenticate', challenge));
  }
  if (!ctx?.isGrpc) headers.push(overwrite('content-type', 'application/json'));
  return headers;
}

function denialBody(decision: Decision, ctx: RequestContext | undefined): string {
  // gRPC callers see the body as grpc-message, so keep it a plain sentence.
  if (ctx?.isGrpc) return `${decision.reason}: ${CALLER_MESSAGES[decision.reason]}`;
  return JSON.stringify({ error: decision.reason, message: CALLER_MESSAGES[decision.reason] });
}

export function toCheckResponse(
  decision: Decision,
  ctx: RequestContext | undefined,
): CheckResponse {
  if (decision.allow) {
    return {
      status: { code: 0 },
      ok_response: {
        headers: decision.setHeaders.map(([key, value]) => overwrite(key, value)),
        headers_to_remove: decision.removeHeaders as string[],
        response_headers_to_add: [],
      },
    };
  }
  const reason = REASONS[decision.reason];
  return {
    status: {
      code: reason.grpc,
      message: `${decision.reason}: ${CALLER_MESSAGES[decision.reason]}`,
    },
    denied_response: {
      status: { code: reason.http },
      headers: denialHeaders(decision, ctx),
      body: denialBody(decision, ctx),
    },
  };
}
