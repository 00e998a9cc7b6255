import type { StreamAppend, StreamAppendResult } from '../event-store.ts';

export interface GroupCommitOptions {
  /** Statements in flight at once; appends that arrive meanwhile wait and go together. */
  readonly maxInFlight: number;
  /** Most appends sent in one statement. */
  readonly maxGroup: number;
  /** One append on its own: the cheapest statement when nothing else is waiting. */
  readonly alone: (append: StreamAppend) => Promise<StreamAppendResult>;
  /** Many appends in one statement and transaction, each checked on its own (appendToStreams). */
  readonly together: (appends: readonly StreamAppend[]) => Promise<StreamAppendResult[]>;
  /** Whether the error proves that the statement wrote nothing (the server refused it), as opposed to an unknown outcome. */
  readonly rolledBack: (error: unknown) => boolean;
}

interface Waiting {
  readonly append: StreamAppend;
  readonly resolve: (result: StreamAppendResult) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Group commit for single appends (one `POST /events` each): while
 * `maxInFlight` statements are running, further appends queue, and the queue
 * goes as one statement as soon as one finishes. A quiet store sends each
 * append at once, alone, so latency does not grow; a busy one pays one
 * transaction (and one WAL flush) per group instead of per append.
 *
 * Each append keeps its own answer: a wrong expected revision fails that
 * append only. If the server refuses the group's statement as a whole, every
 * append of it is tried again alone, so one that cannot be stored never fails
 * the others. If the outcome is unknown (the connection lost before the
 * reply, a client-side timeout), the group may have committed: trying again
 * would answer "exists already" for a write that went through, or write it
 * twice, so each append gets that error, as a single append would.
 */
export const createGroupCommit = ({ maxInFlight, maxGroup, alone, together, rolledBack }: GroupCommitOptions) => {
  let inFlight = 0;
  const queue: Waiting[] = [];

  const settleAlone = (waiting: Waiting): Promise<void> => alone(waiting.append).then(waiting.resolve, waiting.reject);

  const send = async (group: readonly Waiting[]): Promise<void> => {
    inFlight++;
    try {
      if (group.length === 1) return await settleAlone(group[0]!);
      let results: StreamAppendResult[];
      try {
        results = await together(group.map(({ append }) => append));
      } catch (error) {
        if (!rolledBack(error)) return group.forEach((waiting) => waiting.reject(error));
        await Promise.all(group.map(settleAlone));
        return;
      }
      results.forEach((result, index) => group[index]!.resolve(result));
    } finally {
      inFlight--;
      drain();
    }
  };

  const drain = (): void => {
    while (queue.length > 0 && inFlight < maxInFlight) void send(queue.splice(0, maxGroup));
  };

  return {
    append: (append: StreamAppend): Promise<StreamAppendResult> =>
      new Promise((resolve, reject) => {
        queue.push({ append, resolve, reject });
        drain();
      }),
  };
};
