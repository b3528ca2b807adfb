import type { FastifyError, FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { isAppError } from '@relais/core';

interface ErrorBody {
  error: { code: string; message: string; requestId?: string; details?: Record<string, unknown> };
}

/**
 * Maps AppError codes to HTTP statuses. Anything unexpected becomes a 500 whose body says
 * nothing about internals; the log line keeps the detail and the request id ties them.
 */
export const errorHandler = fp(
  async (app: FastifyInstance) => {
    app.setErrorHandler<FastifyError>((error, request, reply) => {
      let status: number;
      let body: ErrorBody;
      if (isAppError(error) && error.httpStatus < 500) {
        status = error.httpStatus;
        body = { error: { code: error.code, message: error.message, details: error.details } };
      } else if (isAppError(error)) {
        // A dependency being down is worth a code (clients may retry), never its internals.
        status = error.httpStatus;
        body = { error: { code: error.code, message: 'Service temporarily unavailable', requestId: String(request.id) } };
      } else if (error.validation) {
        status = 400;
        body = { error: { code: 'VALIDATION_FAILED', message: error.message } };
      } else if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
        // fastify's own client errors (bad JSON, body too large...) carry safe messages.
        status = error.statusCode;
        body = { error: { code: error.code ?? 'BAD_REQUEST', message: error.message } };
      } else {
        status = 500;
        body = { error: { code: 'INTERNAL', message: 'Internal error', requestId: String(request.id) } };
      }
      if (status >= 500) request.log.error({ err: error }, 'request failed');
      else request.log.info({ code: body.error.code, status }, 'request rejected');
      return reply.status(status).send(body);
    });
    app.setNotFoundHandler((request, reply) =>
      reply.status(404).send({ error: { code: 'NOT_FOUND', message: `No route for ${request.method} ${request.url.split('?')[0]}` } }),
    );
  },
  { name: 'error-handler' },
);
