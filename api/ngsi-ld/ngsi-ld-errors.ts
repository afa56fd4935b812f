import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { Counter, type Registry } from 'prom-client';
import { z } from 'zod';
import { DomainError } from '../../core/domain-error.ts';
import { createRefusalLog } from '../refusal-log.ts';

/**
 * NGSI-LD answers errors as ProblemDetails (RFC 7807, ETSI GS CIM 009 5.5.2) with the error types of the
 * spec's table 5.5.2-1. Every refusal is counted by reason and logged once per reason (refusal-log.ts).
 */
export const ERROR_BASE = 'https://uri.etsi.org/ngsi-ld/errors/';
export type NgsiLdErrorType =
  | 'BadRequestData'
  | 'InvalidRequest'
  | 'ResourceNotFound'
  | 'OperationNotSupported'
  | 'InternalError'
  // 401/403 have no type in the spec's table: these names follow its pattern
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotAcceptable';

export const problemBody = z.object({ type: z.string(), title: z.string(), detail: z.string() });
export type ProblemDetails = z.infer<typeof problemBody>;

const issuePath = (params: unknown): string | undefined =>
  (params as { issue?: { path?: unknown[] } } | undefined)?.issue?.path?.join('.');

export class NgsiLdError extends Error {
  constructor(
    readonly status: number,
    readonly errorType: NgsiLdErrorType,
    readonly title: string,
    message: string,
  ) {
    super(message);
  }
}

export const badRequest = (detail: string): NgsiLdError =>
  new NgsiLdError(400, 'BadRequestData', 'Bad request data', detail);

const FROM_DOMAIN: Record<string, [number, NgsiLdErrorType, string]> = {
  unauthenticated: [401, 'Unauthorized', 'Unauthorized'],
  forbidden: [403, 'Forbidden', 'Forbidden'],
  not_found: [404, 'ResourceNotFound', 'Resource not found'],
  invalid: [400, 'BadRequestData', 'Bad request data'],
};

export type NgsiLdErrorHandler = (err: Error, request: FastifyRequest, reply: FastifyReply) => FastifyReply;

export function createNgsiLdErrorHandler(
  logger: { warn(obj: object, msg: string): void },
  registry?: Registry,
): NgsiLdErrorHandler {
  const refused = new Counter({
    name: 'ioc_ngsild_refused_total',
    help: 'NGSI-LD requests refused, by error type',
    labelNames: ['type'],
    registers: registry ? [registry] : [],
  });
  const log = createRefusalLog(logger);
  const send = (
    request: FastifyRequest,
    reply: FastifyReply,
    status: number,
    type: NgsiLdErrorType,
    title: string,
    detail: string,
    counted = false,
  ) => {
    if (!counted) {
      refused.inc({ type });
      // the reason, not the caller's text: q and ids may be long and are the caller's own
      log.once(
        `ngsi-ld:${type}`,
        { url: request.url.split('?')[0], type, from: request.ip },
        'NGSI-LD request refused',
      );
    }
    if (status === 401) reply.header('www-authenticate', 'Bearer realm="ioc"');
    return reply
      .code(status)
      .type('application/json')
      .send({ type: `${ERROR_BASE}${type}`, title, detail } satisfies ProblemDetails);
  };
  return (err, request, reply) => {
    if (err instanceof NgsiLdError) return send(request, reply, err.status, err.errorType, err.title, err.message);
    if (err instanceof DomainError && FROM_DOMAIN[err.category]) {
      const [status, type, title] = FROM_DOMAIN[err.category]!;
      // access control (api/access-control.ts) already counted and logged a refused credential
      const counted = status === 401 || status === 403;
      return send(request, reply, status, type, title, err.message, counted);
    }
    if (hasZodFastifySchemaValidationErrors(err)) {
      const issues = err.validation.map(
        (v) => `${v.instancePath.replace(/^\//, '') || issuePath(v.params) || 'request'}: ${v.message}`,
      );
      return send(
        request,
        reply,
        400,
        'BadRequestData',
        'Bad request data',
        `${err.validationContext ?? 'request'} is invalid: ${issues.join('; ')}`,
      );
    }
    const fe = err as FastifyError;
    if (fe.statusCode && fe.statusCode < 500)
      return send(request, reply, fe.statusCode, 'InvalidRequest', 'Invalid request', fe.message);
    request.log.error({ err }, 'NGSI-LD request failed');
    return reply
      .code(500)
      .type('application/json')
      .send({
        type: `${ERROR_BASE}InternalError`,
        title: 'Internal error',
        detail: `request ${request.id}; the detail is in the platform log`,
      });
  };
}
