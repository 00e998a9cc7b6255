import { fromSnapshot, type RuleBook } from '../domain/rules/rule-book.ts';
import { errorText } from '../infrastructure/error-text.ts';
import { isAtOrAfter } from '../infrastructure/event-store/event-store.ts';
import type { Logger } from '../infrastructure/logger.ts';
import type { Snapshots } from '../infrastructure/postgres/snapshots.ts';

/** The rule engine's snapshots are stored under its checkpoint's name. */
export const RULE_BOOK_SNAPSHOT = 'reactor:rule-engine';

export interface RestoredRuleBook {
  readonly book: RuleBook;
  /** The book has folded the log up to here: follow it from after this. */
  readonly position: string;
}

export interface RestoreOptions {
  readonly snapshots: Snapshots;
  readonly log: Logger;
  /** Whether a stored position is one of this event store's (a snapshot outlives a switch of store). */
  readonly isPosition: (value: string) => boolean;
  /**
   * The rule engine's checkpoint: the engine saves a snapshot only together
   * with a checkpoint at or after it, so one beyond it means the checkpoint was
   * moved back by hand, and the snapshot is not used. Absent: no such check.
   */
  readonly notAfter?: { readonly checkpoint: string | undefined };
}

/**
 * The newest snapshot of the rule book, restored, or undefined: then the log is
 * folded from the start, which is always right, only slower. A snapshot that
 * cannot be used is said in the log, never fatal.
 */
export const restoreRuleBook = async ({ snapshots, log, isPosition, notAfter }: RestoreOptions): Promise<RestoredRuleBook | undefined> => {
  const stored = await snapshots.load(RULE_BOOK_SNAPSHOT);
  if (!stored) return undefined;
  const { position, version, takenAt } = stored;
  const ignore = (reason: string): undefined => void log.warn({ position, version, takenAt, reason }, 'rule book snapshot not used; folding the log from the start');
  if (!isPosition(position)) return ignore('its position is not one of this event store');
  if (notAfter && !isAtOrAfter(notAfter.checkpoint, position)) return ignore(`it lies beyond the checkpoint (${notAfter.checkpoint ?? 'none'})`);
  let restored: ReturnType<typeof fromSnapshot>;
  try {
    restored = fromSnapshot(stored);
  } catch (error) {
    // A state of the right shape that still cannot be rebuilt (a rule that no longer compiles the same way): the log can.
    return ignore(errorText(error));
  }
  if (!restored.ok) return ignore(restored.reason);
  log.info({ position, version, takenAt }, 'rule book restored from its snapshot');
  return { book: restored.book, position };
};
