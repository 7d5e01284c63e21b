-- Resumable uploads (tus 1.0 and the IETF resumable-upload draft): Darkroom's own table, since
-- Immich has none. Bytes live in upload/.darkroom-resumable/<id>.part until the upload completes
-- and becomes an asset through the same path as POST /api/assets.

CREATE TABLE "resumable_upload" (
  "id" uuid NOT NULL DEFAULT uuid_generate_v4(),
  "ownerId" uuid NOT NULL,
  "protocol" character varying NOT NULL,
  -- Total size, when the client has said it.
  "uploadLength" bigint,
  -- The asset's form fields (fileCreatedAt, filename, …) as text, exactly as POST /assets takes them.
  "fields" jsonb NOT NULL DEFAULT '{}',
  -- tus Upload-Metadata as received, echoed by HEAD.
  "rawMetadata" character varying,
  -- SHA-1 of the whole file when the client declared it up front.
  "checksum" bytea,
  "createdAt" timestamp with time zone NOT NULL DEFAULT now(),
  "expiresAt" timestamp with time zone NOT NULL,
  -- Set once complete: the asset it became (or already was, for a duplicate) and which.
  "assetId" uuid,
  "assetStatus" character varying,
  CONSTRAINT "resumable_upload_pkey" PRIMARY KEY ("id"),
  CONSTRAINT "resumable_upload_ownerId_fkey" FOREIGN KEY ("ownerId") REFERENCES "user" ("id") ON UPDATE CASCADE ON DELETE CASCADE,
  CONSTRAINT "resumable_upload_protocol_chk" CHECK ("protocol" IN ('tus', 'rufh')),
  CONSTRAINT "resumable_upload_length_chk" CHECK ("uploadLength" IS NULL OR "uploadLength" >= 0)
);
CREATE INDEX "resumable_upload_ownerId_idx" ON "resumable_upload" ("ownerId");
CREATE INDEX "resumable_upload_expiresAt_idx" ON "resumable_upload" ("expiresAt");
