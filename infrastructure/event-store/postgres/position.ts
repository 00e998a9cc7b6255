import { padPosition } from '../event-store.ts';

/** A PostgreSQL position: `transactionId:globalPosition`, both zero-padded to 20 digits. */
export const encodePosition = (transactionId: string, globalPosition: string): string =>
  `${padPosition(transactionId)}:${padPosition(globalPosition)}`;

export const decodePosition = (position: string): { transactionId: string; globalPosition: string } => {
  const match = /^(\d{1,20}):(\d{1,20})$/.exec(position);
  if (!match) throw new TypeError(`not a PostgreSQL event store position: "${position}"`);
  return { transactionId: BigInt(match[1]!).toString(), globalPosition: BigInt(match[2]!).toString() };
};
