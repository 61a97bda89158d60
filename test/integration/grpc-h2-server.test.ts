import { connect, constants, type IncomingHttpHeaders } from 'node:http2';
import {
  credentials,
  makeGenericClientConstructor,
  Metadata,
  status,
  type Client,
  type ClientReadableStream,
  type ServiceError,
} from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import type { Call, ServerStreamCall, UnaryCallback } from '../../src/grpc/calls.js';
import { frameMessage } from '../../src/grpc/framing.js';
import { H2GrpcServer } from '../../src/grpc/h2-server.js';
import { waitFor } from '../helpers/ports.js';

/**
 * src/grpc/h2-server.ts against an independent gRPC implementation (grpc-js's client) and, for
 * what no well-behaved client sends, raw node:http2 requests.
 */
const text = (b: Buffer) => b.toString('utf8');
const bytes = (s: string) => Buffer.from(s, 'utf8');
const method = (path: string, responseStream = false) => ({
  path,
  requestStream: false,
  responseStream,
  requestDeserialize: (b: Buffer) => {
    if (text(b) === 'poison') throw new Error('cannot decode');
    return text(b);
  },
  responseSerialize: bytes,
  requestSerialize: bytes,
  responseDeserialize: text,
});
const SERVICE = {
  Echo: method('/test.Test/Echo'),
  Hang: method('/test.Test/Hang'),
  Count: method('/test.Test/Count', true),
  Throw: method('/test.Test/Throw'),
};

type TestClient = Client & {
  Echo(req: string, md: Metadata, cb: (e: ServiceError | null, r?: string) => void): unknown;
  Echo(req: string, cb: (e: ServiceError | null, r?: string) => void): unknown;
  Count(req: string): ClientReadableStream<string>;
};
const TestClient = makeGenericClientConstructor(SERVICE, 'Test');

let server: H2GrpcServer | undefined;
const clients: { close(): void }[] = [];
let hung: { call: Call<string>; done: UnaryCallback<string> }[] = [];
let counting: ServerStreamCall<string, string>[] = [];
let cancelled = 0;

async function start(maxMessageBytes = 1024): Promise<string> {
  server = new H2GrpcServer({
    maxMessageBytes,
    maxConcurrentCalls: 100,
    connectionWindowBytes: 1024 * 1024,
  });
  server.addService(SERVICE, {
    Echo: (call: Call<string>, done: UnaryCallback<string>) =>
      done(null, `${call.request}:${call.header('x-test') ?? ''}`, { 'x-trailer': 'yes' }),
    Hang: (call: Call<string>, done: UnaryCallback<string>) => hung.push({ call, done }),
    Throw: () => {
      throw new Error('a handler bug');
    },
    Count: (call: ServerStreamCall<string, string>) => {
      counting.push(call);
      call.on('cancelled', () => cancelled++);
      call.write('1');
      call.write('2');
    },
  });
  const port = await server.listen('127.0.0.1:0', 'test');
  return `127.0.0.1:${port}`;
}

function client(address: string): TestClient {
  const c = new TestClient(address, credentials.createInsecure()) as unknown as TestClient;
  clients.push(c);
  return c;
}

/** A raw HTTP/2 gRPC request on a connection of its own (Echo unless `headers` says otherwise). */
function request(address: string, headers: Record<string, string> = {}) {
  const session = connect(`http://${address}`);
  clients.push(session);
  const req = session.request({
    ':method': 'POST',
    ':path': '/test.Test/Echo',
    'content-type': 'application/grpc',
    te: 'trailers',
    ...headers,
  });
  return { session, req };
}

/** One raw HTTP/2 request; resolves with the response headers, trailers and body. */
async function raw(
  address: string,
  headers: Record<string, string>,
  body: Buffer,
): Promise<{ headers: IncomingHttpHeaders; trailers: IncomingHttpHeaders; body: Buffer }> {
  const { req } = request(address, headers);
  const chunks: Buffer[] = [];
  let trailers: IncomingHttpHeaders = {};
  req.on('trailers', (t) => (trailers = t));
  req.on('data', (c: Buffer) => chunks.push(c));
  const response = new Promise<IncomingHttpHeaders>((r) => req.once('response', r));
  req.end(body);
  await new Promise<void>((r, j) => {
    req.once('close', r);
    req.once('error', j);
  });
  return { headers: await response, trailers, body: Buffer.concat(chunks) };
}

