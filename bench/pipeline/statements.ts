import pg from 'pg';

/**
 * SQL statements the app sends, counted by pg_stat_statements (the server is
 * started with it preloaded). The bench's own queries name `bench_` columns
 * and are left out.
 */
export interface StatementCounter {
  reset(): Promise<void>;
  /** Statements run in the app's database since the last reset, by its role, the most frequent first. */
  read(): Promise<{ total: number; milliseconds: number; top: { query: string; calls: number; milliseconds: number }[] }>;
  close(): Promise<void>;
}

export const countStatements = async (adminUrl: string, database: string): Promise<StatementCounter> => {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  await client.query('create extension if not exists pg_stat_statements');
  const filter = `dbid = (select oid from pg_database where datname = $1) and query not like '%bench\\_%'`;
  return {
    reset: async () => void (await client.query('select pg_stat_statements_reset()')),
    read: async () => {
      const { rows } = await client.query<{ query: string; calls: string; total_exec_time: number }>(
        `select query, calls, total_exec_time from pg_stat_statements where ${filter} order by calls desc`,
        [database],
      );
      const top = rows.map((row) => ({ query: row.query.replace(/\s+/g, ' ').slice(0, 90), calls: Number(row.calls), milliseconds: row.total_exec_time }));
      return { total: top.reduce((sum, row) => sum + row.calls, 0), milliseconds: top.reduce((sum, row) => sum + row.milliseconds, 0), top: top.slice(0, 14) };
    },
    close: () => client.end(),
  };
};
