import { mkdir, writeFile } from "node:fs/promises";
import { cpus, loadavg, totalmem } from "node:os";
import { dirname } from "node:path";

/**
 * @typedef {{ id: string, label: string, name: string, skipped: string }} SkippedResult - `name` starts its note line
 */

/** The machine the numbers came from; ratios travel between machines, absolute numbers do not. */
export function describeMachine() {
  const cores = cpus();
  return {
    cpus: cores.length,
    cpuModel: cores[0]?.model.trim() ?? "unknown",
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    platform: `${process.platform}-${process.arch}`,
    node: process.version,
    /** Other work on the machine skews absolute numbers more than ratios; this shows how much there was. */
    loadAverage1m: Math.round(loadavg()[0] * 100) / 100,
  };
}

/**
 * The results as a fixed-width text table, skipped scenarios as notes below it.
 * @param {Array<import("./measure.mjs").ScenarioResult | SkippedResult>} rows - in the order they ran
 * @returns {string}
 */
export function formatTable(rows) {
  const header = ["scenario", "events", "events/s", "× baseline", "p50 ms", "p99 ms"];
  const measured = rows.filter((row) => !("skipped" in row));
  const lines = measured.map((row) => [
    row.label,
    String(row.events),
    Math.round(row.eventsPerSecond).toLocaleString("en-US"),
    `${row.ratio.toFixed(3)}×`,
    row.p50Ms.toFixed(2),
    row.p99Ms.toFixed(2),
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...lines.map((line) => line[column].length)),
  );
  const render = (cells) =>
    cells
      .map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column])))
      .join("  ");
  const notes = rows.filter((row) => "skipped" in row).map((row) => `${row.name}: skipped (${row.skipped})`);
  return [
    render(header),
    widths.map((width) => "-".repeat(width)).join("  "),
    ...lines.map(render),
    ...notes,
  ].join("\n");
}

/**
 * Write the run's results as JSON, creating the directory.
 * @param {string} path
 * @param {unknown} payload
 */
export async function writeResults(path, payload) {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify(payload, null, 2)}\n`);
}
