/** Seconds since the epoch. Injected so tests never depend on the real time. */
export type Clock = () => number

export const systemClock: Clock = () => Math.floor(Date.now() / 1000)
