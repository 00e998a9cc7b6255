import { v5 as uuidv5 } from 'uuid';
import { earningStream, type EarningGranted } from '../../domain/earning/earning-events.ts';
import { createRuleBook, RULE_BOOK_EVENT_TYPES, type RuleBookEvent } from '../../domain/rules/rule-book.ts';
import { trackedEventDecider } from '../../domain/tracked-event/tracked-event-decider.ts';
import { trackedEventStream, type EventRegistered, type RuleMatched } from '../../domain/tracked-event/tracked-event-events.ts';
import { asDomainEvent, toEventToAppend } from '../../infrastructure/event-store/domain-event.ts';
import { ConcurrencyError, isAtOrAfter, type EventStore, type RecordedEvent } from '../../infrastructure/event-store/event-store.ts';
import { trackHandled } from '../../infrastructure/event-store/handled-position.ts';
import type { Checkpoints } from '../../infrastructure/postgres/checkpoints.ts';
import type { StatusBoard } from '../../infrastructure/postgres/subscriber-status.ts';
import type { Logger } from '../../infrastructure/logger.ts';
import { retryUntilStopped } from '../../infrastructure/retry-until-stopped.ts';

export const RULE_ENGINE_CHECKPOINT = 'reactor:rule-engine';

/** Earning ids derive from what they are for, so a replay names the same earnings. */
const EARNING_NAMESPACE = '6f1d8a52-3c1e-4c36-9a51-1b7f0b6c2d10';

const causedBy = (recorded: RecordedEvent) => ({
  correlationId: recorded.metadata.correlationId ?? recorded.id,
  causationId: recorded.id,
  actor: 'rule-engine',
});

export interface RuleEngineOptions {
  readonly store: EventStore;
  readonly checkpoints: Checkpoints;
  readonly clock: () => Date;
  readonly logger: Logger;
  /** Where the engine's state is shown to /health; none in some tests. */
  readonly board?: StatusBoard;
  /** Called when the engine cannot go on (a bug, not an outage: outages are retried). */
  readonly onFatal: (error: unknown) => void;
}

export interface RunningReactor {
  stop(): Promise<void>;
}

/**
 * DESIGN §5. Reads the whole log in order to keep its rule book; decides each
 * tracked event registered after its checkpoint with one append guarded by the
 * revision of `EventRegistered`, then grants each `RuleMatched` with an
 * append to a new earning stream. Both appends are safe to repeat after a crash.
 */
export const startRuleEngine = async ({ store, checkpoints, clock, logger, board, onFatal }: RuleEngineOptions): Promise<RunningReactor> => {
  const log = logger.child({ role: 'rule-engine' });
  const checkpoint = await checkpoints.load(RULE_ENGINE_CHECKPOINT);
  const book = createRuleBook();
  const stopping = new AbortController();
  const subscription = store.subscribeToAll({
    filter: { eventTypes: [...RULE_BOOK_EVENT_TYPES, 'EventRegistered'] },
  });

  type Effect = () => Promise<void>;
  const replayed = (recorded: RecordedEvent): boolean => checkpoint !== undefined && isAtOrAfter(checkpoint, recorded.position);

  /** Folds the event into the book at once; returns the append it calls for, if any, to be retried on its own. */
  const decide = (recorded: RecordedEvent): Effect | undefined => {
    const registered = asDomainEvent<EventRegistered>(recorded);
    const { eventId, document, registeredAt } = registered.data;
    const decision = book.decide(document, registeredAt, (campaignId) => uuidv5(`${eventId}/${campaignId}`, EARNING_NAMESPACE));
    // Counted at the event's position, so the next event sees the budget it left;
    // when the decision events come back through the log, they replace this count.
    book.record(eventId, decision);
    if (replayed(recorded)) return undefined;
    const events = trackedEventDecider.decide(
      { type: 'DecideEvent', data: decision },
      trackedEventDecider.evolve(trackedEventDecider.initialState(), registered),
    );
    return async () => {
      try {
        await store.appendToStream(trackedEventStream(eventId), events.map((event) => toEventToAppend(event, causedBy(recorded))), {
          expectedRevision: recorded.revision,
        });
      } catch (error) {
        if (!(error instanceof ConcurrencyError)) throw error;
        log.debug({ eventId }, 'already decided');
      }
    };
  };

  const grant = (recorded: RecordedEvent): Effect | undefined => {
    if (replayed(recorded)) return undefined;
    const { data } = asDomainEvent<RuleMatched>(recorded);
    const granted: EarningGranted = {
      type: 'EarningGranted',
      data: {
        earningId: data.earningId,
        eventId: data.eventId,
        campaignId: data.campaignId,
        ruleId: data.ruleId,
        beneficiaryId: data.beneficiaryId,
        amount: data.amount,
        currency: data.currency,
        grantedAt: clock().toISOString(),
      },
    };
    return async () => {
      try {
        await store.appendToStream(earningStream(data.earningId), [toEventToAppend(granted, causedBy(recorded))], { expectedRevision: 'no_stream' });
      } catch (error) {
        if (!(error instanceof ConcurrencyError)) throw error;
      }
    };
  };

  const step = (recorded: RecordedEvent): Effect | undefined => {
    if (recorded.type === 'EventRegistered') return decide(recorded);
    book.apply(asDomainEvent<RuleBookEvent>(recorded));
    return recorded.type === 'RuleMatched' ? grant(recorded) : undefined;
  };

  // The book is rebuilt from the start of the log; what the checkpoint covers is handled already.
  const progress = trackHandled(subscription, undefined);
  const tracker = board?.track(RULE_ENGINE_CHECKPOINT, () => {
    const position = progress.position();
    return checkpoint !== undefined && !isAtOrAfter(position, checkpoint) ? checkpoint : position;
  });
  void retryUntilStopped(() => store.headPosition(), stopping.signal, log, 'reading the head of the log').then((head) => tracker?.caughtUpAt(head), () => undefined);

  const run = async (): Promise<void> => {
    for await (const recorded of progress.events) {
      const effect = step(recorded);
      if (effect) {
        const failing = (error: unknown) => tracker?.failing(error, recorded.position);
        // An outage of the store must not skip the effect: it is tried again until it goes through or we stop.
        await retryUntilStopped(effect, stopping.signal, log, `appending the effect of ${recorded.position}`, failing);
        await retryUntilStopped(() => checkpoints.save(RULE_ENGINE_CHECKPOINT, recorded.position), stopping.signal, log, 'saving the checkpoint', failing);
      }
      progress.handled(recorded.position);
      tracker?.progressed();
    }
  };

  const running = run().catch((error: unknown) => {
    if (stopping.signal.aborted) return;
    log.fatal({ err: error }, 'rule engine stopped');
    onFatal(error);
  });
  log.info({ checkpoint }, 'rule engine started');
  return {
    stop: async () => {
      stopping.abort();
      await subscription.close();
      await running;
      tracker?.untrack();
    },
  };
};
