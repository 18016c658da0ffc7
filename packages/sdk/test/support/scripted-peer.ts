import type { IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import {
  type ClientFrame,
  decodeClientFrame,
  encodeFrame,
  type ServerFrameInput,
  WS_PATH,
} from "@soorma/common";
import { type WebSocket, WebSocketServer } from "ws";

/** One accepted connection of a {@link ScriptedPeer}. */
export interface PeerConnection {
  readonly headers: IncomingHttpHeaders;
  readonly frames: ClientFrame[];
  send(frame: ServerFrameInput): void;
  close(code?: number): void;
}

/**
 * A WebSocket server that speaks the gateway protocol from a script: it decodes what the SDK sends with the real
 * schemas and answers only what a test tells it to. Used for client behaviour the real gateway cannot be made to
 * show on demand (a protocol-version refusal, an unknown error code); everything else is tested against the real
 * gateway in services/event-service/test/sdk.
 */
export class ScriptedPeer {
  readonly connections: PeerConnection[] = [];
  readonly #server: WebSocketServer;
  readonly #onFrame: (connection: PeerConnection, frame: ClientFrame) => void;

  private constructor(server: WebSocketServer, onFrame: (c: PeerConnection, f: ClientFrame) => void) {
    this.#server = server;
    this.#onFrame = onFrame;
    server.on("connection", (socket: WebSocket, request) => {
      const connection: PeerConnection = {
        headers: request.headers,
        frames: [],
        send: (frame) => socket.send(encodeFrame(frame)),
        close: (code = 1000) => socket.close(code),
      };
      this.connections.push(connection);
      socket.on("message", (data) => {
        const decoded = decodeClientFrame(String(data));
        if (!decoded.ok) throw decoded.error;
        connection.frames.push(decoded.frame);
        this.#onFrame(connection, decoded.frame);
      });
    });
  }

  /** Start on a free loopback port; `refuseWith` answers every upgrade with that HTTP status instead. */
  static async start(
    onFrame: (connection: PeerConnection, frame: ClientFrame) => void,
    options: { refuseWith?: number } = {},
  ): Promise<ScriptedPeer> {
    const server = new WebSocketServer({
      host: "127.0.0.1",
      port: 0,
      path: WS_PATH,
      verifyClient: (_info, done) =>
        options.refuseWith === undefined ? done(true) : done(false, options.refuseWith, "refused"),
    });
    await new Promise<void>((resolve) => server.once("listening", resolve));
    return new ScriptedPeer(server, onFrame);
  }

  /** URL clients connect to. */
  get url(): string {
    return `ws://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** Close every connection and the server. */
  async stop(): Promise<void> {
    for (const client of this.#server.clients) client.terminate();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/** The welcome the real gateway sends, with test-sized numbers. */
export function welcomeFor(hello: Extract<ClientFrame, { type: "hello" }>): ServerFrameInput {
  return {
    type: "welcome",
    protocol: hello.protocol,
    connection_id: "c-1",
    agent_id: hello.agent_id,
    group: hello.agent_name ?? hello.agent_id,
    prefetch: hello.prefetch,
    lease_ms: 30_000,
    max_attempts: 5,
    max_message_bytes: 1_048_576,
    server_version: "scripted",
  };
}
