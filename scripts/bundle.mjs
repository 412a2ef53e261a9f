#!/usr/bin/env node
// `npm run build`, second step: the CLI as an ES module bundle in dist/bundle/ (bin/rearguard loads it).
//
// Why: loading the compiled tree (hundreds of files of our own and of the dependencies, each resolved and read on
// its own) took most of a short command's time. The bundle is one entry file (the CLI, commander) and chunks that
// load when a command needs them (esbuild's code splitting keeps each dynamic import() a separate chunk), so
// --version loads one file and `plan` a handful. better-sqlite3 stays outside: it is a native module, found in
// node_modules as before (and picomatch, see below). The hash and SQLite workers are eval'd strings, so they need no file of their own.
import { rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// zod's namespace re-exports every language of its error messages (`z.locales`, 357 KiB of the bundle, half of
// zod). rearguard's messages are English, which zod loads by its own import; nothing reads `z.locales`. The
// bundle keeps English only under that name, so the chunk every config-reading command compiles is a third smaller.
const englishZodLocalesOnly = {
  name: 'english-zod-locales-only',
  setup(builder) {
    builder.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]zod[\\/]v4[\\/](classic|core|mini)$/.test(args.resolveDir) ? { path: path.join(args.resolveDir, '../locales/en.js'), namespace: 'zod-locales' } : undefined,
    );
    builder.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({
      contents: `export { default as en } from ${JSON.stringify(args.path)};`,
      resolveDir: path.dirname(args.path),
    }));
  },
};
const outdir = path.join(ROOT, 'dist/bundle');
rmSync(outdir, { recursive: true, force: true });
await build({
  absWorkingDir: ROOT,
  entryPoints: { main: 'src/cli/main.ts' },
  outdir,
  // The entry is two folders below the package root and the chunks three, depths that the paths found from
  // import.meta.url already try (program.ts: package.json; demo.ts: the bundled demo).
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  // picomatch too: fdir (under tinyglobby) loads it with a require() esbuild cannot see as it starts, and rearguard
  // with one when a pattern first needs it (src/util/picomatch.ts); bundled, it would be loaded twice (the bundle's
  // copy and node_modules' copy), outside it once.
  external: ['better-sqlite3', 'picomatch'],
  // CommonJS dependencies inside an ES module bundle call require() for Node's built-ins, and read __filename
  // (write-file-atomic names its temporary files with it).
  banner: {
    js: [
      "import { createRequire as __rearguardCreateRequire } from 'node:module';",
      "import { fileURLToPath as __rearguardFileURLToPath } from 'node:url';",
      'const require = __rearguardCreateRequire(import.meta.url);',
      'const __filename = __rearguardFileURLToPath(import.meta.url);',
      "const __dirname = __filename.slice(0, __filename.lastIndexOf('/'));",
    ].join('\n'),
  },
  legalComments: 'none',
  plugins: [englishZodLocalesOnly],
  logLevel: 'warning',
});
