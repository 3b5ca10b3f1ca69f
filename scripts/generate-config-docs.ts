import { writeFileSync } from 'node:fs';
import { renderConfigurationDoc } from '../src/config/config-docs.js';
import { renderEnvExample } from '../src/config/env-example.js';

writeFileSync(new URL('../docs/configuration.md', import.meta.url), renderConfigurationDoc());
writeFileSync(new URL('../.env.example', import.meta.url), renderEnvExample());
console.log('wrote docs/configuration.md and .env.example');
