-- Foundation: helper functions and the tables for users, sessions, API keys and system state.
-- Names follow Immich 3.0.3 so an existing Immich database stays recognisable.

CREATE EXTENSION IF NOT EXISTS "uuid-ossp";
CREATE EXTENSION IF NOT EXISTS "unaccent";
CREATE EXTENSION IF NOT EXISTS "cube";
CREATE EXTENSION IF NOT EXISTS "earthdistance";
CREATE EXTENSION IF NOT EXISTS "pg_trgm";

-- UUIDv7 (time-ordered) ids; `updateId` columns use them as sync cursors.
CREATE OR REPLACE FUNCTION immich_uuid_v7(p_timestamp timestamp with time zone DEFAULT clock_timestamp())
RETURNS uuid
LANGUAGE SQL VOLATILE
AS $$
  SELECT encode(
    set_bit(
      set_bit(
        overlay(uuid_send(gen_random_uuid())
                placing substring(int8send(floor(extract(epoch FROM p_timestamp) * 1000)::bigint) FROM 3)
                FROM 1 FOR 6),
        52, 1),
      53, 1),
    'hex')::uuid;
$$;

-- Every mutable row gets a fresh updatedAt and updateId on UPDATE.
CREATE OR REPLACE FUNCTION updated_at()
RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
  now_ts timestamp := clock_timestamp();
BEGIN
  NEW."updatedAt" = now_ts;
  NEW."updateId" = immich_uuid_v7(now_ts);
  RETURN NEW;
END;
$$;

CREATE TABLE "user" (
  "id" uuid NOT NULL DEFAULT uuid_generate_v4(),
  "email" character varying NOT NULL,
  "password" character varying NOT NULL DEFAULT '',
  "pinCode" character varying,
  "createdAt" timestamp with time zone NOT NULL DEFAULT now(),
  "profileImagePath" character varying NOT NULL DEFAULT '',
  "isAdmin" boolean NOT NULL DEFAULT false,
  "shouldChangePassword" boolean NOT NULL DEFAULT true,
  "avatarColor" character varying DEFAULT NULL,
  "deletedAt" timestamp with time zone,
  "oauthId" character varying NOT NULL DEFAULT '',
  "updatedAt" timestamp with time zone NOT NULL DEFAULT now(),
  "storageLabel" character varying DEFAULT NULL,
  "name" character varying NOT NULL DEFAULT '',
  "quotaSizeInBytes" bigint,
  "quotaUsageInBytes" bigint NOT NULL DEFAULT 0,
  "status" character varying NOT NULL DEFAULT 'active',
  "profileChangedAt" timestamp with time zone NOT NULL DEFAULT now(),
  "updateId" uuid NOT NULL DEFAULT immich_uuid_v7(),
  CONSTRAINT "user_pkey" PRIMARY KEY ("id"),
  CONSTRAINT "user_email_uq" UNIQUE ("email"),
  CONSTRAINT "user_storageLabel_uq" UNIQUE ("storageLabel")
);
CREATE INDEX "user_updatedAt_id_idx" ON "user" ("updatedAt", "id");
CREATE INDEX "user_updateId_idx" ON "user" ("updateId");
CREATE TRIGGER "user_updatedAt" BEFORE UPDATE ON "user" FOR EACH ROW EXECUTE FUNCTION updated_at();

