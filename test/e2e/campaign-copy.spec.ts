import { expect } from 'chai';
import pg from 'pg';
import { CAMPAIGN_DESCRIPTIONS_CHECKPOINT } from '../../commands/reactors/campaign-descriptions.ts';
import { OFFLINE_MODEL } from '../../infrastructure/llm/offline-provider.ts';
import { startFakeOpenAi } from '../support/fake-llm/fake-openai-server.ts';
import type { FakeLlmServer } from '../support/fake-llm/scripted-llm-server.ts';
import { runTally } from '../support/running-tally.ts';
import { createTestDatabase, type TestDatabase } from '../support/test-database.ts';
import { until } from '../support/until.ts';

type App = Awaited<ReturnType<typeof runTally>>;

/** Issue 10, campaign copy: POST /campaigns asks for a description, a reactor has the AI gateway write it, once. */
describe('campaign copy over HTTP', function () {
  this.timeout(60_000);
  let database: TestDatabase;
  let openai: FakeLlmServer | undefined;
  const apps: App[] = [];
  const start = async (env: Record<string, string> = {}): Promise<App> => {
    const app = await runTally(database.url, { env });
    apps.push(app);
    return app;
  };
  /** The real openai SDK against the local fake server; no fallback, so that its failures are the gateway's. */
  const openAiEnv = (server: FakeLlmServer) => ({
    OPENAI_API_KEY: server.apiKey, OPENAI_BASE_URL: server.baseUrl, LLM_FALLBACK: 'openai', LLM_MAX_RETRIES: '0', LLM_TIMEOUT_MS: '2000',
  });

  beforeEach(async () => {
    database = await createTestDatabase();
  });
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.stop();
    await openai?.close();
    openai = undefined;
    await database?.drop();
  });

  const described = (app: App, id: string) =>
    until(`campaign ${id} has its description`, async () => (await app.queries.get(`/campaigns/${id}`)).body, {
      ok: (body) => body?.descriptionGeneration?.status === 'generated',
      detail: (body) => JSON.stringify(body),
    });
  const generatedCount = async (app: App, id: string): Promise<number> => {
    const stream = await app.queries.get(`/streams/campaign-${id}`);
    return (stream.body.events as { type: string }[]).filter((event) => event.type === 'CampaignDescriptionGenerated').length;
  };

  it('with no keys, the offline provider writes it: the same name and prompt, the same text (then from the cache)', async () => {
    const app = await start();
    const first = await app.commands.post('/campaigns', { name: 'Spring Sale', descriptionPrompt: 'Mention the garden range' });
    expect(first.status, JSON.stringify(first.body)).to.equal(201);
    const campaign = await described(app, first.body.id);
    expect(campaign.description).to.be.a('string').and.include('Spring Sale').and.include('Mention the garden range');
    expect(campaign.descriptionGeneration).to.deep.include({ status: 'generated', prompt: 'Mention the garden range', provider: 'offline', model: OFFLINE_MODEL, cached: false });

    const second = await app.commands.post('/campaigns', { name: 'Spring Sale', descriptionPrompt: 'Mention the garden range' });
    const again = await described(app, second.body.id);
    expect(again.description).to.equal(campaign.description);
    expect(again.descriptionGeneration).to.deep.include({ provider: 'offline', cached: true });
    const stream = await app.queries.get(`/streams/campaign-${first.body.id}`);
    expect(stream.body.events.map((event: { type: string }) => event.type)).to.deep.equal(['CampaignCreated', 'CampaignDescriptionGenerated']);
    expect(stream.body.events[1].data).to.include({ text: campaign.description, provider: 'offline', model: OFFLINE_MODEL, cached: false });
  });

  it('refuses a description with a request for one, and a contradictory or blank request, with a 400 that creates nothing', async () => {
    const app = await start();
    const bad = [
      [{ name: 'n', description: 'mine', generateDescription: true }, '/description'],
      [{ name: 'n', description: 'mine', descriptionPrompt: 'p' }, '/description'],
      [{ name: 'n', generateDescription: false, descriptionPrompt: 'p' }, '/descriptionPrompt'],
      [{ name: 'n', descriptionPrompt: '   ' }, '/descriptionPrompt'],
      [{ name: 'n', generateDescription: 'yes' }, '/generateDescription'],
    ] as const;
    for (const [body, pointer] of bad) {
      const answer = await app.commands.post('/campaigns', body);
      expect(answer.status, JSON.stringify(body)).to.equal(400);
      expect(answer.headers.get('content-type')).to.match(/^application\/problem\+json/);
      expect(answer.body.errors[0].pointer, JSON.stringify(answer.body)).to.equal(pointer);
    }
    let written = 0;
    for await (const event of app.tally.store.readAll()) if (event.type === 'CampaignCreated') written++;
    expect(written).to.equal(0);
  });

  it('a campaign that asks for nothing keeps its own description, and shows no generation', async () => {
    const app = await start();
    const created = await app.commands.post('/campaigns', { name: 'Plain', description: 'As written' });
    const campaign = await until('the campaign is projected', async () => (await app.queries.get(`/campaigns/${created.body.id}`)).body, { ok: (body) => body?.id === created.body.id });
    expect(campaign).to.include({ description: 'As written', descriptionGeneration: null });
  });

  it('a scheduled campaign whose description came in the meantime still starts on time', async () => {
    let now = new Date();
    const app = await runTally(database.url, { clock: () => now });
    apps.push(app);
    const startsAt = new Date(now.getTime() + 3_600_000).toISOString();
    const created = await app.commands.post('/campaigns', { name: 'Later', startsAt, generateDescription: true });
    expect(created.body.status).to.equal('scheduled');
    await described(app, created.body.id);
    const stream = await app.queries.get(`/streams/campaign-${created.body.id}`);
    await app.tally.schedule!.caughtUpTo(stream.body.events.at(-1).position);
    now = new Date(Date.parse(startsAt) + 1000);
    await app.tally.schedule!.tick();
    await until('the campaign is active', async () => (await app.queries.get(`/campaigns/${created.body.id}`)).body.status === 'active');
  });

  it('through the real openai SDK against the fake server: the text, provider and model are recorded, and a restart does not generate again', async () => {
    openai = await startFakeOpenAi();
    openai.script({ answer: 'Bloom into savings this spring.', model: 'gpt-4o-mini-2024-07-18' });
    const first = await start(openAiEnv(openai));
    const created = await first.commands.post('/campaigns', { name: 'Spring Sale', generateDescription: true });
    const campaign = await described(first, created.body.id);
    expect(campaign.description).to.equal('Bloom into savings this spring.');
    expect(campaign.descriptionGeneration).to.deep.include({ status: 'generated', prompt: null, provider: 'openai', model: 'gpt-4o-mini-2024-07-18', cached: false });
    expect(openai.completions()).to.have.length(1);
    expect(JSON.stringify(openai.completions()[0]!.body)).to.include('Spring Sale');

    // A restart that finds the checkpoint short of the campaign (a crash before it was saved) reads the stream and asks nothing.
    apps.splice(apps.indexOf(first), 1);
    await first.stop();
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      await client.query('delete from tally_checkpoints where name = $1', [CAMPAIGN_DESCRIPTIONS_CHECKPOINT]);
    } finally {
      await client.end();
    }
    const second = await start(openAiEnv(openai));
    await until('the description reactor has read the log again', () => second.queries.get('/health'), {
      ok: (reply) => reply.body.subscribers?.[CAMPAIGN_DESCRIPTIONS_CHECKPOINT]?.state === 'running' && reply.body.subscribers[CAMPAIGN_DESCRIPTIONS_CHECKPOINT].lag?.events === 0,
      detail: (reply) => JSON.stringify(reply.body.subscribers),
    });
    expect(openai.completions()).to.have.length(1);
    expect(await generatedCount(second, created.body.id)).to.equal(1);
  });

  it('takes a blank answer for a failure, not a description: nothing blank is cached, and the next answer is written', async () => {
    openai = await startFakeOpenAi();
    openai.script({ answer: '' }, { answer: '   ' });
    openai.fallbackStep = { answer: 'Bright autumn offers.' };
    const app = await start(openAiEnv(openai));
    const created = await app.commands.post('/campaigns', { name: 'Autumn Sale', generateDescription: true });
    const campaign = await described(app, created.body.id);
    expect(campaign).to.include({ description: 'Bright autumn offers.' });
    expect(campaign.descriptionGeneration).to.deep.include({ provider: 'openai', cached: false });
    expect(openai.completions()).to.have.length(3);
    expect(await generatedCount(app, created.body.id)).to.equal(1);
  });

  it('keeps the request while every provider fails: failing on /health, retried, then written', async () => {
    openai = await startFakeOpenAi();
    openai.fallbackStep = { status: 500, message: 'openai is down' };
    const app = await start(openAiEnv(openai));
    const created = await app.commands.post('/campaigns', { name: 'Summer Sale', generateDescription: true });
    const failing = await until('the description reactor shows failing', () => app.queries.get('/health'), {
      ok: (reply) => reply.body.subscribers?.[CAMPAIGN_DESCRIPTIONS_CHECKPOINT]?.state === 'failing',
      detail: (reply) => JSON.stringify(reply.body.subscribers),
    });
    expect(failing.status).to.equal(503);
    expect(failing.body.subscribers[CAMPAIGN_DESCRIPTIONS_CHECKPOINT].error).to.include('openai is down');
    const attempts = openai.completions().length;
    await until('the request is retried', () => openai!.completions().length > attempts);

    openai.fallbackStep = { answer: 'Sunny savings.' };
    const campaign = await described(app, created.body.id);
    expect(campaign).to.include({ description: 'Sunny savings.' });
    await until('the description reactor runs again', () => app.queries.get('/health'), {
      ok: (reply) => reply.body.subscribers?.[CAMPAIGN_DESCRIPTIONS_CHECKPOINT]?.state === 'running',
    });
    expect(await generatedCount(app, created.body.id)).to.equal(1);
  });
});
