import { startFakeAnthropic } from './fake-anthropic-server.ts';
import { startFakeOpenAi } from './fake-openai-server.ts';
import type { FakeLlmServer } from './scripted-llm-server.ts';

export interface FakeLlmServers {
  readonly openai: FakeLlmServer;
  readonly anthropic: FakeLlmServer;
}

/** A fresh fake OpenAI and a fresh fake Anthropic server for each test of the calling suite. */
export const useFakeLlmServers = (): FakeLlmServers => {
  let openai: FakeLlmServer | undefined;
  let anthropic: FakeLlmServer | undefined;
  beforeEach(async () => {
    openai = await startFakeOpenAi();
    anthropic = await startFakeAnthropic();
  });
  afterEach(async () => {
    await openai?.close();
    await anthropic?.close();
  });
  return {
    get openai() {
      return openai!;
    },
    get anthropic() {
      return anthropic!;
    },
  };
};
