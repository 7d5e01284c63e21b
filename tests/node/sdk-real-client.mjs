// The official @immich/sdk on Node 22's fetch, used as real clients use it: fetch asks for
// compressed answers (Node 22.23 sends Accept-Encoding: gzip, deflate) and streams request bodies.
// Refused uploads must come back as Immich's 403, read by the client, never as a broken pipe;
// the mobile sync stream and the zip download must survive compression.
// Usage: node sdk-real-client.mjs <server url without /api> <small image> <another small image>
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import * as sdk from '@immich/sdk';

const [url, firstImage, secondImage] = process.argv.slice(2);
if (!url || !firstImage || !secondImage) {
  console.error('usage: node sdk-real-client.mjs <server url> <image> <image>');
  process.exit(2);
}
const baseUrl = `${url}/api`;
sdk.setBaseUrl(baseUrl);

const bearer = (token) => ({ headers: { Authorization: `Bearer ${token}` } });
const step = (name) => console.log(`sdk-real-client: ${name}`);
const DENIED = 'Missing required permission: asset.upload';

/** Runs a request that must reach an HTTP answer; a network failure names its cause. */
async function answered(what, request) {
  try {
    return await request();
  } catch (error) {
    if (sdk.isHttpError(error)) {
      throw error;
    }
    const cause = error.cause ? ` (${error.cause.code ?? ''} ${error.cause.message ?? error.cause})` : '';
    throw new Error(`${what}: the client got no answer: ${error.message}${cause}`);
  }
}

/** Sends a refused upload; checks the client read Immich's 403 and its message. */
async function refused(what, request) {
  const response = await answered(what, request);
  const text = await answered(`${what} (reading the answer)`, () => response.text());
  assert.equal(response.status, 403, `${what}: ${text}`);
  assert.equal(JSON.parse(text).message, DENIED, `${what}: ${text}`);
  console.log(`sdk-real-client:   ${what} → 403 ${text}`);
}

const TWENTY_MB = 20 * 1024 * 1024;
const chunk = new Uint8Array(64 * 1024).map((_, i) => (i * 31 + 7) & 0xff);

/** A multipart body written by hand and streamed in 64 KiB pieces (no length known). */
function streamedMultipart(boundary) {
  const encoder = new TextEncoder();
  const head = encoder.encode(
    [
      `--${boundary}\r\nContent-Disposition: form-data; name="fileCreatedAt"\r\n\r\n2024-05-01T12:00:00.000Z\r\n`,
      `--${boundary}\r\nContent-Disposition: form-data; name="fileModifiedAt"\r\n\r\n2024-05-01T12:00:00.000Z\r\n`,
      `--${boundary}\r\nContent-Disposition: form-data; name="assetData"; filename="big.mp4"\r\n`,
      'Content-Type: application/octet-stream\r\n\r\n',
    ].join(''),
  );
  const tail = encoder.encode(`\r\n--${boundary}--\r\n`);
  let sent = 0;
  return new ReadableStream({
    start(controller) {
      controller.enqueue(head);
    },
    pull(controller) {
      if (sent >= TWENTY_MB) {
        controller.enqueue(tail);
        controller.close();
        return;
      }
      controller.enqueue(chunk);
      sent += chunk.length;
    },
  });
}

function bigForm() {
  const form = new FormData();
  form.append('fileCreatedAt', '2024-05-01T12:00:00.000Z');
  form.append('fileModifiedAt', '2024-05-01T12:00:00.000Z');
  const pieces = Array.from({ length: TWENTY_MB / chunk.length }, () => chunk);
  form.append('assetData', new File(pieces, 'big.mp4', { type: 'video/mp4' }));
  return form;
}

/** `POST /sync/stream` as the mobile app sends it; the JSON lines, parsed. */
/** Waits until the server's workers are done with an asset (its thumbhash is set): until then
 * they change it, and a change is rightly sent again by the next sync stream. */
