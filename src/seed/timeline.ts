import type { Random } from './random.js';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

/**
 * How traffic is spread over a window that ends now: growing over the window (the last days are busier
 * than the first), busier in working hours (UTC) than at night, quieter at weekends, with some noise per
 * hour. Timestamps come out in ascending order, as an append-only log is written.
 */
export class Timeline {
  private readonly start: number;
  private readonly cumulative: Float64Array;

  constructor(
    random: Random,
    private readonly end: number,
    days: number,
  ) {
    const hours = Math.round(days * 24);
    this.start = end - hours * HOUR_MS;
    this.cumulative = new Float64Array(hours + 1);
    for (let hour = 0; hour < hours; hour++) {
      const at = new Date(this.start + hour * HOUR_MS);
      const growth = 0.6 + 0.8 * (hour / hours);
      const daytime = 0.35 + 0.65 * Math.max(0, Math.sin(((at.getUTCHours() - 5) / 24) * 2 * Math.PI));
      const weekday = at.getUTCDay() === 0 || at.getUTCDay() === 6 ? 0.55 : 1;
      const weight = growth * daytime * weekday * random.between(0.85, 1.15);
      this.cumulative[hour + 1] = (this.cumulative[hour] as number) + weight;
    }
  }

  /** `count` ascending epoch-millisecond timestamps within the window, denser where traffic is. */
  *timestamps(random: Random, count: number): Generator<number> {
    const total = this.cumulative[this.cumulative.length - 1] as number;
    let hour = 0;
    for (let i = 0; i < count; i++) {
      const target = ((i + random.next()) / count) * total;
      while ((this.cumulative[hour + 1] as number) < target && hour < this.cumulative.length - 2) hour++;
      const from = this.cumulative[hour] as number;
      const width = (this.cumulative[hour + 1] as number) - from;
      const within = width > 0 ? (target - from) / width : 0;
      yield Math.min(this.end, Math.floor(this.start + (hour + within) * HOUR_MS));
    }
  }
}
