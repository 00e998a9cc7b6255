import { randomUUID } from 'node:crypto';
import { v5 as uuidv5 } from 'uuid';
import { earningStream, type EarningGranted } from '../../domain/earning/earning-events.ts';
import { refundableAmount, refundRequestOf, reversalReason, type RefundDecision } from '../../domain/earning/refund.ts';
import { approvesAt } from '../../domain/earning/hold.ts';
import { createRuleBook, RULE_BOOK_EVENT_TYPES, type RuleBookEvent } from '../../domain/rules/rule-book.ts';
import { trackedEventDecider } from '../../domain/tracked-event/tracked-event-decider.ts';
import { REFUND_TYPE, trackedEventStream, type EventRegistered, type RefundApplied, type RuleMatched } from '../../domain/tracked-event/tracked-event-events.ts';
import { asDomainEvent, toEventToAppend } from '../../infrastructure/event-store/domain-event.ts';
import { inBatches } from '../../infrastructure/event-store/batches.ts';
import { AppendTooLargeError, isAtOrAfter, type EventMetadata, type EventStore, type RecordedEvent, type StreamAppend } from '../../infrastructure/event-store/event-store.ts';
import { trackHandled } from '../../infrastructure/event-store/handled-position.ts';
import type { Checkpoints } from '../../infrastructure/postgres/checkpoints.ts';
import type { Snapshots } from '../../infrastructure/postgres/snapshots.ts';
import type { StatusBoard } from '../../infrastructure/postgres/subscriber-status.ts';
import type { Logger } from '../../infrastructure/logger.ts';
import { retryUntilStopped } from '../../infrastructure/retry-until-stopped.ts';
import { registeredPosition } from '../registered-position.ts';
import { restoreRuleBook, RULE_BOOK_SNAPSHOT } from '../restore-rule-book.ts';
import { snapshotCadence, type SnapshotEvery } from './snapshot-cadence.ts';
import { causedBy } from './caused-by.ts';
import { reverseEarnings, type ReversalOrder } from './reverse-earnings.ts';

export const RULE_ENGINE_CHECKPOINT = 'reactor:rule-engine';

/** Earning ids derive from what they are for, so a replay names the same earnings. */
const EARNING_NAMESPACE = '6f1d8a52-3c1e-4c36-9a51-1b7f0b6c2d10';

/** The id of the earning a campaign grants for a tracked event: the same in every run and replay. */
export const earningIdFor = (eventId: string, campaignId: string): string => uuidv5(`${eventId}/${campaignId}`, EARNING_NAMESPACE);

/** Tracked events decided together: one append of all their decisions, one of all their grants. */
const BATCH_SIZE = 500;

/**
 * A snapshot of a book with 10 campaigns and 100,000 beneficiaries is a few
 * megabytes of JSON, written in about 0.1 s: every 100,000 events folded (a few
 * seconds of catch-up), or every minute of live traffic.
 */
const SNAPSHOT_EVERY: SnapshotEvery = { events: 100_000, ms: 60_000 };


/** Streams read at once when a batch's refunds need to know where the events they name were registered. */
const READS_AT_ONCE = 16;

/** Who the engine's appends name as their writer. */
const ACTOR = 'rule-engine';

export interface RuleEngineOptions {
  readonly store: EventStore;
  readonly checkpoints: Checkpoints;
  readonly clock: () => Date;
  readonly logger: Logger;
  /** Where the engine's state is shown to /health; none in some tests. */
  readonly board?: StatusBoard;
  /** Called when the engine cannot go on: its subscription failed (what fails in handling events is retried). */
  readonly onFatal: (error: unknown) => void;
  readonly batchSize?: number;
  /** How long a batch waits for more events after its first (inBatches); 0 in tests that count batches. */
  readonly batchLingerMs?: number;
  /** Where the rule book is saved now and then, and restored from at start; none: the log is folded from the start every time. */
  readonly snapshots?: Snapshots;
  readonly snapshotEvery?: SnapshotEvery;
}

export interface RunningReactor {
  stop(): Promise<void>;
}

export interface RunningRuleEngine extends RunningReactor {
  /** How far the engine has read and handled the log; while it replays what its checkpoint covers, behind the checkpoint. */
  position(): string | undefined;
}

