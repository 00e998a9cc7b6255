import { Router } from 'express';
import { bodyValidator } from '../../infrastructure/http/validate-body.ts';
import type { LlmGateway } from '../../infrastructure/llm/llm-gateway.ts';
import { generateSchema, type GenerateBody } from './request-schemas.ts';

const validateGenerate = bodyValidator<GenerateBody>(generateSchema);

/** The AI gateway over HTTP (README, AI gateway): errors go to the one mapper, AllProvidersFailedError as 502/503. */
export const aiRoutes = ({ llm }: { readonly llm: LlmGateway }): Router => {
  const router = Router();

  router.post('/ai/generate', async (req, res) => {
    const body = validateGenerate(req.body);
    // A client that hangs up stops the generation: nobody would read it, and providers charge for it.
    const hangUp = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) hangUp.abort(new Error('the client closed the connection'));
    });
    try {
      res.json(await llm.generate(body, hangUp.signal));
    } catch (error) {
      if (hangUp.signal.aborted) return; // nobody to answer
      throw error;
    }
  });

  router.get('/ai/providers', async (_req, res) => {
    res.json({ providers: await llm.providers() });
  });

  router.post('/ai/cache/clear', async (_req, res) => {
    res.json({ cleared: await llm.clearCache() });
  });

  // 200 either way: a degraded cache is a fact to report, not a failed request.
  router.get('/ai/cache/health', (_req, res) => {
    res.json(llm.cacheHealth());
  });

  return router;
};
