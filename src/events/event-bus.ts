export interface AnalysisProgressEvent {
  type: 'analysis.progress' | 'analysis.done' | 'analysis.failed';
  orgId: string;
  analysisId: string;
  mediaId: string;
  status: 'queued' | 'running' | 'done' | 'failed';
  stage: string | null;
  progress: number;
  band?: string | null;
  at: string;
}

/** Fan-out of progress to WebSocket clients on any process (in memory, or Redis pub/sub when scaled out). */
export interface EventBus {
  publish(event: AnalysisProgressEvent): Promise<void>;
  /** Returns an unsubscribe function. */
  subscribe(orgId: string, listener: (event: AnalysisProgressEvent) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}
