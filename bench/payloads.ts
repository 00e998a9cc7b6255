import { randomUUID } from 'node:crypto';
import type { EventToAppend } from '../infrastructure/event-store/event-store.ts';

const MERCHANTS = ['MERCHANT_001', 'MERCHANT_002', 'MERCHANT_003'];

/**
 * What `POST /events` appends for a purchase: an `EventRegistered` of about
 * 300 bytes of JSON, with the metadata the command API writes.
 */
export const trackedEventRegistration = (sequence: number): EventToAppend & { readonly id: string } => {
  const eventId = randomUUID();
  const now = new Date().toISOString();
  return {
    id: randomUUID(),
    type: 'EventRegistered',
    data: {
      eventId,
      eventType: 'purchase',
      occurredAt: now,
      document: {
        type: 'purchase',
        merchantId: MERCHANTS[sequence % MERCHANTS.length]!,
        customerId: `C-${String(sequence % 100_000).padStart(6, '0')}`,
        amount: 150 + (sequence % 100) / 4,
        currency: 'EUR',
        data: { channel: 'web', orderId: `ORD-${sequence}`, items: 3 },
      },
      registeredAt: now,
    },
    metadata: { correlationId: eventId, causationId: eventId, actor: 'api:admin', schemaVersion: 1 },
  };
};

export const registrations = (count: number, first: number): Array<EventToAppend & { readonly id: string }> =>
  Array.from({ length: count }, (_, index) => trackedEventRegistration(first + index));

/** A stream per tracked event, named as the command API names it. */
export const newTrackedEventStream = (): string => `tracked-event-${randomUUID()}`;
