import { appendFileSync } from 'node:fs';

/** One measured figure of a resilience suite, beside the target the issue sets for it. */
export interface ResilienceFigure {
  /** The suite, e.g. `postgres-outage`. */
  suite: string;
  /** What was measured, e.g. `upload during outage`. */
  measure: string;
  /** The measured value with its unit, e.g. `503 in 18 ms`. */
  value: string;
  /** The target in words, e.g. `503 problem+json within 10 s`. */
  target: string;
  /** Whether the value meets the target (the suite's assertions enforce it; this is for the table). */
  met: boolean;
}

/** Where `npm run test:resilience` collects figures (scripts/resilience-run.ts prints them as one table). */
export const figuresFileVariable = 'RESILIENCE_FIGURES_FILE';

/** Prints a figure and, under `npm run test:resilience`, appends it to the run's figures file. */
export function reportFigure(figure: ResilienceFigure): void {
  const mode = process.env.RESILIENCE === 'full' ? 'full' : 'short';
  console.log(
    `[resilience] ${figure.suite} (${mode}) | ${figure.measure} | ${figure.value} | target ${figure.target} | ${figure.met ? 'met' : 'MISSED'}`,
  );
  const file = process.env[figuresFileVariable];
  if (file) appendFileSync(file, `${JSON.stringify({ ...figure, mode })}\n`);
}
