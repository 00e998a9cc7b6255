import { expect } from 'chai';
import { startEarningApprovals, type EarningApprovals } from '../../commands/reactors/earning-approvals.ts';
import { earningStream, type EarningEvent, type EarningGranted } from '../../domain/earning/earning-events.ts';
import { asDomainEvent, toEventToAppend } from '../../infrastructure/event-store/domain-event.ts';
import { createPostgresStoreForTest } from '../support/postgres-store.ts';
import { silentLogger } from '../support/silent-logger.ts';

describe('earning approvals reactor', function () {
  this.timeout(30_000);
  let harness: Awaited<ReturnType<typeof createPostgresStoreForTest>>;
  let now: Date;
  const clock = () => now;
  const running: EarningApprovals[] = [];

  const start = async (): Promise<EarningApprovals> => {
    const approvals = await startEarningApprovals({ store: harness.store, clock, logger: silentLogger, cron: null });
    running.push(approvals);
    return approvals;
  };
  const stop = async (approvals: EarningApprovals): Promise<void> => {
    running.splice(running.indexOf(approvals), 1);
    await approvals.stop();
  };

  /** A grant at `now` held `holdDays` days; returns the position it was appended at. */
  const grant = async (earningId: string, holdDays: number): Promise<string> => {
    const grantedAt = now.toISOString();
    const granted: EarningGranted = {
      type: 'EarningGranted',
      data: {
        earningId, eventId: `t-${earningId}`, campaignId: 'c1', ruleId: 'r1', beneficiaryId: 'b1', amount: 500, currency: 'EUR', grantedAt,
        approvesAt: new Date(now.getTime() + holdDays * 86_400_000).toISOString(),
      },
    };
    const { position } = await harness.store.appendToStream(earningStream(earningId), [toEventToAppend(granted)], { expectedRevision: 'no_stream' });
    return position;
  };
  const stream = async (earningId: string): Promise<EarningEvent[]> => {
    const events: EarningEvent[] = [];
    for await (const recorded of harness.store.readStream(earningStream(earningId))) events.push(asDomainEvent<EarningEvent>(recorded));
    return events;
  };
  const types = async (earningId: string): Promise<string[]> => (await stream(earningId)).map((event) => event.type);
  const days = (n: number): void => void (now = new Date(now.getTime() + n * 86_400_000));

  beforeEach(async () => {
    harness = await createPostgresStoreForTest();
    now = new Date('2026-03-01T10:00:00.000Z');
  });
  afterEach(async () => {
    for (const approvals of running.splice(0)) await approvals.stop();
    await harness.stop();
  });

  it('leaves an earning pending until approvesAt, then approves it once, at the injected time', async () => {
    const approvals = await start();
    const position = await grant('e1', 3);
    await approvals.caughtUpTo(position);
    days(2);
    await approvals.tick();
    expect(await types('e1')).to.deep.equal(['EarningGranted']);
    days(1);
    await approvals.tick();
    const events = await stream('e1');
    expect(events.map((event) => event.type)).to.deep.equal(['EarningGranted', 'EarningApproved']);
    expect(events[1]?.data).to.deep.equal({ earningId: 'e1', approvedAt: '2026-03-04T10:00:00.000Z' });
    await approvals.tick();
    expect(await types('e1')).to.deep.equal(['EarningGranted', 'EarningApproved']);
  });

  it('approves what a partial reversal leaves, and never an earning reversed in full', async () => {
    const approvals = await start();
    await grant('part', 3);
    await grant('all', 3);
    const reverse = (earningId: string, amount: number, remaining: number) => harness.store.appendToStream(earningStream(earningId), [toEventToAppend({
      type: 'EarningReversed',
      data: { earningId, eventId: `t-${earningId}`, refundEventId: 'r1', campaignId: 'c1', beneficiaryId: 'b1', amount, currency: 'EUR', remaining, reason: 'refund r1', reversedAt: now.toISOString() },
    })], { expectedRevision: 0n });
    await reverse('part', 200, 300);
    await approvals.caughtUpTo((await reverse('all', 500, 0)).position);
    days(3);
    await approvals.tick();
    expect(await types('part')).to.deep.equal(['EarningGranted', 'EarningReversed', 'EarningApproved']);
    expect(await types('all')).to.deep.equal(['EarningGranted', 'EarningReversed']);
  });

  it('writes nothing for a grant with no hold: it is approved when granted', async () => {
    const approvals = await start();
    await approvals.caughtUpTo(await grant('e0', 0));
    days(10);
    await approvals.tick();
    expect(await types('e0')).to.deep.equal(['EarningGranted']);
  });

  it('survives a restart: a hold that ended while it was stopped is approved by the next instance, from the log', async () => {
    const first = await start();
    const position = await grant('e1', 3);
    await first.caughtUpTo(position);
    await stop(first);
    days(5);
    const second = await start();
    await second.caughtUpTo(position);
    await second.tick();
    expect(await types('e1')).to.deep.equal(['EarningGranted', 'EarningApproved']);
  });

  it('approves once when two instances tick together, and a replay from the start approves nothing again', async () => {
    const [a, b] = [await start(), await start()];
    const positions = [await grant('e1', 1), await grant('e2', 1), await grant('e3', 2)];
    for (const approvals of [a, b]) await approvals.caughtUpTo(positions[2]!);
    days(1);
    await Promise.all([a.tick(), b.tick()]);
    expect(await types('e1')).to.deep.equal(['EarningGranted', 'EarningApproved']);
    expect(await types('e2')).to.deep.equal(['EarningGranted', 'EarningApproved']);
    expect(await types('e3')).to.deep.equal(['EarningGranted']);

    // A fresh instance folds the approvals too: e1 and e2 are not pending for it.
    const replay = await start();
    await replay.caughtUpTo((await harness.store.headPosition())!);
    days(5);
    await Promise.all([replay.tick(), a.tick()]);
    for (const id of ['e1', 'e2', 'e3']) expect(await types(id), id).to.deep.equal(['EarningGranted', 'EarningApproved']);
  });
});
