import type { Request } from 'express';
import type { EventStore } from '../../infrastructure/event-store/event-store.ts';
import type { LlmGateway } from '../../infrastructure/llm/llm-gateway.ts';
import type { Logger } from '../../infrastructure/logger.ts';
import type { LiveRuleBook } from '../live-rule-book.ts';

/** What the command routes need from the composition root. */
export interface CommandContext {
  readonly store: EventStore;
  readonly clock: () => Date;
  readonly newId: () => string;
  /** Who is asking, for the audit metadata of what they cause. */
  readonly actor: (req: Request) => string;
  /** The rules in force, followed from the log, for simulations. */
  readonly ruleBook: LiveRuleBook;
  readonly logger: Logger;
  /** The one way to ask a language model (the /ai routes; later, campaign copy and messages). */
  readonly llm: LlmGateway;
  /** MESSAGE_MAX_BODY_BYTES: POST /messages refuses a larger explicit body (the deliverer would abandon it); 64 KiB when absent. */
  readonly maxMessageBodyBytes?: number;
}
