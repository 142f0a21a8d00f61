/** One line per event on stderr: `<iso time> <level> <message>`. Debug lines only when asked for. */
export type LogLevel = "debug" | "info" | "warn" | "error";
const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export class Logger {
  private readonly min: number;
  constructor(level: LogLevel = "info") {
    this.min = ORDER[level];
  }
  enabled(level: LogLevel): boolean {
    return ORDER[level] >= this.min;
  }
  log(level: LogLevel, message: string): void {
    if (ORDER[level] < this.min) return;
    process.stderr.write(`${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${message}\n`);
  }
  debug(message: string): void {
    if (this.min === 0) this.log("debug", message);
  }
  info(message: string): void {
    this.log("info", message);
  }
  warn(message: string): void {
    this.log("warn", message);
  }
  error(message: string): void {
    this.log("error", message);
  }
}
