import type { ErrorRequestHandler, Response } from 'express';
import { DomainError } from '../../domain/domain-error.ts';
import { AppendTooLargeError, ConcurrencyError } from '../event-store/event-store.ts';
import { AllProvidersFailedError } from '../llm/all-providers-failed-error.ts';
import { CacheUnavailableError } from '../llm/cache-unavailable-error.ts';
import { ProviderNotAllowedError } from '../llm/provider-not-allowed-error.ts';
import type { Logger } from '../logger.ts';

export interface FieldError {
  /** JSON pointer into the request body (`/reward/amount`). */
  readonly pointer: string;
  readonly message: string;
}

/** An RFC 9457 problem, thrown anywhere in a request and written by `problemHandler`. */
export class Problem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail?: string,
    readonly errors?: readonly FieldError[],
    /** RFC 9457 extension members, written beside the standard ones (which they cannot replace). */
    readonly extensions?: Readonly<Record<string, unknown>>,
  ) {
    super(detail ?? title);
  }
}

const DOMAIN_STATUS = { not_found: 404, conflict: 409, invalid: 400 } as const;
const TITLES: Record<number, string> = {
  400: 'Bad Request', 401: 'Unauthorized', 404: 'Not Found', 408: 'Request Timeout', 409: 'Conflict', 412: 'Precondition Failed',
  413: 'Content Too Large', 415: 'Unsupported Media Type', 431: 'Request Header Fields Too Large',
  500: 'Internal Server Error', 501: 'Not Implemented', 502: 'Bad Gateway', 503: 'Service Unavailable',
};

export const problemBody = (problem: Problem) => ({
  ...problem.extensions,
  type: 'about:blank',
  title: problem.title,
  status: problem.status,
  ...(problem.detail === undefined ? {} : { detail: problem.detail }),
  ...(problem.errors === undefined ? {} : { errors: problem.errors }),
});

export const sendProblem = (res: Response, problem: Problem): void => {
  if (problem.status === 503) res.setHeader('Retry-After', '5');
  res.status(problem.status).type('application/problem+json').json(problemBody(problem));
};

/**
 * A database or event store that cannot be reached or answer in time right
 * now: nothing was written, and the same request may succeed later (503),
 * unlike a bug (500).
 */
const isOutage = (error: unknown): boolean => {
  const { code, type } = (error ?? {}) as { code?: unknown; type?: unknown };
  if (typeof code === 'string') {
    if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN'].includes(code)) return true;
    // PostgreSQL: connection exceptions (08…), shutting down or starting (57P01-57P03), too many connections.
    if (/^08/.test(code) || ['57P01', '57P02', '57P03', '53300'].includes(code)) return true;
    // A lock not granted in time (lock_timeout, NOWAIT), or a statement cancelled: by statement_timeout,
    // or by an operator or a shutdown (pg_cancel_backend), which only the localised message tells apart.
    // Either way the server rolled the statement and its transaction back.
    if (code === '55P03' || code === '57014') return true;
  }
  // EventStoreDB client errors carry a type; an append's raw gRPC error only its status (14 UNAVAILABLE, 4 DEADLINE_EXCEEDED).
  if (type === 'unavailable' || type === 'deadline-exceeded' || type === 'not-leader') return true;
  if ((code === 14 || code === 4) && typeof (error as { details?: unknown }).details === 'string') return true;
  if (!(error instanceof Error)) return false;
  // knex found no free connection in time.
  if (error.name === 'KnexTimeoutError') return true;
  // pg's own query_timeout ("Query read timeout"): the server did not answer at all.
  return /Connection terminated|timeout exceeded when trying to connect|Query read timeout/i.test(error.message);
};

