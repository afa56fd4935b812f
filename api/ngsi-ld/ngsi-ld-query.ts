/**
 * The NGSI-LD query language (ETSI GS CIM 009, 4.9): `q=pm25>50;district=="Phú Xuân"`. `;` is AND, `|` is
 * OR, parentheses group; a term is an attribute (it exists), `!attribute` (it does not) or a comparison
 * (`==`, `!=`, `>`, `>=`, `<`, `<=`, `~=` regular expression, `!~=`) with a number, a "string", true or
 * false, an unquoted date-time or URI, a list `a,b,c` or a range `a..b`. An attribute path may name a
 * sub-attribute (`pm25.observedAt`) or members of a compound value (`address[addressLocality]`).
 *
 * The text comes from outside: parseQuery never throws anything but QueryError (a 400 with what is wrong
 * and where), and bounds what a query may cost (length, nesting, terms, regular expressions). Evaluation:
 * ngsi-ld-query-match.ts.
 */
export class QueryError extends Error {}

export type Comparator = '==' | '!=' | '>' | '>=' | '<' | '<=' | '~=' | '!~=';
type Scalar = string | number | boolean;
export type QueryValue =
  | { readonly kind: 'one'; readonly v: Scalar }
  | { readonly kind: 'list'; readonly vs: readonly Scalar[] }
  | { readonly kind: 'range'; readonly from: Scalar; readonly to: Scalar };
export interface AttrPath {
  readonly attr: string;
  readonly sub?: string;
  readonly members: readonly string[];
}
export type QueryNode =
  | { readonly op: 'and' | 'or'; readonly terms: readonly QueryNode[] }
  | { readonly op: 'exists'; readonly path: AttrPath; readonly negate: boolean }
  | {
      readonly op: 'cmp';
      readonly path: AttrPath;
      readonly cmp: Comparator;
      readonly value: QueryValue;
      readonly regex?: RegExp;
    };

export const MAX_QUERY_LENGTH = 2048;
const MAX_DEPTH = 16;
const MAX_TERMS = 64;
const MAX_REGEX_LENGTH = 128;

const NAME = /^[A-Za-z_@][A-Za-z0-9_:@-]*/;
const NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
const COMPARATORS: readonly Comparator[] = ['==', '!=', '>=', '<=', '!~=', '~=', '>', '<'];

/** unbounded quantifiers one pattern may hold: each one multiplies the backtracking a failing match can do */
const MAX_UNBOUNDED_QUANTIFIERS = 3;

/**
 * Refuses every pattern whose matching time can grow without bound, at the root rather than by example:
 * any quantified group (`(a+)+`, `((a+))+`, `(?:a|aa)*`, however deeply nested: a group may hold anything,
 * so none may be repeated), backreferences and lookarounds, and more than a few unbounded quantifiers
 * (`.*.*.*.*.*X` is polynomial of that degree). Crude on purpose: it refuses some harmless patterns too,
 * and the 400 says which construct to avoid. Matching runs on bounded subjects (ids; q values cut to MAX_REGEX_INPUT).
 */
