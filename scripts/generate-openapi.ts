import { writeFileSync } from 'node:fs';
import { renderOpenApi } from '../src/http/openapi.js';

writeFileSync(new URL('../openapi.json', import.meta.url), await renderOpenApi());
console.log('wrote openapi.json');
