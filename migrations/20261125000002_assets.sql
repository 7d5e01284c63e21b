-- Assets: the tables every photo and video lives in, with Immich 3.0.3's names, so the
-- mobile sync cursors (`updateId`) and the audit trail for deletions work as clients expect.

CREATE TYPE "assets_status_enum" AS ENUM ('active', 'trashed', 'deleted');
CREATE TYPE "asset_visibility_enum" AS ENUM ('archive', 'timeline', 'hidden', 'locked');
CREATE TYPE "asset_checksum_algorithm_enum" AS ENUM ('sha1', 'sha1-path');

-- Accent-insensitive file-name search needs an IMMUTABLE wrapper to be indexable.
CREATE OR REPLACE FUNCTION f_unaccent(text)
RETURNS text
LANGUAGE SQL IMMUTABLE PARALLEL SAFE STRICT
RETURN unaccent('unaccent', $1);

-- Schema-qualified so the GiST index below survives a restricted search_path.
CREATE OR REPLACE FUNCTION ll_to_earth_public(latitude double precision, longitude double precision)
RETURNS public.earth
LANGUAGE SQL IMMUTABLE PARALLEL SAFE STRICT
AS $$
  SELECT public.cube(public.cube(public.cube(public.earth()*cos(radians(latitude))*cos(radians(longitude))),public.earth()*cos(radians(latitude))*sin(radians(longitude))),public.earth()*sin(radians(latitude)))::public.earth
$$;

CREATE TABLE "library" (
  "id" uuid NOT NULL DEFAULT uuid_generate_v4(),
  "name" character varying NOT NULL,
  "ownerId" uuid NOT NULL,
  "importPaths" text[] NOT NULL,
  "exclusionPatterns" text[] NOT NULL,
  "createdAt" timestamp with time zone NOT NULL DEFAULT now(),
  "updatedAt" timestamp with time zone NOT NULL DEFAULT now(),
  "deletedAt" timestamp with time zone,
  "refreshedAt" timestamp with time zone,
  "updateId" uuid NOT NULL DEFAULT immich_uuid_v7(),
  CONSTRAINT "library_pkey" PRIMARY KEY ("id"),
  CONSTRAINT "library_ownerId_fkey" FOREIGN KEY ("ownerId") REFERENCES "user" ("id") ON UPDATE CASCADE ON DELETE CASCADE
);
CREATE INDEX "library_ownerId_idx" ON "library" ("ownerId");
CREATE INDEX "library_updateId_idx" ON "library" ("updateId");
CREATE TRIGGER "library_updatedAt" BEFORE UPDATE ON "library" FOR EACH ROW EXECUTE FUNCTION updated_at();

