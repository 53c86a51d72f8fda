import assert from "node:assert/strict";
import { controllerOf, isDeleting } from "./meta.ts";

Deno.test("isDeleting() reads metadata.deletionTimestamp; null and absent are not deleting", () => {
  assert.equal(isDeleting({ metadata: { deletionTimestamp: "2026-11-26T00:00:00Z" } }), true);
  assert.equal(isDeleting({ metadata: { deletionTimestamp: null } }), false);
  assert.equal(isDeleting({ metadata: {} }), false);
  assert.equal(isDeleting({}), false);
});

Deno.test("controllerOf() returns the owner reference marked controller, not just any owner", () => {
  const owner = { apiVersion: "apps/v1", kind: "StatefulSet", name: "s", uid: "u" };
  assert.equal(controllerOf({ metadata: { ownerReferences: [owner] } }), undefined);
  assert.deepEqual(
    controllerOf({ metadata: { ownerReferences: [owner, { ...owner, name: "c", controller: true }] } })?.name,
    "c",
  );
  assert.equal(controllerOf({}), undefined);
});
