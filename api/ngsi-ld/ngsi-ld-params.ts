import { badRequest } from './ngsi-ld-errors.ts';
import { compileRegex, QueryError } from './ngsi-ld-query.ts';

/** The simple parameters of an NGSI-LD query (ETSI GS CIM 009, 6.4.3.2), each refused with what is wrong. */
const MAX_LIST_ITEMS = 100;
const MAX_ITEM_LENGTH = 256;

/** `a,b,c` -> a set; empty items and oversize lists are refused rather than guessed at. */
export function parseListParam(value: string | undefined, name: string): ReadonlySet<string> | undefined {
  if (value === undefined) return undefined;
  const items = value.split(',').map((s) => s.trim());
  if (items.some((s) => s === '')) throw badRequest(`${name}: an empty item in ${JSON.stringify(value.slice(0, 80))}`);
  if (items.length > MAX_LIST_ITEMS) throw badRequest(`${name}: at most ${MAX_LIST_ITEMS} items`);
  if (items.some((s) => s.length > MAX_ITEM_LENGTH))
    throw badRequest(`${name}: an item over ${MAX_ITEM_LENGTH} characters`);
  return new Set(items);
}

export function parseLimit(value: string | undefined, name: string, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  if (!/^\d{1,16}$/.test(value) || Number(value) > max)
    throw badRequest(`${name} must be a whole number from 0 to ${max}, got ${JSON.stringify(value.slice(0, 40))}`);
  return Number(value);
}

export function compileIdPattern(pattern: string): RegExp {
  try {
    return compileRegex(pattern, 0);
  } catch (err) {
    throw err instanceof QueryError ? badRequest(`idPattern: ${err.message.replace(/ at 0\b/, '')}`) : err;
  }
}

/** options=keyValues|concise|normalized (and the newer format=simplified|normalized); anything else is refused. */
export function parseOptions(options: string | undefined, format: string | undefined): { keyValues: boolean } {
  const given = [...(options ? options.split(',') : []), ...(format ? [format] : [])].map((s) => s.trim());
  let keyValues = false;
  for (const o of given) {
    if (o === 'keyValues' || o === 'simplified') keyValues = true;
    else if (o !== 'normalized')
      throw badRequest(`options: "${o.slice(0, 40)}" is not supported here (keyValues, simplified or normalized)`);
  }
  return { keyValues };
}

/** Accept -> application/json (also for none, * / * and application/*) or application/ld+json; undefined: 406. */
export function chooseMediaType(accept: string | undefined): 'application/json' | 'application/ld+json' | undefined {
  if (accept === undefined || accept.trim() === '') return 'application/json';
  const ranges = accept
    .split(',')
    .map((part, i) => {
      const [type = '', ...params] = part.split(';').map((s) => s.trim().toLowerCase());
      const q = params.find((p) => p.startsWith('q='));
      const weight = q ? Number(q.slice(2)) : 1;
      return { type, weight: Number.isFinite(weight) ? weight : 0, i };
    })
    .filter((r) => r.weight > 0)
    .sort((a, b) => b.weight - a.weight || a.i - b.i);
  for (const r of ranges) {
    if (r.type === 'application/ld+json') return 'application/ld+json';
    if (r.type === 'application/json' || r.type === '*/*' || r.type === 'application/*') return 'application/json';
  }
  return undefined;
}
