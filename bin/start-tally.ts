import { randomUUID } from 'node:crypto';
import { createCommandApi } from '../commands/http/command-api.ts';
import { followRuleBook } from '../commands/live-rule-book.ts';
import { startCampaignSchedule, type CampaignSchedule } from '../commands/reactors/campaign-schedule.ts';
import { CAMPAIGN_DESCRIPTIONS_CHECKPOINT, startCampaignDescriptions } from '../commands/reactors/campaign-descriptions.ts';
import { EARNING_APPROVALS_SUBSCRIBER, startEarningApprovals } from '../commands/reactors/earning-approvals.ts';
import { MESSAGE_DELIVERY_SUBSCRIBER, startMessageDelivery } from '../commands/reactors/message-delivery.ts';
import { MESSAGE_REQUESTS_CHECKPOINT, startMessageRequests } from '../commands/reactors/message-requests.ts';
import { RULE_ENGINE_CHECKPOINT, startRuleEngine } from '../commands/reactors/rule-engine.ts';
import { restoreRuleBook } from '../commands/restore-rule-book.ts';
import type { Config } from '../infrastructure/config.ts';
import type { EventStore } from '../infrastructure/event-store/event-store.ts';
import { createEsdbEventStore } from '../infrastructure/event-store/esdb/esdb-event-store.ts';
import { eventStoreMigrations } from '../infrastructure/event-store/postgres/schema.ts';
import { createPostgresEventStore } from '../infrastructure/event-store/postgres/postgres-event-store.ts';
import { sessionVisibilityWarning } from '../infrastructure/event-store/postgres/session-visibility.ts';
import { createHealthCheck } from '../infrastructure/http/health.ts';
import { serve } from '../infrastructure/http/serve.ts';
import { llmGatewayFromConfig } from '../infrastructure/llm/llm-gateway-from-config.ts';
import type { LlmGateway } from '../infrastructure/llm/llm-gateway.ts';
import type { Logger } from '../infrastructure/logger.ts';
import { createChannels } from '../infrastructure/messaging/channels.ts';
import { checkpointMigrations, createCheckpoints } from '../infrastructure/postgres/checkpoints.ts';
import { createKnex, createPool, migrationTimeouts } from '../infrastructure/postgres/database.ts';
import { startEmbeddedPostgres } from '../infrastructure/postgres/embedded-postgres.ts';
import { migrate } from '../infrastructure/postgres/migrate.ts';
import { withMigrationLock } from '../infrastructure/postgres/migration-lock.ts';
import { createSnapshots } from '../infrastructure/postgres/snapshots.ts';
import { runElection, type ElectedRole, type Led } from '../infrastructure/postgres/leader-election.ts';
import { listenToChannel } from '../infrastructure/postgres/notifications.ts';
import { createStatusBoard } from '../infrastructure/postgres/subscriber-status.ts';
import { READ_MODEL_MIGRATIONS_TABLE, readModelMigrations } from '../projections/migrations.ts';
import { projectionCheckpoint, startProjector } from '../projections/projector.ts';
import { allProjections } from '../projections/read-models/all-projections.ts';
import { READ_MODELS_CHANNEL } from '../projections/read-models-channel.ts';
import { trackedEventsProjection } from '../projections/read-models/tracked-events-projection.ts';
import { createReadinessCheck } from '../infrastructure/http/readiness.ts';
import { createQueryApi } from '../read-api/query-api.ts';
import { followReadModelProgress } from '../read-api/read-model-progress.ts';

export const ROLES = ['command', 'query', 'projector', 'reactor'] as const;
export type Role = (typeof ROLES)[number];

export interface RunningTally {
  readonly commandPort: number | undefined;
  readonly queryPort: number | undefined;
  readonly databaseUrl: string;
  readonly store: EventStore;
  /** Present with the reactor role; tests call its `tick()` after moving their clock. */
  readonly schedule: CampaignSchedule | undefined;
  stop(): Promise<void>;
}

export interface StartOptions {
  readonly config: Config;
  readonly logger: Logger;
  readonly roles?: readonly Role[];
  readonly clock?: () => Date;
  /** A worker died of a bug; the process should stop so that a supervisor restarts it. */
  readonly onFatal?: (error: unknown) => void;
  /** node-cron expression of the campaign schedule checks (every second); null leaves them to `schedule.tick()`. */
  readonly scheduleCron?: string | null;
  /** Tests only: the store every part of this process uses, made from the real one (to fail chosen appends, as a crash would). */
  readonly wrapStore?: (store: EventStore) => EventStore;
}

