import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  mediaType,
  NO_STORE,
  readBody,
  sendJson,
  sendOAuthError,
} from '../../../src/token-exchange/http-io.js';
import { OAuthError } from '../../../src/token-exchange/oauth-error.js';

/** A response that records what was written. */
function response(headersSent = false) {
  const sent: { status?: number; headers?: Record<string, string>; body?: string } = {};
  const res = {
    headersSent,
    writeHead(status: number, headers: Record<string, string>) {
      sent.status = status;
      sent.headers = headers;
    },
    end(body: string) {
      sent.body = body;
    },
  };
  return { res: res as unknown as ServerResponse, sent };
}

/** A request body in chunks; `complete` once every chunk was read. */
function request(chunks: string[], headers: Record<string, string> = {}) {
  const req = Readable.from(chunks.map((c) => Buffer.from(c))) as Readable & {
    headers: Record<string, string>;
    complete: boolean;
  };
  req.headers = headers;
  req.complete = false;
  req.on('end', () => (req.complete = true));
  return req as unknown as IncomingMessage;
}

describe('sendJson', () => {
  it('writes JSON with its byte length and nosniff, extra headers last', () => {
    const { res, sent } = response();
    sendJson(res, 201, { name: 'välue' }, { 'x-extra': '1' });
    expect(sent.status).toBe(201);
    expect(sent.body).toBe('{"name":"välue"}');
    expect(sent.headers).toEqual({
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength('{"name":"välue"}')),
      'x-content-type-options': 'nosniff',
      'x-extra': '1',
    });
  });

  it('writes nothing once headers were sent', () => {
    const { res, sent } = response(true);
    sendJson(res, 200, {});
    expect(sent).toEqual({});
  });
});

describe('sendOAuthError', () => {
  it('sends the RFC 6749 body with its status, never cached', () => {
    const { res, sent } = response();
    sendOAuthError(res, new OAuthError('invalid_client', 'no client certificate'), {
      'www-authenticate': 'x',
    });
    expect(sent.status).toBe(401);
    expect(JSON.parse(sent.body!)).toEqual({
      error: 'invalid_client',
      error_description: 'no client certificate',
    });
    expect(sent.headers).toMatchObject({ ...NO_STORE, 'www-authenticate': 'x' });
  });
});

describe('mediaType', () => {
  it.each([
    ['Application/X-WWW-Form-Urlencoded; charset=utf-8', 'application/x-www-form-urlencoded'],
    [' application/json ', 'application/json'],
    [undefined, ''],
  ])('%o is %o', (contentType, type) => {
    const headers = contentType === undefined ? {} : { 'content-type': contentType };
    expect(mediaType({ headers } as IncomingMessage)).toBe(type);
  });
});

describe('readBody', () => {
  it('reads a body in chunks, as UTF-8', async () => {
    await expect(readBody(request(['grant_type=a&', 'x=ü']), 100)).resolves.toBe(
      'grant_type=a&x=ü',
    );
  });

  it('takes a body of exactly maxBytes', async () => {
    await expect(readBody(request(['12345', '67890']), 10)).resolves.toBe('1234567890');
  });

  it('refuses a body larger than maxBytes with 413', async () => {
    const err = await readBody(request(['12345', '678901']), 10).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OAuthError);
    expect(err).toMatchObject({ code: 'invalid_request', status: 413 });
    expect((err as OAuthError).description).toBe('request body exceeds 10 bytes');
  });

  it('refuses an announced length over maxBytes before reading', async () => {
    const err = await readBody(request([], { 'content-length': '11' }), 10).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ status: 413 });
  });
});
