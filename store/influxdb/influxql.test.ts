import { describe, expect, it } from 'vitest';
import { aggregateStatement, ident, latestStatement, literal, parseQueryAnswer, pointsStatement } from './influxql.ts';

describe('InfluxQL text', () => {
  it('quotes identifiers and literals so that a value cannot end the statement', () => {
    expect(ident('we"ird\\')).toBe('"we\\"ird\\\\"');
    expect(literal("x' OR 1=1 --")).toBe("'x\\' OR 1=1 --'");
  });

  it('asks for epoch-aligned buckets without empty ones, in the configured retention policy', () => {
    expect(
      aggregateStatement(
        { measurement: 'air', sensorId: 's1', field: 'pm25', from: 1000, to: 5000, every: 60_000, fn: 'mean' },
        'raw',
      ),
    ).toBe(
      `SELECT mean("pm25") FROM "raw"."air" WHERE "sensorId" = 's1' AND time >= 1000ms AND time < 5000ms ` +
        'GROUP BY time(60000ms) fill(none)',
    );
  });

  it('filters latest values by kind, district and sensor ids', () => {
    expect(latestStatement('water', 'waterLevel', { kind: 'water', district: 'Kim Long', sensorIds: ['a', 'b'] })).toBe(
      `SELECT last("waterLevel") FROM "water" WHERE "sensorId" != '' AND "kind" = 'water' AND "district" = 'Kim Long'` +
        ` AND ("sensorId" = 'a' OR "sensorId" = 'b') GROUP BY "sensorId", "kind", "district"`,
    );
  });

  it('reads whole points grouped by every tag', () => {
    expect(pointsStatement({ measurement: 'alert_events', tags: { ruleId: 'r' }, from: 0, to: 10, limit: 5 })).toBe(
      `SELECT * FROM "alert_events" WHERE "ruleId" = 'r' AND time >= 0ms AND time < 10ms GROUP BY * ORDER BY ` +
        'time ASC LIMIT 5',
    );
  });
});

describe('/query answers', () => {
  it('joins a series continued over chunks and keeps statements apart', () => {
    const body = [
      '{"results":[{"statement_id":0,"series":[{"name":"air","tags":{"sensorId":"a"},' +
        '"columns":["time","pm25"],"values":[[1,1]]}],"partial":true}]}',
      '{"results":[{"statement_id":0,"series":[{"name":"air","tags":{"sensorId":"a"},' +
        '"columns":["time","pm25"],"values":[[2,2]]}]}]}',
      '{"results":[{"statement_id":1,"error":"database not found: x"}]}',
    ].join('\n');
    const [first, second] = parseQueryAnswer(body, 2);
    expect(first!.series).toEqual([
      {
        name: 'air',
        tags: { sensorId: 'a' },
        columns: ['time', 'pm25'],
        values: [
          [1, 1],
          [2, 2],
        ],
      },
    ]);
    expect(second).toEqual({ series: [], error: 'database not found: x' });
  });

  it('throws a whole-request error', () => {
    expect(() => parseQueryAnswer('{"error":"error parsing query: found EOF"}', 1)).toThrow('error parsing query');
  });
});
