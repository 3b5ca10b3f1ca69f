import type { Box } from '../faces/face-types.js';

export type Point = [number, number];

/** Ray-casting point-in-polygon test. */
export function insidePolygon(x: number, y: number, polygon: readonly Point[]): boolean {
  let inside = false;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
    const [xi, yi] = polygon[i]!;
    const [xj, yj] = polygon[j]!;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** The polygon scaled about its centroid (factor < 1 shrinks it). */
export function scalePolygon(polygon: readonly Point[], factor: number): Point[] {
  const [cx, cy] = centroid(polygon);
  return polygon.map(([x, y]) => [cx + (x - cx) * factor, cy + (y - cy) * factor]);
}

export function centroid(polygon: readonly Point[]): Point {
  const x = polygon.reduce((sum, [px]) => sum + px, 0) / polygon.length;
  const y = polygon.reduce((sum, [, py]) => sum + py, 0) / polygon.length;
  return [x, y];
}

/** The box scaled about its centre. */
export function scaleBox([x, y, width, height]: Box, factor: number): Box {
  const cx = x + width / 2;
  const cy = y + height / 2;
  return [cx - (width * factor) / 2, cy - (height * factor) / 2, width * factor, height * factor];
}

export function insideBox(px: number, py: number, [x, y, width, height]: Box): boolean {
  return px >= x && px < x + width && py >= y && py < y + height;
}

/** An ellipse inscribed in the box, as a polygon (for faces without a mesh). */
export function boxEllipse([x, y, width, height]: Box, points = 36): Point[] {
  return Array.from({ length: points }, (_, i) => {
    const angle = (2 * Math.PI * i) / points;
    return [x + width / 2 + (width / 2) * Math.cos(angle), y + height / 2 + (height / 2) * Math.sin(angle)];
  });
}
