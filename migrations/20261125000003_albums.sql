-- Albums with Immich 3.0.3's shape: ownership is the album_user row with role 'owner'
-- (album has no ownerId), and deletions are audited for mobile sync.

CREATE TYPE "album_user_role_enum" AS ENUM ('owner', 'editor', 'viewer');

CREATE TABLE "album" (
  "id" uuid NOT NULL DEFAULT uuid_generate_v4(),
  "albumName" character varying NOT NULL DEFAULT 'Untitled Album',
  "createdAt" timestamp with time zone NOT NULL DEFAULT now(),
  "albumThumbnailAssetId" uuid,
  "updatedAt" timestamp with time zone NOT NULL DEFAULT now(),
  "description" text NOT NULL DEFAULT '',
  "deletedAt" timestamp with time zone,
  "isActivityEnabled" boolean NOT NULL DEFAULT true,
  "order" character varying NOT NULL DEFAULT 'desc',
  "updateId" uuid NOT NULL DEFAULT immich_uuid_v7(),
  CONSTRAINT "album_pkey" PRIMARY KEY ("id"),
  CONSTRAINT "album_albumThumbnailAssetId_fkey" FOREIGN KEY ("albumThumbnailAssetId") REFERENCES "asset" ("id") ON UPDATE CASCADE ON DELETE SET NULL
);
CREATE INDEX "album_albumThumbnailAssetId_idx" ON "album" ("albumThumbnailAssetId");
CREATE INDEX "album_updateId_idx" ON "album" ("updateId");
CREATE TRIGGER "album_updatedAt" BEFORE UPDATE ON "album" FOR EACH ROW EXECUTE FUNCTION updated_at();

CREATE TABLE "album_asset" (
  "albumId" uuid NOT NULL,
  "assetId" uuid NOT NULL,
  "createdAt" timestamp with time zone NOT NULL DEFAULT now(),
  "updatedAt" timestamp with time zone NOT NULL DEFAULT now(),
  "updateId" uuid NOT NULL DEFAULT immich_uuid_v7(),
  CONSTRAINT "album_asset_pkey" PRIMARY KEY ("albumId", "assetId"),
  CONSTRAINT "album_asset_albumId_fkey" FOREIGN KEY ("albumId") REFERENCES "album" ("id") ON UPDATE CASCADE ON DELETE CASCADE,
  CONSTRAINT "album_asset_assetId_fkey" FOREIGN KEY ("assetId") REFERENCES "asset" ("id") ON UPDATE CASCADE ON DELETE CASCADE
);
CREATE INDEX "album_asset_albumId_idx" ON "album_asset" ("albumId");
CREATE INDEX "album_asset_assetId_idx" ON "album_asset" ("assetId");
CREATE INDEX "album_asset_updateId_idx" ON "album_asset" ("updateId");
CREATE TRIGGER "album_asset_updatedAt" BEFORE UPDATE ON "album_asset" FOR EACH ROW EXECUTE FUNCTION updated_at();

CREATE TABLE "album_user" (
  "albumId" uuid NOT NULL,
  "userId" uuid NOT NULL,
  "role" album_user_role_enum NOT NULL DEFAULT 'editor',
  "createId" uuid NOT NULL DEFAULT immich_uuid_v7(),
  "createdAt" timestamp with time zone NOT NULL DEFAULT now(),
  "updateId" uuid NOT NULL DEFAULT immich_uuid_v7(),
  "updatedAt" timestamp with time zone NOT NULL DEFAULT now(),
  CONSTRAINT "album_user_pkey" PRIMARY KEY ("albumId", "userId"),
  CONSTRAINT "album_user_albumId_fkey" FOREIGN KEY ("albumId") REFERENCES "album" ("id") ON UPDATE CASCADE ON DELETE CASCADE,
  CONSTRAINT "album_user_userId_fkey" FOREIGN KEY ("userId") REFERENCES "user" ("id") ON UPDATE CASCADE ON DELETE CASCADE
);
CREATE INDEX "album_user_albumId_idx" ON "album_user" ("albumId");
CREATE INDEX "album_user_userId_idx" ON "album_user" ("userId");
CREATE INDEX "album_user_createId_idx" ON "album_user" ("createId");
CREATE INDEX "album_user_updateId_idx" ON "album_user" ("updateId");
CREATE UNIQUE INDEX "album_user_unique_owner" ON "album_user" ("albumId") WHERE (role = 'owner');
CREATE TRIGGER "album_user_updatedAt" BEFORE UPDATE ON "album_user" FOR EACH ROW EXECUTE FUNCTION updated_at();

