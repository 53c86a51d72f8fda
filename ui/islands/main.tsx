/**
 * Browser entry of the dashboard (bundled into `ui/static/islands.js` by `deno task ui:bundle`): opens the page's
 * live channel and hydrates every `[data-island]` with the props the server put in its `data-props` attribute.
 *
 * @module
 */
import { hydrate } from "preact";
import { LiveContext } from "../components/live.ts";
import { ISLANDS } from "../components/registry.ts";
import { LiveChannel } from "./live_channel.ts";

function main(): void {
  const stream = document.body.dataset.stream;
  const channel = stream ? new LiveChannel(stream) : null;
  for (const element of document.querySelectorAll<HTMLElement>("[data-island]")) {
    const Component = ISLANDS[element.dataset.island ?? ""];
    if (!Component) continue;
    const props = JSON.parse(element.dataset.props ?? "{}");
    hydrate(
      <LiveContext.Provider value={channel}>
        <Component {...props} />
      </LiveContext.Provider>,
      element,
    );
  }
  channel?.start();
  document.documentElement.classList.add("js");
}

main();
