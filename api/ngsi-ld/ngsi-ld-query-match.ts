import type { AttrPath, QueryNode } from './ngsi-ld-query.ts';

/**
 * Evaluates a parsed NGSI-LD query (ngsi-ld-query.ts) against an entity in normalized form. Never throws:
 * a value of another type than the query's simply does not match.
 */
/** a regex runs over at most this many characters of a value (names, districts: far shorter) */
const MAX_REGEX_INPUT = 256;
type Scalar = string | number | boolean;

type Entity = Readonly<Record<string, unknown>>;

/** The values a path reaches in a normalized entity: a Property's value, a Relationship's object, a sub-attribute. */
function valuesAt(entity: Entity, path: AttrPath): unknown[] {
  if (!Object.hasOwn(entity, path.attr)) return [];
  const attribute = entity[path.attr];
  if (path.attr === 'id' || path.attr === 'type') return [attribute];
  if (typeof attribute !== 'object' || attribute === null) return [];
  const a = attribute as Record<string, unknown>;
  let value: unknown = path.sub ? a[path.sub] : a.type === 'Relationship' ? a.object : a.value;
  for (const member of path.members) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, member)) return [];
    value = (value as Record<string, unknown>)[member];
  }
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

function compare(a: unknown, b: Scalar): number | undefined {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'boolean' && typeof b === 'boolean') return a === b ? 0 : undefined;
  return undefined;
}

function matchesOne(v: unknown, node: Extract<QueryNode, { op: 'cmp' }>): boolean {
  const { cmp, value } = node;
  if (node.regex) return typeof v === 'string' && node.regex.test(v.slice(0, MAX_REGEX_INPUT)) === (cmp === '~=');
  if (value.shape === 'list') return value.vs.some((x) => compare(v, x) === 0) === (cmp === '==');
  if (value.shape === 'range') {
    const lo = compare(v, value.from);
    const hi = compare(v, value.to);
    const inside = lo !== undefined && hi !== undefined && lo >= 0 && hi <= 0;
    return cmp === '==' ? inside : lo !== undefined && !inside;
  }
  const c = compare(v, value.v);
  if (c === undefined) return cmp === '!=';
  switch (cmp) {
    case '==':
      return c === 0;
    case '!=':
      return c !== 0;
    case '>':
      return c > 0;
    case '>=':
      return c >= 0;
    case '<':
      return c < 0;
    default:
      return c <= 0;
  }
}

/** Whether a normalized entity satisfies the query; values of the wrong type simply do not match. */
export function matchesQuery(entity: Entity, node: QueryNode): boolean {
  switch (node.op) {
    case 'and':
      return node.terms.every((t) => matchesQuery(entity, t));
    case 'or':
      return node.terms.some((t) => matchesQuery(entity, t));
    case 'exists':
      return valuesAt(entity, node.path).length > 0 !== node.negate;
    case 'cmp': {
      const values = valuesAt(entity, node.path);
      // a comparison with an attribute the entity lacks does not match, whatever the operator (4.9)
      if (values.length === 0) return false;
      return node.cmp === '!=' || node.cmp === '!~='
        ? values.every((v) => matchesOne(v, node))
        : values.some((v) => matchesOne(v, node));
    }
  }
}
