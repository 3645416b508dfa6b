/** Writes `.env.example` from the settings table in src/config/settings.ts. */
import { writeFileSync } from 'node:fs';
import path from 'node:path';

import { renderEnvExample } from '../src/config/env-example';

writeFileSync(path.resolve(__dirname, '..', '.env.example'), renderEnvExample());