/** What a client should be told about an error; undefined for a fault of ours (a 500). */
export const toProblem = (error: unknown): Problem | undefined => {
  if (isOutage(error)) return new Problem(503, TITLES[503]!, 'a dependency is unavailable; nothing was changed, retry later');
  if (error instanceof Problem) return error;
  if (error instanceof DomainError) {
    const status = DOMAIN_STATUS[error.kind];
    return new Problem(status, TITLES[status]!, error.message, error.pointer ? [{ pointer: error.pointer, message: error.message }] : undefined);
  }
  // The language model providers: 502 when at least one answered, wrongly (a 5xx, a refusal, garbage), since
  // that is a bad gateway; 503 when none is configured or none could be reached at all, since that is the
  // gateway being unavailable, which a retry later may cure (sendProblem adds Retry-After). Each names every
  // provider's error: in `detail`, and as `providers: [{provider, error}]`.
  if (error instanceof AllProvidersFailedError) {
    const status = error.answered ? 502 : 503;
    return new Problem(status, TITLES[status]!, error.message, undefined, { providers: error.failures });
  }
  if (error instanceof ProviderNotAllowedError) return new Problem(400, TITLES[400]!, error.message, [{ pointer: '/provider', message: error.message }]);
  if (error instanceof CacheUnavailableError) return new Problem(503, TITLES[503]!, `${error.message}; nothing was changed, retry later`);
  if (error instanceof ConcurrencyError) return new Problem(409, TITLES[409]!, 'the resource was changed concurrently; retry');
  // Not the body's size (express.json() answers that): what it would store is more than the event store takes in one append.
  if (error instanceof AppendTooLargeError) {
    return new Problem(413, TITLES[413]!, `too large to store: the event store takes at most ${error.maxAppendSizeBytes} bytes in one append (data and metadata); nothing was written`);
  }
  // express.json() reports malformed or oversized bodies with a status and a type.
  const { status, type } = (error ?? {}) as { status?: number; type?: string };
  if (type === 'entity.parse.failed') return new Problem(400, TITLES[400]!, 'the body is not valid JSON');
  if (type === 'entity.too.large') return new Problem(413, TITLES[413]!, 'the body is too large');
  if (typeof status === 'number' && status >= 400 && status < 500) return new Problem(status, TITLES[status] ?? 'Client Error', String((error as Error).message));
  return undefined;
};

/** The one HTTP error mapper of both APIs. */
export const problemHandler = (logger: Logger): ErrorRequestHandler => (error, req, res, next) => {
  if (res.headersSent) return next(error);
  const problem = toProblem(error);
  // Not a fault of ours, but an operator must see it: a stuck lock or a dead peer is otherwise silent.
  if (isOutage(error)) logger.warn({ err: error, method: req.method, url: req.originalUrl }, 'dependency unavailable; answered 503');
  if (problem) return sendProblem(res, problem);
  logger.error({ err: error, method: req.method, url: req.originalUrl }, 'request failed');
  sendProblem(res, new Problem(500, TITLES[500]!, 'an unexpected error occurred'));
};

/**
 * A request Node's HTTP parser refused before express saw it (the server's
 * 'clientError'), or undefined for an error that is not about the request
 * (a reset connection): nothing can be answered to those.
 */
export const parserProblem = (error: { code?: unknown }): Problem | undefined => {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return new Problem(431, TITLES[431]!, 'the request line and headers are too large');
    case 'HPE_INVALID_METHOD':
      return new Problem(501, TITLES[501]!, 'the request method is not one this server knows');
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return new Problem(413, TITLES[413]!, 'the chunk extensions are too large');
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new Problem(408, TITLES[408]!, 'the request did not arrive in time');
    default:
      return typeof error.code === 'string' && error.code.startsWith('HPE_') ? new Problem(400, TITLES[400]!, 'the request is not well-formed HTTP/1.1') : undefined;
  }
};

export const notFound = (detail = 'no such route'): Problem => new Problem(404, TITLES[404]!, detail);
export const badRequest = (detail: string, errors?: readonly FieldError[]): Problem => new Problem(400, TITLES[400]!, detail, errors);
