import type { Knex } from 'knex';

/** What a campaign has done so far; money in its currency's major unit. */
export interface CampaignTotalsView {
  /** Tracked events that matched one of its rules (each earns at most once per campaign). */
  eventsMatched: number;
  /** Earnings granted, those reversed since included. */
  earnings: number;
  /** Granted in all, before any reversal. */
  granted: number;
  /** The same as `granted`, under the name the totals had before refunds existed: clients read it. */
  amount: number;
  /** Taken back by refunds. */
  reversed: number;
  /** budget − granted + reversed: a reversal gives its amount back. Null for a campaign without a budget. */
  budgetRemaining: number | null;
}

export interface CampaignTotalsRow {
  events_matched: string;
  earnings: string;
  granted: string;
  reversed: string;
  budget_remaining: string | null;
}

/**
 * Adds a campaign's totals to a query of `rm_campaigns as c`: the counts the
 * projections keep (rm_campaign_matches, rm_campaign_earnings), one row each
 * per campaign, so this is two key lookups, not a sum over its earnings.
 * budgetRemaining is computed in SQL decimals, exact.
 */
export const withTotals = (knex: Knex, query: Knex.QueryBuilder): Knex.QueryBuilder =>
  query
    .leftJoin('rm_campaign_matches as m', 'm.campaign_id', 'c.id')
    .leftJoin('rm_campaign_earnings as t', 't.campaign_id', 'c.id')
    .select(
      knex.raw('coalesce(m.events_matched, 0)::text as events_matched'),
      knex.raw('coalesce(t.earnings, 0)::text as earnings'),
      knex.raw('coalesce(t.granted, 0)::text as granted'),
      knex.raw('coalesce(t.reversed, 0)::text as reversed'),
      knex.raw('(c.budget - coalesce(t.granted, 0) + coalesce(t.reversed, 0))::text as budget_remaining'),
    );

export const totalsView = (row: CampaignTotalsRow): CampaignTotalsView => ({
  eventsMatched: Number(row.events_matched), earnings: Number(row.earnings), granted: Number(row.granted), amount: Number(row.granted), reversed: Number(row.reversed),
  budgetRemaining: row.budget_remaining === null ? null : Number(row.budget_remaining),
});
