import type { Position } from '@eventstore/db-client';
import { padPosition } from '../event-store.ts';

/**
 * An EventStoreDB position is `{commit, prepare}`; Tally keeps the commit
 * position, zero-padded so that positions compare as strings. For events
 * appended through the gRPC API the prepare position equals the commit one.
 */
export const encodeEsdbPosition = (position: Pick<Position, 'commit'>): string => padPosition(position.commit);

export const decodeEsdbPosition = (position: string): Position => {
  if (!/^\d{1,20}$/.test(position)) throw new TypeError(`not an EventStoreDB position: "${position}"`);
  const commit = BigInt(position);
  return { commit, prepare: commit };
};
