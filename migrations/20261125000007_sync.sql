-- Mobile sync: each session's acknowledged position per entity type, and the JSON shapes of
-- the entities the stream sends (built in the database, so a million rows cost no Rust
-- allocations beyond the line being written).

CREATE TABLE "session_sync_checkpoint" (
  "sessionId" uuid NOT NULL,
  "type" character varying NOT NULL,
  "createdAt" timestamp with time zone NOT NULL DEFAULT now(),
  "updatedAt" timestamp with time zone NOT NULL DEFAULT now(),
  "ack" character varying NOT NULL,
  "updateId" uuid NOT NULL DEFAULT immich_uuid_v7(),
  CONSTRAINT "session_sync_checkpoint_pkey" PRIMARY KEY ("sessionId", "type"),
  CONSTRAINT "session_sync_checkpoint_sessionId_fkey" FOREIGN KEY ("sessionId") REFERENCES "session" ("id") ON UPDATE CASCADE ON DELETE CASCADE
);
CREATE INDEX "session_sync_checkpoint_updateId_idx" ON "session_sync_checkpoint" ("updateId");
CREATE TRIGGER "session_sync_checkpoint_updatedAt" BEFORE UPDATE ON "session_sync_checkpoint" FOR EACH ROW EXECUTE FUNCTION updated_at();

-- Timestamps as Immich's clients receive them: 2024-06-01T12:00:00.000Z. Stable like
-- to_char, so the planner inlines it (an "immutable" wrapper would be called row by row).
CREATE OR REPLACE FUNCTION sync_iso(moment timestamp with time zone) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT to_char(moment AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') $$;

-- SyncAssetV2; `favorite` is the asset's own flag for its owner, false for anyone else.
CREATE OR REPLACE FUNCTION sync_asset_v2(a asset, favorite boolean) RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT json_build_object(
  'id', a.id, 'ownerId', a."ownerId", 'originalFileName', a."originalFileName",
  'fileCreatedAt', sync_iso(a."fileCreatedAt"), 'fileModifiedAt', sync_iso(a."fileModifiedAt"),
  'createdAt', sync_iso(a."createdAt"), 'localDateTime', sync_iso(a."localDateTime"),
  'type', a.type, 'deletedAt', sync_iso(a."deletedAt"), 'isFavorite', favorite, 'visibility', a.visibility,
  'duration', a.duration, 'livePhotoVideoId', a."livePhotoVideoId", 'stackId', a."stackId",
  'libraryId', a."libraryId", 'width', a.width, 'height', a.height, 'isEdited', a."isEdited",
  'checksum', encode(a.checksum, 'base64'), 'thumbhash', encode(a.thumbhash, 'base64')) $$;

-- SyncAssetExifV1.
CREATE OR REPLACE FUNCTION sync_asset_exif_v1(e asset_exif) RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT json_build_object(
  'assetId', e."assetId", 'description', e.description, 'exifImageWidth', e."exifImageWidth",
  'exifImageHeight', e."exifImageHeight", 'fileSizeInByte', e."fileSizeInByte", 'orientation', e.orientation,
  'dateTimeOriginal', sync_iso(e."dateTimeOriginal"), 'modifyDate', sync_iso(e."modifyDate"), 'timeZone', e."timeZone",
  'latitude', e.latitude, 'longitude', e.longitude, 'projectionType', e."projectionType", 'city', e.city,
  'state', e.state, 'country', e.country, 'make', e.make, 'model', e.model, 'lensModel', e."lensModel",
  'fNumber', e."fNumber", 'focalLength', e."focalLength", 'iso', e.iso, 'exposureTime', e."exposureTime",
  'profileDescription', e."profileDescription", 'rating', e.rating, 'fps', e.fps) $$;
