import type { Projection } from '../projection.ts';
import { campaignsProjection } from './campaigns-projection.ts';
import { earningsProjection } from './earnings-projection.ts';
import { messagesProjection } from './messages-projection.ts';
import { trackedEventsProjection } from './tracked-events-projection.ts';

export const allProjections: readonly Projection[] = [campaignsProjection, trackedEventsProjection, earningsProjection, messagesProjection];
