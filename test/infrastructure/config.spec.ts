import path from 'node:path';
import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../infrastructure/config.ts';

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

  it('refuses a bad port, naming the variable', () => {
    expect(() => loadConfig({ COMMAND_PORT: 'abc' })).to.throw(ConfigError, /COMMAND_PORT/);
    expect(() => loadConfig({ QUERY_PORT: '70000' })).to.throw(ConfigError, /QUERY_PORT/);
  });

  it('requires real credentials in production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).to.throw(ConfigError, /API_USERNAME/);
    expect(loadConfig({ NODE_ENV: 'production', API_USERNAME: 'u', API_PASSWORD: 'p' }).defaultCredentials).to.equal(false);
  });
});
