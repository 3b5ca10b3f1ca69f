import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { runTool } from './ffmpeg-process.js';
import { imageFromBytes, type Rect, type RgbImage } from './rgb-image.js';

/** A photo with one clear frontal face, and where that face is (found by hand, not by our detector). */
export interface SourceImage {
  name: string;
  path: string;
  image: RgbImage;
  face: Rect;
}

interface KnownFace {
  file: string;
  width: number;
  height: number;
  /** Forehead to chin, ear to ear, in source pixels. */
  face: [x: number, y: number, width: number, height: number];
}

/**
 * Face boxes of Debian sample images, drawn by hand (independent of the detectors under test). Matched
 * by file name and size, so a different image under the same name is not used.
 */
export const knownFaces: readonly KnownFace[] = [
  // python3-skimage: Eileen Collins, NASA portrait.
  { file: 'astronaut.png', width: 512, height: 512, face: [172, 62, 108, 118] },
  // opencv-doc html (dnn face detection tutorial): two studio portraits.
  { file: '230501201_1.jpg', width: 584, height: 824, face: [180, 200, 310, 400] },
  { file: '227943776_1.jpg', width: 434, height: 434, face: [145, 100, 155, 190] },
];

/** Where Debian installs the sample images, with the package that ships them. */
export const debianSourceDirs = [
  { dir: '/usr/lib/python3/dist-packages/skimage/data', packageName: 'python3-skimage' },
  { dir: '/usr/share/doc/opencv-doc/opencv4/html', packageName: 'opencv-doc' },
  { dir: '/usr/share/doc/opencv-doc/examples/data', packageName: 'opencv-doc' },
] as const;

export class SourceImagesError extends Error {}

const imageExtensions = new Set(['.png', '.jpg', '.jpeg', '.bmp', '.webp', '.tif', '.tiff']);

export interface SourceImageTools {
  ffmpeg: string;
  ffprobe: string;
  signal: AbortSignal;
}

/**
 * Images of a directory whose face box is known: from `faces.json` in the directory
 * (`{ "file.jpg": [x, y, width, height] }`) or the table of Debian sample images.
 */
export async function loadSourceDir(dir: string, tools: SourceImageTools): Promise<SourceImage[]> {
  const entries = await readdir(dir).catch((error: unknown) => {
    throw new SourceImagesError(`cannot read the source directory ${dir}: ${(error as Error).message}`);
  });
  const listed = await readFacesJson(join(dir, 'faces.json'));
  const files = entries.filter((name) => imageExtensions.has(extname(name).toLowerCase())).sort();
  const sources: SourceImage[] = [];
  for (const file of files) {
    const source = await loadSource(join(dir, file), listed.get(file) ?? null, tools);
    if (source) sources.push(source);
  }
  return sources;
}

/** The known Debian sample images that are installed, looked for under `root` (normally `/`). */
export async function loadDebianSources(tools: SourceImageTools, root = '/'): Promise<SourceImage[]> {
  const sources: SourceImage[] = [];
  for (const { dir } of debianSourceDirs) {
    for (const known of knownFaces) {
      const path = join(root, dir, known.file);
      if (sources.some((source) => source.name === known.file)) continue;
      if (!(await isFile(path))) continue;
      const source = await loadSource(path, null, tools);
      if (source) sources.push(source);
    }
  }
  if (sources.length === 0) {
    const packages = [...new Set(debianSourceDirs.map((entry) => entry.packageName))].join(' ');
    throw new SourceImagesError(
      `no face images found: install the Debian packages ${packages} (apt-get install ${packages}), or pass --source-dir DIR with images and a faces.json`,
    );
  }
  return sources;
}

async function loadSource(
  path: string,
  listedFace: Rect | null,
  tools: SourceImageTools,
): Promise<SourceImage | null> {
  const file = basename(path);
  const { width, height } = await imageSize(path, tools);
  const known = knownFaces.find(
    (entry) => entry.file === file && entry.width === width && entry.height === height,
  );
  const face = listedFace ?? (known ? rect(known.face) : null);
  if (!face) return null;
  if (
    face.x < 0 ||
    face.y < 0 ||
    face.x + face.width > width ||
    face.y + face.height > height ||
    face.width < 16 ||
    face.height < 16
  )
    throw new SourceImagesError(
      `${path}: the face box ${JSON.stringify(face)} does not fit the ${width}×${height} image`,
    );
  const bytes = await runTool(
    tools.ffmpeg,
    [
      '-nostdin',
      '-v',
      'error',
      '-i',
      path,
      '-frames:v',
      '1',
      '-f',
      'rawvideo',
      '-pix_fmt',
      'rgb24',
      'pipe:1',
    ],
    tools.signal,
  );
  return { name: file, path, image: imageFromBytes(width, height, bytes), face };
}

async function imageSize(path: string, tools: SourceImageTools) {
  const output = await runTool(
    tools.ffprobe,
    ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height', '-of', 'csv=p=0', path],
    tools.signal,
  );
  const [width = 0, height = 0] = output.toString().trim().split(',').map(Number);
  if (!(width > 0 && height > 0)) throw new SourceImagesError(`${path}: not a readable image`);
  return { width, height };
}

async function readFacesJson(path: string): Promise<Map<string, Rect>> {
  if (!(await isFile(path))) return new Map();
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new SourceImagesError(`${path}: not valid JSON (${(error as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new SourceImagesError(`${path}: expected { "file.jpg": [x, y, width, height], ... }`);
  const faces = new Map<string, Rect>();
  for (const [file, box] of Object.entries(parsed)) {
    if (
      !Array.isArray(box) ||
      box.length !== 4 ||
      !box.every((value) => typeof value === 'number' && Number.isFinite(value))
    )
      throw new SourceImagesError(`${path}: the box of ${file} must be [x, y, width, height] in pixels`);
    faces.set(file, rect(box as [number, number, number, number]));
  }
  return faces;
}

const rect = ([x, y, width, height]: readonly [number, number, number, number]): Rect => ({
  x,
  y,
  width,
  height,
});

async function isFile(path: string): Promise<boolean> {
  return stat(path).then(
    (info) => info.isFile(),
    () => false,
  );
}
