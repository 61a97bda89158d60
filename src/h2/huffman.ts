import { EOS, HUFFMAN_CODE } from './huffman-code.js';

/*
 * Huffman strings (RFC 7541 §5.2) are decoded four bits at a time by a state machine built once
 * here: a state is an inner node of the code tree (the bits read since the last symbol), and
 * TRANSITIONS[state * 16 + nibble] packs the next state, the symbol completed on the way (a
 * nibble completes at most one: every code is at least 5 bits long) and whether EOS was read.
 * Linear in the input, two table reads per octet, no allocation but the result string.
 */

const NEXT_MASK = 0xff;
const EMITS = 0x100;
const SYMBOL_SHIFT = 9;
const FAILS = 1 << 18;

/** The inner nodes of the code tree: child[node * 2 + bit] is an inner node or ~symbol (< 0). */
function buildTree(): { readonly child: Int16Array; readonly nodes: number } {
  // A complete prefix code over 257 symbols has 256 inner nodes.
  const child = new Int16Array(256 * 2);
  let nodes = 1;
  HUFFMAN_CODE.forEach(([code, bits], symbol) => {
    let node = 0;
    for (let i = bits - 1; i > 0; i--) {
      const slot = node * 2 + ((code >>> i) & 1);
      if (child[slot] === 0) child[slot] = nodes++;
      node = child[slot]!;
    }
    child[node * 2 + (code & 1)] = ~symbol;
  });
  return { child, nodes };
}

/** Where four bits lead from a state: the next state, what was emitted, whether EOS was read. */
function step(child: Int16Array, state: number, nibble: number): number {
  let node = state;
  let out = 0;
  for (let i = 3; i >= 0; i--) {
    const next = child[node * 2 + ((nibble >>> i) & 1)]!;
    if (next >= 0) {
      node = next;
      continue;
    }
    if (~next === EOS) return FAILS;
    out = EMITS | (~next << SYMBOL_SHIFT);
    node = 0;
  }
  return out | node;
}

/**
 * States a string may end in: padding is at most 7 bits and all ones (a prefix of EOS), so the
 * path from the root is all ones and at most 7 deep.
 */
function buildAccepting(child: Int16Array, nodes: number): Uint8Array {
  const accepting = new Uint8Array(nodes);
  let node = 0;
  for (let depth = 0; depth <= 7; depth++) {
    accepting[node] = 1;
    node = child[node * 2 + 1]!;
  }
  return accepting;
}

const { child, nodes } = buildTree();
const TRANSITIONS = new Uint32Array(nodes * 16);
for (let state = 0; state < nodes; state++) {
  for (let nibble = 0; nibble < 16; nibble++) {
    TRANSITIONS[state * 16 + nibble] = step(child, state, nibble);
  }
}
const ACCEPTING = buildAccepting(child, nodes);

/** Reused output: decoding is synchronous, and the result is copied out as a string. */
let scratch = Buffer.allocUnsafe(1024);

/**
 * Decodes the Huffman string in src[start, end) to its octets as a latin1 string, or undefined
 * when it is invalid (RFC 7541 §5.2): EOS inside, padding over 7 bits, or padding not all ones.
 */
export function huffmanDecode(src: Uint8Array, start: number, end: number): string | undefined {
  // The shortest code is 5 bits, so n octets hold at most 8n/5 symbols.
  const most = Math.ceil(((end - start) * 8) / 5);
  if (scratch.length < most) scratch = Buffer.allocUnsafe(Math.max(most, scratch.length * 2));
  const out = scratch;
  let length = 0;
  let state = 0;
  for (let i = start; i < end; i++) {
    const octet = src[i]!;
    let t = TRANSITIONS[state * 16 + (octet >>> 4)]!;
    if (t & FAILS) return undefined;
    if (t & EMITS) out[length++] = t >>> SYMBOL_SHIFT;
    t = TRANSITIONS[(t & NEXT_MASK) * 16 + (octet & 15)]!;
    if (t & FAILS) return undefined;
    if (t & EMITS) out[length++] = t >>> SYMBOL_SHIFT;
    state = t & NEXT_MASK;
  }
  return ACCEPTING[state] === 1 ? out.toString('latin1', 0, length) : undefined;
}
