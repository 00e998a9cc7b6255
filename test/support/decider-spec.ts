import { expect } from 'chai';
import { fold, type Decider } from '../../domain/decider.ts';
import { DomainError, type DomainErrorKind } from '../../domain/domain-error.ts';

/** Given past events, when a command, then these new events (or this refusal). After Emmett's DeciderSpecification. */
export const deciderSpec = <State, Command, Event>(decider: Decider<State, Command, Event>) => ({
  given: (past: Event[]) => ({
    when: (command: Command) => {
      const run = () => decider.decide(command, fold(decider, past));
      return {
        then: (expected: Event[]) => expect(run()).to.deep.equal(expected),
        thenRefuses: (kind: DomainErrorKind, pointer?: string) => {
          let error: unknown;
          try {
            run();
          } catch (caught) {
            error = caught;
          }
          expect(error, 'the command should be refused').to.be.instanceOf(DomainError);
          expect((error as DomainError).kind).to.equal(kind);
          if (pointer !== undefined) expect((error as DomainError).pointer).to.equal(pointer);
        },
      };
    },
  }),
});
