// Uploads a file with tus-js-client in two halves: `start` sends the first chunk and stops;
// `resume` (after the test restarted the server) continues from the server's offset.
// Usage: node tus-resume.mjs start <server url> <api key> <file> <chunk size>
//        node tus-resume.mjs resume <server url> <api key> <file> <chunk size> <upload path>
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { Upload } from 'tus-js-client';

const [phase, url, key, file, chunkSize, uploadPath] = process.argv.slice(2);
const data = readFileSync(file);
const options = {
  endpoint: `${url}/api/upload/tus`,
  chunkSize: Number(chunkSize),
  headers: { 'x-api-key': key },
  metadata: {
    filename: basename(file),
    fileCreatedAt: '2024-06-01T10:00:00.000Z',
    fileModifiedAt: '2024-06-01T10:00:00.000Z',
  },
  retryDelays: [0, 500],
};

const finish = (result) => {
  console.log(JSON.stringify(result));
  process.exit(0);
};
const fail = (error) => {
  console.error(`tus upload failed: ${error}`);
  process.exit(1);
};

if (phase === 'start') {
  const upload = new Upload(data, {
    ...options,
    onChunkComplete: (chunk, sent) => {
      upload.abort().then(() => finish({ uploadPath: new URL(upload.url).pathname, sent }));
    },
    onError: fail,
  });
  upload.start();
} else if (phase === 'resume') {
  const upload = new Upload(data, {
    ...options,
    uploadUrl: `${url}${uploadPath}`,
    onSuccess: ({ lastResponse }) =>
      finish({
        uploadPath: new URL(upload.url).pathname,
        assetId: lastResponse.getHeader('x-immich-asset-id'),
        status: lastResponse.getHeader('x-immich-asset-status'),
      }),
    onError: fail,
  });
  upload.start();
} else {
  fail(`unknown phase ${phase}`);
}
