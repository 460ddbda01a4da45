#!/usr/bin/env node
// Build step: copy the shipped placement descriptions (apps/<name>/system.yaml) and the system
// description's JSON Schema into dist/systems/, so the published package resolves `udf run
// isolated` from its own files. The editor hint in each YAML is rewritten to the schema copy that
// sits beside it.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const here = resolve(import.meta.dirname, '..');
const apps = resolve(here, '..');
const out = join(here, 'dist', 'systems');
const NAMES = ['isolated', 'clustered', 'embedded', 'monolithic'];
const SCHEMA = resolve(apps, '..', 'packages', 'system', 'schema', 'system.schema.json');

mkdirSync(out, { recursive: true });
for (const name of NAMES) {
  const text = readFileSync(join(apps, name, 'system.yaml'), 'utf8');
  const hint = /^# yaml-language-server: \$schema=.*$/m;
  if (!hint.test(text))
    throw new Error(`${name}/system.yaml lacks its yaml-language-server $schema line`);
  writeFileSync(
    join(out, `${name}.yaml`),
    text.replace(hint, '# yaml-language-server: $schema=./system.schema.json'),
  );
}
copyFileSync(SCHEMA, join(out, 'system.schema.json'));
console.log(`shipped ${NAMES.length} placement descriptions and the schema into dist/systems`);
