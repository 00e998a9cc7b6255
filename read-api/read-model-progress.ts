import type { Knex } from 'knex';
import { isAtOrAfter, type EventStore, type Subscription } from '../infrastructure/event-store/event-store.ts';
import { nothingOfTypesUpTo } from '../infrastructure/event-store/nothing-between.ts';
import type { ChannelListener } from '../infrastructure/postgres/notifications.ts';

/** A read model as the query API waits for it: its projection's name and checkpoint, and the domain events it takes in. */
export interface ReadModelProgress {
  readonly name: string;
  readonly checkpoint: string;
  readonly eventTypes: readonly string[];
}

export interface ReadModelsReached {
  /** Whether each of the named read models has taken in the log up to `position`, waiting for it up to `timeoutMs`. */
  reached(position: string, names: readonly string[], timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}

/** Longest between two looks, should a notification be lost, or a subscription move without one. */
const POLL_MS = 50;

interface Followed {
  readonly model: ReadModelProgress;
  checkpoint: string | undefined;
  /** The last event of its types the subscription delivered. */
  lastWanted: string | undefined;
  subscription: Subscription;
}

/**
 * How far each read model has taken in the log, for read-your-writes. A
 * projection's checkpoint moves only when a batch of its own events commits,
 * so it may stand far behind a position it is current at. So the query API
 * follows, per read model, a filtered subscription from its checkpoint: the
 * read model is current up to where that subscription has read once its
 * checkpoint covers every event of its types delivered so far; before, up to
 * its checkpoint; and beyond that when nothing of its types lies between
 * there and the position (a short look at the log: EventStoreDB moves a
 * filtered subscription past what it does not want only now and then). One
 * subscription per read model and process, started at the first wait;
 * checkpoints read once per look, shared by every waiting request.
 */
export const followReadModelProgress = ({ knex, store, readModels, changes }: {
  readonly knex: Knex;
  readonly store: EventStore;
  readonly readModels: readonly ReadModelProgress[];
  /** Wakes the waits when a projection commits. */
  readonly changes: ChannelListener;
}): ReadModelsReached => {
  let followed: Promise<Followed[]> | undefined;
  let closed = false;

  const checkpoints = async (): Promise<Map<string, string | undefined>> => {
    const rows = await knex('tally_checkpoints').whereIn('name', readModels.map((model) => model.checkpoint)).select<{ name: string; position: string | null }[]>('name', 'position');
    return new Map(rows.map((row) => [row.name, row.position ?? undefined]));
  };

  const follow = async (): Promise<Followed[]> => {
    const at = await checkpoints();
    return readModels.map((model) => {
      const checkpoint = at.get(model.checkpoint);
      const each: Followed = { model, checkpoint, lastWanted: undefined, subscription: store.subscribeToAll({ fromPosition: checkpoint, filter: { eventTypes: model.eventTypes } }) };
      void (async () => {
        for await (const event of each.subscription) each.lastWanted = event.position;
      })().catch(() => undefined); // closed, or the store away: the waits time out, and a new process follows afresh
      return each;
    });
  };

  /** One read of the checkpoints in flight at a time, for every request that waits. */
  let refreshing: Promise<void> | undefined;
  const refresh = (all: readonly Followed[]): Promise<void> =>
    (refreshing ??= checkpoints()
      .then((at) => {
        for (const each of all) each.checkpoint = at.get(each.model.checkpoint);
      })
      .finally(() => (refreshing = undefined)));

  const current = (each: Followed): string | undefined => {
    const { checkpoint, lastWanted, subscription } = each;
    const read = subscription.position();
    const allTakenIn = lastWanted === undefined || isAtOrAfter(checkpoint, lastWanted);
    return allTakenIn && read !== undefined && !isAtOrAfter(checkpoint, read) ? read : checkpoint;
  };

  return {
    async reached(position, names, timeoutMs) {
      const all = await (followed ??= follow());
      const wanted = all.filter((each) => names.includes(each.model.name));
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const seen = changes.generation();
        await refresh(all);
        // Events a subscription has handed over are recorded before its position is read.
        await new Promise((resolve) => setImmediate(resolve));
        const behind = wanted.filter((each) => !isAtOrAfter(current(each), position));
        // EventStoreDB reports a filtered subscription's progress past events it does not want only every few dozen
        // events: a short stretch from where each read model is known to be current is looked at instead.
        if ((await Promise.all(behind.map((each) => nothingOfTypesUpTo(store, current(each), position, each.model.eventTypes)))).every(Boolean)) return true;
        const left = deadline - Date.now();
        if (left <= 0 || closed) return false;
        await changes.wait(Math.min(left, POLL_MS), undefined, seen);
      }
    },
    async close() {
      closed = true;
      if (followed) for (const each of await followed) await each.subscription.close();
    },
  };
};
