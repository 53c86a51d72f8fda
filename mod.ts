/**
 * LeaderWorkerSet for Deno: the single entrypoint of the `lws` binary (`deno task compile`), also run unchanged with
 * `deno run` and the same permissions by `deno task lws -- <args>`.
 *
 * ```sh
 * deno task lws -- --help
 * deno task lws -- install
 * deno task lws -- run --namespace team-a
 * ```
 *
 * The CLI lives in `cli/`, the configuration in `config.ts`, the composition root of `lws run` in `run.ts`.
 *
 * @module
 */
import { main } from "./cli/mod.ts";

export { VERSION } from "./cli/build_info.ts";
export { main } from "./cli/mod.ts";

if (import.meta.main) Deno.exit(await main(Deno.args));
