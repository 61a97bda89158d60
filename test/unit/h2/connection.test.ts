import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { H2Connection, type H2ConnectionOptions } from '../../../src/h2/connection.js';
import { frame, settingsFrame, windowUpdateFrame } from '../../../src/h2/frame-writer.js';
import { encodeHeaderBlock } from '../../../src/h2/hpack-encoder.js';
import { ErrorCode, Flag, FrameType, PREFACE, Setting } from '../../../src/h2/protocol.js';
import type { H2Stream } from '../../../src/h2/stream.js';
import { RESET_BURST, RESETS_PER_SECOND } from '../../../src/h2/reset-budget.js';
import { parseFrames, type Frame } from '../../helpers/h2-frames.js';
import { ManualClock } from '../../helpers/manual-time.js';

/** A socket that records each write() call: what one write carries is what matters here. */
class FakeSocket extends EventEmitter {
  readonly writes: Buffer[] = [];
  writable = true;
  writableLength = 0;
  ended = false;
  paused = false;
  setNoDelay() {}
  write(data: Buffer) {
    this.writes.push(Buffer.from(data));
    return true;
  }
  end() {
    this.ended = true;
  }
  destroy() {
    this.emit('close');
  }
  pause() {
    this.paused = true;
  }
  resume() {
    this.paused = false;
  }
}

const OPTIONS: H2ConnectionOptions = {
  maxConcurrentStreams: 2,
  streamWindowBytes: 1024,
  connectionWindowBytes: 4096,
  maxHeaderListBytes: 1024,
};
/** A request's header block: the pseudo-headers, then one more field. */
const requestWith = (name: string, value: string) =>
  encodeHeaderBlock([
    [':method', 'POST'],
    [':scheme', 'http'],
    [':path', '/x'],
    [name, value],
  ]);
const REQUEST = requestWith('content-type', 'application/grpc');
const headers = (id: number, flags: number = Flag.END_HEADERS, block: Uint8Array = REQUEST) =>
  frame(FrameType.HEADERS, flags, id, block);
const data = (id: number, bytes: number, flags: number = 0) =>
  frame(FrameType.DATA, flags, id, Buffer.alloc(bytes, 1));
/** The peer resets a stream (the code, NO_ERROR, does not matter here). */
const rst = (id: number) => frame(FrameType.RST_STREAM, 0, id, Buffer.alloc(4));

function connect(options = OPTIONS, onStream: (s: H2Stream) => void = () => undefined) {
  const socket = new FakeSocket();
  const streams: H2Stream[] = [];
  const connection = new H2Connection(socket as unknown as Socket, options, (s) => {
    streams.push(s);
    onStream(s);
  });
  const send = (...frames: Buffer[]) => {
    socket.writes.length = 0;
    socket.emit('data', Buffer.concat(frames));
  };
  send(PREFACE, settingsFrame([]));
  const written = () => parseFrames(Buffer.concat(socket.writes));
  return { socket, streams, connection, send, written };
}

const goaway = (frames: Frame[]) => {
  const g = frames.find((f) => f.type === FrameType.GOAWAY);
  return g && g.payload.readUInt32BE(4);
};
const resets = (frames: Frame[]) =>
  frames
    .filter((f) => f.type === FrameType.RST_STREAM)
    .map((f) => [f.id, f.payload.readUInt32BE(0)]);

