import { describe, expect, it } from "vitest";
import { normaliseServiceUrl, resolveServiceUrl } from "../src/client/url.js";

describe("service URL", () => {
  it("path - /v1/events/ws is appended when the URL has no path", () => {
    expect(normaliseServiceUrl("ws://127.0.0.1:8082")).toBe("ws://127.0.0.1:8082/v1/events/ws");
    expect(normaliseServiceUrl("ws://127.0.0.1:8082/")).toBe("ws://127.0.0.1:8082/v1/events/ws");
  });

  it("path - an explicit path is kept as given", () => {
    expect(normaliseServiceUrl("wss://gw.example/soorma/ws")).toBe("wss://gw.example/soorma/ws");
    expect(normaliseServiceUrl("ws://h:1/v1/events/ws?x=1")).toBe("ws://h:1/v1/events/ws?x=1");
  });

  it("scheme - http and https map to ws and wss", () => {
    expect(normaliseServiceUrl("http://localhost:9000")).toBe("ws://localhost:9000/v1/events/ws");
    expect(normaliseServiceUrl("https://events.example.com")).toBe("wss://events.example.com/v1/events/ws");
  });

  it("scheme - anything else is a ConfigError", () => {
    expect(() => normaliseServiceUrl("ftp://h")).toThrow(
      expect.objectContaining({ code: "SOORMA_ERR_CONFIG_INVALID" }),
    );
    expect(() => normaliseServiceUrl("not a url")).toThrow(
      expect.objectContaining({ code: "SOORMA_ERR_CONFIG_INVALID" }),
    );
  });

  it("default - option, else SOORMA_EVENT_SERVICE_URL, else ws://127.0.0.1:8082", () => {
    expect(resolveServiceUrl("ws://a:1", { SOORMA_EVENT_SERVICE_URL: "ws://b:2" })).toBe(
      "ws://a:1/v1/events/ws",
    );
    expect(resolveServiceUrl(undefined, { SOORMA_EVENT_SERVICE_URL: "http://b:2" })).toBe(
      "ws://b:2/v1/events/ws",
    );
    expect(resolveServiceUrl(undefined, {})).toBe("ws://127.0.0.1:8082/v1/events/ws");
    expect(resolveServiceUrl(undefined, { SOORMA_EVENT_SERVICE_URL: "" })).toBe(
      "ws://127.0.0.1:8082/v1/events/ws",
    );
  });
});
