// How many server-sent-event streams this web process has open. Reported by /api/health, so operators (and
// the tests) can see that streams end when the browser goes away or the operation finishes.
const holder = globalThis as unknown as { __portalEventStreams?: { open: number } };
holder.__portalEventStreams ??= { open: 0 };
const gauge = holder.__portalEventStreams;

export const openEventStreams = () => gauge.open;
export const streamOpened = () => {
  gauge.open++;
};
export const streamClosed = () => {
  gauge.open--;
};
