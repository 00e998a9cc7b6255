import type { RequestHandler } from 'express';
import type { Knex } from 'knex';
import { errorText } from '../error-text.ts';
import { isAtOrAfter, type EventStore } from '../event-store/event-store.ts';
import type { CacheHealth } from '../llm/llm-gateway.ts';
import { readSubscriberStatus, type SubscriberState, type SubscriberStatus } from '../postgres/subscriber-status.ts';

/** `stopped`: no process reports the subscriber (none runs it, or all that did are gone). */
export type ReportedState = SubscriberState | 'stopped';

export interface SubscriberHealth {
  readonly state: ReportedState;
  readonly position: string | null;
  /** Events in the log after `position` (at most LAG_COUNT_CAP, then `eventsAtLeast`), and the age of the oldest of them. */
  readonly lag: { readonly events: number; readonly eventsAtLeast?: true; readonly seconds: number } | null;
  readonly since: string | null;
  readonly instance: string | null;
  readonly standbys: number;
  readonly error?: string;
  readonly stuckAt?: string;
}

export interface HealthReport {
  readonly status: 'ok' | 'failing';
  readonly checks: Record<string, string>;
  readonly subscribers: Record<string, SubscriberHealth>;
  /** What costs something without failing health (see HealthOptions.warnings); empty when all is well. */
  readonly warnings: Record<string, string>;
  /** The LLM response cache, where this process has the AI gateway (the command and reactor roles). */
  readonly cache?: CacheHealth;
}

export interface HealthOptions {
  readonly knex: Knex;
  readonly store: EventStore;
  /** Every subscriber the deployment must run (each projection, the rule engine). */
  readonly subscribers: readonly string[];
  /** A subscriber whose oldest unhandled event is older than this makes the service unhealthy. */
  readonly maxLagSeconds: number;
  /** A process whose heartbeat is older than this is gone. */
  readonly staleAfterMs?: number;
  /** Asked on every check: what is wrong and the fix, or undefined. Reported under `warnings`, never failing health. */
  readonly warnings?: Readonly<Record<string, () => Promise<string | undefined>>>;
  /**
   * The LLM response cache's state, shown as `cache`. A degraded cache (Redis
   * away) is also a warning, never a failed check: generation goes on
   * uncached, which costs time and money but breaks nothing, and a 503 would
   * have a load balancer take a working process out of service.
   */
  readonly cache?: () => CacheHealth;
}

/** Counting stops here: health must stay cheap however far behind a subscriber is. */
const LAG_COUNT_CAP = 1000;

/**
 * Of two active rows of one subscriber, the one that took it on last is the
 * leader. A process leads only once it holds the role's lock, which the one
 * before held until its session ended: so the other row is of a leader that
 * is gone (dead: its row stays fresh for up to staleAfterMs; or about to stop,
 * having lost its lock). Its heartbeat would not tell as well: while both live
 * they take turns at the latest. (Taken on at the same moment: the further one.)
 */
const latestLeaderFirst = (a: SubscriberStatus, b: SubscriberStatus): number =>
  b.trackedAt.getTime() - a.trackedAt.getTime() || (isAtOrAfter(a.position ?? undefined, b.position ?? '') ? -1 : 1);

const failing = (error: unknown): string => `failing: ${errorText(error)}`;

export type HealthCheck = () => Promise<HealthReport>;

/** Whether this process's own dependencies answer: its database and its event store (`ok`, or `failing: why`). */
export const dependencyChecks = async (knex: Knex, store: EventStore): Promise<Record<string, string>> => ({
  database: await knex.raw('select 1').then(() => 'ok', failing),
  eventStore: await store.headPosition().then(() => 'ok', failing),
});

/** One health check for both APIs: their dependencies, and every subscriber behind the read side. */
export const createHealthCheck = ({ knex, store, subscribers, maxLagSeconds, staleAfterMs = 10_000, warnings: warningChecks = {}, cache }: HealthOptions): HealthCheck => {
  const lagOf = async (position: string | null) => {
    const { events, oldestRecordedAt: oldest } = await store.countAfter(position ?? undefined, LAG_COUNT_CAP);
    const seconds = oldest ? Math.max(0, (Date.now() - oldest.getTime()) / 1000) : 0;
    return { events, ...(events >= LAG_COUNT_CAP ? { eventsAtLeast: true as const } : {}), seconds: Math.round(seconds * 1000) / 1000 };
  };

  const subscriberHealth = async (name: string, rows: readonly SubscriberStatus[]): Promise<SubscriberHealth> => {
    const mine = rows.filter((row) => row.subscriber === name);
    const standbys = mine.filter((row) => row.state === 'standby').length;
    const active = mine.filter((row) => row.state !== 'standby').sort(latestLeaderFirst)[0];
    if (!active) return { state: standbys > 0 ? 'standby' : 'stopped', position: null, lag: null, since: null, instance: null, standbys };
    return {
      state: active.state,
      position: active.position,
      lag: await lagOf(active.position),
      since: active.since.toISOString(),
      instance: active.instance,
      standbys,
      ...(active.error ? { error: active.error } : {}),
      ...(active.stuckAt ? { stuckAt: active.stuckAt } : {}),
    };
  };

  return async () => {
    const checks: Record<string, string> = await dependencyChecks(knex, store);
    const report: Record<string, SubscriberHealth> = {};
    try {
      const rows = await readSubscriberStatus(knex, staleAfterMs);
      for (const name of subscribers) report[name] = await subscriberHealth(name, rows);
      const unwell = Object.entries(report).filter(([, health]) => (health.state !== 'running' && health.state !== 'catching-up') || (health.lag?.seconds ?? 0) > maxLagSeconds);
      checks.subscribers = unwell.length === 0 ? 'ok' : `failing: ${unwell.map(([name, health]) => `${name} ${health.state === 'running' || health.state === 'catching-up' ? `lags ${health.lag?.seconds} s` : health.state}`).join('; ')}`;
    } catch (error) {
      checks.subscribers = failing(error);
    }
    const healthy = Object.values(checks).every((value) => value === 'ok');
    const warnings: Record<string, string> = {};
    for (const [name, warning] of Object.entries(warningChecks)) {
      // A database that does not answer is checks.database's to report.
      const said = await warning().catch(() => undefined);
      if (said) warnings[name] = said;
    }
    const cacheHealth = cache?.();
    if (cacheHealth?.status === 'degraded') {
      warnings.cache = `the LLM response cache is degraded (${cacheHealth.error}): answers are generated uncached until Redis is back, which the cache notices by itself; check REDIS_URL and the Redis server`;
    }
    return { status: healthy ? 'ok' : 'failing', checks, subscribers: report, warnings, ...(cacheHealth ? { cache: cacheHealth } : {}) };
  };
};

/** `GET /health`: 200 when every check passes, else 503; the body says which failed and why. */
export const healthRoute = (check: HealthCheck): RequestHandler => async (_req, res) => {
  const report = await check();
  res.status(report.status === 'ok' ? 200 : 503).json(report);
};
