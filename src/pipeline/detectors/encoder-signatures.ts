/**
 * Tools that leave their name in container or stream tags. An editor means the file went through an
 * editing application; a transcoder or muxer means it was re-encoded or re-wrapped, which sharing
 * platforms do to nearly everything. Neither is manipulation by itself.
 */
export type ToolKind = 'editor' | 'transcoder';

export interface ToolSignature {
  tool: string;
  kind: ToolKind;
  pattern: RegExp;
}

export const toolSignatures: readonly ToolSignature[] = [
  {
    tool: 'Adobe Premiere / After Effects / Media Encoder',
    kind: 'editor',
    pattern: /adobe|premiere|after effects/i,
  },
  { tool: 'DaVinci Resolve', kind: 'editor', pattern: /davinci/i },
  { tool: 'CapCut', kind: 'editor', pattern: /capcut|jianying/i },
  { tool: 'Final Cut Pro / iMovie', kind: 'editor', pattern: /final cut|imovie/i },
  {
    tool: 'a video editor',
    kind: 'editor',
    pattern:
      /kdenlive|shotcut|openshot|vegas pro|filmora|wondershare|inshot|movavi|clipchamp|powerdirector|camtasia|lumafusion|kinemaster|videoleap|vn video editor/i,
  },
  { tool: 'FFmpeg (libavformat/libavcodec)', kind: 'transcoder', pattern: /\blav[fc]\d|ffmpeg/i },
  { tool: 'HandBrake', kind: 'transcoder', pattern: /handbrake/i },
  { tool: 'MainConcept encoder SDK', kind: 'transcoder', pattern: /mainconcept/i },
  { tool: 'x264/x265 encoder', kind: 'transcoder', pattern: /\bx26[45]\b/i },
  {
    tool: 'a remuxing or recording tool',
    kind: 'transcoder',
    pattern: /mencoder|avidemux|mp4box|gpac|mkvmerge|libmatroska|obs studio|\bvlc\b/i,
  },
];

/** FFmpeg's mp4/mov muxer names its tracks this way when nothing else is given. */
const ffmpegDefaultHandlers = new Set(['videohandler', 'soundhandler']);

/** Tag keys that carry a writing application's name. */
export const toolTagKeys = [
  'encoder',
  'encoded_by',
  'software',
  'creation_tool',
  'writing_application',
  'writing_app',
  'handler_name',
  'com.apple.quicktime.software',
  'comment',
] as const;

export function matchToolSignature(key: string, value: string): ToolSignature | null {
  if (key === 'handler_name' && ffmpegDefaultHandlers.has(value.trim().toLowerCase())) {
    return toolSignatures.find((signature) => signature.tool.startsWith('FFmpeg')) ?? null;
  }
  return toolSignatures.find((signature) => signature.pattern.test(value)) ?? null;
}