CREATE TABLE "user_audit" (
  "id" uuid NOT NULL DEFAULT immich_uuid_v7(),
  "userId" uuid NOT NULL,
  "deletedAt" timestamp with time zone NOT NULL DEFAULT clock_timestamp(),
  CONSTRAINT "user_audit_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "user_audit_deletedAt_idx" ON "user_audit" ("deletedAt");

CREATE OR REPLACE FUNCTION user_delete_audit()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
  INSERT INTO user_audit ("userId") SELECT "id" FROM OLD;
  RETURN NULL;
END;
$$;
CREATE TRIGGER "user_delete_audit" AFTER DELETE ON "user"
  REFERENCING OLD TABLE AS "old" FOR EACH STATEMENT
  WHEN (pg_trigger_depth() = 0) EXECUTE FUNCTION user_delete_audit();

CREATE TABLE "user_metadata" (
  "userId" uuid NOT NULL,
  "key" character varying NOT NULL,
  "value" jsonb NOT NULL,
  "updateId" uuid NOT NULL DEFAULT immich_uuid_v7(),
  "updatedAt" timestamp with time zone NOT NULL DEFAULT now(),
  CONSTRAINT "user_metadata_pkey" PRIMARY KEY ("userId", "key"),
  CONSTRAINT "user_metadata_userId_fkey" FOREIGN KEY ("userId") REFERENCES "user" ("id") ON UPDATE CASCADE ON DELETE CASCADE
);
CREATE INDEX "IDX_user_metadata_update_id" ON "user_metadata" ("updateId");
CREATE INDEX "IDX_user_metadata_updated_at" ON "user_metadata" ("updatedAt");
CREATE TRIGGER "user_metadata_updated_at" BEFORE UPDATE ON "user_metadata" FOR EACH ROW EXECUTE FUNCTION updated_at();

CREATE TABLE "user_metadata_audit" (
  "id" uuid NOT NULL DEFAULT immich_uuid_v7(),
  "userId" uuid NOT NULL,
  "key" character varying NOT NULL,
  "deletedAt" timestamp with time zone NOT NULL DEFAULT clock_timestamp(),
  CONSTRAINT "user_metadata_audit_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "IDX_user_metadata_audit_user_id" ON "user_metadata_audit" ("userId");
CREATE INDEX "IDX_user_metadata_audit_key" ON "user_metadata_audit" ("key");
CREATE INDEX "IDX_user_metadata_audit_deleted_at" ON "user_metadata_audit" ("deletedAt");

CREATE OR REPLACE FUNCTION user_metadata_audit()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
  INSERT INTO user_metadata_audit ("userId", "key") SELECT "userId", "key" FROM OLD;
  RETURN NULL;
END;
$$;
CREATE TRIGGER "user_metadata_audit" AFTER DELETE ON "user_metadata"
  REFERENCING OLD TABLE AS "old" FOR EACH STATEMENT
  WHEN (pg_trigger_depth() = 0) EXECUTE FUNCTION user_metadata_audit();

CREATE TABLE "session" (
  "id" uuid NOT NULL DEFAULT uuid_generate_v4(),
  "token" bytea NOT NULL,
  "createdAt" timestamp with time zone NOT NULL DEFAULT now(),
  "updatedAt" timestamp with time zone NOT NULL DEFAULT now(),
  "expiresAt" timestamp with time zone,
  "userId" uuid NOT NULL,
  "parentId" uuid,
  "deviceType" character varying NOT NULL DEFAULT '',
  "deviceOS" character varying NOT NULL DEFAULT '',
  "appVersion" character varying,
  "updateId" uuid NOT NULL DEFAULT immich_uuid_v7(),
  "isPendingSyncReset" boolean NOT NULL DEFAULT false,
  "pinExpiresAt" timestamp with time zone,
  "oauthSid" character varying,
  CONSTRAINT "session_pkey" PRIMARY KEY ("id"),
  CONSTRAINT "session_userId_fkey" FOREIGN KEY ("userId") REFERENCES "user" ("id") ON UPDATE CASCADE ON DELETE CASCADE,
  CONSTRAINT "session_parentId_fkey" FOREIGN KEY ("parentId") REFERENCES "session" ("id") ON UPDATE CASCADE ON DELETE CASCADE
);
CREATE INDEX "session_token_idx" ON "session" ("token");
CREATE INDEX "session_userId_idx" ON "session" ("userId");
CREATE INDEX "session_parentId_idx" ON "session" ("parentId");
CREATE INDEX "session_updateId_idx" ON "session" ("updateId");
CREATE INDEX "session_oauthSid_idx" ON "session" ("oauthSid");
CREATE TRIGGER "session_updatedAt" BEFORE UPDATE ON "session" FOR EACH ROW EXECUTE FUNCTION updated_at();

CREATE TABLE "api_key" (
  "id" uuid NOT NULL DEFAULT uuid_generate_v4(),
  "name" character varying NOT NULL,
  "key" bytea NOT NULL,
  "userId" uuid NOT NULL,
  "createdAt" timestamp with time zone NOT NULL DEFAULT now(),
  "updatedAt" timestamp with time zone NOT NULL DEFAULT now(),
  "permissions" character varying[] NOT NULL,
  "updateId" uuid NOT NULL DEFAULT immich_uuid_v7(),
  CONSTRAINT "api_key_pkey" PRIMARY KEY ("id"),
  CONSTRAINT "api_key_userId_fkey" FOREIGN KEY ("userId") REFERENCES "user" ("id") ON UPDATE CASCADE ON DELETE CASCADE
);
CREATE INDEX "api_key_key_idx" ON "api_key" ("key");
CREATE INDEX "api_key_userId_idx" ON "api_key" ("userId");
CREATE INDEX "api_key_updateId_idx" ON "api_key" ("updateId");
CREATE TRIGGER "api_key_updatedAt" BEFORE UPDATE ON "api_key" FOR EACH ROW EXECUTE FUNCTION updated_at();

CREATE TABLE "system_metadata" (
  "key" character varying NOT NULL,
  "value" jsonb NOT NULL,
  CONSTRAINT "system_metadata_pkey" PRIMARY KEY ("key")
);

CREATE TABLE "version_history" (
  "id" uuid NOT NULL DEFAULT uuid_generate_v4(),
  "createdAt" timestamp with time zone NOT NULL DEFAULT now(),
  "version" character varying NOT NULL,
  CONSTRAINT "version_history_pkey" PRIMARY KEY ("id")
);
