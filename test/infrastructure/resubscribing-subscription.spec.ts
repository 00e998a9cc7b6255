import { expect } from 'chai';
import type { RecordedEvent } from '../../infrastructure/event-store/event-store.ts';
import { resubscribingSubscription } from '../../infrastructure/event-store/esdb/resubscribing-subscription.ts';

const recorded = (n: number): RecordedEvent => ({
  id: `id-${n}`, type: 'Numbered', data: { n }, metadata: {}, streamId: `s-${n}`, revision: 0n,
  position: String(n).padStart(20, '0'), recordedAt: new Date(0),
});

describe('resubscribing subscription', () => {
  it('resumes after the last delivered position and drops anything the server sends again', async () => {
    const log = Array.from({ length: 10 }, (_, n) => recorded(n));
    const asked: (string | undefined)[] = [];
    let attempts = 0;
    const subscription = resubscribingSubscription({
      fromPosition: undefined,
      maxDelayMs: 1,
      subscribe: (after: string | undefined) => {
        asked.push(after);
        attempts++;
        // A careless server: it replays from two events before `after`, and drops the call every 4 events.
        const from = after === undefined ? 0 : Math.max(0, Number(after) - 1);
        const slice = log.slice(from, from + 4);
        return {
          events: (async function* () {
            yield* slice;
            if (attempts % 2 === 0) throw new Error('UNAVAILABLE');
          })(),
          close: async () => undefined,
        };
      },
    });
    const seen: number[] = [];
    for await (const event of subscription) {
      seen.push(event.data.n as number);
      if (seen.length === 10) break;
    }
    await subscription.close();
    expect(seen).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(asked[0]).to.equal(undefined);
    expect(asked[1]).to.equal(recorded(3).position);
  });
});
