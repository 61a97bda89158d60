import type { CheckRequest, HttpRequestAttrs, PeerAttrs } from './types.js';
import { expectWire, WIRE_LEN, WireReader } from './wire.js';
import { newStringMap } from './string-map.js';

/**
 * Decodes the CheckRequest fields the check reads (see types.ts) and skips the rest without
 * building it: peer addresses, timestamps, metadata, the request body. Field numbers are those of
 * envoy/service/auth/v3/attribute_context.proto. Maps inherit nothing from Object.prototype, so a
 * header named `constructor` or `__proto__` is just a header. Throws WireError on malformed input (grpc-js
 * then fails the call, as it did with the generic decoder).
 *
 * A field a phase starts to read must be added here; test/unit/envoy/check-request-decoder.test.ts
 * compares this decoder with the generic one on every field types.ts declares.
 */
export function decodeCheckRequest(buf: Buffer): CheckRequest {
  const r = new WireReader(buf);
  const req: CheckRequest = {};
  while (r.pos < r.end) {
    const tag = r.uint32();
    if (tag >>> 3 === 1) {
      expectWire(tag & 7, WIRE_LEN, 'attributes');
      req.attributes = attributes(subReader(r));
    } else r.skip(tag & 7);
  }
  return req;
}

type Attributes = NonNullable<CheckRequest['attributes']>;

function attributes(r: WireReader): Attributes {
  const out: Attributes = {};
  while (r.pos < r.end) {
    const tag = r.uint32();
    const field = tag >>> 3;
    if (field === 1 || field === 2 || field === 4 || field === 10) {
      expectWire(tag & 7, WIRE_LEN, `attributes field ${field}`);
      const sub = subReader(r);
      if (field === 1) out.source = peer(sub);
      else if (field === 2) out.destination = peer(sub);
      else if (field === 4) out.request = request(sub);
      else mapEntry(sub, (out.context_extensions ??= newStringMap()));
    } else r.skip(tag & 7);
  }
  return out;
}

function peer(r: WireReader): PeerAttrs {
  const out: PeerAttrs = {};
  while (r.pos < r.end) {
    const tag = r.uint32();
    const field = tag >>> 3;
    if (field === 2 || field === 4) {
      expectWire(tag & 7, WIRE_LEN, `peer field ${field}`);
      if (field === 2) out.service = r.string();
      else out.principal = r.string();
    } else r.skip(tag & 7);
  }
  return out;
}

function request(r: WireReader): { http?: HttpRequestAttrs } {
  const out: { http?: HttpRequestAttrs } = {};
  while (r.pos < r.end) {
    const tag = r.uint32();
    if (tag >>> 3 === 2) {
      expectWire(tag & 7, WIRE_LEN, 'request.http');
      out.http = http(subReader(r));
    } else r.skip(tag & 7);
  }
  return out;
}

/** HttpRequest string fields by number; 3 (headers) and 13 (header_map) are handled apart. */
const HTTP_STRINGS: Readonly<Record<number, keyof HttpRequestAttrs>> = {
  1: 'id',
  2: 'method',
  4: 'path',
  5: 'host',
  6: 'scheme',
  10: 'protocol',
};

function http(r: WireReader): HttpRequestAttrs {
  const out: HttpRequestAttrs = {};
  while (r.pos < r.end) {
    const tag = r.uint32();
    const field = tag >>> 3;
    const name = HTTP_STRINGS[field];
    if (name !== undefined) {
      expectWire(tag & 7, WIRE_LEN, `http.${name}`);
      (out as Record<string, string>)[name] = r.string();
    } else if (field === 3) {
      expectWire(tag & 7, WIRE_LEN, 'http.headers');
      mapEntry(subReader(r), (out.headers ??= newStringMap()));
    } else if (field === 13) {
      expectWire(tag & 7, WIRE_LEN, 'http.header_map');
      out.header_map = headerMap(subReader(r));
    } else r.skip(tag & 7);
  }
  return out;
}

type RawHeader = { key?: string; value?: string; raw_value?: Buffer };

function headerMap(r: WireReader): { headers: RawHeader[] } {
  const headers: RawHeader[] = [];
  while (r.pos < r.end) {
    const tag = r.uint32();
    if (tag >>> 3 === 1) {
      expectWire(tag & 7, WIRE_LEN, 'header_map.headers');
      headers.push(headerValue(subReader(r)));
    } else r.skip(tag & 7);
  }
  return { headers };
}

function headerValue(r: WireReader): RawHeader {
  const out: RawHeader = {};
  while (r.pos < r.end) {
    const tag = r.uint32();
    const field = tag >>> 3;
    if (field >= 1 && field <= 3) {
      expectWire(tag & 7, WIRE_LEN, `header field ${field}`);
      if (field === 1) out.key = r.string();
      else if (field === 2) out.value = r.string();
      else out.raw_value = r.bytes();
    } else r.skip(tag & 7);
  }
  return out;
}

/** A map<string,string> entry: key = 1, value = 2; either may be absent (empty). */
function mapEntry(r: WireReader, into: Record<string, string>): void {
  let key = '';
  let value = '';
  while (r.pos < r.end) {
    const tag = r.uint32();
    const field = tag >>> 3;
    if (field === 1 || field === 2) {
      expectWire(tag & 7, WIRE_LEN, 'map entry');
      if (field === 1) key = r.string();
      else value = r.string();
    } else r.skip(tag & 7);
  }
  into[key] = value;
}

/** A reader over the length-delimited field at the cursor; the cursor moves past it. */
function subReader(r: WireReader): WireReader {
  const end = r.lengthEnd();
  const sub = new WireReader(r.buf, r.pos, end);
  r.pos = end;
  return sub;
}
