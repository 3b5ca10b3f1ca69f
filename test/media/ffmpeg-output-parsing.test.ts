import { describe, expect, it } from 'vitest';
import { ffmpegInputArgs, isLoopbackHttpUrl } from '../../src/media/ffmpeg-input.js';
import { normaliseProbe, parseRatio } from '../../src/media/ffprobe-json.js';
import { parsePacketTableLine, shiftToMediaTimeline } from '../../src/media/packet-table.js';
import { scaledFrameSize } from '../../src/media/scaled-frame-size.js';
import { ShowinfoTimestamps } from '../../src/media/showinfo-timestamps.js';

describe('ffmpeg input arguments', () => {
  it('passes plain paths through the file protocol only', () => {
    expect(ffmpegInputArgs('/data/a.mp4')).toEqual(['-protocol_whitelist', 'file', '-i', 'file:/data/a.mp4']);
    expect(ffmpegInputArgs('-y', ['-ss', '1'])).toEqual([
      '-protocol_whitelist',
      'file',
      '-ss',
      '1',
      '-i',
      'file:-y',
    ]);
    expect(ffmpegInputArgs('concat:/etc/passwd|x')).toContain('file:concat:/etc/passwd|x');
  });

  it('passes loopback HTTP URLs as they are, and nothing that only looks like one', () => {
    expect(ffmpegInputArgs('http://127.0.0.1:4000/token')).toEqual([
      '-protocol_whitelist',
      'http,tcp',
      '-i',
      'http://127.0.0.1:4000/token',
    ]);
    expect(isLoopbackHttpUrl('http://127.0.0.1.evil.example/x')).toBe(false);
    expect(isLoopbackHttpUrl('https://127.0.0.1/x')).toBe(false);
    expect(isLoopbackHttpUrl('http://10.0.0.1/x')).toBe(false);
    expect(ffmpegInputArgs('http://example.com/x.mp4').at(-1)).toBe('file:http://example.com/x.mp4');
  });
});

describe('normaliseProbe', () => {
  const probeJson = {
    streams: [
      {
        index: 0,
        codec_type: 'video',
        codec_name: 'h264',
        width: 1920,
        height: 1080,
        avg_frame_rate: '30000/1001',
        sample_aspect_ratio: '1:1',
        nb_frames: '300',
        duration: '10.010000',
        side_data_list: [{ side_data_type: 'Display Matrix', rotation: -90 }],
        tags: { HANDLER_NAME: 'Core Media Video', Creation_Time: '2024-01-01T00:00:00Z' },
      },
      {
        index: 1,
        codec_type: 'audio',
        codec_name: 'aac',
        sample_rate: '44100',
        channels: 2,
        duration: 'N/A',
      },
      {
        index: 2,
        codec_type: 'video',
        codec_name: 'mjpeg',
        avg_frame_rate: '0/0',
        disposition: { attached_pic: 1 },
      },
      { index: 3, codec_type: 'weird' },
    ],
    format: {
      format_name: 'mov,mp4,m4a,3gp,3g2,mj2',
      duration: '10.010000',
      size: '1234',
      bit_rate: '986',
      tags: { Major_Brand: 'qt  ' },
    },
  };

  it('maps fields, lower-cases tag keys and reads rotation and cover art', () => {
    const probe = normaliseProbe(probeJson);
    expect(probe).toMatchObject({
      formatName: 'mov,mp4,m4a,3gp,3g2,mj2',
      durationSeconds: 10.01,
      sizeBytes: 1234,
      tags: { major_brand: 'qt  ' },
    });
    const [video, audio, cover, other] = probe.streams;
    expect(video).toMatchObject({
      type: 'video',
      frameCount: 300,
      rotationDegrees: -90,
      sampleAspectRatio: 1,
    });
    expect(video?.frameRate).toBeCloseTo(29.97, 2);
    expect(video?.tags).toEqual({ handler_name: 'Core Media Video', creation_time: '2024-01-01T00:00:00Z' });
    expect(audio).toMatchObject({ type: 'audio', sampleRate: 44100, channels: 2, durationSeconds: null });
    expect(cover).toMatchObject({ attachedPicture: true, frameRate: null });
    expect(other?.type).toBe('unknown');
  });

  it('refuses output that is not a probe result', () => {
    expect(() => normaliseProbe({ streams: 'nope' })).toThrow();
    expect(normaliseProbe({}).streams).toEqual([]);
  });

  it('parses ratios defensively', () => {
    expect(parseRatio('25/1', '/')).toBe(25);
    expect(parseRatio('0/0', '/')).toBeNull();
    expect(parseRatio('N/A', '/')).toBeNull();
    expect(parseRatio('16:15', ':')).toBeCloseTo(1.0667, 3);
  });
});

