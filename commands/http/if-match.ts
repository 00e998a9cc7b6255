import type { Request } from 'express';
import { ConcurrencyError } from '../../infrastructure/event-store/event-store.ts';
import { badRequest, Problem } from '../../infrastructure/http/problem.ts';

/** The revision a client last saw, from `If-Match: "3"` (the ETag Tally sent); absent when there is no header. */
export const ifMatchRevision = (req: Request): bigint | undefined => {
  const header = req.headers['if-match'];
  if (header === undefined) return undefined;
  const match = /^\s*(?:W\/)?"?(\d{1,19})"?\s*$/.exec(header);
  if (!match) throw badRequest('If-Match must be a revision as sent in ETag, e.g. "3"', [{ pointer: '/headers/if-match', message: 'is not a revision' }]);
  return BigInt(match[1]!);
};

/** A write guarded by If-Match that meets a newer revision is a 412, not a 409. */
export const staleIfMatched = async <T>(expectedRevision: bigint | undefined, write: () => Promise<T>): Promise<T> => {
  try {
    return await write();
  } catch (error) {
    if (expectedRevision !== undefined && error instanceof ConcurrencyError) {
      throw new Problem(412, 'Precondition Failed', `the campaign is at revision ${String(error.actual)}, not ${expectedRevision}; read it again`);
    }
    throw error;
  }
};
