#!/usr/bin/env node
// Make an entry for the API key file (SOORMA_API_KEYS_FILE). Only the key's hash goes into the entry.
//
//   node scripts/hash-api-key.mjs --id billing-agent --tenant acme [--role agent]
//        [--agent-names 'billing-*'] [--publish-topics 'action-results,business-facts']
//        [--subscribe-topics action-requests] [--expires-at 2026-01-01T00:00:00Z] [--key-stdin]
//
// Without --key-stdin a fresh random key is generated and printed once on stderr; the entry (JSON) goes to
// stdout, ready to paste into the "keys" array. With --key-stdin the key is read from stdin, so it never
// appears in shell history or the process list. Standalone on purpose (no build needed); the test suite checks
// that its hash matches hashApiKey() of src/auth/api-keys.ts.
import { createHash, randomBytes } from "node:crypto";
import { parseArgs } from "node:util";

const MIN_KEY_LENGTH = 24;
const ROLES = ["agent", "admin", "platform-admin"];

function fail(message) {
  process.stderr.write(`hash-api-key: ${message}\n`);
  process.exit(2);
}

function allowList(value) {
  if (value === undefined || value === "*") return "*";
  return value
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
}

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks)
    .toString("utf8")
    .replace(/\r?\n$/, "");
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      id: { type: "string" },
      tenant: { type: "string" },
      role: { type: "string", default: "agent" },
      "agent-names": { type: "string" },
      "publish-topics": { type: "string" },
      "subscribe-topics": { type: "string" },
      "expires-at": { type: "string" },
      "key-stdin": { type: "boolean", default: false },
    },
    strict: true,
  }));
} catch (error) {
  fail(error.message);
}

if (!values.id || !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/.test(values.id))
  fail("--id is required (letters, digits, '_', '-', '.')");
if (!values.tenant || !/^[A-Za-z0-9_-]{1,64}$/.test(values.tenant))
  fail("--tenant is required ([A-Za-z0-9_-]{1,64})");
if (!ROLES.includes(values.role)) fail(`--role must be one of ${ROLES.join(", ")}`);
if (values["expires-at"] !== undefined && Number.isNaN(Date.parse(values["expires-at"])))
  fail("--expires-at must be an ISO-8601 time");

const generated = !values["key-stdin"];
const key = generated ? `soorma_${randomBytes(32).toString("base64url")}` : await readStdin();
if (key.length < MIN_KEY_LENGTH) fail(`keys must be at least ${MIN_KEY_LENGTH} characters long`);

const entry = {
  id: values.id,
  hash: `sha256:${createHash("sha256").update(key, "utf8").digest("hex")}`,
  tenant: values.tenant,
  role: values.role,
  agent_names: allowList(values["agent-names"]),
  publish_topics: allowList(values["publish-topics"]),
  subscribe_topics: allowList(values["subscribe-topics"]),
  ...(values["expires-at"] === undefined ? {} : { expires_at: new Date(values["expires-at"]).toISOString() }),
};

process.stdout.write(`${JSON.stringify(entry, null, 2)}\n`);
if (generated) process.stderr.write(`API key for ${values.id} (shown once; store it now): ${key}\n`);
