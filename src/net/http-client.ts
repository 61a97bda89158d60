import http from 'node:http';
import https from 'node:https';

/** One small HTTP(S) client for JWKS fetches and token-exchange calls: timeouts, size caps, mTLS. */
export interface HttpRequestOptions {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /** Whole-request deadline (connect + TLS + response). */
  timeoutMs: number;
  /** Responses longer than this are cut off with an error. */
  maxBytes?: number;
  /** TLS trust and client identity (PEM). */
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
  servername?: string;
}

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export class HttpClientError extends Error {
  constructor(
    message: string,
    readonly kind: 'timeout' | 'network' | 'too_large',
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'HttpClientError';
  }
}

export function httpRequest(url: string, options: HttpRequestOptions): Promise<HttpResponse> {
  const target = new URL(url);
  const isHttps = target.protocol === 'https:';
  const maxBytes = options.maxBytes ?? 1_048_576;
  return new Promise((resolve, reject) => {
    const req = (isHttps ? https : http).request(
      target,
      {
        method: options.method ?? 'GET',
        headers: {
          accept: 'application/json',
          ...options.headers,
          ...(options.body !== undefined
            ? { 'content-length': Buffer.byteLength(options.body).toString() }
            : {}),
        },
        // A fresh connection each time: calls are rare (refreshes) and certificates may rotate.
        agent: false,
        ...(isHttps
          ? {
              ca: options.ca,
              cert: options.cert,
              key: options.key,
              servername: options.servername,
              minVersion: 'TLSv1.2' as const,
            }
          : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBytes) {
            // Reject first: when the whole body came in one read, 'end' would still resolve.
            const err = new HttpClientError(
              `response from ${target.host} exceeds ${maxBytes} bytes`,
              'too_large',
            );
            reject(err);
            req.destroy(err);
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', (err) => reject(wrap(err, target)));
      },
    );
    req.setTimeout(options.timeoutMs);
    const timer = setTimeout(() => {
      req.destroy(
        new HttpClientError(
          `request to ${target.host} timed out after ${options.timeoutMs} ms`,
          'timeout',
        ),
      );
    }, options.timeoutMs);
    timer.unref();
    req.on('timeout', () =>
      req.destroy(
        new HttpClientError(
          `request to ${target.host} timed out after ${options.timeoutMs} ms`,
          'timeout',
        ),
      ),
    );
    req.on('error', (err) => reject(wrap(err, target)));
    req.on('close', () => clearTimeout(timer));
    req.end(options.body);
  });
}

function wrap(err: Error, target: URL): HttpClientError {
  if (err instanceof HttpClientError) return err;
  const code = (err as NodeJS.ErrnoException).code;
  return new HttpClientError(
    `request to ${target.host} failed: ${code ? `${code} ` : ''}${err.message}`,
    'network',
    { cause: err },
  );
}