async function processed(id, token) {
  for (let attempt = 0; attempt < 200; attempt++) {
    const asset = await sdk.getAssetInfo({ id }, bearer(token));
    if (asset.thumbhash) {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.fail(`asset ${id} was never processed`);
}

async function syncStream(token, types) {
  const response = await answered('sync stream', () =>
    fetch(`${baseUrl}/sync/stream`, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${token}`,
        'Content-Type': 'application/json',
        Accept: 'application/jsonlines+json',
      },
      body: JSON.stringify({ types }),
    }),
  );
  const text = await answered('sync stream (reading the lines)', () => response.text());
  assert.equal(response.status, 200, text);
  const encoding = response.headers.get('content-encoding') ?? 'none';
  console.log(`sdk-real-client:   /sync/stream content-encoding: ${encoding}`);
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line));
}

/** The last ack of each run of one type, as the mobile app acknowledges a stream. */
const lastAcks = (lines) =>
  lines.filter((line, i) => lines[i + 1]?.type !== line.type).map((line) => line.ack);

/** The entries of a zip file, from its central directory: name and uncompressed size. */
function zipEntries(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let end = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 65557); i--) {
    if (view.getUint32(i, true) === 0x06054b50) {
      end = i;
      break;
    }
  }
  assert.ok(end >= 0, `not a zip file (${bytes.length} bytes, no end of central directory)`);
  const count = view.getUint16(end + 10, true);
  let at = view.getUint32(end + 16, true);
  const entries = [];
  for (let n = 0; n < count; n++) {
    assert.equal(view.getUint32(at, true), 0x02014b50, `central directory entry ${n} is damaged`);
    const size = view.getUint32(at + 24, true);
    const nameLength = view.getUint16(at + 28, true);
    const extraLength = view.getUint16(at + 30, true);
    const commentLength = view.getUint16(at + 32, true);
    const name = new TextDecoder().decode(bytes.subarray(at + 46, at + 46 + nameLength));
    entries.push({ name, size });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

step('admin signs up and logs in, creates a user who logs in');
await sdk.signUpAdmin({ signUpDto: { email: 'admin@immich.cloud', password: 'password', name: 'Immich Admin' } });
const admin = await sdk.login({ loginCredentialDto: { email: 'admin@immich.cloud', password: 'password' } });
const created = await sdk.createUserAdmin(
  {
    userAdminCreateDto: { email: 'phone@immich.cloud', password: 'secret', name: 'Phone', shouldChangePassword: false },
  },
  bearer(admin.accessToken),
);
const session = await sdk.login({ loginCredentialDto: { email: 'phone@immich.cloud', password: 'secret' } });
assert.equal(session.userId, created.id);
const token = session.accessToken;

step('an API key that may only read assets');
const { secret: readOnly } = await sdk.createApiKey(
  { apiKeyCreateDto: { name: 'viewer', permissions: ['asset.read'] } },
  bearer(token),
);

step('20 MB uploads with that key are refused, and the client reads why');
const boundary = `----darkroom${Date.now().toString(16)}`;
await refused('streamed multipart (ReadableStream, duplex half)', () =>
  fetch(`${baseUrl}/assets`, {
    method: 'POST',
    headers: { 'x-api-key': readOnly, 'Content-Type': `multipart/form-data; boundary=${boundary}` },
    body: streamedMultipart(boundary),
    duplex: 'half',
  }),
);
await refused('FormData with a 20 MB Blob', () =>
  fetch(`${baseUrl}/assets`, { method: 'POST', headers: { 'x-api-key': readOnly }, body: bigForm() }),
);
try {
  await answered('sdk uploadAsset', () =>
    sdk.uploadAsset(
      {
        assetMediaCreateDto: {
          assetData: new File([chunk, chunk], 'small.mp4', { type: 'video/mp4' }),
          fileCreatedAt: '2024-05-01T12:00:00.000Z',
          fileModifiedAt: '2024-05-01T12:00:00.000Z',
        },
      },
      { headers: { 'x-api-key': readOnly } },
    ),
  );
  assert.fail('sdk uploadAsset with a read-only key was accepted');
} catch (error) {
  assert.ok(sdk.isHttpError(error), String(error));
  assert.deepEqual([error.status, error.data?.message], [403, DENIED]);
  console.log(`sdk-real-client:   sdk uploadAsset → 403 ${JSON.stringify(error.data)}`);
}
const afterRefusals = await sdk.getAssetStatistics({}, bearer(token));
assert.equal(afterRefusals.total, 0, 'a refused upload left an asset behind');

step('two small images uploaded with the session through the SDK');
const originals = [];
for (const path of [firstImage, secondImage]) {
  const bytes = await readFile(path);
  const uploaded = await sdk.uploadAsset(
    {
      assetMediaCreateDto: {
        assetData: new File([bytes], basename(path), { type: 'image/png' }),
        fileCreatedAt: '2024-05-01T12:00:00.000Z',
        fileModifiedAt: '2024-05-01T12:00:00.000Z',
      },
    },
    bearer(token),
  );
  assert.equal(uploaded.status, 'created');
  originals.push({ id: uploaded.id, name: basename(path), size: bytes.length });
}
const ids = originals.map((asset) => asset.id);
for (const id of ids) {
  await processed(id, token);
}

step('sync stream (compressed JSON lines) holds both assets, then SyncCompleteV1');
const types = ['AssetsV2', 'AuthUsersV1'];
const first = await syncStream(token, types);
const synced = first.filter((line) => line.type === 'AssetV2').map((line) => line.data.id);
assert.deepEqual([...synced].sort(), [...ids].sort(), JSON.stringify(first.map((line) => line.type)));
assert.ok(first.some((line) => line.type === 'AuthUserV1'), 'no AuthUserV1 line');
assert.equal(first.at(-1).type, 'SyncCompleteV1', 'the stream does not end with SyncCompleteV1');
assert.ok(first.every((line) => typeof line.ack === 'string' && line.ack !== ''), 'a line without an ack');

step('sendSyncAck, then a second stream repeats nothing');
const acks = lastAcks(first);
await sdk.sendSyncAck({ syncAckSetDto: { acks } }, bearer(token));
const checkpoints = await sdk.getSyncAck(bearer(token));
assert.ok(checkpoints.some((checkpoint) => checkpoint.type === 'AssetV2'), JSON.stringify(checkpoints));
const again = (await sdk.getSyncStream({ syncStreamDto: { types } }, bearer(token)))
  .split('\n')
  .filter((line) => line.trim() !== '')
  .map((line) => JSON.parse(line));
assert.deepEqual(
  again.map((line) => line.type),
  ['SyncCompleteV1'],
  `the second stream repeated: ${JSON.stringify(again.map((line) => line.type))}`,
);

step('downloadArchive of both assets is a zip with both files');
let archiveEncoding;
const watching = async (...args) => {
  const response = await fetch(...args);
  archiveEncoding = response.headers.get('content-encoding') ?? 'none';
  return response;
};
const archive = await answered('downloadArchive', () =>
  sdk.downloadArchive({ downloadArchiveDto: { assetIds: ids } }, { ...bearer(token), fetch: watching }),
);
console.log(`sdk-real-client:   /download/archive content-encoding: ${archiveEncoding}`);
assert.ok(archive instanceof Blob, `downloadArchive answered ${typeof archive}`);
const entries = zipEntries(new Uint8Array(await archive.arrayBuffer()));
assert.equal(entries.length, 2, JSON.stringify(entries));
assert.deepEqual(
  entries.map((entry) => entry.size).sort((a, b) => a - b),
  originals.map((asset) => asset.size).sort((a, b) => a - b),
  `sizes in the zip ${JSON.stringify(entries)} are not the uploaded files' ${JSON.stringify(originals)}`,
);
assert.deepEqual(
  entries.map((entry) => entry.name).sort(),
  originals.map((asset) => asset.name).sort(),
  'the zip does not name its entries after the original files',
);

console.log('sdk-real-client: all checks passed');
