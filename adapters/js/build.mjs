// Builds src/ into two minified files and prints their sizes:
//   server/static/goalpost.js       the tracker of contract §5 (src/index.js), ≤ 2 KB gzip
//   server/static/goalpost.plus.js  the same plus the automatic events of §8 (src/plus.js), ≤ 3 KB gzip
// The build fails when either is over its budget.
// Usage: node build.mjs  (npm run build)

import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { gzipSync, brotliCompressSync, constants } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { dirname, join, relative } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
const staticDir = join(here, '..', '..', 'server', 'static');
const OUTPUTS = [
  { entry: 'index.js', file: 'goalpost.js', budgetGzip: 2048 },
  { entry: 'plus.js', file: 'goalpost.plus.js', budgetGzip: 3072 },
];

let failed = false;
for (const { entry, file, budgetGzip } of OUTPUTS) {
  const out = join(staticDir, file);
  await build({
    entryPoints: [join(here, 'src', entry)],
    outfile: out,
    bundle: true,
    format: 'iife',
    minify: true,
    target: ['es2017'],
    legalComments: 'none',
    charset: 'utf8',
    define: { PLUS: String(entry === 'plus.js') },
    logLevel: 'warning',
  });
  const code = readFileSync(out);
  const gz = gzipSync(code, { level: 9 }).length;
  const br = brotliCompressSync(code, {
    params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: code.length },
  }).length;
  console.log(
    `${relative(process.cwd(), out)}: ${code.length} B raw, ${gz} B gzip, ${br} B brotli (budget ${budgetGzip} B gzip)`
  );
  if (gz > budgetGzip) {
    console.error(`${file} is over budget by ${gz - budgetGzip} B gzip`);
    failed = true;
  }
}
if (failed) process.exit(1);
