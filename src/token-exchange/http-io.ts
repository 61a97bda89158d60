import type { IncomingMessage, ServerResponse } from 'node:http';
import { OAuthError } from './oauth-error.js';

/** Token answers and errors must never be cached (RFC 6749 §5.1). */
export const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' } as const;

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text).toString(),
    'x-content-type-options': 'nosniff',
    ...headers,
  });
  res.end(text);
}

export function sendOAuthError(
  res: ServerResponse,
  err: OAuthError,
  headers: Record<string, string> = {},
): void {
  sendJson(res, err.status, err.toJSON(), { ...NO_STORE, ...headers });
}

/** The media type without parameters, lower-cased (`Application/X-WWW-Form-Urlencoded; charset=utf-8`). */
export function mediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

/**
 * Reads the request body up to maxBytes. A larger body (announced or actual) is refused with 413
 * and the connection is closed, so a slow or endless upload cannot tie up memory.
 */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<string> {
  const tooLarge = () =>
    new OAuthError('invalid_request', `request body exceeds ${maxBytes} bytes`, { status: 413 });
  const announced = Number(req.headers['content-length'] ?? 0);
  if (announced > maxBytes) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        req.off('data', onData);
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
    // A client that disconnects mid-body must not leave the request pending.
    req.on('close', () => {
      if (!req.complete) reject(new Error('client closed the connection before the body ended'));
    });
  });
}