describe('H2Connection', () => {
  it('opens with its settings and the larger connection window, then acks the peer', () => {
    const socket = new FakeSocket();
    const options = { ...OPTIONS, connectionWindowBytes: 1 << 20 };
    new H2Connection(socket as unknown as Socket, options, () => undefined);
    socket.emit('data', Buffer.concat([PREFACE, settingsFrame([])]));
    const frames = parseFrames(Buffer.concat(socket.writes));
    const settings = frames[0]!;
    expect(settings.type).toBe(FrameType.SETTINGS);
    const values = new Map<number, number>();
    for (let at = 0; at < settings.payload.length; at += 6) {
      values.set(settings.payload.readUInt16BE(at), settings.payload.readUInt32BE(at + 2));
    }
    expect(values.get(Setting.MAX_CONCURRENT_STREAMS)).toBe(2);
    expect(values.get(Setting.INITIAL_WINDOW_SIZE)).toBe(1024);
    expect(frames[1]).toMatchObject({ type: FrameType.WINDOW_UPDATE, id: 0 });
    expect(frames[1]!.payload.readUInt32BE(0)).toBe((1 << 20) - 65_535);
    expect(frames.at(-1)).toMatchObject({ type: FrameType.SETTINGS, flags: Flag.ACK });
  });

  it('sends a whole answer (headers, message, trailers) in one write', async () => {
    const c = connect(OPTIONS, (s) => {
      s.consumer = {
        onEnd: () =>
          setImmediate(() =>
            s.respond(Uint8Array.of(0x88), Buffer.from('hi'), Uint8Array.of(0x88)),
          ),
      };
    });
    c.send(headers(1), data(1, 10, Flag.END_STREAM));
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(c.socket.writes).toHaveLength(1);
    const frames = parseFrames(c.socket.writes[0]!);
    expect(frames.map((f) => [f.type, f.flags])).toEqual([
      [FrameType.HEADERS, Flag.END_HEADERS],
      [FrameType.DATA, 0],
      [FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM],
    ]);
  });

  it('answers within the read that completed the request in that read’s one write', () => {
    const c = connect(OPTIONS, (s) => {
      s.consumer = {
        onEnd: () => s.respond(Uint8Array.of(0x88), Buffer.from('hi'), Uint8Array.of(0x88)),
      };
    });
    c.send(headers(1), data(1, 10, Flag.END_STREAM), headers(3), data(3, 10, Flag.END_STREAM));
    expect(c.socket.writes).toHaveLength(1);
    expect(
      c
        .written()
        .filter((f) => f.flags & Flag.END_STREAM)
        .map((f) => f.id),
    ).toEqual([1, 3]);
  });

  const holding = (s: H2Stream) => (s.consumer = { onData: () => undefined });
  const wide = { ...OPTIONS, streamWindowBytes: 65_535, connectionWindowBytes: 65_535 };
  const connectionUpdates = (frames: Frame[]) =>
    frames.filter((f) => f.type === FrameType.WINDOW_UPDATE && f.id === 0);

  it('ends the connection with FLOW_CONTROL_ERROR when held bodies pass its window', () => {
    const c = connect(wide, holding);
    c.send(headers(1), ...Array.from({ length: 3 }, () => data(1, 16_000)));
    c.send(headers(3), data(3, 16_000));
    expect(connectionUpdates(c.written())).toEqual([]); // held: nothing credited
    c.send(data(3, 16_000));
    expect(goaway(c.written())).toBe(ErrorCode.FLOW_CONTROL_ERROR);
    expect(c.socket.ended).toBe(true);
  });

  it('credits the connection window once a held body is complete', () => {
    const c = connect(wide, holding);
    c.send(headers(1), ...Array.from({ length: 3 }, () => data(1, 16_000)));
    expect(connectionUpdates(c.written())).toEqual([]);
    c.send(data(1, 0, Flag.END_STREAM));
    expect(connectionUpdates(c.written())[0]?.payload.readUInt32BE(0)).toBe(48_000);
  });

  it('credits dropped body octets at once: a body no one holds never stalls the connection', () => {
    const c = connect(wide);
    c.send(headers(1), ...Array.from({ length: 3 }, () => data(1, 16_000)));
    expect(connectionUpdates(c.written())[0]?.payload.readUInt32BE(0)).toBe(48_000);
  });

  it('refuses streams past SETTINGS_MAX_CONCURRENT_STREAMS with REFUSED_STREAM', () => {
    const c = connect();
    c.send(headers(1), headers(3), headers(5));
    expect(resets(c.written())).toEqual([[5, ErrorCode.REFUSED_STREAM]]);
    expect(c.streams.map((s) => s.id)).toEqual([1, 3]);
  });

  it('answers 431 to a header list over the limit, and keeps the HPACK table in step', () => {
    const c = connect();
    const big = requestWith('x-big', 'a'.repeat(1500));
    c.send(frame(FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM, 1, big));
    const answer = c.written().find((f) => f.id === 1)!;
    expect(answer.type).toBe(FrameType.HEADERS);
    expect(answer.payload.toString('latin1')).toContain('431');
    expect(c.streams).toEqual([]);
    c.send(headers(3));
    expect(c.streams.map((s) => s.id)).toEqual([3]);
  });

  it('resets a malformed request with PROTOCOL_ERROR and never hands it over', () => {
    const c = connect();
    const upper = requestWith('X-Upper', 'v');
    c.send(headers(1, Flag.END_HEADERS, upper));
    expect(resets(c.written())).toEqual([[1, ErrorCode.PROTOCOL_ERROR]]);
    expect(c.streams).toEqual([]);
  });

  it('drops the rest of a body once the stream is answered, still crediting the windows', () => {
    const got: number[] = [];
    const c = connect({ ...OPTIONS, streamWindowBytes: 2000 }, (s) => {
      s.consumer = {
        onData: (chunk) => {
          got.push(chunk.length);
          s.respondOnly(Uint8Array.of(0x88));
        },
      };
    });
    c.send(headers(1), data(1, 600));
    c.send(data(1, 600), data(1, 600));
    expect(got).toEqual([600]);
    expect(c.written().some((f) => f.type === FrameType.WINDOW_UPDATE && f.id === 1)).toBe(true);
    c.send(data(1, 0, Flag.END_STREAM));
    expect(goaway(c.written())).toBeUndefined();
  });

  it('tells the consumer when the peer resets its stream', () => {
    let closed = 0;
    const c = connect(OPTIONS, (s) => (s.consumer = { onClose: () => closed++ }));
    c.send(headers(1), rst(1));
    expect(closed).toBe(1);
    expect(c.streams[0]!.closed).toBe(true);
  });

  it('queues DATA past the peer window and sends it, then the trailers, on WINDOW_UPDATE', () => {
    let drained = 0;
    const c = connect(OPTIONS, (s) => (s.consumer = { onDrain: () => drained++ }));
    c.send(
      settingsFrame([[Setting.INITIAL_WINDOW_SIZE, 4]]),
      headers(1, Flag.END_HEADERS | Flag.END_STREAM),
    );
    const s = c.streams[0]!;
    s.sendHeaders(Uint8Array.of(0x88));
    expect(s.write(Buffer.from('abcdefgh'))).toBe(false);
    s.end(Uint8Array.of(0x88));
    c.socket.emit('data', Buffer.alloc(0));
    expect(
      c
        .written()
        .filter((f) => f.type === FrameType.DATA)
        .map((f) => f.payload.toString()),
    ).toEqual(['abcd']);
    c.send(windowUpdateFrame(1, 100));
    const after = c.written();
    expect(after.map((f) => [f.type, f.payload.toString('latin1')])).toEqual([
      [FrameType.DATA, 'efgh'],
      [FrameType.HEADERS, '\x88'],
    ]);
    expect(after[1]!.flags & Flag.END_STREAM).toBe(Flag.END_STREAM);
    expect(drained).toBe(0); // ended: nothing more to write, so no drain
  });

  it('on a connection WINDOW_UPDATE sends what waits, and nothing of a stream reset meanwhile', () => {
    const c = connect(OPTIONS, (s) => s.sendHeaders(Uint8Array.of(0x88)));
    c.send(
      settingsFrame([[Setting.INITIAL_WINDOW_SIZE, 1 << 20]]), // streams' windows: no limit here
      headers(1, Flag.END_HEADERS | Flag.END_STREAM),
      headers(3, Flag.END_HEADERS | Flag.END_STREAM),
    );
    const [one, three] = c.streams;
    expect(three!.write(Buffer.alloc(65_535))).toBe(true); // the connection's window, all of it
    expect(one!.write(Buffer.from('aaaa'))).toBe(false);
    expect(three!.write(Buffer.from('bbbb'))).toBe(false);
    c.send(rst(1));
    c.send(windowUpdateFrame(0, 100));
    const sent = c.written().filter((f) => f.type === FrameType.DATA);
    expect(sent.map((f) => [f.id, f.payload.toString()])).toEqual([[3, 'bbbb']]);
    expect(three!.write(Buffer.from('cc'))).toBe(true); // nothing waits any more
  });

  it('waits, without sending, while a lowered SETTINGS_INITIAL_WINDOW_SIZE leaves a window negative', () => {
    const c = connect(OPTIONS, (s) => s.sendHeaders(Uint8Array.of(0x88)));
    c.send(headers(1, Flag.END_HEADERS | Flag.END_STREAM));
    const s = c.streams[0]!;
    expect(s.write(Buffer.from('abcdefgh'))).toBe(true);
    c.send(settingsFrame([[Setting.INITIAL_WINDOW_SIZE, 0]])); // 65,535 - 65,535 - 8 < 0
    // A zero-length DATA frame costs no window: it goes, where it once threw a RangeError.
    expect(s.write(Buffer.alloc(0))).toBe(true);
    expect(s.write(Buffer.from('ij'))).toBe(false);
    c.send(windowUpdateFrame(1, 10));
    const data = c.written().filter((f) => f.type === FrameType.DATA);
    expect(data.map((f) => f.payload.toString())).toEqual(['', 'ij']);
  });

  it('ends the connection with ENHANCE_YOUR_CALM once the peer has reset too many streams', () => {
    const clock = new ManualClock();
    const c = connect({ ...OPTIONS, clock });
    let id = 1;
    const openAndReset = (n: number) => {
      for (let i = 0; i < n; i++, id += 2) c.send(headers(id), rst(id));
    };
    openAndReset(RESET_BURST);
    clock.advance(1000); // a second refills RESETS_PER_SECOND
    openAndReset(RESETS_PER_SECOND);
    expect(c.socket.ended).toBe(false);
    // A reset of a stream already gone spends nothing.
    c.send(rst(1));
    expect(c.socket.ended).toBe(false);
    openAndReset(1);
    expect(goaway(c.written())).toBe(ErrorCode.ENHANCE_YOUR_CALM);
    expect(c.socket.ended).toBe(true);
  });

  it('ends only the connection, with INTERNAL_ERROR, when handling a frame throws', () => {
    const c = connect(OPTIONS, () => {
      throw new Error('a bug');
    });
    c.send(headers(1, Flag.END_HEADERS | Flag.END_STREAM));
    expect(goaway(c.written())).toBe(ErrorCode.INTERNAL_ERROR);
    expect(c.socket.ended).toBe(true);
  });

  it('on shutdown sends GOAWAY, refuses new streams, and ends once the open one is done', () => {
    const c = connect();
    c.send(headers(1, Flag.END_HEADERS | Flag.END_STREAM));
    c.socket.writes.length = 0;
    c.connection.shutdown();
    c.socket.emit('data', Buffer.alloc(0));
    expect(goaway(c.written())).toBe(ErrorCode.NO_ERROR);
    expect(c.socket.ended).toBe(false);
    c.send(headers(3));
    expect(resets(c.written())).toEqual([[3, ErrorCode.REFUSED_STREAM]]);
    c.streams[0]!.respondOnly(Uint8Array.of(0x88));
    expect(c.socket.ended).toBe(true);
  });

  it('stops reading a peer that does not read its answers', () => {
    const c = connect(OPTIONS, (s) => s.respondOnly(Uint8Array.of(0x88)));
    c.socket.writableLength = 2 * 1024 * 1024;
    c.send(headers(1, Flag.END_HEADERS | Flag.END_STREAM));
    expect(c.socket.paused).toBe(true);
    c.socket.emit('drain');
    expect(c.socket.paused).toBe(false);
  });

  it.each([
    ['a first frame other than SETTINGS', [frame(FrameType.PING, 0, 0, Buffer.alloc(8))], false],
    ['a bad preface', [Buffer.from('GET / HTTP/1.1\r\n\r\n')], false],
    ['a frame over SETTINGS_MAX_FRAME_SIZE', [data(1, 16_385)], true],
    ['DATA on an idle stream', [data(7, 1)], true],
    ['a HEADERS frame on an even stream', [headers(2)], true],
    ['a PUSH_PROMISE', [frame(FrameType.PUSH_PROMISE, Flag.END_HEADERS, 1, Buffer.alloc(4))], true],
    ['a frame between HEADERS and CONTINUATION', [headers(1, 0), data(1, 1)], true],
  ])('ends the connection with GOAWAY on %s', (_what, frames, afterPreface) => {
    const socket = new FakeSocket();
    new H2Connection(socket as unknown as Socket, OPTIONS, () => undefined);
    const start = afterPreface ? [PREFACE, settingsFrame([])] : [PREFACE.subarray(0, 0)];
    socket.emit('data', Buffer.concat([...start, ...frames]));
    expect(goaway(parseFrames(Buffer.concat(socket.writes)))).toBeGreaterThan(0);
    expect(socket.ended).toBe(true);
  });
});
