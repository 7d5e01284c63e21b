-- Memories (Immich 3.0.3): "on this day" collections, made nightly, kept when saved.

CREATE TABLE "memory" (
  "id" uuid NOT NULL DEFAULT uuid_generate_v4(),
  "createdAt" timestamp with time zone NOT NULL DEFAULT now(),
  "updatedAt" timestamp with time zone NOT NULL DEFAULT now(),
  "deletedAt" timestamp with time zone,
  "ownerId" uuid NOT NULL,
  "type" character varying NOT NULL,
  "data" jsonb NOT NULL,
  "isSaved" boolean NOT NULL DEFAULT false,
  "memoryAt" timestamp with time zone NOT NULL,
  "seenAt" timestamp with time zone,
  "showAt" timestamp with time zone,
  "hideAt" timestamp with time zone,
  "updateId" uuid NOT NULL DEFAULT immich_uuid_v7(),
  CONSTRAINT "memory_pkey" PRIMARY KEY ("id"),
  CONSTRAINT "memory_ownerId_fkey" FOREIGN KEY ("ownerId") REFERENCES "user" ("id") ON UPDATE CASCADE ON DELETE CASCADE
);
CREATE INDEX "memory_ownerId_idx" ON "memory" ("ownerId");
CREATE INDEX "memory_updateId_idx" ON "memory" ("updateId");
CREATE TRIGGER "memory_updatedAt" BEFORE UPDATE ON "memory" FOR EACH ROW EXECUTE FUNCTION updated_at();

CREATE TABLE "memory_asset" (
  "memoriesId" uuid NOT NULL,
  "assetId" uuid NOT NULL,
  "createdAt" timestamp with time zone NOT NULL DEFAULT now(),
  "updatedAt" timestamp with time zone NOT NULL DEFAULT now(),
  "updateId" uuid NOT NULL DEFAULT immich_uuid_v7(),
  CONSTRAINT "memory_asset_pkey" PRIMARY KEY ("memoriesId", "assetId"),
  CONSTRAINT "memory_asset_memoriesId_fkey" FOREIGN KEY ("memoriesId") REFERENCES "memory" ("id") ON UPDATE CASCADE ON DELETE CASCADE,
  CONSTRAINT "memory_asset_assetId_fkey" FOREIGN KEY ("assetId") REFERENCES "asset" ("id") ON UPDATE CASCADE ON DELETE CASCADE
);
CREATE INDEX "memory_asset_assetId_idx" ON "memory_asset" ("assetId");
CREATE INDEX "memory_asset_updateId_idx" ON "memory_asset" ("updateId");
CREATE TRIGGER "memory_asset_updatedAt" BEFORE UPDATE ON "memory_asset" FOR EACH ROW EXECUTE FUNCTION updated_at();

CREATE TABLE "memory_audit" (
  "id" uuid NOT NULL DEFAULT immich_uuid_v7(),
  "memoryId" uuid NOT NULL,
  "userId" uuid NOT NULL,
  "deletedAt" timestamp with time zone NOT NULL DEFAULT clock_timestamp(),
  CONSTRAINT "memory_audit_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "memory_audit_memoryId_idx" ON "memory_audit" ("memoryId");
CREATE INDEX "memory_audit_userId_idx" ON "memory_audit" ("userId");
CREATE INDEX "memory_audit_deletedAt_idx" ON "memory_audit" ("deletedAt");

CREATE TABLE "memory_asset_audit" (
  "id" uuid NOT NULL DEFAULT immich_uuid_v7(),
  "memoryId" uuid NOT NULL,
  "assetId" uuid NOT NULL,
  "deletedAt" timestamp with time zone NOT NULL DEFAULT clock_timestamp(),
  CONSTRAINT "memory_asset_audit_pkey" PRIMARY KEY ("id"),
  CONSTRAINT "memory_asset_audit_memoryId_fkey" FOREIGN KEY ("memoryId") REFERENCES "memory" ("id") ON UPDATE CASCADE ON DELETE CASCADE
);
CREATE INDEX "memory_asset_audit_memoryId_idx" ON "memory_asset_audit" ("memoryId");
CREATE INDEX "memory_asset_audit_assetId_idx" ON "memory_asset_audit" ("assetId");
CREATE INDEX "memory_asset_audit_deletedAt_idx" ON "memory_asset_audit" ("deletedAt");

CREATE OR REPLACE FUNCTION memory_delete_audit()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
  INSERT INTO memory_audit ("memoryId", "userId") SELECT "id", "ownerId" FROM OLD;
  RETURN NULL;
END;
$$;
CREATE TRIGGER "memory_delete_audit" AFTER DELETE ON "memory" REFERENCING OLD TABLE AS "old"
  FOR EACH STATEMENT WHEN (pg_trigger_depth() = 0) EXECUTE FUNCTION memory_delete_audit();

-- Assets leaving a surviving memory are recorded; a deleted memory's assets need no record.
CREATE OR REPLACE FUNCTION memory_asset_delete_audit()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
  INSERT INTO memory_asset_audit ("memoryId", "assetId")
  SELECT "memoriesId", "assetId" FROM OLD
  WHERE "memoriesId" IN (SELECT "id" FROM memory WHERE "id" IN (SELECT "memoriesId" FROM OLD));
  RETURN NULL;
END;
$$;
CREATE TRIGGER "memory_asset_delete_audit" AFTER DELETE ON "memory_asset" REFERENCING OLD TABLE AS "old"
  FOR EACH STATEMENT WHEN (pg_trigger_depth() <= 1) EXECUTE FUNCTION memory_asset_delete_audit();
