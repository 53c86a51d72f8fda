import assert from "node:assert/strict";
import { getLogger } from "@logtape/logtape";
import { configureLogging, formatJson, formatText, renderMessage, resetLogging } from "./logging.ts";

const record = {
  category: ["controller-runtime", "metrics"],
  level: "info" as const,
  message: ["Serving metrics server"],
  rawMessage: "Serving metrics server",
  timestamp: Date.parse("2026-01-02T03:04:05.678Z"),
  properties: { bindAddress: ":8443", secure: true },
};

Deno.test("formatText() writes zap's development console line that upstream's e2e greps", () => {
  const line = formatText(record);
  assert.equal(
    line,
    '2026-01-02T03:04:05.678Z\tINFO\tcontroller-runtime.metrics\tServing metrics server\t{"bindAddress":":8443","secure":true}',
  );
  assert.ok(line.includes("controller-runtime.metrics\tServing metrics server"));
  assert.equal(formatText({ ...record, properties: {}, level: "warning" }).split("\t").length, 4, "no empty fields");
  assert.match(formatText({ ...record, level: "warning" }), /\tWARN\t/);
  assert.match(formatText({ ...record, level: "error" }), /\tERROR\t/);
  assert.match(formatText({ ...record, level: "debug" }), /\tDEBUG\t/);
});

Deno.test("formatJson() writes one object with zap's field names", () => {
  assert.deepEqual(
    JSON.parse(formatJson({ ...record, level: "warning", properties: { error: new Error("boom"), n: 1n } })),
    {
      level: "warn",
      ts: "2026-01-02T03:04:05.678Z",
      logger: "controller-runtime.metrics",
      msg: "Serving metrics server",
      error: "boom",
      n: "1",
    },
  );
});

Deno.test("renderMessage() substitutes values: strings raw, errors by message, the rest as JSON", () => {
  assert.equal(
    renderMessage({ message: ["a ", "x", " b ", { k: 1 }, " c ", new Error("e"), ""] }),
    'a x b {"k":1} c e',
  );
});

Deno.test("configureLogging() routes every category at the level and above", async () => {
  const lines: string[] = [];
  await configureLogging({ level: "info", format: "text", write: (l) => lines.push(l) });
  try {
    getLogger(["lws", "x"]).debug("hidden");
    getLogger(["lws", "x"]).info("Hello {name}", { name: "w" });
    getLogger(["controller-runtime", "metrics"]).info("Serving metrics server", { secure: true });
  } finally {
    await resetLogging();
  }
  assert.equal(lines.length, 2);
  assert.match(lines[0]!, /\tINFO\tlws\.x\tHello w\t\{"name":"w"\}$/);
  assert.match(lines[1]!, /\tcontroller-runtime\.metrics\tServing metrics server\t/);
});