export function compileRegex(pattern: string, at: number): RegExp {
  if (pattern.length > MAX_REGEX_LENGTH)
    throw new QueryError(`regular expression at ${at} is over ${MAX_REGEX_LENGTH} characters`);
  if (/\\[1-9k]/.test(pattern) || /\(\?<?[=!]/.test(pattern)) {
    throw new QueryError(`regular expression at ${at} uses backreferences or lookarounds, which are not supported`);
  }
  // escapes out of the way (`\\)` is a literal, `\\\\)` closes a group), then any ")" followed by a quantifier
  const bare = pattern.replace(/\\./g, '');
  if (/\)\s*(?:[*+?]|\{\d)/.test(bare)) {
    throw new QueryError(
      `regular expression at ${at} repeats a group ("(...)+", "(...)*", "(...){n}"), which is not supported`,
    );
  }
  const unbounded = bare.match(/[*+]|\{\d+,\}/g)?.length ?? 0;
  if (unbounded > MAX_UNBOUNDED_QUANTIFIERS) {
    throw new QueryError(
      `regular expression at ${at} has ${unbounded} unbounded quantifiers ("*", "+"); at ` +
        `most ${MAX_UNBOUNDED_QUANTIFIERS}`,
    );
  }
  try {
    return new RegExp(pattern, 'u');
  } catch {
    throw new QueryError(`regular expression at ${at} is not valid: ${JSON.stringify(pattern.slice(0, 40))}`);
  }
}

class Parser {
  private pos = 0;
  private terms = 0;
  constructor(private readonly text: string) {}

  parse(): QueryNode {
    const node = this.or(0);
    if (this.pos < this.text.length) throw this.error(`unexpected "${this.text[this.pos]}"`);
    return node;
  }

  private error(what: string): QueryError {
    return new QueryError(`q: ${what} at position ${this.pos}`);
  }

  private or(depth: number): QueryNode {
    const terms = [this.and(depth)];
    while (this.text[this.pos] === '|') {
      this.pos++;
      terms.push(this.and(depth));
    }
    return terms.length === 1 ? terms[0]! : { op: 'or', terms };
  }

  private and(depth: number): QueryNode {
    const terms = [this.term(depth)];
    while (this.text[this.pos] === ';') {
      this.pos++;
      terms.push(this.term(depth));
    }
    return terms.length === 1 ? terms[0]! : { op: 'and', terms };
  }

  private term(depth: number): QueryNode {
    if (++this.terms > MAX_TERMS) throw this.error(`more than ${MAX_TERMS} terms`);
    if (this.text[this.pos] === '(') {
      if (depth >= MAX_DEPTH) throw this.error(`parentheses nested deeper than ${MAX_DEPTH}`);
      this.pos++;
      const inner = this.or(depth + 1);
      if (this.text[this.pos] !== ')') throw this.error('missing ")"');
      this.pos++;
      return inner;
    }
    if (this.text[this.pos] === '!' && this.text[this.pos + 1] !== '=' && this.text[this.pos + 1] !== '~') {
      this.pos++;
      return { op: 'exists', path: this.path(), negate: true };
    }
    const path = this.path();
    const rest = this.text.slice(this.pos);
    const cmp = COMPARATORS.find((c) => rest.startsWith(c));
    if (!cmp) return { op: 'exists', path, negate: false };
    this.pos += cmp.length;
    const at = this.pos;
    const raw = this.rawValue();
    if (raw === '') throw this.error(`a value after "${cmp}"`);
    if (cmp === '~=' || cmp === '!~=') {
      const v = parseScalar(raw, at);
      if (typeof v !== 'string')
        throw new QueryError(`q: "${cmp}" takes a quoted regular expression at position ${at}`);
      return { op: 'cmp', path, cmp, value: { kind: 'one', v }, regex: compileRegex(v, at) };
    }
    const value = parseValue(raw, at);
    if (value.kind !== 'one' && cmp !== '==' && cmp !== '!=')
      throw new QueryError(`q: a list or range only goes with == or != (position ${at})`);
    return { op: 'cmp', path, cmp, value };
  }

  private path(): AttrPath {
    const name = () => {
      const m = NAME.exec(this.text.slice(this.pos));
      if (!m) throw this.error('an attribute name');
      this.pos += m[0].length;
      return m[0];
    };
    const attr = name();
    let sub: string | undefined;
    if (this.text[this.pos] === '.') {
      this.pos++;
      sub = name();
    }
    const members: string[] = [];
    while (this.text[this.pos] === '[') {
      this.pos++;
      members.push(name());
      if (this.text[this.pos] !== ']') throw this.error('missing "]"');
      this.pos++;
    }
    return { attr, members, ...(sub ? { sub } : {}) };
  }

  /** Up to the next `;`, `|` or `)` outside quotes. */
  private rawValue(): string {
    const start = this.pos;
    let quoted = false;
    for (; this.pos < this.text.length; this.pos++) {
      const c = this.text[this.pos];
      if (quoted) {
        if (c === '\\') this.pos++;
        else if (c === '"') quoted = false;
      } else if (c === '"') quoted = true;
      else if (c === ';' || c === '|' || c === ')') break;
    }
    if (quoted) throw new QueryError(`q: unterminated string starting at position ${start}`);
    return this.text.slice(start, this.pos);
  }
}

/** Splits on a separator outside quotes. */
function splitOutside(raw: string, sep: string): string[] {
  const parts: string[] = [];
  let quoted = false;
  let start = 0;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (quoted) {
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (raw.startsWith(sep, i)) {
      parts.push(raw.slice(start, i));
      start = i + sep.length;
      i += sep.length - 1;
    }
  }
  parts.push(raw.slice(start));
  return parts;
}

function parseScalar(raw: string, at: number): Scalar {
  if (raw.startsWith('"')) {
    const m = /^"((?:[^"\\]|\\.)*)"$/.exec(raw);
    if (!m) throw new QueryError(`q: bad string at position ${at} (a "quoted string", with \\" for a quote inside)`);
    return m[1]!.replace(/\\(.)/gu, '$1');
  }
  if (raw === 'true' || raw === 'false') return raw === 'true';
  if (NUMBER.test(raw)) {
    const n = Number(raw);
    if (!Number.isFinite(n)) throw new QueryError(`q: number out of range at position ${at}`);
    return n;
  }
  // an unquoted date-time or URI (the grammar allows both); anything else must be quoted
  if (/^[A-Za-z0-9:._~/#?&=+%-]+$/.test(raw) && /[:-]/.test(raw)) return raw;
  throw new QueryError(
    `q: value ${JSON.stringify(raw.slice(0, 40))} at position ${at} ` +
      'must be a number, true, false, a date-time, a URI or a "quoted string"',
  );
}

function parseValue(raw: string, at: number): QueryValue {
  const list = splitOutside(raw, ',');
  if (list.length > 1) return { kind: 'list', vs: list.map((p) => parseScalar(p, at)) };
  const range = splitOutside(raw, '..');
  if (range.length === 2) {
    const from = parseScalar(range[0]!, at);
    const to = parseScalar(range[1]!, at);
    if (typeof from !== typeof to || typeof from === 'boolean')
      throw new QueryError(`q: a range needs two numbers or two strings (position ${at})`);
    return { kind: 'range', from, to };
  }
  if (range.length > 2) throw new QueryError(`q: a range has two ends (position ${at})`);
  return { kind: 'one', v: parseScalar(raw, at) };
}

/** Parses `q`; throws QueryError (and nothing else) on any text that is not a query. */
export function parseQuery(text: string): QueryNode {
  if (text.length === 0) throw new QueryError('q: empty query');
  if (text.length > MAX_QUERY_LENGTH) throw new QueryError(`q: over ${MAX_QUERY_LENGTH} characters`);
  try {
    return new Parser(text).parse();
  } catch (err) {
    if (err instanceof QueryError) throw err;
    // a parser bug must still be a 400 for this query, not a crash: say so plainly
    throw new QueryError(`q: could not be parsed (${(err as Error).message})`);
  }
}
