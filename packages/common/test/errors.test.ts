import { describe, expect, it } from "vitest";
import {
  ALL_ERROR_CODES,
  ERROR_CODES,
  isErrorCode,
  ProtocolError,
  SoormaError,
  TimeoutError,
} from "../src/errors.js";

describe("errors", () => {
  it("every code is prefixed, unique and has an HTTP status and a description", () => {
    expect(new Set(ALL_ERROR_CODES).size).toBe(ALL_ERROR_CODES.length);
    for (const code of ALL_ERROR_CODES) {
      expect(code).toMatch(/^SOORMA_ERR_[A-Z_]+$/);
      expect(ERROR_CODES[code].status).toBeGreaterThanOrEqual(400);
      expect(ERROR_CODES[code].description.length).toBeGreaterThan(10);
    }
  });

  it("errors carry code, status, cause and are instances of SoormaError", () => {
    const cause = new Error("root");
    const error = new ProtocolError("SOORMA_ERR_BAD_JSON", "bad", { cause });
    expect(error).toBeInstanceOf(SoormaError);
    expect(error.code).toBe("SOORMA_ERR_BAD_JSON");
    expect(error.statusCode).toBe(400);
    expect(error.cause).toBe(cause);
    expect(error.name).toBe("ProtocolError");
    expect(new TimeoutError("late").code).toBe("SOORMA_ERR_TIMEOUT");
  });

  it("isErrorCode tells known codes from other strings", () => {
    expect(isErrorCode("SOORMA_ERR_TIMEOUT")).toBe(true);
    expect(isErrorCode("SOORMA_ERR_NOPE")).toBe(false);
    expect(isErrorCode("toString")).toBe(false);
  });
});
