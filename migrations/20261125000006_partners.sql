-- Partners (Immich 3.0.3): one user shares their library with another. Sync reads the
-- `createId` (when a share began, for backfills), `updateId` and the delete audit.

CREATE TABLE "partner" (
  "sharedById" uuid NOT NULL,
  "sharedWithId" uuid NOT NULL,
  "createdAt" timestamp with time zone NOT NULL DEFAULT now(),
  "createId" uuid NOT NULL DEFAULT immich_uuid_v7(),
  "updatedAt" timestamp with time zone NOT NULL DEFAULT now(),
  "inTimeline" boolean NOT NULL DEFAULT false,
  "updateId" uuid NOT NULL DEFAULT immich_uuid_v7(),
  CONSTRAINT "partner_pkey" PRIMARY KEY ("sharedById", "sharedWithId"),
  CONSTRAINT "partner_sharedById_fkey" FOREIGN KEY ("sharedById") REFERENCES "user" ("id") ON UPDATE CASCADE ON DELETE CASCADE,
  CONSTRAINT "partner_sharedWithId_fkey" FOREIGN KEY ("sharedWithId") REFERENCES "user" ("id") ON UPDATE CASCADE ON DELETE CASCADE
);
CREATE INDEX "partner_sharedWithId_idx" ON "partner" ("sharedWithId");
CREATE INDEX "partner_createId_idx" ON "partner" ("createId");
CREATE INDEX "partner_updateId_idx" ON "partner" ("updateId");
CREATE TRIGGER "partner_updatedAt" BEFORE UPDATE ON "partner" FOR EACH ROW EXECUTE FUNCTION updated_at();

CREATE TABLE "partner_audit" (
  "id" uuid NOT NULL DEFAULT immich_uuid_v7(),
  "sharedById" uuid NOT NULL,
  "sharedWithId" uuid NOT NULL,
  "deletedAt" timestamp with time zone NOT NULL DEFAULT clock_timestamp(),
  CONSTRAINT "partner_audit_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "partner_audit_sharedById_idx" ON "partner_audit" ("sharedById");
CREATE INDEX "partner_audit_sharedWithId_idx" ON "partner_audit" ("sharedWithId");
CREATE INDEX "partner_audit_deletedAt_idx" ON "partner_audit" ("deletedAt");

CREATE OR REPLACE FUNCTION partner_delete_audit()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
  INSERT INTO partner_audit ("sharedById", "sharedWithId")
  SELECT "sharedById", "sharedWithId"
  FROM OLD;
  RETURN NULL;
END;
$$;
CREATE TRIGGER "partner_delete_audit" AFTER DELETE ON "partner" REFERENCING OLD TABLE AS "old"
  FOR EACH STATEMENT WHEN (pg_trigger_depth() = 0) EXECUTE FUNCTION partner_delete_audit();
