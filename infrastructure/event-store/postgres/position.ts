import { padPosition } from '../event-store.ts';

/**
 * A PostgreSQL position: `logicalTransaction:globalPosition`, both zero-padded
 * to 20 digits, where logicalTransaction = epoch × 10^15 + transaction id.
 * The epoch grows each time the log moves to another server (visibility.ts),
 * so every event appended there sorts after everything written before; epoch 0
 * positions read exactly as the positions of releases without epochs did.
 * A transaction id (xid8) reaches 10^15 only after some 10^15 transactions.
 */
export const EPOCH_FACTOR = 10n ** 15n;

export interface DecodedPosition {
  readonly epoch: number;
  readonly transactionId: string;
  readonly globalPosition: string;
}

export const encodePosition = (epoch: number | string, transactionId: string, globalPosition: string): string =>
  `${padPosition(BigInt(epoch) * EPOCH_FACTOR + BigInt(transactionId))}:${padPosition(globalPosition)}`;

export const decodePosition = (position: string): DecodedPosition => {
  const match = /^(\d{1,20}):(\d{1,20})$/.exec(position);
  if (!match) throw new TypeError(`not a PostgreSQL event store position: "${position}"`);
  const logical = BigInt(match[1]!);
  return { epoch: Number(logical / EPOCH_FACTOR), transactionId: (logical % EPOCH_FACTOR).toString(), globalPosition: BigInt(match[2]!).toString() };
};

export const START: DecodedPosition = { epoch: 0, transactionId: '0', globalPosition: '0' };