describe('packet table lines', () => {
  it('reads keyed fields in any order, N/A times and side-data continuations', () => {
    expect(parsePacketTableLine('packet,size=512,flags=K_,pos=48,dts_time=-0.04,pts_time=0.000000')).toEqual({
      kind: 'packet',
      posBytes: 48,
      packet: { ptsTime: 0, dtsTime: -0.04, sizeBytes: 512, keyframe: true },
    });
    expect(parsePacketTableLine('packet,pts_time=N/A,dts_time=N/A,size=9,pos=N/A,flags=__')).toMatchObject({
      posBytes: null,
      packet: { ptsTime: null, dtsTime: null, keyframe: false },
    });
    expect(parsePacketTableLine('format,start_time=1.480000')).toEqual({ kind: 'start', seconds: 1.48 });
    expect(parsePacketTableLine('')).toBeNull();
    expect(parsePacketTableLine('side_data,')).toBeNull();
    expect(() => parsePacketTableLine('packet,pts_time=0,size=big,flags=K_')).toThrow(
      /unreadable packet line/,
    );
  });

  it('moves times onto the media timeline', () => {
    const shifted = shiftToMediaTimeline(
      [{ ptsTime: 1.52, dtsTime: 1.48, sizeBytes: 1, keyframe: true }],
      1.48,
    );
    expect(shifted[0]).toMatchObject({ ptsTime: 0.04, dtsTime: 0 });
  });
});

describe('scaledFrameSize', () => {
  it('keeps the display aspect with even sides within maxWidth', () => {
    expect(scaledFrameSize({ width: 1920, height: 1080 }, 320)).toEqual({ width: 320, height: 180 });
    expect(scaledFrameSize({ width: 333, height: 250 }, 1000)).toEqual({ width: 332, height: 250 });
    expect(scaledFrameSize({ width: 640, height: 480 }, 101)).toEqual({ width: 100, height: 76 });
    expect(scaledFrameSize({ width: 2, height: 2 }, 64)).toEqual({ width: 2, height: 2 });
  });

  it('applies rotation and pixel aspect', () => {
    expect(scaledFrameSize({ width: 1920, height: 1080, rotationDegrees: -90 }, 320)).toEqual({
      width: 320,
      height: 568,
    });
    expect(scaledFrameSize({ width: 1920, height: 1080, rotationDegrees: 180 }, 320)).toEqual({
      width: 320,
      height: 180,
    });
    expect(scaledFrameSize({ width: 720, height: 576, sampleAspectRatio: 16 / 15 }, 320)).toEqual({
      width: 320,
      height: 240,
    });
  });

  it('refuses unknown dimensions', () => {
    expect(() => scaledFrameSize({ width: null, height: 100 }, 320)).toThrow(/dimensions/);
  });
});

describe('ShowinfoTimestamps', () => {
  const line = (n: number, time: string) =>
    `[Parsed_showinfo_2 @ 0x55c9ebfb5780] n:${String(n).padStart(4)} pts:  12800 pts_time:${time}   pos: 48 fmt:gray`;

  it('takes showinfo lines, leaves others, and waits for lines that lag behind the pixels', async () => {
    const timestamps = new ShowinfoTimestamps();
    expect(timestamps.accept('Input #0, mov,mp4 from file:x')).toBe(false);
    expect(timestamps.accept('[Parsed_showinfo_2 @ 0x1] color_range:pc')).toBe(true);
    expect(timestamps.accept(line(0, '0'))).toBe(true);
    expect(await timestamps.at(0, 100)).toBe(0);
    const pending = timestamps.at(1, 1000);
    timestamps.accept(line(1, '1.04'));
    expect(await pending).toBe(1.04);
  });

  it('reports missing or NOPTS timestamps as undefined', async () => {
    const timestamps = new ShowinfoTimestamps();
    timestamps.accept(line(0, 'NOPTS'));
    expect(await timestamps.at(0, 100)).toBeUndefined();
    expect(await timestamps.at(1, 10)).toBeUndefined();
    const pending = timestamps.at(2, 10_000);
    timestamps.close();
    expect(await pending).toBeUndefined();
  });
});
