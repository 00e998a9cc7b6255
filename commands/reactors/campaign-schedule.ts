import { schedule } from 'node-cron';
import { campaignDecider, type CampaignCommand } from '../../domain/campaign/campaign-decider.ts';
import { CAMPAIGN_EVENT_TYPES, campaignStream, statusAfter, type CampaignEvent, type CampaignStatus } from '../../domain/campaign/campaign-events.ts';
import { DomainError } from '../../domain/domain-error.ts';
import { asDomainEvent } from '../../infrastructure/event-store/domain-event.ts';
import { isAtOrAfter, type EventStore } from '../../infrastructure/event-store/event-store.ts';
import { sleep } from '../../infrastructure/sleep.ts';
import type { Logger } from '../../infrastructure/logger.ts';
import { handleCommand } from '../command-handler.ts';
import type { RunningReactor } from './rule-engine.ts';

interface Scheduled {
  status: CampaignStatus;
  readonly startsAt: number | null;
  readonly endsAt: number | null;
}

export interface CampaignScheduleOptions {
  readonly store: EventStore;
  /** Injected so that tests move time instead of waiting for it. */
  readonly clock: () => Date;
  readonly logger: Logger;
  /** node-cron expression of the checks; every second by default. Null: no timer, only `tick()`. */
  readonly cron?: string | null;
}

export interface CampaignSchedule extends RunningReactor {
  /** Activates every scheduled campaign whose `startsAt` has come and ends every one whose `endsAt` has. */
  tick(): Promise<void>;
  /** Resolves once the schedule has seen the log up to `position`. */
  caughtUpTo(position: string): Promise<void>;
}

/** Honours `startsAt` / `endsAt`: a node-cron job that turns the clock into campaign transitions. */
export const startCampaignSchedule = ({ store, clock, logger, cron = '* * * * * *' }: CampaignScheduleOptions): CampaignSchedule => {
  const log = logger.child({ role: 'campaign-schedule' });
  const campaigns = new Map<string, Scheduled>();
  const subscription = store.subscribeToAll({ filter: { eventTypes: CAMPAIGN_EVENT_TYPES } });
  const following = (async () => {
    for await (const recorded of subscription) {
      const event = asDomainEvent<CampaignEvent>(recorded);
      const { campaignId } = event.data;
      if (event.type === 'CampaignCreated') {
        const { status, startsAt, endsAt } = event.data;
        if (startsAt || endsAt) campaigns.set(campaignId, { status, startsAt: startsAt ? Date.parse(startsAt) : null, endsAt: endsAt ? Date.parse(endsAt) : null });
      } else {
        // Rules and the description leave the status as it is.
        const status = statusAfter(event);
        if (status === null) continue;
        const campaign = campaigns.get(campaignId);
        if (campaign) campaign.status = status;
        if (event.type === 'CampaignEnded') campaigns.delete(campaignId);
      }
    }
  })().catch((error: unknown) => log.error({ err: error }, 'the campaign schedule stopped following the log'));

  const transition = async (campaignId: string, type: CampaignCommand['type'] & ('ActivateCampaign' | 'EndCampaign'), now: Date): Promise<void> => {
    try {
      await handleCommand(store, campaignStream(campaignId), campaignDecider, { type, data: { now: now.toISOString(), by: 'schedule' } }, { metadata: { actor: 'schedule' } });
      log.info({ campaignId, type }, 'campaign transition on schedule');
    } catch (error) {
      // Someone got there first (a person, or this job's previous run): nothing to do.
      if (!(error instanceof DomainError && error.kind === 'conflict')) throw error;
    }
  };

  let ticking: Promise<void> | undefined;
  const tick = (): Promise<void> =>
    (ticking ??= (async () => {
      const now = clock();
      for (const [campaignId, campaign] of campaigns) {
        if (campaign.endsAt !== null && campaign.endsAt <= now.getTime()) await transition(campaignId, 'EndCampaign', now);
        else if (campaign.status === 'scheduled' && campaign.startsAt !== null && campaign.startsAt <= now.getTime()) await transition(campaignId, 'ActivateCampaign', now);
      }
    })().finally(() => (ticking = undefined)));

  const task = cron === null ? undefined : schedule(cron, () => tick().catch((error: unknown) => log.warn({ err: error }, 'schedule check failed; next tick retries')), { noOverlap: true, name: 'campaign-schedule' });

  return {
    tick,
    async caughtUpTo(position) {
      while (!isAtOrAfter(subscription.position(), position)) await sleep(5);
    },
    async stop() {
      await task?.destroy();
      await subscription.close();
      await following;
      await ticking;
    },
  };
};