CREATE TABLE "album_audit" (
  "id" uuid NOT NULL DEFAULT immich_uuid_v7(),
  "albumId" uuid NOT NULL,
  "userId" uuid NOT NULL,
  "deletedAt" timestamp with time zone NOT NULL DEFAULT clock_timestamp(),
  CONSTRAINT "album_audit_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "album_audit_albumId_idx" ON "album_audit" ("albumId");
CREATE INDEX "album_audit_userId_idx" ON "album_audit" ("userId");
CREATE INDEX "album_audit_deletedAt_idx" ON "album_audit" ("deletedAt");

CREATE TABLE "album_user_audit" (
  "id" uuid NOT NULL DEFAULT immich_uuid_v7(),
  "albumId" uuid NOT NULL,
  "userId" uuid NOT NULL,
  "deletedAt" timestamp with time zone NOT NULL DEFAULT clock_timestamp(),
  CONSTRAINT "album_user_audit_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "album_user_audit_albumId_idx" ON "album_user_audit" ("albumId");
CREATE INDEX "album_user_audit_userId_idx" ON "album_user_audit" ("userId");
CREATE INDEX "album_user_audit_deletedAt_idx" ON "album_user_audit" ("deletedAt");

CREATE TABLE "album_asset_audit" (
  "id" uuid NOT NULL DEFAULT immich_uuid_v7(),
  "albumId" uuid NOT NULL,
  "assetId" uuid NOT NULL,
  "deletedAt" timestamp with time zone NOT NULL DEFAULT clock_timestamp(),
  CONSTRAINT "album_asset_audit_pkey" PRIMARY KEY ("id"),
  CONSTRAINT "album_asset_audit_albumId_fkey" FOREIGN KEY ("albumId") REFERENCES "album" ("id") ON UPDATE CASCADE ON DELETE CASCADE
);
CREATE INDEX "album_asset_audit_albumId_idx" ON "album_asset_audit" ("albumId");
CREATE INDEX "album_asset_audit_assetId_idx" ON "album_asset_audit" ("assetId");
CREATE INDEX "album_asset_audit_deletedAt_idx" ON "album_asset_audit" ("deletedAt");

-- Sharing with someone new changes the album for everyone (sync picks it up); creating it does not.
CREATE OR REPLACE FUNCTION album_user_after_insert()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
  UPDATE album SET "updatedAt" = clock_timestamp(), "updateId" = immich_uuid_v7(clock_timestamp())
  WHERE "id" IN (SELECT DISTINCT "albumId" FROM inserted_rows)
    AND NOT EXISTS (SELECT 1 FROM inserted_rows WHERE role = 'owner');
  RETURN NULL;
END;
$$;
CREATE TRIGGER "album_user_after_insert" AFTER INSERT ON "album_user" REFERENCING NEW TABLE AS "inserted_rows"
  FOR EACH STATEMENT EXECUTE FUNCTION album_user_after_insert();

-- Assets leaving a surviving album are recorded; a deleted album's assets need no record.
CREATE OR REPLACE FUNCTION album_asset_delete_audit()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
  INSERT INTO album_asset_audit ("albumId", "assetId")
  SELECT "albumId", "assetId" FROM OLD
  WHERE "albumId" IN (SELECT "id" FROM album WHERE "id" IN (SELECT "albumId" FROM OLD));
  RETURN NULL;
END;
$$;
CREATE TRIGGER "album_asset_delete_audit" AFTER DELETE ON "album_asset" REFERENCING OLD TABLE AS "old"
  FOR EACH STATEMENT WHEN (pg_trigger_depth() <= 1) EXECUTE FUNCTION album_asset_delete_audit();

-- Every member of a deleted album (or a removed member) learns the album is gone for them.
CREATE OR REPLACE FUNCTION album_user_delete_audit()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
  INSERT INTO album_audit ("albumId", "userId")
  SELECT "albumId", "userId" FROM OLD;
  IF pg_trigger_depth() = 1 THEN
    INSERT INTO album_user_audit ("albumId", "userId")
    SELECT "albumId", "userId" FROM OLD;
  END IF;
  RETURN NULL;
END;
$$;
CREATE TRIGGER "album_user_delete_audit" AFTER DELETE ON "album_user" REFERENCING OLD TABLE AS "old"
  FOR EACH STATEMENT WHEN (pg_trigger_depth() <= 1) EXECUTE FUNCTION album_user_delete_audit();