afterEach(() => {
  clients.splice(0).forEach((c) => c.close());
  server?.forceShutdown();
  server = undefined;
  hung = [];
  counting = [];
  cancelled = 0;
});

const echo = (c: TestClient, req: string, md?: Metadata) =>
  new Promise<{ err: ServiceError | null; value?: string }>((resolve) => {
    const cb = (err: ServiceError | null, value?: string) => resolve({ err, value });
    if (md) c.Echo(req, md, cb);
    else c.Echo(req, cb);
  });

describe('H2GrpcServer', () => {
  it('answers a unary call: the response, the call metadata it read, its extra trailers', async () => {
    const c = client(await start());
    const md = new Metadata();
    md.set('x-test', 'meta');
    const trailers = new Promise<Metadata>((resolve) => {
      const call = c.Echo('hi', md, () => undefined) as {
        on(e: 'status', l: (s: { metadata: Metadata }) => void): void;
      };
      call.on('status', (s) => resolve(s.metadata));
    });
    expect((await echo(c, 'hello', md)).value).toBe('hello:meta');
    expect((await trailers).get('x-trailer')).toEqual(['yes']);
  });

  it('UNIMPLEMENTED for a method it does not serve, without echoing the path', async () => {
    const address = await start();
    const r = await raw(
      address,
      { ':path': `/nope/${'x'.repeat(2000)}` },
      frameMessage(bytes('a')),
    );
    expect(r.headers[':status']).toBe(200);
    expect(r.headers['grpc-status']).toBe(String(status.UNIMPLEMENTED));
    expect(r.headers['grpc-message']).toBe('method not implemented');
  });

  it('INTERNAL for a handler that throws; the server keeps serving', async () => {
    const address = await start();
    const r = await raw(address, { ':path': '/test.Test/Throw' }, frameMessage(bytes('a')));
    expect(r.headers['grpc-status']).toBe(String(status.INTERNAL));
    expect(r.headers['grpc-message']).toBe('internal error');
    expect((await echo(client(address), 'after')).value).toBe('after:');
  });

  it('HTTP 415 for a request that is not application/grpc', async () => {
    const address = await start();
    const r = await raw(address, { 'content-type': 'application/json' }, bytes('{}'));
    expect(r.headers[':status']).toBe(415);
  });

  it.each([
    [
      'a compressed message',
      Buffer.from([1, 0, 0, 0, 1, 97]),
      status.UNIMPLEMENTED,
      'compressed messages are not accepted',
    ],
    [
      'two messages',
      Buffer.concat([frameMessage(bytes('a')), frameMessage(bytes('b'))]),
      status.INTERNAL,
      'expected exactly one request message',
    ],
    ['no message', Buffer.alloc(0), status.INTERNAL, 'expected exactly one request message'],
    [
      'a truncated message',
      Buffer.from([0, 0, 0, 0, 9, 97]),
      status.INTERNAL,
      'truncated request message',
    ],
    [
      'a message its codec refuses',
      frameMessage(bytes('poison')),
      status.INTERNAL,
      'malformed request message',
    ],
  ])('%s ends the call with a status, trailers-only', async (_what, body, code, message) => {
    const address = await start();
    const r = await raw(address, {}, body);
    expect(r.headers['grpc-status']).toBe(String(code));
    expect(r.headers['grpc-message']).toBe(encodeURIComponent(message).replace(/%20/g, ' '));
    expect(r.body).toHaveLength(0);
  });

  it('RESOURCE_EXHAUSTED for a message over the limit; the connection keeps serving', async () => {
    const c = client(await start(1024));
    const big = await echo(c, 'x'.repeat(2000));
    expect(big.err?.code).toBe(status.RESOURCE_EXHAUSTED);
    expect((await echo(c, 'small')).value).toBe('small:');
  });

  it('INTERNAL for a malformed grpc-timeout', async () => {
    const address = await start();
    const r = await raw(address, { 'grpc-timeout': '5 seconds' }, frameMessage(bytes('a')));
    expect(r.headers['grpc-status']).toBe(String(status.INTERNAL));
  });

  it('answers a call whose grpc-timeout is past the longest timer Node keeps', async () => {
    const address = await start();
    const answer = raw(
      address,
      { ':path': '/test.Test/Hang', 'grpc-timeout': '99999999H' },
      frameMessage(bytes('far')),
    );
    await waitFor(() => hung.length === 1, 'the call to arrive');
    hung[0]!.done(null, 'answered');
    const r = await answer;
    expect(r.trailers['grpc-status']).toBe('0');
    expect(r.body.subarray(5).toString()).toBe('answered');
  });

  it('DEADLINE_EXCEEDED once grpc-timeout passes without an answer; a late answer is dropped', async () => {
    const address = await start();
    const r = await raw(
      address,
      { ':path': '/test.Test/Hang', 'grpc-timeout': '50m' },
      frameMessage(bytes('a')),
    );
    expect(r.headers['grpc-status']).toBe(String(status.DEADLINE_EXCEEDED));
    expect(hung).toHaveLength(1);
    expect(hung[0]!.call.deadline).toBeLessThanOrEqual(Date.now());
    hung[0]!.done(null, 'late');
    const c = client(address);
    expect((await echo(c, 'still')).value).toBe('still:');
  });

  it('INTERNAL for an answer whose extra trailers cannot be sent, given later; the server keeps serving', async () => {
    const address = await start();
    const answer = raw(address, { ':path': '/test.Test/Hang' }, frameMessage(bytes('a')));
    await waitFor(() => hung.length === 1, 'the call to arrive');
    // Outside any read of the connection: a throw here would reach the process.
    hung[0]!.done(null, 'x', { 'x-bad': 'a\r\nb' });
    const r = await answer;
    expect(r.headers['grpc-status']).toBe(String(status.INTERNAL));
    expect(r.headers['grpc-message']).toBe('the response could not be encoded');
    expect((await echo(client(address), 'after')).value).toBe('after:');
  });

  it('a call whose client went away: the handler answering later does not throw', async () => {
    const address = await start();
    const { req } = request(address, { ':path': '/test.Test/Hang' });
    req.on('error', () => undefined);
    req.end(frameMessage(bytes('a')));
    await waitFor(() => hung.length === 1, 'the call to arrive');
    req.close(constants.NGHTTP2_CANCEL);
    await new Promise((r) => req.once('close', r));
    hung[0]!.done(null, 'late');
    hung[0]!.done({ code: status.INTERNAL, details: 'twice' });
    const c = client(address);
    expect((await echo(c, 'still')).value).toBe('still:');
  });

  it('streams responses; a client that cancels is seen as cancelled', async () => {
    const c = client(await start());
    const stream = c.Count('go');
    const got: string[] = [];
    stream.on('data', (d: string) => got.push(d));
    stream.on('error', () => undefined);
    await waitFor(() => got.length === 2, 'two messages');
    stream.cancel();
    await waitFor(() => cancelled === 1, 'the server to see the cancel');
    expect(got).toEqual(['1', '2']);
  });

  it('a stream ends with its status after what it wrote', async () => {
    const c = client(await start());
    const stream = c.Count('go');
    const got: string[] = [];
    stream.on('data', (d: string) => got.push(d));
    const ended = new Promise<ServiceError>((r) => stream.on('error', r));
    await waitFor(() => counting.length === 1, 'the call');
    counting[0]!.write('3');
    counting[0]!.end({ code: status.UNAVAILABLE, details: 'going away' });
    const err = await ended;
    expect(err.code).toBe(status.UNAVAILABLE);
    expect(err.details).toBe('going away');
    expect(got).toEqual(['1', '2', '3']);
    expect(cancelled).toBe(0);
  });

  it('tryShutdown lets an open call finish, then reports done; new connections are refused', async () => {
    const address = await start();
    const c = client(address);
    await echo(c, 'warm');
    const { session, req } = request(address, { ':path': '/test.Test/Hang' });
    // As Envoy and grpc-js do: a connection told to go away closes once its streams are done.
    session.on('goaway', () => session.close());
    req.on('error', () => undefined);
    req.resume();
    req.end(frameMessage(bytes('open')));
    await waitFor(() => hung.length === 1, 'the call to arrive');
    let stopped = false;
    server!.tryShutdown(() => (stopped = true));
    const trailers = new Promise<IncomingHttpHeaders>((r) => req.once('trailers', r));
    expect(stopped).toBe(false);
    hung[0]!.done(null, 'answered');
    expect((await trailers)['grpc-status']).toBe('0');
    await waitFor(() => stopped, 'the shutdown to finish');
    const refused = await echo(client(address), 'after');
    expect(refused.err?.code).toBe(status.UNAVAILABLE);
  });
});
