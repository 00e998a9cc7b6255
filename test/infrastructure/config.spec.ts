import path from 'node:path';
import { expect } from 'chai';
import { ConfigError, DEFAULT_DATABASE_TIMEOUTS, loadConfig } from '../../infrastructure/config.ts';

describe('config', () => {
  it('has the documented defaults', () => {
    const config = loadConfig({});
    expect(config).to.deep.include({
      databaseUrl: undefined, eventStore: { kind: 'postgres' }, commandPort: 3000, queryPort: 3001,
      apiUsername: 'admin', apiPassword: 'admin', defaultCredentials: true, dataDir: path.resolve('.data'), cacheTtlSeconds: 3600,
    });
  });

  it('selects EventStoreDB only with a connection string', () => {
    expect(() => loadConfig({ EVENT_STORE: 'esdb' })).to.throw(ConfigError, /EVENTSTORE_CONNECTION_STRING/);
    expect(loadConfig({ EVENT_STORE: 'esdb', EVENTSTORE_CONNECTION_STRING: 'esdb://localhost:2113?tls=false' }).eventStore).to.deep.equal({
      kind: 'esdb', connectionString: 'esdb://localhost:2113?tls=false',
    });
    expect(() => loadConfig({ EVENT_STORE: 'mongo' })).to.throw(ConfigError, /EVENT_STORE/);
  });

  it('lets webhooks reach private networks outside production only, unless told otherwise', () => {
    const production = { NODE_ENV: 'production', API_USERNAME: 'u', API_PASSWORD: 'p' };
    expect(loadConfig({}).messaging.webhookAllowPrivateNetworks).to.equal(true);
    expect(loadConfig(production).messaging.webhookAllowPrivateNetworks).to.equal(false);
    expect(loadConfig({ ...production, WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' }).messaging.webhookAllowPrivateNetworks).to.equal(true);
    expect(loadConfig({ WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'false' }).messaging.webhookAllowPrivateNetworks).to.equal(false);
    expect(() => loadConfig({ WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'yes' })).to.throw(ConfigError, /WEBHOOK_ALLOW_PRIVATE_NETWORKS/);
  });

  it('refuses a bad port, naming the variable', () => {
    expect(() => loadConfig({ COMMAND_PORT: 'abc' })).to.throw(ConfigError, /COMMAND_PORT/);
    expect(() => loadConfig({ QUERY_PORT: '70000' })).to.throw(ConfigError, /QUERY_PORT/);
  });

  it('reads how long a batch lingers (5 ms unless set), within 0 to 1000 ms', () => {
    expect(loadConfig({}).batchLingerMs).to.equal(5);
    expect(loadConfig({ BATCH_LINGER_MS: '0' }).batchLingerMs).to.equal(0);
    expect(() => loadConfig({ BATCH_LINGER_MS: '-1' })).to.throw(ConfigError, /BATCH_LINGER_MS/);
    expect(() => loadConfig({ BATCH_LINGER_MS: '2000' })).to.throw(ConfigError, /BATCH_LINGER_MS/);
  });

  it('requires real credentials in production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).to.throw(ConfigError, /API_USERNAME/);
    expect(loadConfig({ NODE_ENV: 'production', API_USERNAME: 'u', API_PASSWORD: 'p' }).defaultCredentials).to.equal(false);
  });

  describe('database timeouts', () => {
    it('bound every wait by default, the client-side query timeout after the server-side statement timeout', () => {
      expect(loadConfig({}).databaseTimeouts).to.deep.equal({
        statementTimeoutMs: 30_000, lockTimeoutMs: 10_000, idleInTransactionTimeoutMs: 60_000,
        queryTimeoutMs: 35_000, connectTimeoutMs: 5000, keepAliveMs: 10_000,
      });
      expect(loadConfig({}).databaseTimeouts).to.deep.equal(DEFAULT_DATABASE_TIMEOUTS);
    });

    it('reads each from its variable, 0 lifting a limit', () => {
      expect(loadConfig({
        DATABASE_STATEMENT_TIMEOUT_MS: '1000', DATABASE_LOCK_TIMEOUT_MS: '0', DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: '2000',
        DATABASE_QUERY_TIMEOUT_MS: '1500', DATABASE_CONNECT_TIMEOUT_MS: '300', DATABASE_KEEPALIVE_MS: '0',
      }).databaseTimeouts).to.deep.equal({
        statementTimeoutMs: 1000, lockTimeoutMs: 0, idleInTransactionTimeoutMs: 2000, queryTimeoutMs: 1500, connectTimeoutMs: 300, keepAliveMs: 0,
      });
    });

    it('lets the query timeout follow the statement timeout unless set, and lift with it', () => {
      expect(loadConfig({ DATABASE_STATEMENT_TIMEOUT_MS: '60000' }).databaseTimeouts.queryTimeoutMs).to.equal(65_000);
      expect(loadConfig({ DATABASE_STATEMENT_TIMEOUT_MS: '0' }).databaseTimeouts.queryTimeoutMs).to.equal(0);
    });

    it('refuses a query timeout that would cut a live server short, and a connect timeout of 0', () => {
      expect(() => loadConfig({ DATABASE_STATEMENT_TIMEOUT_MS: '5000', DATABASE_QUERY_TIMEOUT_MS: '5000' })).to.throw(ConfigError, /DATABASE_QUERY_TIMEOUT_MS .* longer than DATABASE_STATEMENT_TIMEOUT_MS/);
      expect(() => loadConfig({ DATABASE_CONNECT_TIMEOUT_MS: '0' })).to.throw(ConfigError, /DATABASE_CONNECT_TIMEOUT_MS/);
      expect(() => loadConfig({ DATABASE_KEEPALIVE_MS: '-1' })).to.throw(ConfigError, /DATABASE_KEEPALIVE_MS/);
      expect(() => loadConfig({ DATABASE_LOCK_TIMEOUT_MS: '3000000000' })).to.throw(ConfigError, /DATABASE_LOCK_TIMEOUT_MS/);
    });
  });
});