/** The composition root: builds the adapters from config and starts the asked roles, undone in reverse by `stop`. */
export const startTally = async ({ config, logger, roles = ROLES, clock = () => new Date(), onFatal = () => undefined, scheduleCron = '* * * * * *', wrapStore }: StartOptions): Promise<RunningTally> => {
  const stack: (() => Promise<unknown>)[] = [];
  const stop = async (): Promise<void> => {
    for (const undo of stack.reverse().splice(0)) {
      await undo().catch((error: unknown) => logger.warn({ err: error }, 'error while stopping'));
    }
  };
  try {
    if (config.defaultCredentials) logger.warn('API_USERNAME / API_PASSWORD not set: using admin / admin (development only)');
    let databaseUrl = config.databaseUrl;
    if (!databaseUrl) {
      const embedded = await startEmbeddedPostgres(config.dataDir, logger);
      stack.push(() => embedded.stop());
      databaseUrl = embedded.url;
    }
    const timeouts = config.databaseTimeouts;
    const pool = createPool({ url: databaseUrl, max: 20, timeouts });
    stack.push(() => pool.end());
    const knex = createKnex({ url: databaseUrl, max: 10, timeouts });
    stack.push(() => knex.destroy());

    const migrator = createKnex({ url: databaseUrl, max: 2, timeouts: migrationTimeouts(timeouts) });
    try {
      await withMigrationLock(databaseUrl, timeouts, async () => {
        if (config.eventStore.kind === 'postgres') await migrate(migrator, 'tally_event_store_migrations', eventStoreMigrations);
        await migrate(migrator, 'tally_checkpoint_migrations', checkpointMigrations);
        await migrate(migrator, READ_MODEL_MIGRATIONS_TABLE, readModelMigrations);
      });
    } finally {
      await migrator.destroy();
    }

    const realStore: EventStore =
      config.eventStore.kind === 'esdb'
        ? createEsdbEventStore({
            connectionString: config.eventStore.connectionString,
            onResubscribe: (error, attempt) => logger.warn({ err: error, attempt }, 'EventStoreDB subscription dropped; resubscribing'),
          })
        : createPostgresEventStore({ connectionString: databaseUrl, pool, timeouts });
    const store = wrapStore ? wrapStore(realStore) : realStore;
    stack.push(() => realStore.close());
    const healthWarnings: Record<string, () => Promise<string | undefined>> = {};
    if (config.eventStore.kind === 'postgres') {
      // Degrades without failing anything: said once here, and on every /health until fixed.
      healthWarnings.visibility = () => sessionVisibilityWarning(knex);
      const warning = await healthWarnings.visibility();
      if (warning) logger.warn(warning);
    }
    const checkpoints = createCheckpoints(knex);
    const snapshots = createSnapshots(knex);

    const board = createStatusBoard({ knex, logger });
    stack.push(() => board.close());
    /** The projector and the rule engine run in one process per database at a time; the others stand by. */
    const elect = (role: ElectedRole, subscribers: readonly string[], lead: () => Promise<Led>): void => {
      const standbys = new Map<string, ReturnType<typeof board.track>>();
      const election = runElection({
        url: databaseUrl,
        timeouts,
        role,
        logger,
        intervalMs: config.leaderCheckMs,
        onStandby: () => {
          for (const name of subscribers) if (!standbys.has(name)) standbys.set(name, board.track(name, () => undefined, 'standby'));
        },
        lead: () => {
          for (const tracker of standbys.values()) tracker.untrack();
          standbys.clear();
          return lead();
        },
      });
      stack.push(() => election.stop());
    };

    // One gateway per process, for the roles that ask language models (the /ai routes, message composition,
    // campaign copy), so that they share one response cache (and its Redis connection). Made before the
    // reactors, so that it closes after they have stopped.
    const llm: LlmGateway | undefined = roles.includes('command') || roles.includes('reactor') ? llmGatewayFromConfig(config, logger) : undefined;
    if (llm) stack.push(() => llm.close());
    let schedule: CampaignSchedule | undefined;
    if (roles.includes('reactor')) {
      elect('rule-engine', [RULE_ENGINE_CHECKPOINT], () => startRuleEngine({ store, checkpoints, snapshots, clock, logger, board, onFatal, batchLingerMs: config.batchLingerMs }));
      // Schedule transitions are guarded by the campaign's revision: any number may run.
      const running = startCampaignSchedule({ store, clock, logger, cron: scheduleCron });
      stack.push(() => running.stop());
      schedule = running;
      const { channels, close: closeChannels } = createChannels(config.messaging, logger, clock);
      stack.push(async () => closeChannels());
      const policy = { maxAttempts: config.messaging.maxAttempts, baseMs: config.messaging.retryBaseMs };
      elect('messaging', [MESSAGE_REQUESTS_CHECKPOINT, MESSAGE_DELIVERY_SUBSCRIBER], async () => {
        const requests = await startMessageRequests({ store, checkpoints, clock, logger, board, onFatal, maxContextBytes: config.messaging.maxContextBytes });
        const delivery = await startMessageDelivery({ store, clock, logger, channels, llm, policy, maxBodyBytes: config.messaging.maxBodyBytes, board });
        return { stop: async () => void (await Promise.all([delivery.stop(), requests.stop()])) };
      });
      elect('earning-approvals', [EARNING_APPROVALS_SUBSCRIBER], () => startEarningApprovals({ store, clock, logger, board }));
      if (llm) elect('campaign-copy', [CAMPAIGN_DESCRIPTIONS_CHECKPOINT], () => startCampaignDescriptions({ store, checkpoints, llm, clock, logger, board, onFatal }));
    }
    if (roles.includes('projector')) {
      elect('projector', allProjections.map(projectionCheckpoint), () => startProjector({ store, knex, checkpoints, projections: allProjections, logger, board, onFatal, batchLingerMs: config.batchLingerMs }));
    }
    const health = createHealthCheck({
      knex,
      store,
      subscribers: [...allProjections.map(projectionCheckpoint), RULE_ENGINE_CHECKPOINT, MESSAGE_REQUESTS_CHECKPOINT, MESSAGE_DELIVERY_SUBSCRIBER, CAMPAIGN_DESCRIPTIONS_CHECKPOINT, EARNING_APPROVALS_SUBSCRIBER],
      maxLagSeconds: config.healthMaxLagSeconds,
      warnings: healthWarnings,
      ...(llm ? { cache: () => llm.cacheHealth() } : {}),
    });
    const credentials = { username: config.apiUsername, password: config.apiPassword, logger, health, readiness: createReadinessCheck(knex, store) };
    let commandPort: number | undefined;
    let queryPort: number | undefined;
    if (roles.includes('command') && llm) {
      // From the rule engine's snapshot, when there is one: the log after it is all there is to read.
      const from = await restoreRuleBook({ snapshots, log: logger.child({ role: 'live-rule-book' }), isPosition: (value) => store.isPosition(value) });
      const ruleBook = followRuleBook(store, logger, from);
      stack.push(() => ruleBook.stop());
      const api = createCommandApi({ store, clock, newId: randomUUID, ruleBook, llm, maxMessageBodyBytes: config.messaging.maxBodyBytes, ...credentials });
      const server = await serve(api, config.commandPort);
      stack.push(() => server.close());
      commandPort = server.port;
      logger.info({ port: commandPort }, 'command API listening');
    }
    if (roles.includes('query')) {
      // Long-polls wait for decisions: only the tracked events' read model's commits concern them.
      const readModelChanges = listenToChannel(databaseUrl, READ_MODELS_CHANNEL, timeouts, [trackedEventsProjection.name]);
      stack.push(() => readModelChanges.close());
      // The query API's own pool: readers never queue behind the projector's writes.
      const readKnex = createKnex({ url: databaseUrl, max: 10, timeouts });
      stack.push(() => readKnex.destroy());
      // Read-your-writes waits for every read model: any projection's commit may be the one it waits for.
      const anyReadModelChanges = listenToChannel(databaseUrl, READ_MODELS_CHANNEL, timeouts);
      stack.push(() => anyReadModelChanges.close());
      const readModels = followReadModelProgress({
        knex: readKnex, store, changes: anyReadModelChanges,
        readModels: allProjections.map((projection) => ({ name: projection.name, checkpoint: projectionCheckpoint(projection), eventTypes: projection.eventTypes })),
      });
      stack.push(() => readModels.close());
      const readYourWrites = { readModels, allReadModels: allProjections.map((projection) => projection.name), timeoutMs: config.minPositionTimeoutMs };
      const server = await serve(createQueryApi({ knex: readKnex, store, readModelChanges, readYourWrites, ...credentials }), config.queryPort);
      stack.push(() => server.close());
      queryPort = server.port;
      logger.info({ port: queryPort }, 'query API listening');
    }
    return { commandPort, queryPort, databaseUrl, store, schedule, stop };
  } catch (error) {
    await stop();
    throw error;
  }
};
