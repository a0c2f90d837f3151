// Runs a function as a new task after the messages already queued: a MessageChannel task.
// setTimeout(0) would do it too but is clamped to 4 ms after a few nested calls, so a run's step
// loop would idle 4 ms between steps; this lets the loop yield to Pause/Step/update for free.
export function createDefer(): (fn: () => void) => void {
  const channel = new MessageChannel();
  const deferred: (() => void)[] = [];
  channel.port1.onmessage = () => deferred.shift()?.();
  return (fn) => {
    deferred.push(fn);
    channel.port2.postMessage(null);
  };
}
