/** The part of a `ws` WebSocket the keepalive needs. */
export interface PingableSocket {
  ping(): void;
  terminate(): void;
  on(event: "pong" | "message", listener: () => void): unknown;
}

/**
 * Ping `socket` every `intervalMs`; terminate it when nothing (no pong, no frame) came back since the previous
 * ping. A peer whose machine died or whose network vanished never closes its TCP connection; without this its
 * member would hold deliveries until every lease expired. Returns a function that stops the timer.
 *
 * @param intervalMs - 0 disables the keepalive
 */
export function startKeepalive(socket: PingableSocket, intervalMs: number): () => void {
  if (intervalMs <= 0) return () => {};
  let alive = true;
  const markAlive = (): void => {
    alive = true;
  };
  socket.on("pong", markAlive);
  socket.on("message", markAlive);
  const timer = setInterval(() => {
    if (!alive) {
      socket.terminate();
      return;
    }
    alive = false;
    socket.ping();
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
