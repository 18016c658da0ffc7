import type { Readable } from "node:stream";

/** A line a child process wrote on stdout, parsed as JSON when it is a JSON object. */
export interface JsonLine {
  readonly [field: string]: unknown;
}

/** Options of {@link OutputLines}. */
export interface OutputLinesOptions {
  /** How many raw lines to keep for failure messages. @default 200 */
  tailLines?: number;
}

/**
 * Collects a child process's output line by line: keeps a bounded tail of raw text for error messages, every
 * JSON-object line parsed, and tells listeners about each new JSON line. Gateways (pino) and worker fixtures
 * both speak one JSON object per line, so tests can wait for "what the process said" instead of sleeping.
 */
export class OutputLines {
  readonly #tailLines: number;
  readonly #tail: string[] = [];
  readonly #json: JsonLine[] = [];
  readonly #listeners = new Set<(line: JsonLine) => void>();

  constructor(options: OutputLinesOptions = {}) {
    this.#tailLines = options.tailLines ?? 200;
  }

  /** Every JSON-object line seen so far, oldest first. */
  get json(): readonly JsonLine[] {
    return this.#json;
  }

  /** The last lines of raw text (both streams that were attached), joined for an error message. */
  tail(lines = 40): string {
    return this.#tail.slice(-lines).join("\n");
  }

  /**
   * Read `stream` line by line. `label` prefixes the raw tail (e.g. "stderr") so a failure message shows which
   * stream said what. JSON lines of every attached stream are parsed: loggers differ in which stream they use.
   */
  attach(stream: Readable, label?: string): void {
    let partial = "";
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => {
      partial += chunk;
      const lines = partial.split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) this.#push(line, label);
    });
    stream.on("end", () => {
      if (partial !== "") this.#push(partial, label);
      partial = "";
    });
  }

  /** Call `listener` for every JSON line that arrives from now on. Returns the function that removes it. */
  onJson(listener: (line: JsonLine) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #push(rawLine: string, label: string | undefined): void {
    const line = rawLine.replace(/\r$/, "");
    if (line === "") return;
    this.#tail.push(label === undefined ? line : `[${label}] ${line}`);
    if (this.#tail.length > this.#tailLines) this.#tail.shift();
    const parsed = parseJsonObject(line);
    if (parsed === undefined) return;
    this.#json.push(parsed);
    for (const listener of this.#listeners) listener(parsed);
  }
}

function parseJsonObject(line: string): JsonLine | undefined {
  if (!line.startsWith("{")) return undefined;
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as JsonLine)
      : undefined;
  } catch {
    return undefined;
  }
}
