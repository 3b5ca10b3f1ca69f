import type { PacketInfo } from './media-probe.js';

/** ffprobe arguments for the packet table: keyed CSV (`packet,pts_time=..`) so field order never matters. */
export const packetTableArgs = (streamIndex: number): string[] => [
  '-select_streams',
  String(streamIndex),
  '-show_entries',
  'packet=pts_time,dts_time,size,pos,flags:format=start_time',
  '-of',
  'csv=nk=0',
];

export type PacketTableLine =
  | {
      kind: 'packet';
      packet: PacketInfo;
      /** Byte offset in the input; null when the demuxer does not say. */ posBytes: number | null;
    }
  | { kind: 'start'; seconds: number | null };

/** One line of that output; null for blank lines and side-data continuations. */
export function parsePacketTableLine(line: string): PacketTableLine | null {
  const [section, ...fields] = line.split(',');
  const values = new Map<string, string>();
  for (const field of fields) {
    const separator = field.indexOf('=');
    if (separator > 0) values.set(field.slice(0, separator), field.slice(separator + 1));
  }
  if (section === 'format') return { kind: 'start', seconds: seconds(values.get('start_time')) };
  if (section !== 'packet') return null;
  const size = Number(values.get('size'));
  if (!Number.isInteger(size) || size < 0) throw new Error(`unreadable packet line: ${line.slice(0, 200)}`);
  const pos = Number(values.get('pos'));
  return {
    kind: 'packet',
    posBytes: Number.isInteger(pos) && pos >= 0 ? pos : null,
    packet: {
      ptsTime: seconds(values.get('pts_time')),
      dtsTime: seconds(values.get('dts_time')),
      sizeBytes: size,
      keyframe: (values.get('flags') ?? '').includes('K'),
    },
  };
}

/** Moves packet times onto the media timeline (0 = container start), the axis ffmpeg's `-ss` and frame times use. */
export function shiftToMediaTimeline(packets: PacketInfo[], startSeconds: number | null): PacketInfo[] {
  if (!startSeconds) return packets;
  const shift = (time: number | null) =>
    time === null ? null : Math.round((time - startSeconds) * 1e6) / 1e6;
  return packets.map((packet) => ({
    ...packet,
    ptsTime: shift(packet.ptsTime),
    dtsTime: shift(packet.dtsTime),
  }));
}

function seconds(value: string | undefined): number | null {
  if (value === undefined || value === '' || value === 'N/A') return null;
  const number = Number(value);
  return Number.isFinite(number) ? number : null;
}
