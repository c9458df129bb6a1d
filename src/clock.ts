/** Wall-clock milliseconds, injected so tests can move time. */
export type Clock = Readonly<{ now(): number }>;

export const systemClock: Clock = Object.freeze({ now: () => Date.now() });
