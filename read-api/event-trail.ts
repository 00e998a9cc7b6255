import type { Knex } from 'knex';
import type { EventStore, RecordedEvent } from '../infrastructure/event-store/event-store.ts';

const readStream = async (store: EventStore, streamId: string): Promise<RecordedEvent[]> => {
  const events: RecordedEvent[] = [];
  for await (const event of store.readStream(streamId)) events.push(event);
  return events;
};

const earningIdsNamedBy = (event: RecordedEvent): string[] => {
  if (event.type === 'RuleMatched') return [String(event.data.earningId)];
  if (event.type === 'RefundApplied') return (event.data.reversals as { earningId: string }[]).map((reversal) => reversal.earningId);
  return [];
};

/**
 * GET /events/:id/trail (DESIGN §7): everything one tracked event set off,
 * across streams, in log order. Each domain event names what caused it and the
 * root of its chain (`metadata.causationId`, `correlationId`); the trail is the
 * tracked event's own stream, and every event of the earning streams its
 * decision names, and of those earnings' message streams, whose chain starts
 * at its registration. So a purchase's trail holds its decision, grants,
 * approvals and their messages; the reversals a refund of it caused are that
 * refund's trail. Undefined when the tracked event is not registered.
 */
export const eventTrail = async (store: EventStore, knex: Knex, eventId: string): Promise<RecordedEvent[] | undefined> => {
  const own = await readStream(store, `tracked-event-${eventId}`);
  const [registered] = own;
  if (!registered) return undefined;
  const earningIds = [...new Set(own.flatMap(earningIdsNamedBy))];
  // The messages of those earnings, as the messages read model knows them (it may be a moment behind the log).
  const messageIds = earningIds.length === 0 ? [] : await knex('rm_messages').whereIn('earning_id', earningIds).pluck<string[]>('id');
  const streams = [...earningIds.map((id) => `earning-${id}`), ...messageIds.map((id) => `message-${id}`)];
  const others = (await Promise.all(streams.map((streamId) => readStream(store, streamId)))).flat();
  const inChain = others.filter((event) => event.metadata.correlationId === registered.id);
  return [...own, ...inChain].sort((a, b) => (a.position < b.position ? -1 : a.position > b.position ? 1 : 0));
};
