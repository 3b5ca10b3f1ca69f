/**
 * Software that names itself in image metadata (EXIF Software, XMP CreatorTool and history, PNG text,
 * JPEG comments, ICC profile descriptions). An editor means the picture was opened and saved in an
 * image editor; a generator means the picture was made by a generative model; a converter means it was
 * re-encoded by a library or a service (which sharing platforms do to nearly everything).
 */
export type ImageToolKind = 'editor' | 'generator' | 'converter';

export interface ImageToolSignature {
  tool: string;
  kind: ImageToolKind;
  pattern: RegExp;
}

export const imageToolSignatures: readonly ImageToolSignature[] = [
  { tool: 'Adobe Photoshop', kind: 'editor', pattern: /photoshop/i },
  { tool: 'Adobe Lightroom / Camera Raw', kind: 'editor', pattern: /lightroom|camera raw/i },
  { tool: 'Adobe Firefly', kind: 'generator', pattern: /firefly/i },
  { tool: 'Adobe Express / Illustrator', kind: 'editor', pattern: /adobe (express|illustrator)/i },
  { tool: 'GIMP', kind: 'editor', pattern: /\bgimp\b/i },
  {
    tool: 'an image editor',
    kind: 'editor',
    pattern:
      /affinity|pixelmator|paint\.net|snapseed|canva|photopea|krita|darktable|rawtherapee|capture one|luminar|picsart|facetune|faceapp|meitu|remini|lensa|fotor|polarr|vsco|photoscape|acdsee|corel|paintshop|inkscape|photodirector|befunky|airbrush|youcam|photoroom|perfect365|picmonkey|pixlr/i,
  },
  {
    tool: 'an image generator',
    kind: 'generator',
    pattern:
      /midjourney|dall[·.\- ]?e|stable diffusion|\bsdxl\b|comfyui|automatic1111|invokeai|novelai|\bflux\b|leonardo\.ai|ideogram|openai|chatgpt/i,
  },
  {
    tool: 'an image library or converter',
    kind: 'converter',
    pattern:
      /imagemagick|graphicsmagick|\bpil\b|pillow|python|libvips|\bvips\b|opencv|ffmpeg|lavc|\blibgd\b|gd-jpeg|squoosh|mozjpeg|guetzli|tinypng|xnview|irfanview|preview\b/i,
  },
];

export function matchImageTool(value: string): ImageToolSignature | null {
  return imageToolSignatures.find((signature) => signature.pattern.test(value)) ?? null;
}

/** PNG text keys that image generators write (prompt and workflow records). */
export const generatorTextKeys: ReadonlyMap<string, string> = new Map([
  ['parameters', 'Stable Diffusion web UI (AUTOMATIC1111 / Forge) generation parameters'],
  ['prompt', 'ComfyUI prompt graph'],
  ['workflow', 'ComfyUI workflow'],
  ['invokeai_metadata', 'InvokeAI generation metadata'],
  ['sd-metadata', 'InvokeAI generation metadata'],
  ['dream', 'InvokeAI (dream) generation metadata'],
]);
