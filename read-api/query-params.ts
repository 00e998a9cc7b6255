import type { Request } from 'express';
import { badRequest } from '../infrastructure/http/problem.ts';

/** A bounded number from the query string, or the fallback; anything else is a 400 naming the parameter. */
export const numberParam = (req: Request, name: string, { min, max, fallback, integer = true }: { min: number; max: number; fallback: number; integer?: boolean }): number => {
  const raw = req.query[name];
  if (raw === undefined) return fallback;
  const value = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : Number.NaN;
  if (!Number.isFinite(value) || (integer && !Number.isInteger(value)) || value < min || value > max) {
    throw badRequest(`query parameter ${name} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}`, [
      { pointer: `/query/${name}`, message: `must be from ${min} to ${max}` },
    ]);
  }
  return value;
};

export const stringParam = (req: Request, name: string): string | undefined => {
  const raw = req.query[name];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || raw === '') throw badRequest(`query parameter ${name} must be a single non-empty value`, [{ pointer: `/query/${name}`, message: 'must be a single non-empty value' }]);
  return raw;
};

/** One of the given values, or undefined when absent; anything else is a 400 naming the parameter and the values it takes. */
export const enumParam = <T extends string>(req: Request, name: string, values: readonly T[]): T | undefined => {
  const raw = stringParam(req, name);
  if (raw === undefined) return undefined;
  if (!(values as readonly string[]).includes(raw)) {
    throw badRequest(`query parameter ${name} must be one of ${values.join(', ')}`, [{ pointer: `/query/${name}`, message: `must be one of ${values.join(', ')}` }]);
  }
  return raw as T;
};
