/**
 * Reads which definitions, relations and permissions a SpiceDB schema declares, from the text
 * ReadSchema returns. Not a full parser: it strips comments and string literals, then finds each
 * `definition name { … }` block (caveat blocks are skipped by brace counting).
 */
export type SchemaIndex = ReadonlyMap<string, ReadonlySet<string>>;

/** Blanks out comments and string literals so braces and keywords inside them are ignored. */
function stripNoise(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    const next = text[i + 1];
    if (c === '/' && next === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      out += '\n';
    } else if (c === '/' && next === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end === -1 ? text.length : end + 1;
      out += ' ';
    } else if (c === '"' || c === "'" || c === '`') {
      let j = i + 1;
      while (j < text.length && text[j] !== c) j += text[j] === '\\' ? 2 : 1;
      i = j;
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

/** The index of the `}` closing the `{` at `open`, or the text length when unbalanced. */
function closingBrace(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === '{') depth++;
    else if (text[i] === '}' && --depth === 0) return i;
  }
  return text.length;
}

export function indexSchema(schemaText: string): SchemaIndex {
  const text = stripNoise(schemaText);
  const index = new Map<string, Set<string>>();
  // The caveat's parameter list owns its trailing spaces, so no two \s* compete for the same run.
  const head = /\b(definition|caveat)\s+([a-z][a-z0-9_/]*)\s*(?:\([^)]*\)\s*)?\{/g;
  let m: RegExpExecArray | null;
  while ((m = head.exec(text))) {
    const open = m.index + m[0].length - 1;
    const close = closingBrace(text, open);
    head.lastIndex = close;
    if (m[1] !== 'definition') continue;
    const members = new Set<string>();
    for (const r of text
      .slice(open + 1, close)
      .matchAll(/\b(?:relation|permission)\s+([a-z][a-z0-9_]*)/g)) {
      members.add(r[1]!);
    }
    index.set(m[2]!, members);
  }
  return index;
}
