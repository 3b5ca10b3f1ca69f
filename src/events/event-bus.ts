export interface AnalysisProgressEvent {
  type: 'analysis.progress' | 'analysis.preliminary' | 'analysis.done' | 'analysis.failed';
  orgId: string;
  analysisId: string;
  mediaId: string;
  status: 'queued' | 'running' | 'done' | 'failed';
  stage: string | null;
  progress: number;
  /** On `analysis.progress`: whether `stage` started or finished (detectors run together, so both matter). */
  phase?: 'started' | 'finished';
  band?: string | null;
  /** Only on `analysis.preliminary`, always true: its band is an early indication, not the analysis's result. */
  preliminary?: true;
  /** On `analysis.preliminary`: the detectors its band fuses, and those still running. */
  detectors?: string[];
  pending?: string[];
  at: string;
}

/** Fan-out of progress to WebSocket clients on any process (in memory, or Redis pub/sub when scaled out). */
export interface EventBus {
  publish(event: AnalysisProgressEvent): Promise<void>;
  /** Returns an unsubscribe function. */
  subscribe(orgId: string, listener: (event: AnalysisProgressEvent) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}
