import { createRuleBook, RULE_BOOK_EVENT_TYPES, type RuleBook, type RuleBookEvent } from '../domain/rules/rule-book.ts';
import { asDomainEvent } from '../infrastructure/event-store/domain-event.ts';
import { isAtOrAfter, type EventStore } from '../infrastructure/event-store/event-store.ts';
import { nothingOfTypesUpTo } from '../infrastructure/event-store/nothing-between.ts';
import type { Logger } from '../infrastructure/logger.ts';
import { sleep } from '../infrastructure/sleep.ts';
import type { RestoredRuleBook } from './restore-rule-book.ts';

/**
 * A rule book kept up to date from the log, for questions the command API
 * answers without writing (POST /events/simulate): rules, statuses, and the
 * budgets and limits spent by the decisions in the log.
 */
export interface LiveRuleBook {
  readonly book: RuleBook;
  /** Resolves once the book has seen the log up to `position` (or after `timeoutMs`). */
  caughtUpTo(position: string, timeoutMs: number): Promise<boolean>;
  stop(): Promise<void>;
}

/**
 * `from`: the rule engine's book as its snapshot has it, followed from its
 * position on. Its pending counts (decisions whose events came after it) are
 * replaced as those events are folded, as in the engine's own book.
 */
export const followRuleBook = (store: EventStore, logger: Logger, from?: RestoredRuleBook): LiveRuleBook => {
  const book = from?.book ?? createRuleBook();

  /**
   * A filtered subscription may not report progress past events it does not
   * want (EventStoreDB does so only every few dozen): if nothing the book
   * follows lies between where it stands and `position`, it is current there.
   */
  const nothingToFollowUpTo = (from: string | undefined, position: string): Promise<boolean> => nothingOfTypesUpTo(store, from, position, RULE_BOOK_EVENT_TYPES);
  const subscription = store.subscribeToAll({ fromPosition: from?.position, filter: { eventTypes: RULE_BOOK_EVENT_TYPES } });
  const running = (async () => {
    for await (const recorded of subscription) {
      book.apply(asDomainEvent<RuleBookEvent>(recorded));
    }
  })().catch((error: unknown) => logger.error({ err: error }, 'the live rule book stopped following the log'));
  return {
    book,
    async caughtUpTo(position, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const seen = subscription.position() ?? from?.position;
        if (isAtOrAfter(seen, position) || (await nothingToFollowUpTo(seen, position))) return true;
        if (Date.now() >= deadline) return false;
        await sleep(5);
      }
    },
    async stop() {
      await subscription.close();
      await running;
    },
  };
};
