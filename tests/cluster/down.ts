/**
 * `deno task cluster:down`: stops exactly the processes `cluster:up` recorded (by PID, after checking each is
 * still ours) and removes the state, so the next `cluster:up` starts fresh. Logs stay in `.cluster/logs/`.
 *
 * @module
 */
import { stopControlPlane } from "./control_plane.ts";
import { clusterDir, readState, withStateLock } from "./state.ts";

function log(message: string): void {
  console.error(`[cluster:down] ${message}`);
}

const dir = clusterDir();
try {
  await Deno.stat(dir);
} catch {
  log(`no cluster directory ${dir}: nothing to stop`);
  Deno.exit(0);
}
await withStateLock(dir, async () => {
  const state = await readState(dir);
  if (!state) {
    log(`no cluster recorded in ${dir}: nothing to stop`);
    return;
  }
  await stopControlPlane(state, log);
  log("stopped; state removed");
});