/**
 * DESIGN §5. Reads the log in order to keep its rule book, and works in
 * batches of what the subscription has ready: it decides each tracked event
 * registered after its checkpoint in log order, in memory (the book counts
 * each decision at once, so the next event sees the budget it left), appends
 * all the decisions in one call (each guarded by the revision of its
 * `EventRegistered`: a repeat after a crash is refused, never a second
 * decision), then grants every match in one call (`no_stream` on each new
 * `earning-{id}`, so a repeat is harmless), and only then saves its checkpoint,
 * once per batch.
 *
 * With `snapshots`, it starts from the newest snapshot of its book instead of
 * the start of the log, and saves one now and then (SNAPSHOT_EVERY) and when
 * it stops, always at the end of a batch whose effects are appended, in one
 * transaction with the checkpoint at the same position when the batch lies
 * beyond the checkpoint it started from: a snapshot never lies beyond the
 * checkpoint, and what lies between the two is replayed (folded, not decided).
 */
export const startRuleEngine = async ({
  store, checkpoints, clock, logger, board, onFatal, batchSize = BATCH_SIZE, batchLingerMs = 0, snapshots, snapshotEvery = SNAPSHOT_EVERY,
}: RuleEngineOptions): Promise<RunningRuleEngine> => {
  const log = logger.child({ role: 'rule-engine' });
  const checkpoint = await checkpoints.load(RULE_ENGINE_CHECKPOINT);
  const restored = snapshots && (await restoreRuleBook({ snapshots, log, isPosition: (value) => store.isPosition(value), notAfter: { checkpoint } }));
  const book = restored?.book ?? createRuleBook();
  const cadence = snapshotCadence(snapshotEvery);
  const stopping = new AbortController();
  const subscription = store.subscribeToAll({
    fromPosition: restored?.position,
    filter: { eventTypes: [...RULE_BOOK_EVENT_TYPES, 'EventRegistered'] },
  });
  const covered = (position: string): boolean => checkpoint !== undefined && isAtOrAfter(checkpoint, position);
  const replayed = (recorded: RecordedEvent): boolean => covered(recorded.position);
  /** Earnings this engine granted right after deciding, until their RuleMatched comes back through the log. */
  const grantedEarly = new Set<string>();
  /** Refunds whose reversals this engine appended right after deciding, until their RefundApplied comes back through the log. */
  const reversedEarly = new Set<string>();

  /** A decision event as appended: its id and metadata are what its effects name as their cause. */
  type Appended<Data> = { readonly id: string; readonly metadata: EventMetadata; readonly data: Data };

  interface Decided {
    readonly eventId: string;
    readonly isRefund: boolean;
    readonly append: StreamAppend;
    /** The decision's RuleMatched events (the causes of their grants). */
    readonly matches: readonly Appended<RuleMatched['data']>[];
    /** A refund's RefundApplied (the cause of its reversals). */
    readonly refund?: Appended<RefundApplied['data']>;
  }

  /** Registration positions read ahead for the batch at hand (see `readAheadRegistrations`). */
  let readAhead = new Map<string, string | null>();

  /** Whether `eventId` was registered before `position`: why a refund of an event that earned nothing reverses nothing. */
  const registeredBefore = async (eventId: string, position: string): Promise<boolean> => {
    const at = readAhead.has(eventId) ? readAhead.get(eventId)! : await registeredPosition(store, eventId);
    return at !== null && !isAtOrAfter(at, position);
  };

  /**
   * Reads at once, before the batch is folded, where the events that its
   * refunds name were registered, when the book knows of no earnings of
   * theirs (most are known, and need no read): the fold then asks a map, not
   * the store, one refund after another. What cannot be read now is read by
   * the fold itself, with its own retries.
   */
  const readAheadRegistrations = async (batch: readonly RecordedEvent[]): Promise<void> => {
    const targets = new Set<string>();
    for (const recorded of batch) {
      if (recorded.type !== 'EventRegistered' || recorded.data.eventType !== REFUND_TYPE || replayed(recorded)) continue;
      const refundOf = (recorded.data.document as { refundOf?: unknown } | undefined)?.refundOf;
      if (typeof refundOf === 'string' && !book.hasEarned(refundOf)) targets.add(refundOf);
    }
    readAhead = new Map();
    const ids = [...targets];
    try {
      for (let start = 0; start < ids.length; start += READS_AT_ONCE) {
        const chunk = ids.slice(start, start + READS_AT_ONCE);
        (await Promise.all(chunk.map((id) => registeredPosition(store, id)))).forEach((at, index) => readAhead.set(chunk[index]!, at));
      }
    } catch (error) {
      log.debug({ err: error }, 'could not read ahead where refunded events were registered; the fold reads them');
    }
  };

  /**
   * A refund is never tried against the rules: it reverses what the refunded
   * event earned, as the book stands at the refund's position. The book
   * decides in log order, so the refunded event, registered before, is always
   * decided before its refund (in memory at once, in the log in that order).
   */
  const decideRefund = async (recorded: RecordedEvent, { document, registeredAt }: EventRegistered['data'], replay: boolean): Promise<RefundDecision> => {
    const request = refundRequestOf(document);
    if ('invalid' in request) return { kind: 'skipped', reason: request.invalid };
    // Replayed, only what it counts matters, and a refund that reverses nothing counts nothing: no need to ask why.
    const registered = replay || book.hasEarned(request.refundOf) || (await registeredBefore(request.refundOf, recorded.position));
    return book.decideRefund(request, registered, registeredAt);
  };

  /** Folds the event into the book at once; returns the append it calls for, if any. The book changes last. */
  const decide = async (recorded: RecordedEvent): Promise<Decided | undefined> => {
    const registered = asDomainEvent<EventRegistered>(recorded);
    const { eventId, eventType, document, registeredAt } = registered.data;
    const replay = replayed(recorded);
    const command = eventType === REFUND_TYPE
      ? { type: 'DecideRefund' as const, data: await decideRefund(recorded, registered.data, replay) }
      : { type: 'DecideEvent' as const, data: book.decide(document, registeredAt, (campaignId) => earningIdFor(eventId, campaignId)) };
    const events = replay
      ? []
      : trackedEventDecider
          .decide(command, trackedEventDecider.evolve(trackedEventDecider.initialState(), registered))
          .map((event) => ({ ...toEventToAppend(event, causedBy(recorded, ACTOR)), id: randomUUID(), event }));
    // Counted at the event's position, so the next event sees the budget it left (or was given back);
    // when the decision events come back through the log, they replace this count.
    if (command.type === 'DecideRefund') book.recordRefund(eventId, command.data, registeredAt);
    else book.record(eventId, command.data, refundableAmount(document), registeredAt);
    if (replay) return undefined;
    const appended = events.map(({ id, metadata, event }) => ({ id, metadata: metadata ?? {}, event }));
    return {
      eventId, isRefund: command.type === 'DecideRefund',
      append: { streamId: trackedEventStream(eventId), events, expectedRevision: recorded.revision },
      matches: appended.flatMap(({ id, metadata, event }) => (event.type === 'RuleMatched' ? [{ id, metadata, data: event.data }] : [])),
      refund: appended.flatMap(({ id, metadata, event }) => (event.type === 'RefundApplied' ? [{ id, metadata, data: event.data }] : []))[0],
    };
  };

  const grant = (cause: { id: string; metadata: EventMetadata }, data: RuleMatched['data']): StreamAppend => {
    const grantedAt = clock().toISOString();
    const granted: EarningGranted = {
      type: 'EarningGranted',
      data: {
        earningId: data.earningId, eventId: data.eventId, campaignId: data.campaignId, ruleId: data.ruleId,
        beneficiaryId: data.beneficiaryId, amount: data.amount, currency: data.currency, grantedAt,
        approvesAt: approvesAt(grantedAt, book.holdDaysOf(data.campaignId)),
      },
    };
    return { streamId: earningStream(data.earningId), events: [toEventToAppend(granted, causedBy(cause, ACTOR))], expectedRevision: 'no_stream' };
  };

  /** What each refund's decision takes back, earning by earning (reverseEarnings appends them, once each). */
  const reversalOrders = (refunds: readonly Appended<RefundApplied['data']>[]): ReversalOrder[] =>
    refunds.flatMap(({ id, metadata, data }) => {
      const reason = reversalReason(data.eventId, data);
      return data.reversals.map(({ earningId, amount }) => ({ cause: { id, metadata }, refundEventId: data.eventId, earningId, amount, reason }));
    });

  // The book is rebuilt from its snapshot or the start of the log; what the checkpoint covers is handled already.
  const progress = trackHandled(subscription, restored?.position);
  const tracker = board?.track(RULE_ENGINE_CHECKPOINT, () => {
    const position = progress.position();
    return checkpoint !== undefined && !isAtOrAfter(position, checkpoint) ? checkpoint : position;
  });
  void retryUntilStopped(() => store.headPosition(), stopping.signal, log, 'reading the head of the log').then((head) => tracker?.caughtUpAt(head), () => undefined);

  /**
   * One event of the log, in order: what it calls for, a decision or a grant.
   * Whatever can throw runs before the book and `grantedEarly` change, so a
   * fold that failed is tried again on them as they were.
   */
  const fold = async (recorded: RecordedEvent): Promise<{ decided?: Decided; grant?: StreamAppend; reversal?: Appended<RefundApplied['data']> }> => {
    if (recorded.type === 'EventRegistered') return { decided: await decide(recorded) };
    const event = asDomainEvent<RuleBookEvent>(recorded);
    if (event.type === 'RefundApplied') {
      // Reversed when it was decided, unless those reversals may not have gone through.
      const again = !reversedEarly.has(event.data.eventId) && !replayed(recorded) && event.data.reversals.length > 0 ? { id: recorded.id, metadata: recorded.metadata, data: event.data } : undefined;
      book.apply(event);
      reversedEarly.delete(event.data.eventId);
      return { reversal: again };
    }
    if (event.type !== 'RuleMatched') {
      book.apply(event);
      return {};
    }
    // Granted when it was decided, unless that grant may not have gone through (a restart, a lost reply).
    const again = !grantedEarly.has(event.data.earningId) && !replayed(recorded) ? grant(recorded, event.data) : undefined;
    book.apply(event);
    grantedEarly.delete(event.data.earningId);
    return { grant: again };
  };

  /**
   * The book stands at `last`, the end of a batch whose effects are all
   * appended: its snapshot, with the checkpoint in the same transaction unless
   * the checkpoint is there already. A snapshot that fails is said and given
   * up on, never retried in the way of decisions; false then.
   */
  const saveSnapshot = async (last: string): Promise<boolean> => {
    cadence.taken();
    try {
      const { version, state } = book.snapshot();
      const checkpointToo: Parameters<Snapshots['save']>[2] = covered(last) ? undefined : (trx) => checkpoints.save(RULE_ENGINE_CHECKPOINT, last, trx);
      await snapshots!.save(RULE_BOOK_SNAPSHOT, { position: last, version, state }, checkpointToo);
      return true;
    } catch (error) {
      log.warn({ err: error, position: last }, 'could not save a snapshot of the rule book; trying again after another period');
      return false;
    }
  };

  /** A batch was cut short (stopping): the book holds events whose effects may not be appended, and must not be saved. */
  let midBatch = false;

  const handle = async (batch: readonly RecordedEvent[]): Promise<void> => {
    midBatch = true;
    const decided: Decided[] = [];
    const grants: StreamAppend[] = [];
    /** `early`: decided in this batch, rather than folded back from the log. */
    const reversals: (Appended<RefundApplied['data']> & { readonly early: boolean })[] = [];
    await readAheadRegistrations(batch);
    /** The first event of the batch that calls for an append: where the engine is stuck while its appends fail. */
    let firstEffect: string | undefined;
    for (const recorded of batch) {
      // A bug on odd data neither kills the engine nor lets it pass the event: it shows failing there, and tries
      // again. (Folding is in memory and almost never fails: the retry machinery is set up only when it does.)
      let folded: Awaited<ReturnType<typeof fold>>;
      try {
        folded = await fold(recorded);
      } catch {
        folded = await retryUntilStopped(() => fold(recorded), stopping.signal, log, `deciding ${recorded.position}`, (error) => tracker?.failing(error, recorded.position));
      }
      if (folded.decided) decided.push(folded.decided);
      if (folded.grant) grants.push(folded.grant);
      if (folded.reversal) reversals.push({ ...folded.reversal, early: false });
      if (folded.decided || folded.grant || folded.reversal) firstEffect ??= recorded.position;
    }
    const last = batch[batch.length - 1]!.position;
    const failing = (error: unknown) => tracker?.failing(error, firstEffect ?? batch[0]!.position);
    // An outage of the store must not skip an effect: each step is tried again until it goes through or we stop.
    if (decided.length > 0) {
      const results = await retryUntilStopped(() => store.appendToStreams(decided.map((decision) => decision.append)), stopping.signal, log, `appending the decisions up to ${last}`, failing);
      results.forEach((result, index) => {
        // Too large for the store (EventStoreDB's append size limit): no retry would go through; the event stays undecided.
        if (!result.ok && result.error instanceof AppendTooLargeError) {
          // What the book counted for it at once is taken back: nothing of it will come back through the log.
          const { eventId, isRefund } = decided[index]!;
          if (isRefund) book.recordRefund(eventId, { kind: 'skipped', reason: 'not recorded' });
          else book.record(eventId, { matches: [], reasons: [] });
          return void log.error({ streamId: result.error.streamId, maxAppendSizeBytes: result.error.maxAppendSizeBytes }, 'the decision is too large for the event store; the tracked event stays undecided');
        }
        // Refused: decided already, by an earlier run whose checkpoint did not cover it; its matches come back through the log.
        if (!result.ok) return void log.debug({ streamId: result.error.streamId }, 'already decided');
        for (const match of decided[index]!.matches) {
          grants.push(grant(match, match.data));
          grantedEarly.add(match.data.earningId);
        }
        const { refund } = decided[index]!;
        if (refund && refund.data.reversals.length > 0) reversals.push({ ...refund, early: true });
      });
    }
    // Refusals mean granted already: no_stream makes a repeat harmless.
    if (grants.length > 0) await retryUntilStopped(() => store.appendToStreams(grants), stopping.signal, log, `granting the earnings up to ${last}`, failing);
    // After the grants: a refund decided in the same batch as its purchase reverses an earning appended just now.
    if (reversals.length > 0) {
      const orders = reversalOrders(reversals);
      const { ungranted } = await retryUntilStopped(() => reverseEarnings(store, orders, () => clock().toISOString(), log, ACTOR), stopping.signal, log, `reversing the earnings of the refunds up to ${last}`, failing);
      for (const { early, data } of reversals) {
        const refundEventId = data.eventId;
        // Reversed when decided; unless an earning of it is not granted yet (its purchase was decided by an earlier run that
        // stopped before granting): its grant comes when that RuleMatched is folded, and this refund's RefundApplied, later in the log, reverses it then.
        if (early && !ungranted.has(refundEventId)) reversedEarly.add(refundEventId);
        if (!early && ungranted.has(refundEventId)) log.error({ refundEventId, refundOf: data.refundOf }, 'a refund reverses an earning that was never granted; passed');
      }
    }
    cadence.folded(batch.length);
    const snapshotSaved = snapshots !== undefined && cadence.due() && (await saveSnapshot(last));
    if (!snapshotSaved && (decided.length > 0 || grants.length > 0 || reversals.length > 0)) {
      await retryUntilStopped(() => checkpoints.save(RULE_ENGINE_CHECKPOINT, last), stopping.signal, log, 'saving the checkpoint', failing);
    }
    progress.handled(last);
    midBatch = false;
    tracker?.progressed();
  };

  const running = (async () => {
    for await (const batch of inBatches(progress.events, batchSize, batchLingerMs)) await handle(batch);
  })().catch((error: unknown) => {
    if (stopping.signal.aborted) return;
    log.fatal({ err: error }, 'rule engine stopped');
    onFatal(error);
  });
  log.info({ checkpoint, from: restored?.position ?? 'the start' }, 'rule engine started');
  return {
    position: () => progress.position(),
    stop: async () => {
      stopping.abort();
      await subscription.close();
      await running;
      // The next start folds only what comes after this.
      const handled = progress.position();
      if (snapshots && cadence.behind() && !midBatch && handled !== undefined) await saveSnapshot(handled);
      tracker?.untrack();
    },
  };
};
