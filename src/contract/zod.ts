// The schema library every config fragment is written with: zod's functional build ("zod/mini"), with English
// messages. The classic build hangs every method on every schema it makes; loading it and building the config
// schema with it was the largest part of reading a config. Import it as `import * as z from '.../zod.js'`, never
// from zod itself: this module is what sets the messages (the mini build has no language until one is set), and a
// namespace import lets the bundle keep only the parts that are used.
import { config } from 'zod/mini';
import en from 'zod/v4/locales/en.js';

config(en());

export * from 'zod/mini';
