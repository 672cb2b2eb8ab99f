/** What a relay child process tells the bench once it listens. */
export interface RelayReady {
  kind: "listening";
  relay: string;
  port: number;
  /** uWebSockets.js only: its native addon loaded (not the JavaScript fallback). */
  native: boolean;
}

export function announce(relay: string, port: number, native: boolean): void {
  const ready: RelayReady = { kind: "listening", relay, port, native };
  process.send?.(ready);
  // The relay lives as long as the bench that started it.
  process.on("disconnect", () => process.exit(0));
}
