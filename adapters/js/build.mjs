// Builds src/ into one minified file, server/static/goalpost.js, and prints its size.
// Usage: node build.mjs  (npm run build)

import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { gzipSync, brotliCompressSync, constants } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { dirname, join, relative } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, '..', '..', 'server', 'static', 'goalpost.js');
const BUDGET_GZIP = 2048;

await build({
  entryPoints: [join(here, 'src', 'index.js')],
  outfile: out,
  bundle: true,
  format: 'iife',
  minify: true,
  target: ['es2017'],
  legalComments: 'none',
  charset: 'utf8',
  logLevel: 'warning',
});

const code = readFileSync(out);
const gz = gzipSync(code, { level: 9 }).length;
const br = brotliCompressSync(code, {
  params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: code.length },
}).length;
console.log(
  `${relative(process.cwd(), out)}: ${code.length} B raw, ${gz} B gzip, ${br} B brotli (budget ${BUDGET_GZIP} B gzip)`
);
if (gz > BUDGET_GZIP) {
  console.error(`over budget by ${gz - BUDGET_GZIP} B gzip`);
  process.exit(1);
}
