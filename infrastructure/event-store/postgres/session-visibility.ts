import type { Knex } from 'knex';

/**
 * Whether this role's readers can tell whom they wait for (visibility.ts).
 * A reader finds the appenders' transaction ids in pg_stat_activity; a session
 * of a role whose privileges this one lacks shows there only as
 * '<insufficient privilege>', and the reader then waits for every transaction
 * in the cluster: nothing fails, but subscribers stall behind any long
 * transaction anywhere, in any database. Superusers and roles with the
 * privileges of pg_read_all_stats see every session. Undefined when this role
 * does; else what is wrong and the fix.
 */
export const sessionVisibilityWarning = async (knex: Knex): Promise<string | undefined> => {
  // USAGE, not MEMBER: pg_stat_activity asks for the role's privileges, which a NOINHERIT member lacks.
  const { rows } = await knex.raw<{ rows: { role: string; sees: boolean }[] }>(
    `select quote_ident(current_user) as role, pg_has_role('pg_read_all_stats', 'USAGE') as sees`,
  );
  const { role, sees } = rows[0]!;
  if (sees) return undefined;
  return (
    `role ${role} cannot see the sessions of other roles in pg_stat_activity: while a process appends under another role, ` +
    `subscribers here wait for every transaction in the cluster. Fix: GRANT pg_read_all_stats TO ${role}`
  );
};
