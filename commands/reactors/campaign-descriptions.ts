import { campaignDecider } from '../../domain/campaign/campaign-decider.ts';
import { campaignStream, type CampaignCreated, type CampaignEvent } from '../../domain/campaign/campaign-events.ts';
import { fold } from '../../domain/decider.ts';
import { asDomainEvent } from '../../infrastructure/event-store/domain-event.ts';
import type { EventStore, RecordedEvent } from '../../infrastructure/event-store/event-store.ts';
import { trackHandled } from '../../infrastructure/event-store/handled-position.ts';
import type { LlmGateway } from '../../infrastructure/llm/llm-gateway.ts';
import type { Logger } from '../../infrastructure/logger.ts';
import type { Checkpoints } from '../../infrastructure/postgres/checkpoints.ts';
import type { StatusBoard } from '../../infrastructure/postgres/subscriber-status.ts';
import { retryUntilStopped } from '../../infrastructure/retry-until-stopped.ts';
import { handleCommand, readDomainEvents } from '../command-handler.ts';
import { handleEachInTurn } from './handle-each-in-turn.ts';
import type { RunningReactor } from './rule-engine.ts';
import { causedBy } from './caused-by.ts';

export const CAMPAIGN_DESCRIPTIONS_CHECKPOINT = 'reactor:campaign-descriptions';

const SYSTEM = 'You write the description of a reward campaign, for its customers: two or three plain-text sentences. Answer with the description only: no headline, no markdown.';

/** What the gateway is asked: the campaign's name, and the client's own prompt when there is one. */
export const descriptionPrompt = (name: string, prompt: string | null): string =>
  `Write the description of the reward campaign "${name}".${prompt === null ? '' : `\n\n${prompt}`}`;

export interface CampaignDescriptionsOptions {
  readonly store: EventStore;
  readonly checkpoints: Checkpoints;
  readonly llm: LlmGateway;
  readonly clock: () => Date;
  readonly logger: Logger;
  readonly board?: StatusBoard;
  readonly onFatal: (error: unknown) => void;
}

/**
 * Writes the description of each campaign created with `generateDescription`
 * or a `descriptionPrompt`: asks the LLM gateway, then appends
 * CampaignDescriptionGenerated to the campaign's stream.
 *
 * Once per campaign, whatever replays: the checkpoint skips what was done; a
 * campaign whose stream has its description already is not asked about again
 * (a restart before the checkpoint moved); and the append goes through the
 * campaign decider at the revision read, retried on a conflict by reading
 * again, where a description recorded meanwhile makes it append nothing.
 *
 * A gateway that fails entirely (every provider of the chain) loses nothing:
 * the same campaign is retried with backoff until it works, each failure
 * logged and shown on /health as this reactor failing, stuck at that campaign.
 * The campaigns after it wait: the offline provider, at the end of the
 * default chain, makes that a misconfiguration rather than an outage.
 */
export const startCampaignDescriptions = async ({ store, checkpoints, llm, clock, logger, board, onFatal }: CampaignDescriptionsOptions): Promise<RunningReactor> => {
  const log = logger.child({ role: 'campaign-descriptions' });
  const stopping = new AbortController();
  const checkpoint = await retryUntilStopped(() => checkpoints.load(CAMPAIGN_DESCRIPTIONS_CHECKPOINT), stopping.signal, log, 'loading the checkpoint');
  const subscription = store.subscribeToAll({ fromPosition: checkpoint, filter: { eventTypes: ['CampaignCreated'] } });
  const progress = trackHandled(subscription, checkpoint);
  const tracker = board?.track(CAMPAIGN_DESCRIPTIONS_CHECKPOINT, () => progress.position());
  void retryUntilStopped(() => store.headPosition(), stopping.signal, log, 'reading the head of the log').then((head) => tracker?.caughtUpAt(head), () => undefined);

  const describe = async (recorded: RecordedEvent, campaignId: string, name: string, prompt: string | null): Promise<void> => {
    const stream = campaignStream(campaignId);
    const { events } = await readDomainEvents<CampaignEvent>(store, stream);
    const state = fold(campaignDecider, events);
    if (state.status === 'none' || state.description !== 'requested') return;
    const generated = await llm.generate({ prompt: descriptionPrompt(name, prompt), system: SYSTEM }, stopping.signal);
    const { text, provider, model, cached } = generated;
    const metadata = causedBy(recorded, 'campaign-descriptions');
    const result = await handleCommand(store, stream, campaignDecider, { type: 'RecordGeneratedDescription', data: { text, provider, model, cached, now: clock().toISOString() } }, { metadata });
    if (result.events.length > 0) log.info({ campaignId, provider, model, cached }, 'campaign description generated');
  };

  const handle = async (recorded: RecordedEvent): Promise<void> => {
    const { campaignId, name, descriptionRequest } = asDomainEvent<CampaignCreated>(recorded).data;
    if (!descriptionRequest) return;
    const failing = (error: unknown) => tracker?.failing(error, recorded.position);
    await retryUntilStopped(() => describe(recorded, campaignId, name, descriptionRequest.prompt), stopping.signal, log, `generating the description of campaign ${campaignId}`, failing);
    await retryUntilStopped(() => checkpoints.save(CAMPAIGN_DESCRIPTIONS_CHECKPOINT, recorded.position), stopping.signal, log, 'saving the checkpoint', failing);
  };

  const running = handleEachInTurn({ progress, tracker, handle, stopping: stopping.signal, log, onFatal });
  log.info({ checkpoint }, 'campaign descriptions started');
  return {
    stop: async () => {
      stopping.abort();
      await subscription.close();
      await running;
      tracker?.untrack();
    },
  };
};
