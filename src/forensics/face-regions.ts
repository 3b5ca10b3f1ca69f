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
 * Inside the face (the oval shrunk to 80%, clear of its boundary), the head ring just around it (between
 * 1.2 and 1.7 times the oval: hair, ears, neck and what is right behind the head, which a face swap leaves
 * alone and which the encoder treats like the face) and the frame further out (outside twice the oval's
 * box): the regions whose camera traces should agree.
 */
export function faceAndSurround(face: FaceObservation) {
  const outline = faceOutline(face);
  const inner = scalePolygon(outline, 0.8);
  const ringInner = scalePolygon(outline, 1.2);
  const ringOuter = scalePolygon(outline, 1.7);
  const box = polygonBox(outline);
  const clearOfFace = scaleBox(box, 2);
  return {
    outline,
    box,
    insideFace: (x: number, y: number) => insidePolygon(x, y, inner),
    inRing: (x: number, y: number) => insidePolygon(x, y, ringOuter) && !insidePolygon(x, y, ringInner),
    inSurround: (x: number, y: number) => !insideBox(x, y, clearOfFace),
  };
}
