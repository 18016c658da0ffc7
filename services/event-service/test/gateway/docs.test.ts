import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ERROR_CODES, type ErrorCode } from "@soorma/common";
import { describe, expect, it } from "vitest";
import { SETTINGS } from "../../src/config.js";
import { CLOSE_CODES } from "../../src/core/close-codes.js";

function readDoc(name: string): string {
  return readFileSync(fileURLToPath(new URL(`../../../../docs/${name}`, import.meta.url)), "utf8");
}

describe("documentation", () => {
  const protocol = readDoc("protocol.md");

  it("protocol.md - every error code has a table row with its HTTP status", () => {
    for (const [code, { status }] of Object.entries(ERROR_CODES)) {
      expect(protocol, code).toMatch(new RegExp(`^\\|\\s*\`${code}\`\\s*\\|\\s*${status}\\s*\\|`, "m"));
    }
  });

  it("protocol.md - names no error code that does not exist", () => {
    const mentioned = new Set(protocol.match(/SOORMA_ERR_[A-Z_]+/g) ?? []);
    const unknown = [...mentioned].filter((code) => !Object.hasOwn(ERROR_CODES, code as ErrorCode));
    expect(unknown).toEqual([]);
  });

  it("protocol.md - every close code the gateway sends has a row", () => {
    for (const code of Object.values(CLOSE_CODES)) {
      expect(protocol, String(code)).toMatch(new RegExp(`^\\|\\s*${code}\\s*\\|`, "m"));
    }
  });

  it("configuration.md - every setting has a row with its env var and flag", () => {
    const configuration = readDoc("configuration.md");
    for (const setting of SETTINGS) {
      expect(configuration, setting.env).toMatch(
        new RegExp(`^\\|\\s*\`${setting.env}\`\\s*\\|\\s*\`--${setting.flag}\`\\s*\\|`, "m"),
      );
    }
  });
});
