import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { lumaPlane } from './src/forensics/luma.js';
import { blockNoise } from './src/forensics/noise-level.js';

const dir = '/work/evalcore/s1';
const manifest = JSON.parse(readFileSync(`${dir}/manifest.json`, 'utf8'));
const ids = process.argv.slice(2);
for (const id of ids) {
  const item = manifest.items.find((i: { id: string }) => i.id === id);
  const { width, height } = { width: 1280, height: 720 };
  for (const frameNo of [0, 45, 100]) {
    const raw = execFileSync('ffmpeg', ['-v', 'error', '-i', `${dir}/${item.file}`, '-vf', `select=eq(n\\,${frameNo})`, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { maxBuffer: 1 << 26 });
    const plane = lumaPlane(raw, width, height);
    // coarse activity: std of 2x2-averaged values in the block
    const b = item.faceBox; const cx = b.x + b.width / 2, cy = b.y + b.height / 2;
    const inFace = (x: number, y: number) => ((x - cx) / (b.width * 0.4)) ** 2 + ((y - cy) / (b.height * 0.4)) ** 2 < 1;
    const out = (x: number, y: number) => Math.abs(x - cx) > b.width && Math.abs(y - cy) > 0 || Math.abs(y - cy) > b.height;
    const act = (x: number, y: number) => {
      // gradient energy of a 4x-downsampled neighbourhood (16x16 around the block centre)
      const vals: number[] = [];
      for (let yy = -8; yy < 8; yy += 4) for (let xx = -8; xx < 8; xx += 4) {
        let s = 0; for (let a = 0; a < 4; a++) for (let c = 0; c < 4; c++) s += plane.data[(Math.round(y) + yy + a) * width + Math.round(x) + xx + c]!;
        vals.push(s / 16);
      }
      const m = vals.reduce((p, q) => p + q, 0) / vals.length;
      return Math.sqrt(vals.reduce((p, q) => p + (q - m) ** 2, 0) / vals.length);
    };
    const summarise = (name: string, include: (x: number, y: number) => boolean) => {
      const blocks = blockNoise(plane, include).filter((k) => k.meanLuma > 16 && k.meanLuma < 240 && k.x > 16 && k.y > 16 && k.x < width - 16 && k.y < height - 16);
      const bins = new Map<number, number[]>();
      for (const k of blocks) { const a = act(k.x, k.y); const bin = a < 1 ? 0 : a < 2 ? 1 : a < 4 ? 2 : a < 8 ? 3 : 4; (bins.get(bin) ?? bins.set(bin, []).get(bin)!).push(k.sigma); }
      const parts = [...bins.entries()].sort((p, q) => p[0] - q[0]).map(([bin, s]) => { s.sort((p, q) => p - q); return `a${bin}:n${s.length} q30=${s[Math.floor(s.length * 0.3)]!.toFixed(2)}`; });
      return `${name} ${parts.join(' | ')}`;
    };
    const r = (x: number, y: number) => Math.sqrt(((x - cx) / (b.width * 0.5)) ** 2 + ((y - cy) / (b.height * 0.5)) ** 2);
    const ring = (x: number, y: number) => r(x, y) > 1.2 && r(x, y) < 1.7;
    console.log(id, frameNo, '\n  ', summarise('face', inFace), '\n  ', summarise('ring', ring), '\n  ', summarise('sur', out));
  }
}
