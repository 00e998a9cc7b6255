import { expect } from 'chai';
import { snapshotCadence } from '../../commands/reactors/snapshot-cadence.ts';

describe('snapshot cadence', () => {
  it('is due after so many events, or after so long with something folded, and starts over once taken', () => {
    let now = 0;
    const cadence = snapshotCadence({ events: 100, ms: 1000 }, () => now);
    // Nothing folded: never due, however long it has been.
    now = 5000;
    expect([cadence.behind(), cadence.due()]).to.deep.equal([false, false]);
    cadence.folded(99);
    expect([cadence.behind(), cadence.due()]).to.deep.equal([true, true]);
    cadence.taken();
    cadence.folded(99);
    expect(cadence.due()).to.equal(false);
    cadence.folded(1);
    expect(cadence.due()).to.equal(true);
    cadence.taken();
    cadence.folded(1);
    now = 5999;
    expect(cadence.due()).to.equal(false);
    now = 6000;
    expect(cadence.due()).to.equal(true);
  });
});
