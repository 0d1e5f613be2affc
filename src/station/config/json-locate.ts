/**
 * A small JSON / JSON-with-comments parser that also records where every key and array
 * element starts, so configuration problems can name a line. JSON.parse cannot do this (it
 * gives neither positions of values nor duplicate keys), and the config must not need a
 * dependency for it.
 */
import { formatPath, type PathSegment } from './path.ts';

export interface SourcePosition {
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
}

export interface JsonDuplicateKey {
  path: string;
  at: SourcePosition;
  first: SourcePosition;
}

export interface ParsedJson {
  value: unknown;
  /** Formatted path (see path.ts) -> position of the key (object member) or value start (array element). */
  positions: Map<string, SourcePosition>;
  /** Keys that appear twice in one object: JSON.parse would silently keep the last one. */
  duplicateKeys: JsonDuplicateKey[];
}

export interface JsonParseOptions {
  /** Allow `//` and `/* *\/` comments and trailing commas (JSONC, as in tsconfig files). */
  jsonc: boolean;
}

export class JsonSyntaxError extends Error {
  constructor(
    message: string,
    readonly at: SourcePosition,
  ) {
    super(message);
    this.name = 'JsonSyntaxError';
  }
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

export function parseJsonWithPositions(text: string, opts: JsonParseOptions): ParsedJson {
  const src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const positions = new Map<string, SourcePosition>();
  const duplicateKeys: JsonDuplicateKey[] = [];
  // Line starts, for turning offsets into line/column by binary search.
  const lineStarts = [0];
  for (let i = 0; i < src.length; i++) if (src.charCodeAt(i) === 10) lineStarts.push(i + 1);
  let pos = 0;

  const where = (offset: number): SourcePosition => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((lineStarts[mid] ?? 0) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - (lineStarts[lo] ?? 0) + 1 };
  };
  const fail = (message: string, offset = pos): never => {
    throw new JsonSyntaxError(message, where(offset));
  };
  const describeHere = (): string => {
    if (pos >= src.length) return 'the end of the file';
    const c = src[pos];
    return c === '"' ? 'a string' : `'${c}'`;
  };

  const skipSpace = (): void => {
    for (;;) {
      const c = src[pos];
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
        pos++;
      } else if (c === '/' && opts.jsonc && src[pos + 1] === '/') {
        const nl = src.indexOf('\n', pos);
        pos = nl < 0 ? src.length : nl + 1;
      } else if (c === '/' && opts.jsonc && src[pos + 1] === '*') {
        const end = src.indexOf('*/', pos + 2);
        if (end < 0) fail('unterminated /* comment');
        pos = end + 2;
      } else if (c === '/') {
        fail('comments are not allowed in .json files', pos);
      } else {
        return;
      }
    }
  };

  const parseString = (): string => {
    const start = pos;
    pos++; // opening quote
    for (;;) {
      const c = src.charCodeAt(pos);
      if (pos >= src.length || c === 10) fail('unterminated string', start);
      if (c === 0x22) break;
      if (c === 0x5c) pos += 2;
      else if (c < 0x20) fail('control character in string (escape it)');
      else pos++;
    }
    pos++;
    try {
      return JSON.parse(src.slice(start, pos)) as string;
    } catch {
      return fail('invalid escape sequence in string', start);
    }
  };

  const parseValue = (path: PathSegment[]): unknown => {
    skipSpace();
    const c = src[pos];
    if (c === '{') return parseObject(path);
    if (c === '[') return parseArray(path);
    if (c === '"') return parseString();
    for (const [word, value] of [['true', true], ['false', false], ['null', null]] as const) {
      if (src.startsWith(word, pos)) {
        pos += word.length;
        return value;
      }
    }
    NUMBER.lastIndex = pos;
    const m = NUMBER.exec(src);
    if (m) {
      pos += m[0].length;
      return Number(m[0]);
    }
    if (c === "'") return fail('strings need double quotes');
    return fail(`expected a value, found ${describeHere()}`);
  };

  const parseObject = (path: PathSegment[]): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    const seen = new Map<string, SourcePosition>();
    pos++;
    skipSpace();
    if (src[pos] === '}') {
      pos++;
      return out;
    }
    for (;;) {
      skipSpace();
      if (src[pos] === '}' && opts.jsonc) {
        pos++; // trailing comma
        return out;
      }
      if (src[pos] !== '"') fail(`expected a key in double quotes, found ${describeHere()}`);
      const keyAt = where(pos);
      const key = parseString();
      const childPath = [...path, key];
      const formatted = formatPath(childPath);
      const first = seen.get(key);
      if (first) duplicateKeys.push({ path: formatted, at: keyAt, first });
      else seen.set(key, keyAt);
      positions.set(formatted, keyAt);
      skipSpace();
      if (src[pos] !== ':') fail(`expected ":" after key "${key}", found ${describeHere()}`);
      pos++;
      const value = parseValue(childPath);
      const valueEnd = pos;
      // Own-property definition: a key "__proto__" must stay data, not change the prototype.
      Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
      skipSpace();
      if (src[pos] === ',') {
        pos++;
        continue;
      }
      if (src[pos] === '}') {
        pos++;
        return out;
      }
      // A forgotten comma is the usual cause: point at the end of the value that needs one.
      if (src[pos] === '"') fail(`missing "," after the value of "${key}"`, valueEnd);
      fail(`expected "," or "}" after the value of "${key}", found ${describeHere()}`);
    }
  };

  const parseArray = (path: PathSegment[]): unknown[] => {
    const out: unknown[] = [];
    pos++;
    skipSpace();
    if (src[pos] === ']') {
      pos++;
      return out;
    }
    for (;;) {
      skipSpace();
      if (src[pos] === ']' && opts.jsonc) {
        pos++;
        return out;
      }
      const childPath = [...path, out.length];
      positions.set(formatPath(childPath), where(pos));
      out.push(parseValue(childPath));
      const valueEnd = pos;
      skipSpace();
      if (src[pos] === ',') {
        pos++;
        continue;
      }
      if (src[pos] === ']') {
        pos++;
        return out;
      }
      if (src[pos] === '{' || src[pos] === '[' || src[pos] === '"') fail('missing "," between list items', valueEnd);
      fail(`expected "," or "]" in list, found ${describeHere()}`);
    }
  };

  skipSpace();
  if (pos >= src.length) fail('the file is empty');
  positions.set('', where(pos));
  const value = parseValue([]);
  skipSpace();
  if (pos < src.length) fail(`unexpected ${describeHere()} after the end of the document`);
  return { value, positions, duplicateKeys };
}

/** Line of `path`, or of its nearest ancestor that exists in the file (e.g. for a missing key). */
export function lineOf(positions: Map<string, SourcePosition>, path: PathSegment[]): number | undefined {
  for (let n = path.length; n >= 0; n--) {
    const p = positions.get(formatPath(path.slice(0, n)));
    if (p) return p.line;
  }
  return undefined;
}
