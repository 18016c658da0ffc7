import { createRequire } from "node:module";

// Read from package.json at run time so the `client` string in `hello` can never drift from the published
// version. The relative path holds from both src/ (tests) and dist/ (published build).
const packageJson = createRequire(import.meta.url)("../package.json") as { name: string; version: string };

/** Version of this SDK package. */
export const SDK_VERSION: string = packageJson.version;

/** Client description sent in `hello`, e.g. `@soorma/sdk/0.1.0`, so gateway logs show who connected. */
export const SDK_CLIENT_NAME = `${packageJson.name}/${packageJson.version}`;
