-- Embeddings, under Immich's names: `smart_search` holds each asset's CLIP embedding,
-- `face_search` each detected face's. The dimension follows the configured model: the server
-- changes it (and empties the table) when the CLIP model changes. Their vector indexes
-- (`clip_index`, `face_index`) depend on the vector extension in use, so the server makes them
-- at start-up, as Immich does.

CREATE TABLE IF NOT EXISTS "smart_search" (
  "assetId" uuid NOT NULL,
  "embedding" vector(512) NOT NULL,
  CONSTRAINT "smart_search_pkey" PRIMARY KEY ("assetId"),
  CONSTRAINT "smart_search_assetId_fkey" FOREIGN KEY ("assetId") REFERENCES "asset" ("id") ON DELETE CASCADE
);

CREATE TABLE IF NOT EXISTS "face_search" (
  "faceId" uuid NOT NULL,
  "embedding" vector(512) NOT NULL,
  CONSTRAINT "face_search_pkey" PRIMARY KEY ("faceId"),
  CONSTRAINT "face_search_faceId_fkey" FOREIGN KEY ("faceId") REFERENCES "asset_face" ("id") ON DELETE CASCADE
);
