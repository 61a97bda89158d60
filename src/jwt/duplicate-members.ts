/**
 * Returns the first member name that appears twice in one object of a JSON text (at any depth,
 * e.g. inside `act`), or undefined. JSON.parse keeps the last duplicate silently while other
 * parsers keep the first; a token whose claims are ambiguous must be refused before anyone reads
 * them (RFC 7519 §4: "MUST either reject ... or use ... the last"). `json` must be valid JSON.
 */
export function firstDuplicateMember(json: string): string | undefined {
  // One frame per open container: the member names seen so far, or undefined for an array.
  const frames: (Set<string> | undefined)[] = [];
  let expectKey = false;
  for (let i = 0; i < json.length; i++) {
    const c = json[i];
    if (c === '"') {
      const end = stringEnd(json, i);
      const names = frames.at(-1);
      if (names && expectKey) {
        // Only a name with an escape needs decoding ("a" and "\u0061" are the same member).
        const raw = json.slice(i + 1, end);
        const name = raw.includes('\\') ? (JSON.parse(`"${raw}"`) as string) : raw;
        if (names.has(name)) return name;
        names.add(name);
      }
      expectKey = false;
      i = end;
    } else if (c === '{') {
      frames.push(new Set());
      expectKey = true;
    } else if (c === '[') {
      frames.push(undefined);
      expectKey = false;
    } else if (c === '}' || c === ']') {
      frames.pop();
      expectKey = false;
    } else if (c === ',') {
      expectKey = frames.at(-1) !== undefined;
    }
  }
  return undefined;
}

function stringEnd(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '"') return i;
  }
  return text.length - 1;
}
