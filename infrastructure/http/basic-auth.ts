import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { Problem, sendProblem } from './problem.ts';

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/** HTTP Basic auth (DESIGN §7); compares digests so timing says nothing about the secret. */
export const basicAuth = (username: string, password: string): RequestHandler => {
  const expected = digest(`${username}:${password}`);
  return (req, res, next) => {
    const [scheme, encoded] = (req.headers.authorization ?? '').split(' ');
    const given = scheme?.toLowerCase() === 'basic' && encoded ? Buffer.from(encoded, 'base64').toString('utf8') : '';
    if (given && timingSafeEqual(digest(given), expected)) return next();
    res.setHeader('WWW-Authenticate', 'Basic realm="tally", charset="UTF-8"');
    sendProblem(res, new Problem(401, 'Unauthorized', 'valid HTTP Basic credentials are required'));
  };
};
