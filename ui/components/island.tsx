/**
 * Server side of islands (Fresh's rule): an island is a component whose props are plain serialisable data. The
 * server renders it inside `<div data-island="Name" data-props="{json}">`; `ui/islands/main.tsx` parses the
 * attribute and hydrates the component in the browser. Props travel in an attribute (escaped by Preact like any
 * attribute) rather than in a script element, so no markup is ever built from strings.
 *
 * @module
 */
import type { FunctionComponent, VNode } from "preact";

/**
 * Renders `component` with `props` as a hydratable island.
 *
 * @param props `name` (key in the island registry), the component and its props.
 * @returns The island markup.
 */
export function Island<P extends object>(
  props: { name: string; component: FunctionComponent<P>; props: P },
): VNode {
  const Component = props.component;
  return (
    <div data-island={props.name} data-props={JSON.stringify(props.props)} class="island">
      <Component {...props.props} />
    </div>
  );
}
