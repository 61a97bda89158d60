import type { CheckResponse, HeaderValueOption } from './types.js';
import { lenFieldSize, varintSize, WIRE_VARINT, WireWriter } from './wire.js';

/**
 * Encodes the CheckResponse this server builds (the fields of types.ts) straight to bytes: field
 * numbers from envoy/service/auth/v3/external_auth.proto, config/core/v3/base.proto and
 * google/rpc/status.proto. The generic encoder first converts the object field by field
 * (fromObject), which costs more than the check itself on the warm path.
 * test/unit/envoy/check-response-encoder.test.ts checks that the generic decoder reads back what
 * this writes.
 */

const APPEND_ACTIONS: Readonly<Record<HeaderValueOption['append_action'], number>> = {
  OVERWRITE_IF_EXISTS_OR_ADD: 2,
};

const utf8 = (s: string) => Buffer.byteLength(s, 'utf8');
/** A one-byte-tag varint field. Written even when 0, like the generic encoder does for set fields. */
const varintField = (value: number) => 1 + varintSize(value);

function headerContentSize(h: HeaderValueOption): number {
  return lenFieldSize(utf8(h.header.key)) + lenFieldSize(utf8(h.header.value));
}

function optionContentSize(h: HeaderValueOption): number {
  // BoolValue{value} is written out even when false: Envoy must see `append` as set (has_append).
  return (
    lenFieldSize(headerContentSize(h)) +
    lenFieldSize(2) +
    varintField(APPEND_ACTIONS[h.append_action])
  );
}

function writeOption(w: WireWriter, field: number, h: HeaderValueOption): void {
  w.header(field, optionContentSize(h));
  w.header(1, headerContentSize(h));
  w.string(1, h.header.key, utf8(h.header.key));
  w.string(2, h.header.value, utf8(h.header.value));
  w.header(2, 2);
  w.tag(1, WIRE_VARINT);
  w.uint32(h.append.value ? 1 : 0);
  w.tag(3, WIRE_VARINT);
  w.uint32(APPEND_ACTIONS[h.append_action]);
}

function optionsSize(list: readonly HeaderValueOption[]): number {
  let n = 0;
  for (const h of list) n += lenFieldSize(optionContentSize(h));
  return n;
}

function statusSize(s: CheckResponse['status']): number {
  return varintField(s.code) + (s.message ? lenFieldSize(utf8(s.message)) : 0);
}

function okSize(ok: NonNullable<CheckResponse['ok_response']>): number {
  let n = optionsSize(ok.headers) + optionsSize(ok.response_headers_to_add);
  for (const name of ok.headers_to_remove) n += lenFieldSize(utf8(name));
  return n;
}

function deniedSize(d: NonNullable<CheckResponse['denied_response']>): number {
  return (
    lenFieldSize(varintField(d.status.code)) +
    optionsSize(d.headers) +
    (d.body ? lenFieldSize(utf8(d.body)) : 0)
  );
}

export function encodeCheckResponse(res: CheckResponse): Buffer {
  const status = statusSize(res.status);
  const ok = res.ok_response ? okSize(res.ok_response) : -1;
  const denied = res.denied_response ? deniedSize(res.denied_response) : -1;
  const size =
    lenFieldSize(status) +
    (ok >= 0 ? lenFieldSize(ok) : 0) +
    (denied >= 0 ? lenFieldSize(denied) : 0);
  const w = new WireWriter(Buffer.allocUnsafe(size));
  w.header(1, status);
  w.tag(1, WIRE_VARINT);
  w.uint32(res.status.code);
  if (res.status.message) w.string(2, res.status.message, utf8(res.status.message));
  if (res.denied_response && denied >= 0) writeDenied(w, res.denied_response, denied);
  if (res.ok_response && ok >= 0) writeOk(w, res.ok_response, ok);
  if (w.pos !== size) throw new Error(`CheckResponse encoded to ${w.pos} bytes, sized ${size}`);
  return w.buf;
}

function writeOk(w: WireWriter, ok: NonNullable<CheckResponse['ok_response']>, size: number) {
  w.header(3, size);
  for (const h of ok.headers) writeOption(w, 2, h);
  for (const name of ok.headers_to_remove) w.string(5, name, utf8(name));
  for (const h of ok.response_headers_to_add) writeOption(w, 6, h);
}

function writeDenied(
  w: WireWriter,
  d: NonNullable<CheckResponse['denied_response']>,
  size: number,
) {
  w.header(2, size);
  w.header(1, varintField(d.status.code));
  w.tag(1, WIRE_VARINT);
  w.uint32(d.status.code);
  for (const h of d.headers) writeOption(w, 2, h);
  if (d.body) w.string(3, d.body, utf8(d.body));
}
