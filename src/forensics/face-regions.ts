import { faceOvalIndexes, type Box, type FaceObservation } from '../faces/face-types.js';
import { boxEllipse, insideBox, insidePolygon, scaleBox, scalePolygon, type Point } from './regions.js';

/** The face as a polygon: the mesh's face oval, or an ellipse in the box when there is no mesh. */
export function faceOutline(face: FaceObservation): Point[] {
  if (face.mesh.length > 400)
    return faceOvalIndexes.map((index) => [face.mesh[index]![0], face.mesh[index]![1]]);
  return boxEllipse(face.box);
}

/** Tight box around a polygon. */
export function polygonBox(polygon: readonly Point[]): Box {
  const xs = polygon.map(([x]) => x);
  const ys = polygon.map(([, y]) => y);
  const left = Math.min(...xs);
  const top = Math.min(...ys);
  return [left, top, Math.max(...xs) - left, Math.max(...ys) - top];
}

/**
 * Inside the face (the oval shrunk to 80%, clear of its boundary) and the frame around it (everything
 * outside twice the oval's box, so that a pasted region reaching well past the face is still left out):
 * the two regions whose camera traces should agree.
 */
export function faceAndSurround(face: FaceObservation) {
  const outline = faceOutline(face);
  const inner = scalePolygon(outline, 0.8);
  const box = polygonBox(outline);
  const clearOfFace = scaleBox(box, 2);
  return {
    outline,
    box,
    insideFace: (x: number, y: number) => insidePolygon(x, y, inner),
    inSurround: (x: number, y: number) => !insideBox(x, y, clearOfFace),
  };
}
