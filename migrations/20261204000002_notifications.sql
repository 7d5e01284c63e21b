-- Notifications (Immich 3.0.3): what the web's bell lists. Album invitations and updates, a
-- failed database backup and admins' messages land here; `level` and `type` are plain text,
-- as in Immich, so new kinds need no migration.

CREATE TABLE "notification" (
  "id" uuid NOT NULL DEFAULT uuid_generate_v4(),
  "createdAt" timestamp with time zone NOT NULL DEFAULT now(),
  "updatedAt" timestamp with time zone NOT NULL DEFAULT now(),
  "deletedAt" timestamp with time zone,
  "updateId" uuid NOT NULL DEFAULT immich_uuid_v7(),
  "userId" uuid,
  "level" character varying NOT NULL DEFAULT 'info',
  "type" character varying NOT NULL DEFAULT 'info',
  "data" jsonb,
  "title" character varying NOT NULL,
  "description" text,
  "readAt" timestamp with time zone,
  CONSTRAINT "notification_pkey" PRIMARY KEY ("id"),
  CONSTRAINT "notification_userId_fkey" FOREIGN KEY ("userId") REFERENCES "user" ("id") ON UPDATE CASCADE ON DELETE CASCADE
);
CREATE INDEX "notification_updateId_idx" ON "notification" ("updateId");
CREATE INDEX "notification_userId_idx" ON "notification" ("userId");
CREATE TRIGGER "notification_updatedAt" BEFORE UPDATE ON "notification" FOR EACH ROW EXECUTE FUNCTION updated_at();
