import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { writeStill, resizeStill } from './src/evaluation/media-writer.js';
import { imageFromBytes } from './src/evaluation/rgb-image.js';

const dir = '/work/evalcore/s1';
const tools = { ffmpeg: '/usr/bin/ffmpeg', signal: new AbortController().signal };
for (const file of readdirSync(dir).filter((f) => f.includes('-still-png') && f.endsWith('.png'))) {
  const [w, h] = execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=width,height', '-of', 'csv=p=0', `${dir}/${file}`]).toString().trim().split(',').map(Number);
  const raw = execFileSync('ffmpeg', ['-v', 'error', '-i', `${dir}/${file}`, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { maxBuffer: 1 << 27 });
  const image = imageFromBytes(w!, h!, raw);
  const out = file.replace('-still-png', '-still-jpeg-q75').replace('.png', '.jpg');
  await writeStill(`/work/evalcore/q75/${out}`, image, 'jpeg-q75', tools);
  const half = file.replace('-still-png', '-still-png-half');
  await resizeStill(`${dir}/${file}`, `/work/evalcore/q75/${half}`, 'png', { width: w!, height: h! }, tools);
}
