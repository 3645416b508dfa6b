import { settings } from './settings';

/** Renders `.env.example` from the settings table, so the two never disagree. */
export function renderEnvExample(): string {
  const lines = [
    '# gmail-sync settings, generated from src/config/settings.ts by `npm run env-example`.',
    '# Every line is commented out; the value shown is the default, or empty for an optional setting.',
    '',
  ];
  for (const spec of Object.values(settings)) {
    const unit = spec.unit ? ` Unit: ${spec.unit}.` : '';
    const secret = spec.secret ? ' Secret: never logged.' : '';
    lines.push(`# ${spec.description}${unit}${secret}`);
    lines.push(`# ${spec.name}=${spec.defaultValue ?? ''}`);
    lines.push('');
  }
  return lines.join('\n');
}
