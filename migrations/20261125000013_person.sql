-- People, under Immich's names. Darkroom does not recognise faces yet, so only a database that
-- Immich filled has people in it; they are found by name (`/search/person`). The link from
-- `faceAssetId` to `asset_face` arrives with face recognition.

CREATE TABLE IF NOT EXISTS "person" (
  "id" uuid NOT NULL DEFAULT uuid_generate_v4(),
  "createdAt" timestamp with time zone NOT NULL DEFAULT now(),
  "updatedAt" timestamp with time zone NOT NULL DEFAULT now(),
  "ownerId" uuid NOT NULL,
  "name" character varying NOT NULL DEFAULT '',
  "thumbnailPath" character varying NOT NULL DEFAULT '',
  "isHidden" boolean NOT NULL DEFAULT false,
  "birthDate" date,
  "faceAssetId" uuid,
  "isFavorite" boolean NOT NULL DEFAULT false,
  "color" character varying DEFAULT NULL,
  "updateId" uuid NOT NULL DEFAULT immich_uuid_v7(),
  CONSTRAINT "person_pkey" PRIMARY KEY ("id"),
  CONSTRAINT "person_ownerId_fkey" FOREIGN KEY ("ownerId") REFERENCES "user" ("id") ON UPDATE CASCADE ON DELETE CASCADE,
  CONSTRAINT "person_birthDate_chk" CHECK ("birthDate" <= CURRENT_DATE)
);
CREATE INDEX IF NOT EXISTS "person_ownerId_idx" ON "person" ("ownerId");
CREATE INDEX IF NOT EXISTS "person_updateId_idx" ON "person" ("updateId");
CREATE INDEX IF NOT EXISTS "idx_person_name_trigram" ON "person" USING gin (f_unaccent("name") gin_trgm_ops);
CREATE OR REPLACE TRIGGER "person_updatedAt" BEFORE UPDATE ON "person" FOR EACH ROW EXECUTE FUNCTION updated_at();

-- People removed, for mobile sync (PersonDeleteV1).
CREATE TABLE IF NOT EXISTS "person_audit" (
  "id" uuid NOT NULL DEFAULT immich_uuid_v7(),
  "personId" uuid NOT NULL,
  "ownerId" uuid NOT NULL,
  "deletedAt" timestamp with time zone NOT NULL DEFAULT clock_timestamp(),
  CONSTRAINT "person_audit_pkey" PRIMARY KEY ("id")
);
CREATE INDEX IF NOT EXISTS "person_audit_personId_idx" ON "person_audit" ("personId");
CREATE INDEX IF NOT EXISTS "person_audit_ownerId_idx" ON "person_audit" ("ownerId");
CREATE INDEX IF NOT EXISTS "person_audit_deletedAt_idx" ON "person_audit" ("deletedAt");

CREATE OR REPLACE FUNCTION person_delete_audit()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
  INSERT INTO person_audit ("personId", "ownerId") SELECT "id", "ownerId" FROM OLD;
  RETURN NULL;
END;
$$;
CREATE OR REPLACE TRIGGER "person_delete_audit" AFTER DELETE ON "person" REFERENCING OLD TABLE AS "old"
  FOR EACH STATEMENT WHEN (pg_trigger_depth() = 0) EXECUTE FUNCTION person_delete_audit();
