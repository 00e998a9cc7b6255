import type { RequestHandler, RequestParamHandler } from 'express';
import { badRequest } from './problem.ts';
import { unstorableAt } from './storable-body.ts';
import { pointerToken, unstorableText } from './storable-text.ts';

/*
 * The URL's share of "refuse what PostgreSQL cannot store": %00 decodes to a
 * NUL that ids and filters would carry into a query (a 500 before). A lone
 * surrogate cannot come this way (%ED%A0%80 fails to decode, a 400 already),
 * but is refused here too should a decoder ever let one through.
 */

/** Every key and value of the query string; pointers are `/query/<name>`. */
export const refuseUnstorableQuery: RequestHandler = (req, _res, next) => {
  const found = unstorableAt(req.query);
  if (!found) return next();
  next(badRequest(`query parameter ${found.pointer.slice(1)} ${found.message}`, [{ pointer: `/query${found.pointer}`, message: found.message }]));
};

const refuseUnstorableParam: RequestParamHandler = (_req, _res, next, value: unknown, name) => {
  const message = typeof value === 'string' ? unstorableText(value) : undefined;
  if (!message) return next();
  next(badRequest(`path parameter ${name} ${message}`, [{ pointer: `/path/${pointerToken(name)}`, message }]));
};

/**
 * Checks the named path parameters before any handler of a route that has
 * them runs. Param callbacks belong to one router: give each router the
 * names its own routes use.
 */
export const refuseUnstorableParams = (router: { param(name: string, handler: RequestParamHandler): unknown }, ...names: string[]): void => {
  for (const name of names) router.param(name, refuseUnstorableParam);
};
