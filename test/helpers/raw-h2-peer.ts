import http2 from 'node:http2';
import type { OutgoingHttpHeaders } from 'node:http2';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { SETTINGS_ACK, frame, settingsFrame } from '../../src/h2/frame-writer.js';
import { FrameReader } from '../../src/h2/frame-reader.js';
import { HeaderBlockAssembler } from '../../src/h2/header-block.js';
import { Flag, FrameType, MAX_ALLOWED_FRAME_SIZE, Setting } from '../../src/h2/protocol.js';

/*
 * A bare HTTP/2 server side on a raw socket, to meet node:http2's client (nghttp2, an independent
 * HPACK implementation) at the HPACK layer: it hands over the client's header blocks as sent, and
 * answers with header blocks the test encoded itself. Framing comes from src/h2 (its reader and
 * header-block assembly, h2spec-checked); no HPACK of ours is involved. Loopback only.
 */

/** A HEADERS frame that ends its stream: a whole response in one header block. */
export function responseFrame(stream: number, block: Buffer): Buffer {
  return frame(FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM, stream, block);
}

/** Our SETTINGS (HEADER_TABLE_SIZE when given) and an ACK of the client's. */
function openingFrames(headerTableSize?: number): Buffer {
  const settings: [number, number][] =
    headerTableSize === undefined ? [] : [[Setting.HEADER_TABLE_SIZE, headerTableSize]];
  return Buffer.concat([settingsFrame(settings), SETTINGS_ACK]);
}

/**
 * Calls onBlock(stream, block) for each complete header block (CONTINUATIONs joined), and
 * onRefusal when the client resets a stream or goes away (it refused what we sent).
 */
function headerBlockReader(
  onBlock: (stream: number, block: Buffer) => void,
  onRefusal: (frameType: number) => void,
) {
  const reader = new FrameReader(MAX_ALLOWED_FRAME_SIZE);
  const blocks = new HeaderBlockAssembler(Infinity);
  const onFrame = (type: number, flags: number, stream: number, payload: Buffer) => {
    const block =
      type === FrameType.HEADERS
        ? blocks.headers(flags, stream, payload)
        : type === FrameType.CONTINUATION
          ? blocks.continuation(flags, stream, payload)
          : undefined;
    if (typeof block === 'object') onBlock(block.streamId, block.bytes);
    if (type === FrameType.RST_STREAM || type === FrameType.GOAWAY) onRefusal(type);
    return true;
  };
  return (chunk: Buffer) => {
    reader.push(chunk, onFrame);
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
