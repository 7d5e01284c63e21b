-- Faces, recognised text and edits of assets, under Immich's names, each with the audit table
-- mobile sync reads its deletes from. Darkroom does not detect faces, read text or edit yet;
-- whatever rows are here reach the mobile app through sync.

CREATE TYPE "asset_face_source_type" AS ENUM ('machine-learning', 'exif', 'manual');

CREATE TABLE "asset_face" (
  "id" uuid NOT NULL DEFAULT uuid_generate_v4(),
  "assetId" uuid NOT NULL,
  "personId" uuid,
  "imageWidth" integer NOT NULL DEFAULT 0,
  "imageHeight" integer NOT NULL DEFAULT 0,
  "boundingBoxX1" integer NOT NULL DEFAULT 0,
  "boundingBoxY1" integer NOT NULL DEFAULT 0,
  "boundingBoxX2" integer NOT NULL DEFAULT 0,
  "boundingBoxY2" integer NOT NULL DEFAULT 0,
  "sourceType" asset_face_source_type NOT NULL DEFAULT 'machine-learning',
  "deletedAt" timestamp with time zone,
  "updatedAt" timestamp with time zone NOT NULL DEFAULT now(),
  "updateId" uuid NOT NULL DEFAULT immich_uuid_v7(),
  "isVisible" boolean NOT NULL DEFAULT true,
  -- where in a video the face was seen
  "timestampMs" integer,
  CONSTRAINT "asset_face_pkey" PRIMARY KEY ("id"),
  CONSTRAINT "asset_face_assetId_fkey" FOREIGN KEY ("assetId") REFERENCES "asset" ("id") ON UPDATE CASCADE ON DELETE CASCADE,
  CONSTRAINT "asset_face_personId_fkey" FOREIGN KEY ("personId") REFERENCES "person" ("id") ON UPDATE CASCADE ON DELETE SET NULL
);
CREATE INDEX "asset_face_assetId_personId_idx" ON "asset_face" ("assetId", "personId");
CREATE INDEX "asset_face_personId_assetId_idx" ON "asset_face" ("personId", "assetId");
CREATE INDEX "asset_face_personId_assetId_notDeleted_isVisible_idx" ON "asset_face" ("personId", "assetId")
  WHERE "deletedAt" IS NULL AND "isVisible" IS TRUE;
CREATE INDEX "asset_face_updateId_idx" ON "asset_face" ("updateId");
CREATE OR REPLACE TRIGGER "asset_face_updatedAt" BEFORE UPDATE ON "asset_face" FOR EACH ROW EXECUTE FUNCTION updated_at();

-- A person's cover face.
ALTER TABLE "person" ADD CONSTRAINT "person_faceAssetId_fkey" FOREIGN KEY ("faceAssetId") REFERENCES "asset_face" ("id")
  ON UPDATE NO ACTION ON DELETE SET NULL;

