import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { authorisationMarkdown, README_BEGIN, README_END, readmeRightsBlock } from '../auth/operations';

/** `npm run docs:access` writes docs/authorisation.md and the README's rights table from the gate's tables. */
function main(): void {
  const root = join(__dirname, '..', '..', '..');
  mkdirSync(join(root, 'docs'), { recursive: true });
  writeFileSync(join(root, 'docs', 'authorisation.md'), authorisationMarkdown());
  const readmePath = join(root, 'README.md');
  const readme = readFileSync(readmePath, 'utf8');
  const begin = readme.indexOf(README_BEGIN);
  const end = readme.indexOf(README_END);
  if (begin < 0 || end < begin) throw new Error(`README.md has no ${README_BEGIN} … ${README_END} block`);
  writeFileSync(readmePath, readme.slice(0, begin) + readmeRightsBlock() + readme.slice(end + README_END.length));
  console.log('wrote docs/authorisation.md and the rights table in README.md');
}

main();
