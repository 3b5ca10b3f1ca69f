import { ConfigError } from '../config/config-error.js';
import type { Detector } from '../pipeline/detector.js';
import { createOnnxModelDetector } from '../pipeline/detectors/onnx-model.detector.js';
import { ModelCardError } from './model-card.js';
import { loadOnnxModel, type OnnxModel } from './onnx-model.js';

/**
 * One detector per configured model card (MODEL_CARDS), each verified before the platform starts: a refused
 * card is a configuration error (exit code 2) naming the card and the reason, never a silently missing check.
 */
export async function loadModelDetectors(cardPaths: readonly string[]): Promise<Detector[]> {
  const problems: string[] = [];
  const models: OnnxModel[] = [];
  for (const cardPath of cardPaths) {
    try {
      models.push(await loadOnnxModel(cardPath));
    } catch (error) {
      if (!(error instanceof ModelCardError)) throw error;
      problems.push(`MODEL_CARDS: ${error.message}`);
    }
  }
  const seen = new Map<string, string>();
  for (const model of models) {
    const other = seen.get(model.card.name);
    if (other)
      problems.push(`MODEL_CARDS: ${other} and ${model.cardPath} are both named "${model.card.name}"`);
    seen.set(model.card.name, model.cardPath);
  }
  if (problems.length > 0) {
    await Promise.all(models.map((model) => model.release()));
    throw new ConfigError(problems);
  }
  return models.map((model) => createOnnxModelDetector(model));
}
