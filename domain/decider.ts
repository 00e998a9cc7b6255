/** After Emmett: a decision is a pure function of a command and the state folded from past events. */
export interface Decider<State, Command, Event> {
  decide(command: Command, state: State): Event[];
  evolve(state: State, event: Event): State;
  initialState(): State;
}

export const fold = <State, Event>(decider: Pick<Decider<State, never, Event>, 'evolve' | 'initialState'>, events: Iterable<Event>): State => {
  let state = decider.initialState();
  for (const event of events) state = decider.evolve(state, event);
  return state;
};
