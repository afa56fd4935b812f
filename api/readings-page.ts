import type { RangeJson } from '../store/time-series-store.ts';

export interface RawPageHead {
  readonly sensorId: string;
  readonly metric: string;
  readonly unit: string;
  readonly from: number;
  readonly to: number;
}

/**
 * The body of a raw readings page, around the points' JSON as the store built it (store/range-json.ts):
 * 10,000 samples are neither rebuilt as objects nor serialised (nor checked against the response schema)
 * on the main thread, where they held up every other request while heavy queries ran (issue 13 item 7).
 * The shape is the route's 200 schema; api/readings-page.test.ts holds it to that schema.
 */
export function rawPageBody(head: RawPageHead, page: RangeJson): Buffer {
  const envelope = JSON.stringify({
    sensorId: head.sensorId,
    metric: head.metric,
    unit: head.unit,
    from: head.from,
    to: head.to,
    truncated: page.next !== undefined,
    ...(page.next !== undefined ? { nextFrom: page.next } : {}),
  });
  // `{...,"points":[...]}`: the envelope without its closing brace, then the points
  return Buffer.concat([Buffer.from(`${envelope.slice(0, -1)},"points":`), page.points, Buffer.from('}')]);
}
