import express, { type Express } from 'express';
import { basicAuth } from '../../infrastructure/http/basic-auth.ts';
import { healthRoute, type HealthCheck } from '../../infrastructure/http/health.ts';
import { httpMetrics, metricsRoute } from '../../infrastructure/http/metrics.ts';
import { readyRoute, type ReadinessCheck } from '../../infrastructure/http/readiness.ts';
import { notFound, problemHandler } from '../../infrastructure/http/problem.ts';
import { refuseUnstorableParams, refuseUnstorableQuery } from '../../infrastructure/http/storable-url.ts';
import { aiRoutes } from './ai-routes.ts';
import { campaignRoutes } from './campaign-routes.ts';
import type { CommandContext } from './command-context.ts';
import { eventRoutes } from './event-routes.ts';
import { messageRoutes } from './message-routes.ts';
import { openApiDocument } from './openapi.ts';

export interface CommandApiOptions extends Omit<CommandContext, 'actor'> {
  readonly username: string;
  readonly password: string;
  readonly health: HealthCheck;
  readonly readiness: ReadinessCheck;
}

export const createCommandApi = ({ username, password, health, readiness, ...context }: CommandApiOptions): Express => {
  const { logger } = context;
  const app = express();
  app.disable('x-powered-by');
  app.use(httpMetrics('command'));
  app.get('/health', healthRoute(health));
  app.use(basicAuth(username, password));
  app.get('/ready', readyRoute(readiness));
  app.get('/metrics', metricsRoute(health));
  app.use(express.json({ limit: '1mb' }));
  app.use(refuseUnstorableQuery);
  const withActor: CommandContext = { ...context, actor: () => username };
  app.get('/openapi.json', (_req, res) => void res.json(openApiDocument));
  const campaigns = campaignRoutes(withActor);
  refuseUnstorableParams(campaigns, 'id', 'ruleId');
  app.use(campaigns);
  app.use(eventRoutes(withActor));
  app.use(messageRoutes(withActor));
  app.use(aiRoutes(withActor));
  app.use((_req, _res, next) => next(notFound()));
  app.use(problemHandler(logger));
  return app;
};
