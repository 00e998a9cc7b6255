import type { Request } from 'express';
import type { EventStore } from '../../infrastructure/event-store/event-store.ts';

/** What the command routes need from the composition root. */
export interface CommandContext {
  readonly store: EventStore;
  readonly clock: () => Date;
  readonly newId: () => string;
  /** Who is asking, for the audit metadata of what they cause. */
  readonly actor: (req: Request) => string;
}
