import type { JsonObject } from '../../domain/json.ts';
import type { MessageContent } from '../../domain/message/message-events.ts';
import { renderTemplate } from '../../domain/message/template.ts';
import type { LlmGateway } from '../../infrastructure/llm/llm-gateway.ts';

export interface Composed {
  readonly body: string;
  /** `template` or `explicit` when no model wrote the body. */
  readonly provider: string;
  readonly model: string | null;
  readonly cached: boolean;
  /** Template placeholders the context did not have (rendered empty). */
  readonly missing: readonly string[];
}

const SYSTEM = 'You write one short, friendly plain-text message to a customer about a reward they earned. Answer with the message only: no subject line, no markdown.';

/**
 * A message's body: a template rendered over its context, a prompt answered by
 * the LLM gateway with the context appended as JSON, or the body as given.
 * The gateway's cache makes a retried composition of the same prompt cheap.
 */
export const composeMessage = async (content: MessageContent, context: JsonObject, llm: LlmGateway | undefined, signal: AbortSignal): Promise<Composed> => {
  if ('body' in content) return { body: content.body, provider: 'explicit', model: null, cached: false, missing: [] };
  if ('template' in content) {
    const { text, missing } = renderTemplate(content.template, context);
    return { body: text, provider: 'template', model: null, cached: false, missing };
  }
  if (!llm) throw new Error('no LLM gateway is configured: a prompt cannot be composed');
  const prompt = Object.keys(context).length === 0 ? content.prompt : `${content.prompt}\n\nContext (JSON):\n${JSON.stringify(context)}`;
  const generated = await llm.generate({ prompt, system: SYSTEM }, signal);
  return { body: generated.text, provider: generated.provider, model: generated.model, cached: generated.cached, missing: [] };
};
