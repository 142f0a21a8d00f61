/** Least severe first. */
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ["text", "json"] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];
const ORDER = Object.fromEntries(LOG_LEVELS.map((level, i) => [level, i])) as Record<LogLevel, number>;

/**
 * One line per event on stderr, `<iso time> <level> <message>`, or with `--log-format json` one JSON object
 * per line (`{"time","level","message"}`) for log shippers. Debug lines only when asked for.
 */
export class Logger {
  private readonly min: number;
  constructor(
    level: LogLevel = "info",
    private readonly format: LogFormat = "text",
  ) {
    this.min = ORDER[level];
  }
  enabled(level: LogLevel): boolean {
    return ORDER[level] >= this.min;
  }
  log(level: LogLevel, message: string): void {
    if (ORDER[level] < this.min) return;
    const time = new Date().toISOString();
    process.stderr.write(
      this.format === "json"
        ? `${JSON.stringify({ time, level, message })}\n`
        : `${time} ${level.toUpperCase().padEnd(5)} ${message}\n`,
    );
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
