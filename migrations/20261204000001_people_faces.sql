-- Immich indexes `person."faceAssetId"`: removing a face (which empties that column where it
-- pointed at the face) and finding the cover faces of people must not scan every person.
CREATE INDEX IF NOT EXISTS "person_faceAssetId_idx" ON "person" ("faceAssetId");
