import { describe, expect, it } from 'vitest';
import type { MediaProbe, PacketInfo, ProbeStream } from '../../src/media/media-probe.js';
import type { PacketTable } from '../../src/media/packet-scan.js';
import { compressionProfile } from '../../src/pipeline/compression-profile.js';
import type { DetectorReport } from '../../src/pipeline/report.js';
import { syntheticPackets } from './synthetic-packets.js';

const stream = (fields: Partial<ProbeStream>): ProbeStream => ({
  index: 0,
  type: 'video',
  codecName: 'h264',
  codecLongName: null,
  profile: 'High',
  width: 320,
  height: 240,
  pixelFormat: 'yuv420p',
  frameRate: 25,
  durationSeconds: 4,
  frameCount: 100,
  bitRate: null,
  sampleRate: null,
  channels: null,
  tags: {},
  ...fields,
});

const probeOf = (streams: ProbeStream[], formatName = 'mov,mp4,m4a,3gp,3g2,mj2'): MediaProbe => ({
  formatName,
  formatLongName: null,
  durationSeconds: 4,
  sizeBytes: null,
  bitRate: null,
  tags: {},
  streams,
});

/** Every packet `bytes` long, as the packet scan would total them. */
function table(packets: PacketInfo[]): PacketTable {
  const times = packets.map((packet) => packet.ptsTime as number);
  return {
    packets,
    listedPackets: packets.length,
    presentPackets: packets.length,
    presentBytes: packets.reduce((sum, packet) => sum + packet.sizeBytes, 0),
    presentKeyframes: packets.filter((packet) => packet.keyframe).length,
    keyframeTimes: packets.filter((packet) => packet.keyframe).map((packet) => packet.ptsTime as number),
    firstTimeSeconds: Math.min(...times),
    lastTimeSeconds: Math.max(...times),
    meanFrameSeconds: 0.04,
  };
}

// 100 frames of 960 bytes at 25 fps: 4 s, 768 000 bits, 192 kbit/s; 320×240×25 pixels a second, so 0.1 bits per pixel.
const gop25WithBFrames = table(syntheticPackets({ frames: 100, gop: 25, bFrames: 2, size: () => 960 }));

const gopReport = (measurements: DetectorReport['measurements'], applicable = true): DetectorReport => ({
  id: 'gop-double-compression',
  version: '1.1.0',
  strength: 'standard',
  applicable,
  score: applicable ? Math.max(0, ...Object.values(measurements).map(Number)) : null,
  coverage: null,
  explanation: '',
  evidence: [],
  measurements,
  durationMs: 0,
});

describe('compressionProfile', () => {
  it('measures bit rate, bits per pixel, GOP and B-frames from the packet table', () => {
    const profile = compressionProfile({
      probe: probeOf([stream({})]),
      packets: gop25WithBFrames,
      gopReport: gopReport({ reencodeScore: 0, editScore: 0 }),
    });
    expect(profile).toEqual({
      kind: 'video',
      codec: 'h264',
      profile: 'High',
      width: 320,
      height: 240,
      bitrate: 192_000,
      frameRate: 25,
      bitRatePerPixelPerFrame: 0.1,
      gopLength: 25,
      bFrames: true,
      reencodeEvidence: 'none',
      forensicSignal: 'medium',
      forensicSignalReason: expect.stringMatching(/^0\.100 H\.264-equivalent bits per pixel: moderate/),
    });
  });

  it('counts a more efficient codec’s bits for more, and sees no B-frames where none are reordered', () => {
    const profile = compressionProfile({
      probe: probeOf([stream({ codecName: 'hevc', profile: 'Main' })]),
      packets: table(syntheticPackets({ frames: 100, gop: 50, bFrames: 0, size: () => 960 })),
      gopReport: null,
    });
    expect(profile).toMatchObject({
      bitRatePerPixelPerFrame: 0.1,
      gopLength: 50,
      bFrames: false,
      reencodeEvidence: null,
      forensicSignal: 'high',
      forensicSignalReason: expect.stringMatching(/^0\.150 H\.264-equivalent bits per pixel: light/),
    });
  });

  it('grades re-encode evidence by the GOP detector’s scores and lowers the signal of a file encoded twice', () => {
    const evidence = (measurements: DetectorReport['measurements'], applicable = true) =>
      compressionProfile({
        probe: probeOf([stream({})]),
        packets: gop25WithBFrames,
        gopReport: gopReport(measurements, applicable),
      });
    expect(evidence({ reencodeScore: 0.9, editScore: 0 })).toMatchObject({
      reencodeEvidence: 'strong',
      forensicSignal: 'low',
      forensicSignalReason: expect.stringMatching(/encoded at least twice/),
    });
    expect(evidence({ reencodeScore: 0.1, editScore: 0.5 })?.reencodeEvidence).toBe('weak');
    expect(evidence({ reencodeScore: 0.29, editScore: 0 })?.reencodeEvidence).toBe('none');
    expect(evidence({}, false)?.reencodeEvidence).toBeNull();
  });

  it('falls back on the declared bit rate without a packet table, and calls low bits per pixel low', () => {
    const profile = compressionProfile({
      probe: probeOf([stream({ bitRate: 38_400 })]),
      packets: null,
      gopReport: null,
    });
    expect(profile).toMatchObject({
      bitrate: 38_400,
      bitRatePerPixelPerFrame: 0.02,
      gopLength: null,
      bFrames: null,
      forensicSignal: 'low',
      forensicSignalReason: expect.stringMatching(/heavy compression removed much fine detail/),
    });
  });

  it('gives an image its codec and size and no video-only fields; nothing for audio alone', () => {
    const png = probeOf(
      [stream({ codecName: 'png', profile: null, frameRate: 25, frameCount: 1 })],
      'png_pipe',
    );
    expect(compressionProfile({ probe: png, packets: null, gopReport: null })).toEqual({
      kind: 'image',
      codec: 'png',
      profile: null,
      width: 320,
      height: 240,
      bitrate: null,
      frameRate: null,
      bitRatePerPixelPerFrame: null,
      gopLength: null,
      bFrames: null,
      reencodeEvidence: null,
      forensicSignal: null,
      forensicSignalReason: null,
    });
    const audio = probeOf([stream({ type: 'audio', codecName: 'aac', width: null, height: null })]);
    expect(compressionProfile({ probe: audio, packets: null, gopReport: null })).toBeNull();
  });
});
