-- The words machine learning read in each asset, in one searchable text per asset (Immich's
-- `ocr_search`): CJK runs are cut into pairs of characters so that trigram search finds them.

CREATE TABLE IF NOT EXISTS "ocr_search" (
  "assetId" uuid NOT NULL,
  "text" text NOT NULL,
  CONSTRAINT "ocr_search_pkey" PRIMARY KEY ("assetId"),
  CONSTRAINT "ocr_search_assetId_fkey" FOREIGN KEY ("assetId") REFERENCES "asset" ("id") ON UPDATE CASCADE ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS "idx_ocr_search_text" ON "ocr_search" USING gin (f_unaccent("text") gin_trgm_ops);
