import assert from "node:assert/strict";
import { selectPreset } from "./main.ts";
import { PRESETS } from "./presets.ts";

Deno.test("selectPreset() keeps the named configurations in preset order and overrides the timeout", () => {
  const full = PRESETS.full;
  assert.deepEqual(selectPreset(full).configs.map((c) => c.name), ["default", "raised"]);
  assert.equal(selectPreset(full).workloadTimeoutSeconds, full.workloadTimeoutSeconds);
  const one = selectPreset(full, "raised, default", "2400");
  assert.deepEqual(one.configs.map((c) => c.name), ["default", "raised"]);
  assert.equal(one.workloadTimeoutSeconds, 2400);
  assert.deepEqual(selectPreset(full, "default").configs.map((c) => c.name), ["default"]);
  assert.equal(full.configs.length, 2, "the preset itself is unchanged");
  assert.throws(
    () => selectPreset(full, "default,fast"),
    /Cannot select configurations fast: the preset has default, raised/,
  );
  assert.throws(() => selectPreset(full, undefined, "soon"), /Cannot use --timeout soon/);
  assert.throws(() => selectPreset(full, undefined, "0"), /not a positive number/);
});
