const showinfoLine = /^\[Parsed_showinfo_\d+ @ [^\]]+\]\s*(.*)$/;
const frameLine = /^n:\s*(\d+)\s.*?\bpts_time:(\S+)/;

/**
 * Frame timestamps read from the `showinfo` filter's stderr lines. The filter is the last one in the
 * chain and frames pass through unchanged (`-fps_mode passthrough`), so its line `n` describes the n-th
 * frame on stdout; stdout and stderr are separate pipes, hence the wait in `at`.
 */
export class ShowinfoTimestamps {
  private readonly times = new Map<number, number>();
  private waiter: { frame: number; resolve: (time: number | undefined) => void } | null = null;
  private closed = false;

  /** A ToolProcess stderr hook: takes showinfo lines (true), leaves every other line to the error tail. */
  readonly accept = (line: string): boolean => {
    const match = showinfoLine.exec(line);
    if (!match) return false;
    const frame = frameLine.exec(match[1] ?? '');
    if (frame) {
      // NOPTS parses to NaN and is reported as missing.
      this.times.set(Number(frame[1]), Number(frame[2]));
      this.wake();
    }
    return true;
  };

  /** No more lines will come (the process ended). */
  close(): void {
    this.closed = true;
    this.wake();
  }

  /** The presentation time of frame `frame`, or undefined when it never came (or within waitMs). */
  at(frame: number, waitMs: number): Promise<number | undefined> {
    if (this.times.has(frame) || this.closed) return Promise.resolve(this.take(frame));
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        resolve(undefined);
      }, waitMs);
      this.waiter = {
        frame,
        resolve: (time) => {
          clearTimeout(timer);
          resolve(time);
        },
      };
    });
  }

  private take(frame: number): number | undefined {
    const time = this.times.get(frame);
    this.times.delete(frame);
    return time === undefined || Number.isNaN(time) ? undefined : time;
  }

  private wake(): void {
    const waiter = this.waiter;
    if (!waiter || (!this.times.has(waiter.frame) && !this.closed)) return;
    this.waiter = null;
    waiter.resolve(this.take(waiter.frame));
  }
}
