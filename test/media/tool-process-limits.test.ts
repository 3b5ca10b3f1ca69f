import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createFfmpegMediaTools } from '../../src/media/ffmpeg.media-tools.js';
import { MediaToolError } from '../../src/media/media-tool-error.js';
import { readAllOutput, readOutputLines, startToolProcess } from '../../src/media/tool-process.js';

describe('tool process limits', () => {
  it('kills a run that keeps writing past its wall clock (the idle timeout never fires)', async () => {
    const run = startToolProcess({
      tool: 'ffmpeg',
      binary: '/bin/sh',
      args: ['-c', 'while :; do echo frame; done'],
      idleTimeoutMs: 60_000,
      wallClockMs: 300,
    });
    const error = await (async () => {
      for await (const _line of readOutputLines(run));
    })().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MediaToolError);
    expect(error).toMatchObject({ failure: 'timeout' });
    expect((error as Error).message).toMatch(/ran longer than 300 ms/);
  });

  it.skipIf(!existsSync('/usr/bin/prlimit'))(
    'runs the child under the address-space cap of its wrapper',
    async () => {
      const run = startToolProcess({
        tool: 'ffprobe',
        binary: '/bin/sh',
        args: ['-c', 'ulimit -v'],
        idleTimeoutMs: 10_000,
        wrapper: ['/usr/bin/prlimit', `--as=${512 * 1024 * 1024}`, '--'],
      });
      expect((await readAllOutput(run, 1024)).toString().trim()).toBe(String(512 * 1024));
    },
  );

  it('says once, when the tools are set up, that the memory cap cannot be applied without prlimit', async () => {
    const notices: string[] = [];
    const tools = await createFfmpegMediaTools({
      prlimitPath: '/nonexistent/prlimit',
      notice: (message) => notices.push(message),
    });
    await tools.probe('/nonexistent/clip.mp4').catch(() => undefined);
    expect(notices).toEqual([
      expect.stringMatching(/^\/nonexistent\/prlimit not found: .*MEDIA_TOOL_MEMORY_MB/),
    ]);
  });
});
