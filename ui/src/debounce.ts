/** Runs `action` once `delayMs` after the last `schedule()`; `flush()` runs it now if due. */
export class Debouncer {
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly delayMs: number,
    private readonly action: () => Promise<void>,
  ) {}

  schedule(): void {
    this.cancel();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.action();
    }, this.delayMs);
  }

  /** Whether an action is scheduled and has not run yet. */
  get pending(): boolean {
    return this.timer !== undefined;
  }

  /** Runs a scheduled action immediately and waits for it; does nothing if none is due. */
  async flush(): Promise<void> {
    if (this.timer === undefined) return;
    this.cancel();
    await this.action();
  }

  cancel(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }
}
