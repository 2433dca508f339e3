import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

/** Largest request body (HTTP) or message (websocket) the API accepts. */
export const MAX_PAYLOAD_BYTES = 1024 * 1024;

/** Takes the client's `x-request-id` when it is a sane token, else makes one; echoes it in the response. */
export function requestId(req: Request, res: Response, next: NextFunction): void {
  const given = req.headers['x-request-id'];
  const id = typeof given === 'string' && /^[\w.-]{1,64}$/.test(given) ? given : randomUUID();
  res.locals.requestId = id;
  res.setHeader('x-request-id', id);
  next();
}

/** Body parsing failures (bad JSON, too large) answer like GraphQL errors, never with Express's HTML page. */
export function bodyErrors(
  error: { status?: number; type?: string },
  _req: Request,
  res: Response,
  next: NextFunction,
): void {
  if (res.headersSent) {
    next(error);
    return;
  }
  const status =
    error.type === 'entity.too.large' ? 413 : (error.status ?? 500) < 500 ? (error.status ?? 400) : 500;
  const message =
    status === 413
      ? `The request body is larger than ${MAX_PAYLOAD_BYTES} bytes.`
      : status < 500
        ? 'The request body is not valid JSON.'
        : 'Something went wrong on our side.';
  const code = status < 500 ? 'BAD_REQUEST' : 'INTERNAL_SERVER_ERROR';
  res.status(status).json({ errors: [{ message, extensions: { code, requestId: res.locals.requestId } }] });
}
