import type { JsonObject } from '../../domain/json.ts';
import { trackedEventStream, type EventRegistered, type EventSkipped, type Match, type RefundApplied, type RuleMatched } from '../../domain/tracked-event/tracked-event-events.ts';
import { toEventToAppend } from '../../infrastructure/event-store/domain-event.ts';
import type { EventStore } from '../../infrastructure/event-store/event-store.ts';

/**
 * Tracked events and their decisions written as the command API and the rule
 * engine would write them, so that tests of the read side do not depend on
 * how the engine decides (refunds above all). Each answers its append's position.
 */
export const handMadeDecisions = (store: EventStore) => ({
  register: async (eventId: string, document: JsonObject, registeredAt = '2026-03-01T10:00:00.000Z'): Promise<string> => {
    const eventType = typeof document.type === 'string' ? document.type : null;
    const event: EventRegistered = { type: 'EventRegistered', data: { eventId, eventType, occurredAt: registeredAt, document, registeredAt } };
    return (await store.appendToStream(trackedEventStream(eventId), [toEventToAppend(event)], { expectedRevision: 'no_stream' })).position;
  },
  match: async (eventId: string, matches: readonly Match[]): Promise<string> => {
    const events: RuleMatched[] = matches.map((match) => ({ type: 'RuleMatched', data: { eventId, ...match } }));
    return (await store.appendToStream(trackedEventStream(eventId), events.map((event) => toEventToAppend(event)), { expectedRevision: 0n })).position;
  },
  applyRefund: async (data: RefundApplied['data']): Promise<string> => {
    const event: RefundApplied = { type: 'RefundApplied', data };
    return (await store.appendToStream(trackedEventStream(data.eventId), [toEventToAppend(event)], { expectedRevision: 0n })).position;
  },
  skip: async (eventId: string, reason: string): Promise<string> => {
    const event: EventSkipped = { type: 'EventSkipped', data: { eventId, reasons: [{ campaignId: null, reason }] } };
    return (await store.appendToStream(trackedEventStream(eventId), [toEventToAppend(event)], { expectedRevision: 0n })).position;
  },
});
