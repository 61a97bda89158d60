import http2 from 'node:http2';
import type { OutgoingHttpHeaders } from 'node:http2';
import net from 'node:net';
import type { AddressInfo } from 'node:net';

/*
 * A bare HTTP/2 server side on a raw socket, to meet node:http2's client (nghttp2, an independent
 * HPACK implementation) at the HPACK layer: it hands over the client's header blocks as sent, and
 * answers with header blocks the test encoded itself. Just enough framing for that; loopback only.
 */

const PREFACE_LENGTH = 24;
const HEADERS = 0x1;
const SETTINGS = 0x4;
const CONTINUATION = 0x9;
const RST_STREAM = 0x3;
const GOAWAY = 0x7;
const END_STREAM = 0x1;
const END_HEADERS = 0x4;
const PADDED = 0x8;
const PRIORITY = 0x20;

export function frame(type: number, flags: number, stream: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(9);
  header.writeUIntBE(payload.length, 0, 3);
  header[3] = type;
  header[4] = flags;
  header.writeUInt32BE(stream, 5);
  return Buffer.concat([header, payload]);
}

/** A HEADERS frame that ends its stream: a whole response in one header block. */
export function responseFrame(stream: number, block: Buffer): Buffer {
  return frame(HEADERS, END_HEADERS | END_STREAM, stream, block);
}

/** Our SETTINGS (HEADER_TABLE_SIZE when given) and an ACK of the client's. */
function openingFrames(headerTableSize?: number): Buffer {
  const settings = Buffer.alloc(headerTableSize === undefined ? 0 : 6);
  if (headerTableSize !== undefined) {
    settings.writeUInt16BE(0x1, 0);
    settings.writeUInt32BE(headerTableSize, 2);
  }
  return Buffer.concat([frame(SETTINGS, 0, 0, settings), frame(SETTINGS, 0x1, 0, Buffer.alloc(0))]);
}

/** The header block fragment of a HEADERS frame, without padding and priority fields. */
function fragmentOf(type: number, flags: number, payload: Buffer): Buffer {
  if (type !== HEADERS) return payload;
  const pad = flags & PADDED ? payload[0]! : 0;
  const start = (flags & PADDED ? 1 : 0) + (flags & PRIORITY ? 5 : 0);
  return payload.subarray(start, payload.length - pad);
}

/**
 * Calls onBlock(stream, block) for each complete header block (CONTINUATIONs joined), and
 * onRefusal when the client resets a stream or goes away (it refused what we sent).
 */
function headerBlockReader(
  onBlock: (stream: number, block: Buffer) => void,
  onRefusal: (frameType: number) => void,
) {
  let buffered = Buffer.alloc(0);
  let fragments: Buffer[] = [];
  return (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    let pos = PREFACE_LENGTH;
    while (buffered.length - pos >= 9) {
      const length = buffered.readUIntBE(pos, 3);
      if (buffered.length - pos < 9 + length) break;
      const [type, flags] = [buffered[pos + 3]!, buffered[pos + 4]!];
      const stream = buffered.readUInt32BE(pos + 5) & 0x7fffffff;
      const payload = buffered.subarray(pos + 9, pos + 9 + length);
      if (type === HEADERS || type === CONTINUATION) {
        fragments.push(fragmentOf(type, flags, payload));
        if (flags & END_HEADERS) {
          onBlock(stream, Buffer.concat(fragments));
          fragments = [];
        }
      }
      if (type === RST_STREAM || type === GOAWAY) onRefusal(type);
      pos += 9 + length;
    }
    // Keep the preface in front so `pos` always starts past it.
    buffered = Buffer.concat([buffered.subarray(0, PREFACE_LENGTH), buffered.subarray(pos)]);
  };
}

export interface RawPeerOptions {
  /** Our SETTINGS_HEADER_TABLE_SIZE, announced before the client's first request. */
  readonly headerTableSize?: number;
  /** The answer to each request's header block; nothing is sent when it returns undefined. */
  readonly answer?: (stream: number, block: Buffer) => Buffer | undefined;
}

/**
 * Sends the requests from node:http2's client, one after another on one connection, to the raw
 * peer; resolves with their header blocks as nghttp2 encoded them, and the responses' headers
 * (when the peer answers).
 */
export async function exchangeWithNodeClient(
  requests: readonly OutgoingHttpHeaders[],
  options: RawPeerOptions = {},
): Promise<{ blocks: Buffer[]; responses: http2.IncomingHttpHeaders[] }> {
  const blocks: Buffer[] = [];
  let arrived = () => {};
  let refused = (_frameType: number) => {};
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    socket.write(openingFrames(options.headerTableSize));
    socket.on(
      'data',
      headerBlockReader(
        (stream, block) => {
          blocks.push(block);
          const reply = options.answer?.(stream, block);
          if (reply) socket.write(reply);
          arrived();
        },
        (type) => refused(type),
      ),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const client = http2.connect(`http://127.0.0.1:${port}`);
  client.on('error', () => {});
  try {
    const responses: http2.IncomingHttpHeaders[] = [];
    for (const headers of requests) {
      const expected = blocks.length + 1;
      const delivered = new Promise<void>((resolve) => {
        arrived = () => blocks.length >= expected && resolve();
      });
      const stream = client.request(headers, { endStream: true });
      const response = new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
        stream.on('response', resolve);
        stream.on('error', reject);
        // What nghttp2 refuses ends in a GOAWAY or RST_STREAM, not always in a stream event.
        refused = (type) => reject(new Error(`the client refused our answer (frame type ${type})`));
      });
      // Reset when the client goes away unanswered: not a failure of the exchange.
      if (!options.answer) response.catch(() => {});
      await Promise.race([delivered, response]);
      if (options.answer) responses.push(await response);
    }
    return { blocks, responses };
  } finally {
    client.destroy();
    await new Promise((resolve) => server.close(resolve));
  }
}
