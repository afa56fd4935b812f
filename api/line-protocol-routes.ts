import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { City } from '../config/city-config.ts';
import type { AuthStore, Principal } from '../config/credentials.ts';
import type { IngestService } from '../ingest/ingest-service.ts';
import { PRECISIONS } from '../ingest/line-protocol.ts';
import { writeLineProtocol, type LineWriteResult } from '../ingest/line-protocol-ingest.ts';
import { allow } from './auth.ts';
import type { HttpIngestBudget } from './ingest-routes.ts';

/**
 * InfluxDB's write endpoints, so Telegraf's influxdb and influxdb_v2 outputs, Node-RED's influxdb node, the
 * official client libraries and `influx -import` point at the platform unchanged:
 * - `POST /write` (1.x): `db` (any name), `precision` (n, u, ms, s, m, h), credentials as `u`/`p` query
 *   parameters or HTTP Basic; errors `{"error": "..."}`;
 * - `POST /api/v2/write` (2.x): `org`, `bucket` (any names), `precision` (ns, us, ms, s), credentials as
 *   `Authorization: Token <sensorId>:<secret>` (InfluxDB 1.8's compatible form) or an account's API token;
 *   errors `{"code": "...", "message": "..."}`.
 * Both take gzip (`Content-Encoding: gzip`) and answer 204 once every point is durable, 400 with the line
 * for a body that does not parse (nothing is written) or for points refused as readings (the rest are
 * written, as InfluxDB's partial write), 401, 403, 413. A device writes for itself only; an admin's token
 * for any sensor (backfill). These routes authenticate themselves because InfluxDB clients send
 * credentials in their own ways (`allow('self')`); without valid ones they answer 401.
 */
export interface LineProtocolRoutesDeps {
  ingest: IngestService;
  city: City;
  auth: AuthStore;
  insecure: boolean;
  maxReadingsPerPublish: number;
  /** the body as sent and once decompressed */
  maxBodyBytes: number;
  /** a device's message budget, shared with MQTT: one write is one message of its bytes as sent */
  budget?: HttpIngestBudget;
}

type Dialect = 'v1' | 'v2';
const unzip = promisify(gunzip);

interface Credentials {
  username?: string;
  password?: string;
  token?: string;
}

function credentialsOf(request: FastifyRequest, dialect: Dialect): Credentials {
  const header = request.headers.authorization ?? '';
  if (header.startsWith('Basic ')) {
    const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon > 0 ? { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) } : {};
  }
  const scheme = header.startsWith('Token ') ? 'Token ' : header.startsWith('Bearer ') ? 'Bearer ' : undefined;
  if (scheme) {
    const value = header.slice(scheme.length).trim();
    const colon = value.indexOf(':');
    // "Token user:password" is how 1.8's 2.x-compatible API takes 1.x credentials
    return colon > 0 ? { username: value.slice(0, colon), password: value.slice(colon + 1) } : { token: value };
  }
  if (dialect === 'v1') {
    const q = request.query as Record<string, unknown>;
    if (typeof q.u === 'string' && typeof q.p === 'string') return { username: q.u, password: q.p };
  }
  return {};
}

function authenticate(deps: LineProtocolRoutesDeps, creds: Credentials): Principal | undefined {
  if (creds.username !== undefined && creds.password !== undefined) {
    const device = deps.auth.verifyDevice(creds.username, creds.password);
    if (device) return device;
    const byToken = deps.auth.verifyToken(creds.password);
    return byToken?.name === creds.username ? byToken : undefined;
  }
  return creds.token !== undefined ? deps.auth.verifyToken(creds.token) : undefined;
}

function fail(reply: FastifyReply, dialect: Dialect, status: number, code: string, message: string): FastifyReply {
  return reply.code(status).send(dialect === 'v1' ? { error: message } : { code, message });
}