CREATE TABLE "asset_face_audit" (
  "id" uuid NOT NULL DEFAULT immich_uuid_v7(),
  "assetFaceId" uuid NOT NULL,
  "assetId" uuid NOT NULL,
  "deletedAt" timestamp with time zone NOT NULL DEFAULT clock_timestamp(),
  CONSTRAINT "asset_face_audit_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "asset_face_audit_assetFaceId_idx" ON "asset_face_audit" ("assetFaceId");
CREATE INDEX "asset_face_audit_assetId_idx" ON "asset_face_audit" ("assetId");
CREATE INDEX "asset_face_audit_deletedAt_idx" ON "asset_face_audit" ("deletedAt");

CREATE OR REPLACE FUNCTION asset_face_audit()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
  INSERT INTO asset_face_audit ("assetFaceId", "assetId") SELECT "id", "assetId" FROM OLD;
  RETURN NULL;
END;
$$;
-- Faces that go with their asset (a cascade, depth > 0) need no audit row: the asset's own
-- delete tells the device.
CREATE OR REPLACE TRIGGER "asset_face_audit" AFTER DELETE ON "asset_face" REFERENCING OLD TABLE AS "old"
  FOR EACH STATEMENT WHEN (pg_trigger_depth() = 0) EXECUTE FUNCTION asset_face_audit();

-- Text found in a picture; box corners are fractions (0–1) of the picture's size.
CREATE TABLE "asset_ocr" (
  "id" uuid NOT NULL DEFAULT uuid_generate_v4(),
  "assetId" uuid NOT NULL,
  "x1" real NOT NULL,
  "y1" real NOT NULL,
  "x2" real NOT NULL,
  "y2" real NOT NULL,
  "x3" real NOT NULL,
  "y3" real NOT NULL,
  "x4" real NOT NULL,
  "y4" real NOT NULL,
  "boxScore" real NOT NULL,
  "textScore" real NOT NULL,
  "text" text NOT NULL,
  "isVisible" boolean NOT NULL DEFAULT true,
  "updateId" uuid NOT NULL DEFAULT immich_uuid_v7(),
  CONSTRAINT "asset_ocr_pkey" PRIMARY KEY ("id"),
  CONSTRAINT "asset_ocr_assetId_fkey" FOREIGN KEY ("assetId") REFERENCES "asset" ("id") ON UPDATE CASCADE ON DELETE CASCADE
);
CREATE INDEX "asset_ocr_assetId_idx" ON "asset_ocr" ("assetId");
CREATE INDEX "asset_ocr_updateId_idx" ON "asset_ocr" ("updateId");

CREATE TABLE "asset_ocr_audit" (
  "id" uuid NOT NULL DEFAULT immich_uuid_v7(),
  "assetId" uuid NOT NULL,
  "deletedAt" timestamp with time zone NOT NULL DEFAULT clock_timestamp(),
  CONSTRAINT "asset_ocr_audit_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "asset_ocr_audit_assetId_idx" ON "asset_ocr_audit" ("assetId");
CREATE INDEX "asset_ocr_audit_deletedAt_idx" ON "asset_ocr_audit" ("deletedAt");

-- One audit row per removed text box, naming only the asset: the device drops the asset's
-- text and takes what is sent after.
CREATE OR REPLACE FUNCTION asset_ocr_delete_audit()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
  INSERT INTO asset_ocr_audit ("assetId") SELECT "assetId" FROM OLD;
  RETURN NULL;
END;
$$;
CREATE OR REPLACE TRIGGER "asset_ocr_delete_audit" AFTER DELETE ON "asset_ocr" REFERENCING OLD TABLE AS "old"
  FOR EACH STATEMENT WHEN (pg_trigger_depth() = 0) EXECUTE FUNCTION asset_ocr_delete_audit();

-- Non-destructive edits (crop, rotate, mirror), applied in `sequence` order.
CREATE TABLE "asset_edit" (
  "id" uuid NOT NULL DEFAULT uuid_generate_v4(),
  "assetId" uuid NOT NULL,
  "action" character varying NOT NULL,
  "parameters" jsonb NOT NULL,
  "sequence" integer NOT NULL,
  "updatedAt" timestamp with time zone NOT NULL DEFAULT now(),
  "updateId" uuid NOT NULL DEFAULT immich_uuid_v7(),
  CONSTRAINT "asset_edit_pkey" PRIMARY KEY ("id"),
  CONSTRAINT "asset_edit_assetId_fkey" FOREIGN KEY ("assetId") REFERENCES "asset" ("id") ON UPDATE CASCADE ON DELETE CASCADE,
  CONSTRAINT "asset_edit_assetId_sequence_uq" UNIQUE ("assetId", "sequence")
);
CREATE INDEX "asset_edit_assetId_idx" ON "asset_edit" ("assetId");
CREATE INDEX "asset_edit_updateId_idx" ON "asset_edit" ("updateId");
CREATE OR REPLACE TRIGGER "asset_edit_updatedAt" BEFORE UPDATE ON "asset_edit" FOR EACH ROW EXECUTE FUNCTION updated_at();

CREATE TABLE "asset_edit_audit" (
  "id" uuid NOT NULL DEFAULT immich_uuid_v7(),
  "editId" uuid NOT NULL,
  "assetId" uuid NOT NULL,
  "deletedAt" timestamp with time zone NOT NULL DEFAULT clock_timestamp(),
  CONSTRAINT "asset_edit_audit_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "asset_edit_audit_assetId_idx" ON "asset_edit_audit" ("assetId");
CREATE INDEX "asset_edit_audit_deletedAt_idx" ON "asset_edit_audit" ("deletedAt");

CREATE OR REPLACE FUNCTION asset_edit_audit()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
  INSERT INTO asset_edit_audit ("editId", "assetId") SELECT "id", "assetId" FROM OLD;
  RETURN NULL;
END;
$$;
CREATE OR REPLACE TRIGGER "asset_edit_audit" AFTER DELETE ON "asset_edit" REFERENCING OLD TABLE AS "old"
  FOR EACH STATEMENT WHEN (pg_trigger_depth() = 0) EXECUTE FUNCTION asset_edit_audit();

-- `asset.isEdited` follows whether an asset has edits (which also moves its `updateId`, so the
-- device hears of it through AssetV2).
CREATE OR REPLACE FUNCTION asset_edit_insert()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
  UPDATE asset SET "isEdited" = true FROM inserted_edit WHERE asset.id = inserted_edit."assetId" AND NOT asset."isEdited";
  RETURN NULL;
END;
$$;
CREATE OR REPLACE TRIGGER "asset_edit_insert" AFTER INSERT ON "asset_edit" REFERENCING NEW TABLE AS "inserted_edit"
  FOR EACH STATEMENT EXECUTE FUNCTION asset_edit_insert();

CREATE OR REPLACE FUNCTION asset_edit_delete()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
  UPDATE asset SET "isEdited" = false FROM deleted_edit
   WHERE asset.id = deleted_edit."assetId" AND asset."isEdited"
     AND NOT EXISTS (SELECT FROM asset_edit edit WHERE edit."assetId" = asset.id);
  RETURN NULL;
END;
$$;
CREATE OR REPLACE TRIGGER "asset_edit_delete" AFTER DELETE ON "asset_edit" REFERENCING OLD TABLE AS "deleted_edit"
  FOR EACH STATEMENT WHEN (pg_trigger_depth() = 0) EXECUTE FUNCTION asset_edit_delete();
