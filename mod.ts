/**
 * LeaderWorkerSet for Deno: the single entrypoint of the `lws` binary.
 *
 * The CLI (issue: one binary) grows here; for now it prints the version so the skeleton runs.
 * @module
 */

/** The product's version, stamped into the User-Agent and `lws version`. */
export const VERSION = "0.1.0";

if (import.meta.main) {
  console.log(`lws ${VERSION} (deno ${Deno.version.deno})`);
}