export const lineProtocolRoutes =
  (deps: LineProtocolRoutesDeps): FastifyPluginAsync =>
  async (app) => {
    // line protocol is whatever the client labels it (text/plain, octet-stream, nothing): taken as bytes
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: deps.maxBodyBytes }, (_req, body, done) =>
      done(null, body),
    );
    // the influx CLI sends an empty Content-Type, which Fastify would answer with 415
    app.addHook('onRequest', async (request) => {
      if (!request.headers['content-type']) request.headers['content-type'] = 'application/octet-stream';
    });

    const handle = (dialect: Dialect) => async (request: FastifyRequest, reply: FastifyReply) => {
      const q = request.query as Record<string, unknown>;
      const creds = credentialsOf(request, dialect);
      const principal = deps.insecure ? { role: 'admin' as const, name: 'insecure-dev' } : authenticate(deps, creds);
      if (!principal) {
        request.log.info(
          { from: request.ip, username: creds.username?.slice(0, 64), dialect },
          'line protocol write refused: bad credentials',
        );
        return fail(
          reply,
          dialect,
          401,
          'unauthorized',
          creds.username || creds.token ? 'authorization failed' : 'unable to parse authentication credentials',
        );
      }
      if (principal.role !== 'device' && principal.role !== 'admin') {
        request.log.info(
          { from: request.ip, account: principal.name, role: principal.role },
          'line protocol write refused: role',
        );
        return fail(
          reply,
          dialect,
          403,
          'forbidden',
          `${principal.name} (${principal.role}) may not write readings: use a device's credentials or an admin token`,
        );
      }
      if (principal.role === 'device' && deps.budget) {
        // before gunzip and parsing: a device over its budget costs no more work than this
        const sent = Buffer.isBuffer(request.body) ? request.body.length : 0;
        const verdict = deps.budget.admitHttp(principal.name, request.raw.socket, sent);
        if (!verdict.ok) {
          reply.header('retry-after', verdict.retryAfterSeconds);
          return fail(reply, dialect, 429, 'too many requests', verdict.message);
        }
      }
      const precision =
        typeof q.precision === 'string' && q.precision !== '' ? q.precision : dialect === 'v1' ? 'n' : 'ns';
      if (!PRECISIONS.includes(precision))
        return fail(
          reply,
          dialect,
          400,
          'invalid',
          `invalid precision "${precision.slice(0, 10)}": one of ${PRECISIONS.join(', ')}`,
        );

      let body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      if ((request.headers['content-encoding'] ?? '').toLowerCase() === 'gzip') {
        try {
          body = await unzip(body, { maxOutputLength: deps.maxBodyBytes });
        } catch (err) {
          const tooLarge = (err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';
          return tooLarge
            ? fail(reply, dialect, 413, 'request too large', `the decompressed body is over ${deps.maxBodyBytes} bytes`)
            : fail(reply, dialect, 400, 'invalid', 'the body is not valid gzip');
        }
      }
      const text = body.toString('utf8');
      if (text.includes('\uFFFD') && !Buffer.from(text, 'utf8').equals(body))
        return fail(reply, dialect, 400, 'invalid', 'the body is not valid UTF-8');

      const mayWrite = (sensorId: string) => principal.role === 'admin' || principal.sensorId === sensorId;
      const result = await writeLineProtocol(deps, text, precision, mayWrite);
      return answer(request, reply, dialect, principal, result);
    };

    const answer = (
      request: FastifyRequest,
      reply: FastifyReply,
      dialect: Dialect,
      principal: Principal,
      result: LineWriteResult,
    ) => {
      switch (result.outcome) {
        case 'syntax': {
          const first = result.errors[0]!;
          const more =
            result.errors.length > 1
              ? ` (and ${result.errors.length - 1} more bad lines: ${result.errors
                  .slice(1)
                  .map((e) => e.line)
                  .join(', ')})`
              : '';
          return fail(
            reply,
            dialect,
            400,
            'invalid',
            `unable to parse '${first.text}': ${first.message} (line ${first.line}); nothing was written${more}`,
          );
        }
        case 'forbidden':
          request.log.info(
            { from: request.ip, device: principal.name, sensorId: result.sensorId.slice(0, 64) },
            'line protocol write refused: another sensor',
          );
          return fail(
            reply,
            dialect,
            403,
            'forbidden',
            `line ${result.line}: ${principal.name} may only write its own readings, not sensor ` +
              `"${result.sensorId.slice(0, 64)}"; nothing was written`,
          );
        case 'written':
          if (result.refused.length === 0) return reply.code(204).send();
          return fail(
            reply,
            dialect,
            400,
            'invalid',
            `partial write: ${result.accepted} readings written, ${result.refused.length} refused: ${result.refused
              .slice(0, 5)
              .map((r) => `line ${r.line}: ${r.code}: ${r.message}`)
              .join('; ')}${result.refused.length > 5 ? '; ...' : ''}`,
          );
      }
    };

    const schema = (version: string) => ({
      tags: ['ingest'],
      summary: `Write InfluxDB line protocol (${version} API)`,
      hide: false,
    });
    // what InfluxDB clients call first (the influx CLI, Telegraf's health check)
    app.route({
      method: ['GET', 'HEAD'],
      url: '/ping',
      config: allow('public'),
      schema: { tags: ['ingest'], summary: 'InfluxDB-compatible ping (204)' },
      handler: (_request, reply) =>
        reply
          .code(204)
          .header('X-Influxdb-Version', '1.8-compatible (ioc-platform)')
          .header('X-Influxdb-Build', 'OSS')
          .send(),
    });
    app.post('/write', { config: allow('self'), schema: schema('1.x') }, handle('v1'));
    app.post('/api/v2/write', { config: allow('self'), schema: schema('2.x') }, handle('v2'));
  };