CREATE TABLE "asset" (
  "id" uuid NOT NULL DEFAULT uuid_generate_v4(),
  "ownerId" uuid NOT NULL,
  "type" character varying NOT NULL,
  "originalPath" character varying NOT NULL,
  "fileCreatedAt" timestamp with time zone NOT NULL,
  "fileModifiedAt" timestamp with time zone NOT NULL,
  "isFavorite" boolean NOT NULL DEFAULT false,
  "duration" integer,
  "checksum" bytea NOT NULL,
  "checksumAlgorithm" asset_checksum_algorithm_enum NOT NULL,
  "livePhotoVideoId" uuid,
  "updatedAt" timestamp with time zone NOT NULL DEFAULT now(),
  "createdAt" timestamp with time zone NOT NULL DEFAULT now(),
  "originalFileName" character varying NOT NULL,
  "thumbhash" bytea,
  "isOffline" boolean NOT NULL DEFAULT false,
  "libraryId" uuid,
  "isExternal" boolean NOT NULL DEFAULT false,
  "deletedAt" timestamp with time zone,
  "localDateTime" timestamp with time zone NOT NULL,
  "stackId" uuid,
  "duplicateId" uuid,
  "status" assets_status_enum NOT NULL DEFAULT 'active',
  "updateId" uuid NOT NULL DEFAULT immich_uuid_v7(),
  "visibility" asset_visibility_enum NOT NULL DEFAULT 'timeline',
  "width" integer,
  "height" integer,
  "isEdited" boolean NOT NULL DEFAULT false,
  CONSTRAINT "asset_pkey" PRIMARY KEY ("id"),
  CONSTRAINT "asset_ownerId_fkey" FOREIGN KEY ("ownerId") REFERENCES "user" ("id") ON UPDATE CASCADE ON DELETE CASCADE,
  CONSTRAINT "asset_livePhotoVideoId_fkey" FOREIGN KEY ("livePhotoVideoId") REFERENCES "asset" ("id") ON UPDATE CASCADE ON DELETE SET NULL,
  CONSTRAINT "asset_libraryId_fkey" FOREIGN KEY ("libraryId") REFERENCES "library" ("id") ON UPDATE CASCADE ON DELETE CASCADE
);
-- Checksums are unique per owner for uploads and per owner and library for external files;
-- upload de-duplication relies on the first index's name.
CREATE UNIQUE INDEX "UQ_assets_owner_checksum" ON "asset" ("ownerId", "checksum") WHERE "libraryId" IS NULL;
CREATE UNIQUE INDEX "asset_ownerId_libraryId_checksum_idx" ON "asset" ("ownerId", "libraryId", "checksum") WHERE "libraryId" IS NOT NULL;
CREATE INDEX "asset_ownerId_idx" ON "asset" ("ownerId");
CREATE INDEX "asset_fileCreatedAt_idx" ON "asset" ("fileCreatedAt");
CREATE INDEX "asset_checksum_idx" ON "asset" ("checksum");
CREATE INDEX "asset_livePhotoVideoId_idx" ON "asset" ("livePhotoVideoId");
CREATE INDEX "asset_createdAt_idx" ON "asset" ("createdAt");
CREATE INDEX "asset_originalFileName_idx" ON "asset" ("originalFileName");
CREATE INDEX "asset_libraryId_idx" ON "asset" ("libraryId");
CREATE INDEX "asset_stackId_idx" ON "asset" ("stackId");
CREATE INDEX "asset_duplicateId_idx" ON "asset" ("duplicateId");
CREATE INDEX "asset_updateId_idx" ON "asset" ("updateId");
CREATE INDEX "asset_localDateTime_idx" ON "asset" ((("localDateTime" AT TIME ZONE 'UTC')::date));
CREATE INDEX "asset_localDateTime_month_idx" ON "asset" ((date_trunc('MONTH'::text, ("localDateTime" AT TIME ZONE 'UTC'::text)) AT TIME ZONE 'UTC'::text));
CREATE INDEX "asset_originalPath_libraryId_idx" ON "asset" ("originalPath", "libraryId");
CREATE INDEX "asset_id_stackId_idx" ON "asset" ("id", "stackId");
CREATE INDEX "asset_originalFilename_trigram_idx" ON "asset" USING gin (f_unaccent("originalFileName") gin_trgm_ops);
CREATE INDEX "asset_id_timeline_notDeleted_idx" ON "asset" ("id") WHERE visibility = 'timeline' AND "deletedAt" IS NULL;
CREATE TRIGGER "asset_updatedAt" BEFORE UPDATE ON "asset" FOR EACH ROW EXECUTE FUNCTION updated_at();

CREATE TABLE "stack" (
  "id" uuid NOT NULL DEFAULT uuid_generate_v4(),
  "createdAt" timestamp with time zone NOT NULL DEFAULT now(),
  "updatedAt" timestamp with time zone NOT NULL DEFAULT now(),
  "updateId" uuid NOT NULL DEFAULT immich_uuid_v7(),
  "primaryAssetId" uuid NOT NULL,
  "ownerId" uuid NOT NULL,
  CONSTRAINT "stack_pkey" PRIMARY KEY ("id"),
  CONSTRAINT "stack_primaryAssetId_uq" UNIQUE ("primaryAssetId"),
  CONSTRAINT "stack_primaryAssetId_fkey" FOREIGN KEY ("primaryAssetId") REFERENCES "asset" ("id") ON UPDATE NO ACTION ON DELETE NO ACTION,
  CONSTRAINT "stack_ownerId_fkey" FOREIGN KEY ("ownerId") REFERENCES "user" ("id") ON UPDATE CASCADE ON DELETE CASCADE
);
CREATE INDEX "stack_ownerId_idx" ON "stack" ("ownerId");
CREATE INDEX "stack_primaryAssetId_idx" ON "stack" ("primaryAssetId");
CREATE TRIGGER "stack_updatedAt" BEFORE UPDATE ON "stack" FOR EACH ROW EXECUTE FUNCTION updated_at();

