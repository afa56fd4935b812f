import { escape as lineEscape } from '@influxdata/influxdb-client';
import type { Point } from '../time-series-store.ts';

/**
 * Points as InfluxDB line protocol with ms timestamps, escaped with `@influxdata/influxdb-client`'s
 * helpers. The library's Point class costs about as much per point as InfluxDB takes to store it; a city
 * writes a few hundred series over and over, so each series' escaped "measurement,tags" prefix is kept
 * and a line is a few string joins.
 */

interface PrefixNode {
  next: Map<string, PrefixNode>;
  prefix?: string;
}

const MAX_NODES = 200_000;
let root: PrefixNode = { next: new Map() };
let nodes = 0;
const fieldKeys = new Map<string, string>();

function child(node: PrefixNode, key: string): PrefixNode {
  let found = node.next.get(key);
  if (!found) {
    found = { next: new Map() };
    node.next.set(key, found);
    nodes++;
  }
  return found;
}

/** The escaped series of a point: measurement and its tags sorted by key (as InfluxDB keeps them). */
export function seriesPrefix(point: Point): string {
  if (nodes > MAX_NODES) {
    root = { next: new Map() };
    nodes = 0;
  }
  // a walk down (measurement, tag key, tag value, ...): no string is built for a series seen before
  let node = child(root, point.measurement);
  for (const tag in point.tags) node = child(child(node, tag), point.tags[tag]!);
  if (node.prefix === undefined) {
    let prefix = lineEscape.measurement(point.measurement);
    for (const tag of Object.keys(point.tags).sort()) {
      const value = point.tags[tag];
      if (tag && value) prefix += `,${lineEscape.tag(tag)}=${lineEscape.tag(value)}`;
    }
    node.prefix = prefix;
  }
  return node.prefix;
}

function fieldKey(name: string): string {
  let escaped = fieldKeys.get(name);
  if (escaped === undefined) {
    escaped = lineEscape.tag(name);
    if (fieldKeys.size >= 10_000) fieldKeys.clear();
    fieldKeys.set(name, escaped);
  }
  return escaped;
}

/**
 * One point as a line; undefined when it has no writable field. Numbers are always floats (`3`, never
 * `3i`), so a whole number never conflicts with a fraction of the same field.
 */
export function toLine(point: Point, prefix = seriesPrefix(point)): string | undefined {
  let fields = '';
  for (const name in point.fields) {
    const value = point.fields[name]!;
    let text: string;
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) continue;
      text = String(value);
    } else if (typeof value === 'boolean') text = value ? 'T' : 'F';
    else text = lineEscape.quoted(value);
    fields += `${fields ? ',' : ''}${fieldKey(name)}=${text}`;
  }
  return fields ? `${prefix} ${fields} ${Math.floor(point.ts)}` : undefined;
}

/**
 * The points with their series prefixes. Batches of one write go out side by side, so two points of one
 * series and timestamp in different batches could land in either order: such twins are rare (a replay
 * repeats the same values), so they are only looked for, and merged when found, later fields winning as
 * InfluxDB would.
 */
export function withoutTwins(points: readonly Point[]): { points: readonly Point[]; prefixes: string[] } {
  const prefixes = points.map(seriesPrefix);
  const seen = new Map<string, Set<number>>();
  for (let i = 0; i < points.length; i++) {
    let times = seen.get(prefixes[i]!);
    if (!times) {
      times = new Set();
      seen.set(prefixes[i]!, times);
    }
    const ts = Math.floor(points[i]!.ts);
    if (times.has(ts)) return merge(points, prefixes);
    times.add(ts);
  }
  return { points, prefixes };
}

function merge(points: readonly Point[], prefixes: string[]): { points: Point[]; prefixes: string[] } {
  const byKey = new Map<string, { point: Point; prefix: string }>();
  points.forEach((p, i) => {
    const key = `${prefixes[i]} ${Math.floor(p.ts)}`;
    const prev = byKey.get(key);
    byKey.set(key, { point: prev ? { ...p, fields: { ...prev.point.fields, ...p.fields } } : p, prefix: prefixes[i]! });
  });
  const kept = [...byKey.values()];
  return { points: kept.map((k) => k.point), prefixes: kept.map((k) => k.prefix) };
}
