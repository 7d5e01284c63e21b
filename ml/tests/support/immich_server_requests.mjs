// Sends the four requests Immich 3.0.3's server makes to its machine-learning service, shaped as
// its MachineLearningRepository shapes them: Node's fetch, a FormData with `entries` (the JSON of
// the request) and the image file's bytes as a Blob (or the text). Prints one JSON line per
// request: {name, status, body}.
//
//   node immich_server_requests.mjs ML_URL IMAGE_PATH CLIP_MODEL FACE_MODEL OCR_MODEL
import { readFile } from 'node:fs/promises';

const [url, imagePath, clipModel, faceModel, ocrModel] = process.argv.slice(2);

async function predict(name, entries, payload) {
  const form = new FormData();
  form.append('entries', JSON.stringify(entries));
  if ('imagePath' in payload) {
    const bytes = await readFile(payload.imagePath);
    form.append('image', new Blob([new Uint8Array(bytes)]));
  } else {
    form.append('text', payload.text);
  }
  const response = await fetch(new URL('predict', url), { method: 'POST', body: form });
  const text = await response.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  console.log(JSON.stringify({ name, status: response.status, body }));
}

// The server's `ping` health check comes first, as its availability checks do.
const ping = await fetch(new URL('ping', url));
console.log(JSON.stringify({ name: 'ping', status: ping.status, body: await ping.text() }));

await predict('encodeImage', { clip: { visual: { modelName: clipModel } } }, { imagePath });
// `language` is left out of the JSON when the user has none, as JSON.stringify drops undefined.
await predict('encodeText', { clip: { textual: { modelName: clipModel, options: { language: undefined } } } }, {
  text: 'ein Hund am Strand 🐕',
});
await predict('encodeTextWithLanguage', { clip: { textual: { modelName: clipModel, options: { language: 'de' } } } }, {
  text: 'ein Hund am Strand',
});
await predict(
  'detectFaces',
  {
    'facial-recognition': {
      detection: { modelName: faceModel, options: { minScore: 0.7 } },
      recognition: { modelName: faceModel },
    },
  },
  { imagePath },
);
await predict(
  'ocr',
  {
    ocr: {
      detection: { modelName: ocrModel, options: { minScore: 0.5, maxResolution: 736 } },
      recognition: { modelName: ocrModel, options: { minScore: 0.8 } },
    },
  },
  { imagePath },
);