ALTER TABLE "asset" ADD CONSTRAINT "asset_stackId_fkey" FOREIGN KEY ("stackId") REFERENCES "stack" ("id") ON UPDATE CASCADE ON DELETE SET NULL;

CREATE TABLE "asset_audit" (
  "id" uuid NOT NULL DEFAULT immich_uuid_v7(),
  "assetId" uuid NOT NULL,
  "ownerId" uuid NOT NULL,
  "deletedAt" timestamp with time zone NOT NULL DEFAULT clock_timestamp(),
  CONSTRAINT "asset_audit_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "asset_audit_assetId_idx" ON "asset_audit" ("assetId");
CREATE INDEX "asset_audit_ownerId_idx" ON "asset_audit" ("ownerId");
CREATE INDEX "asset_audit_deletedAt_idx" ON "asset_audit" ("deletedAt");

CREATE OR REPLACE FUNCTION asset_delete_audit()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
  INSERT INTO asset_audit ("assetId", "ownerId")
  SELECT "id", "ownerId"
  FROM OLD;
  RETURN NULL;
END;
$$;
CREATE TRIGGER "asset_delete_audit" AFTER DELETE ON "asset" REFERENCING OLD TABLE AS "old"
  FOR EACH STATEMENT WHEN (pg_trigger_depth() = 0) EXECUTE FUNCTION asset_delete_audit();

CREATE TABLE "stack_audit" (
  "id" uuid NOT NULL DEFAULT immich_uuid_v7(),
  "stackId" uuid NOT NULL,
  "userId" uuid NOT NULL,
  "deletedAt" timestamp with time zone NOT NULL DEFAULT clock_timestamp(),
  CONSTRAINT "stack_audit_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "stack_audit_deletedAt_idx" ON "stack_audit" ("deletedAt");

CREATE OR REPLACE FUNCTION stack_delete_audit()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
  INSERT INTO stack_audit ("stackId", "userId")
  SELECT "id", "ownerId"
  FROM OLD;
  RETURN NULL;
END;
$$;
CREATE TRIGGER "stack_delete_audit" AFTER DELETE ON "stack" REFERENCING OLD TABLE AS "old"
  FOR EACH STATEMENT WHEN (pg_trigger_depth() = 0) EXECUTE FUNCTION stack_delete_audit();

CREATE TABLE "asset_exif" (
  "assetId" uuid NOT NULL,
  "make" character varying,
  "model" character varying,
  "exifImageWidth" integer,
  "exifImageHeight" integer,
  "fileSizeInByte" bigint,
  "orientation" character varying,
  "dateTimeOriginal" timestamp with time zone,
  "modifyDate" timestamp with time zone,
  "lensModel" character varying,
  "fNumber" double precision,
  "focalLength" double precision,
  "iso" integer,
  "latitude" double precision,
  "longitude" double precision,
  "city" character varying,
  "state" character varying,
  "country" character varying,
  "description" text NOT NULL DEFAULT '',
  "fps" double precision,
  "exposureTime" character varying,
  "livePhotoCID" character varying,
  "timeZone" character varying,
  "projectionType" character varying,
  "profileDescription" character varying,
  "colorspace" character varying,
  "bitsPerSample" integer,
  "autoStackId" character varying,
  "rating" integer,
  "tags" character varying[],
  "updatedAt" timestamp with time zone NOT NULL DEFAULT clock_timestamp(),
  "updateId" uuid NOT NULL DEFAULT immich_uuid_v7(),
  "lockedProperties" character varying[],
  CONSTRAINT "asset_exif_pkey" PRIMARY KEY ("assetId"),
  CONSTRAINT "asset_exif_assetId_fkey" FOREIGN KEY ("assetId") REFERENCES "asset" ("id") ON UPDATE NO ACTION ON DELETE CASCADE
);
CREATE INDEX "asset_exif_city_idx" ON "asset_exif" ("city");
CREATE INDEX "asset_exif_livePhotoCID_idx" ON "asset_exif" ("livePhotoCID");
CREATE INDEX "asset_exif_autoStackId_idx" ON "asset_exif" ("autoStackId");
CREATE INDEX "asset_exif_updateId_idx" ON "asset_exif" ("updateId");
CREATE INDEX "IDX_asset_exif_gist_earthcoord" ON "asset_exif" USING gist (ll_to_earth_public(latitude, longitude));
CREATE TRIGGER "asset_exif_updatedAt" BEFORE UPDATE ON "asset_exif" FOR EACH ROW EXECUTE FUNCTION updated_at();

CREATE TABLE "asset_file" (
  "id" uuid NOT NULL DEFAULT uuid_generate_v4(),
  "assetId" uuid NOT NULL,
  "createdAt" timestamp with time zone NOT NULL DEFAULT now(),
  "updatedAt" timestamp with time zone NOT NULL DEFAULT now(),
  "type" character varying NOT NULL,
  "path" character varying NOT NULL,
  "updateId" uuid NOT NULL DEFAULT immich_uuid_v7(),
  "isEdited" boolean NOT NULL DEFAULT false,
  "isProgressive" boolean NOT NULL DEFAULT false,
  "isTransparent" boolean NOT NULL DEFAULT false,
  CONSTRAINT "asset_file_pkey" PRIMARY KEY ("id"),
  CONSTRAINT "asset_file_assetId_type_isEdited_uq" UNIQUE ("assetId", "type", "isEdited"),
  CONSTRAINT "asset_file_assetId_fkey" FOREIGN KEY ("assetId") REFERENCES "asset" ("id") ON UPDATE CASCADE ON DELETE CASCADE
);
CREATE INDEX "asset_file_assetId_idx" ON "asset_file" ("assetId");
CREATE INDEX "asset_file_updateId_idx" ON "asset_file" ("updateId");
CREATE TRIGGER "asset_file_updatedAt" BEFORE UPDATE ON "asset_file" FOR EACH ROW EXECUTE FUNCTION updated_at();

CREATE TABLE "asset_job_status" (
  "assetId" uuid NOT NULL,
  "facesRecognizedAt" timestamp with time zone,
  "metadataExtractedAt" timestamp with time zone,
  "duplicatesDetectedAt" timestamp with time zone,
  "ocrAt" timestamp with time zone,
  CONSTRAINT "asset_job_status_pkey" PRIMARY KEY ("assetId"),
  CONSTRAINT "asset_job_status_assetId_fkey" FOREIGN KEY ("assetId") REFERENCES "asset" ("id") ON UPDATE CASCADE ON DELETE CASCADE
);

CREATE TABLE "asset_metadata" (
  "assetId" uuid NOT NULL,
  "key" character varying NOT NULL,
  "value" jsonb NOT NULL,
  "updateId" uuid NOT NULL DEFAULT immich_uuid_v7(),
  "updatedAt" timestamp with time zone NOT NULL DEFAULT now(),
  CONSTRAINT "asset_metadata_pkey" PRIMARY KEY ("assetId", "key"),
  CONSTRAINT "asset_metadata_assetId_fkey" FOREIGN KEY ("assetId") REFERENCES "asset" ("id") ON UPDATE CASCADE ON DELETE CASCADE
);
CREATE INDEX "asset_metadata_updateId_idx" ON "asset_metadata" ("updateId");
CREATE INDEX "asset_metadata_updatedAt_idx" ON "asset_metadata" ("updatedAt");
CREATE TRIGGER "asset_metadata_updated_at" BEFORE UPDATE ON "asset_metadata" FOR EACH ROW EXECUTE FUNCTION updated_at();

CREATE TABLE "asset_metadata_audit" (
  "id" uuid NOT NULL DEFAULT immich_uuid_v7(),
  "assetId" uuid NOT NULL,
  "key" character varying NOT NULL,
  "deletedAt" timestamp with time zone NOT NULL DEFAULT clock_timestamp(),
  CONSTRAINT "asset_metadata_audit_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "asset_metadata_audit_assetId_idx" ON "asset_metadata_audit" ("assetId");
CREATE INDEX "asset_metadata_audit_key_idx" ON "asset_metadata_audit" ("key");
CREATE INDEX "asset_metadata_audit_deletedAt_idx" ON "asset_metadata_audit" ("deletedAt");

CREATE OR REPLACE FUNCTION asset_metadata_audit()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
  INSERT INTO asset_metadata_audit ("assetId", "key")
  SELECT "assetId", "key"
  FROM OLD;
  RETURN NULL;
END;
$$;
CREATE TRIGGER "asset_metadata_audit" AFTER DELETE ON "asset_metadata" REFERENCING OLD TABLE AS "old"
  FOR EACH STATEMENT WHEN (pg_trigger_depth() = 0) EXECUTE FUNCTION asset_metadata_audit();
