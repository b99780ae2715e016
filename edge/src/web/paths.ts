import { fileURLToPath } from 'node:url';

// Both resolve the same from src/web (tests) and dist/web (the built edge):
// each sits two levels below the edge package.

/** The page sources. */
export const CLIENT_SOURCE_DIR = fileURLToPath(new URL('../../src/web/client/', import.meta.url));
/** Where `npm run build` puts the page, and where the edge serves it from by default. */
export const DEFAULT_PUBLIC_DIR = fileURLToPath(new URL('../../dist/web/public/', import.meta.url));
