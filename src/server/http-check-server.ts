import http from 'node:http';
import type { Socket } from 'node:net';
import type { CheckRunner } from '../check/check-runner.js';
import { answerBy } from '../check/deadline.js';
import { fromHttpAuthorizationRequest } from '../envoy/http-check-request.js';
import { toHttpCheckAnswer } from '../envoy/http-check-response.js';
import type { Logger } from '../log.js';

/**
 * The ext_authz listener for Envoy's HTTP mode (`http_service`, envoy/ingress-http.yaml): every
 * request is one check, answered on the same keep-alive connection. Node's HTTP/1.1 server costs
 * a fraction of a gRPC call over node:http2 per check (bench/README.md), which is the point of
 * this mode; the decisions are the gRPC listener's, from the same runner.
 */
export interface HttpCheckOptions {
  /** The deadline of a check that does not carry Envoy's (server.httpCheckTimeoutMs). */
  readonly timeoutMs: number;
  readonly logger: Logger;
}

/**
 * Envoy's own request-header limit is 60 KiB (max_request_headers_kb); Node's 16 KiB default
 * would turn a request Envoy accepted into a failed check.
 */
const MAX_HEADER_BYTES = 64 * 1024;

/** Envoy never sends a body unless with_request_body is set, and the check never reads one. */
const MAX_BODY_BYTES = 64 * 1024;

/**
 * Envoy sends its http_service timeout (or the retry's per-try timeout, if lower) with every
 * check, as gRPC sends grpc-timeout; the answer is due a little before it (check/deadline.ts).
 * Only a plain number of milliseconds up to a minute is taken; anything else falls back to the
 * configured timeout. A client cannot lengthen anyone's wait but its own.
 */
const TIMEOUT_HEADER = 'x-envoy-expected-rq-timeout-ms';
const MAX_TIMEOUT_MS = 60_000;

export function checkBudgetMs(header: string | string[] | undefined, fallbackMs: number): number {
  if (typeof header !== 'string' || !/^\d{1,9}$/.test(header)) return fallbackMs;
  const ms = Number(header);
  return ms > 0 ? Math.min(ms, MAX_TIMEOUT_MS) : fallbackMs;
}

export function createHttpCheckServer(run: CheckRunner, options: HttpCheckOptions): http.Server {
  const server = http.createServer(
    { maxHeaderSize: MAX_HEADER_BYTES, requireHostHeader: false },
    (req, res) => {
      if (Number(req.headers['content-length'] ?? 0) > MAX_BODY_BYTES) {
        res.shouldKeepAlive = false;
        res.writeHead(413, { 'content-length': '0' }).end();
        return;
      }
      req.resume(); // discard any body; the answer does not wait for it
      run(
        {
          request: () => fromHttpAuthorizationRequest(req),
          answerBy: answerBy(
            Date.now() + checkBudgetMs(req.headers[TIMEOUT_HEADER], options.timeoutMs),
          ),
          explain: false,
        },
        (response) => {
          const answer = toHttpCheckAnswer(response);
          try {
            // The answer's header list is built for this reply alone: add to it in place.
            answer.headers.push('content-length', String(Buffer.byteLength(answer.body)));
            res.writeHead(answer.status, answer.headers);
            res.end(answer.body);
          } catch (err) {
            // A header value Node refuses: Envoy sees a 500, an ext_authz error, and denies.
            options.logger.error('check answer could not be written; denying', {
              error: err as Error,
            });
            if (!res.headersSent) res.writeHead(500, { 'content-length': '0' }).end();
            else res.destroy();
          }
        },
      );
    },
  );
  // Envoy holds these connections for its cluster's idle_timeout (an hour in the shipped
  // configs) and must always be the side that closes one: a server-side close racing a new
  // check makes that check fail (a 503 to the client).
  server.keepAliveTimeout = 3_900_000;
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;
  // CONNECT and Upgrade requests are not checks: close them, and Envoy's check fails closed.
  const refuse = (_req: http.IncomingMessage, socket: Socket) => socket.destroy();
  server.on('connect', refuse);
  server.on('upgrade', refuse);
  return server;
}
