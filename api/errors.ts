import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { DomainError, type DomainErrorCategory } from '../core/domain-error.ts';

/** The one place where domain errors become HTTP: `{ code, message }` with the right status. */
export const errorBody = z.object({
  code: z.string(),
  message: z.string(),
  details: z.unknown().optional(),
  requestId: z.string().optional(),
});

const STATUS: Record<DomainErrorCategory, number> = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  unavailable: 503,
};

/**
 * A 5xx says nothing about the inside (no message, stack, SQL or path): the detail goes to the log under
 * the request id, which the body carries so an operator can find that log line.
 */
function sendInternal(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return reply.code(500).send({
    code: 'internal_error',
    message: `internal error (request ${request.id}; the detail is in the platform log)`,
    requestId: String(request.id),
  });
}

export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | DomainError | Error, request, reply) => {
    if (err instanceof DomainError) {
      if (err.category === 'unauthenticated') reply.header('www-authenticate', 'Bearer realm="ioc"');
      return reply
        .code(STATUS[err.category])
        .send({ code: err.code, message: err.message, ...(err.details === undefined ? {} : { details: err.details }) });
    }
    if (hasZodFastifySchemaValidationErrors(err)) {
      const issues = err.validation.map(
        (v) =>
          `${
            v.instancePath.replace(/^\//, '').replace(/\//g, '.') ||
            (v.params as { issue?: { path?: unknown[] } })?.issue?.path?.join('.') ||
            'request'
          }: ${v.message}`,
      );
      return reply.code(400).send({
        code: 'invalid_request',
        message: `${err.validationContext ?? 'request'} is invalid: ${issues.join('; ')}`,
      });
    }
    if (isResponseSerializationError(err)) {
      request.log.error({ err }, 'response did not match its schema');
      return sendInternal(request, reply);
    }
    const fe = err as FastifyError;
    if (fe.statusCode && fe.statusCode < 500) {
      const code =
        fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
          ? 'payload_too_large'
          : fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
            ? 'unsupported_media_type'
            : fe.statusCode === 400
              ? 'invalid_request'
              : 'request_error';
      return reply.code(fe.statusCode).send({ code, message: fe.message });
    }
    request.log.error({ err }, 'unhandled error');
    return sendInternal(request, reply);
  });
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({ code: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0]}` });
  });
}
