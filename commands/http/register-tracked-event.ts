import { trackedEventDecider, type TrackedEventCommand } from '../../domain/tracked-event/tracked-event-decider.ts';
import { trackedEventStream } from '../../domain/tracked-event/tracked-event-events.ts';
import { toEventToAppend } from '../../infrastructure/event-store/domain-event.ts';
import { AppendTooLargeError, ConcurrencyError, type EventStore, type StreamAppend } from '../../infrastructure/event-store/event-store.ts';
import { utcDateTime } from '../../infrastructure/http/date-time.ts';
import { handleCommand } from '../command-handler.ts';
import { registeredPosition } from '../registered-position.ts';
import type { TrackEventBody } from './request-schemas.ts';

export interface Registered {
  readonly id: string;
  readonly status: 'pending';
  readonly position: string | null;
}

export interface RegistrationContext {
  readonly store: EventStore;
  readonly now: string;
  readonly newId: () => string;
  readonly actor: string;
}

type RegisterEvent = Extract<TrackedEventCommand, { type: 'RegisterEvent' }>;

/** The command for one validated body, and the append that carries it out when the id is new. */
const registration = ({ now, newId, actor }: RegistrationContext, body: TrackEventBody): { command: RegisterEvent; append: StreamAppend } => {
  // As stored: JSON has no -0, no Infinity; a retry must compare equal to what the log holds.
  const { id, ...document } = JSON.parse(JSON.stringify(body)) as TrackEventBody;
  const eventId = typeof id === 'string' ? id : newId();
  const command: RegisterEvent = {
    type: 'RegisterEvent',
    data: {
      eventId,
      eventType: typeof document.type === 'string' ? document.type : null,
      // In UTC for the read models; the document keeps the client's text, which is what rules match and retries compare.
      occurredAt: typeof document.occurredAt === 'string' ? utcDateTime(document.occurredAt) : now,
      document,
      now,
    },
  };
  const events = trackedEventDecider.decide(command, trackedEventDecider.initialState());
  return { command, append: { streamId: trackedEventStream(eventId), events: events.map((event) => toEventToAppend(event, { actor })), expectedRevision: 'no_stream' } };
};


/** The id is known already: the same report again gets the first answer, another report under it a 409. */
const registerAgain = async ({ store, actor }: RegistrationContext, command: RegisterEvent): Promise<Registered> => {
  const { eventId } = command.data;
  const result = await handleCommand(store, trackedEventStream(eventId), trackedEventDecider, command, { metadata: { actor } });
  const position = result.events.length > 0 ? result.position : await registeredPosition(store, eventId);
  return { id: eventId, status: 'pending', position };
};

/**
 * POST /events for one validated body, idempotent on the client's id. A new
 * id (the usual case) is one append with `no_stream`; only when the stream
 * exists is it read, to tell a retry from a clash.
 */
export const registerTrackedEvent = async (context: RegistrationContext, body: TrackEventBody): Promise<Registered> => {
  const { command, append } = registration(context, body);
  try {
    const { position } = await context.store.appendToStream(append.streamId, append.events, { expectedRevision: 'no_stream' });
    return { id: command.data.eventId, status: 'pending', position };
  } catch (error) {
    if (!(error instanceof ConcurrencyError)) throw error;
    return registerAgain(context, command);
  }
};

/**
 * POST /events/batch for validated bodies: every new id in one appendToStreams
 * call; ids the log knows already are answered one by one as POST /events would.
 * Each answer is a Registered, or the error of that body alone (one too large
 * for the event store is that item's AppendTooLargeError: nothing was written).
 */
export const registerTrackedEvents = async (context: RegistrationContext, bodies: readonly TrackEventBody[]): Promise<(Registered | { error: unknown })[]> => {
  const registrations = bodies.map((body) => registration(context, body));
  const results = await context.store.appendToStreams(registrations.map(({ append }) => append));
  return Promise.all(
    results.map(async (result, index) => {
      const { command } = registrations[index]!;
      if (result.ok) return { id: command.data.eventId, status: 'pending' as const, position: result.position };
      if (result.error instanceof AppendTooLargeError) return { error: result.error };
      return registerAgain(context, command).catch((error: unknown) => ({ error }));
    }),
  );
};
