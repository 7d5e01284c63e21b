-- Shared links (Immich 3.0.3): a random 50-byte key (base64url in the API) or a slug opens
-- one album or a set of assets to anyone holding it.

CREATE TABLE "shared_link" (
  "id" uuid NOT NULL DEFAULT uuid_generate_v4(),
  "description" character varying,
  "userId" uuid NOT NULL,
  "key" bytea NOT NULL,
  "type" character varying NOT NULL,
  "createdAt" timestamp with time zone NOT NULL DEFAULT now(),
  "expiresAt" timestamp with time zone,
  "allowUpload" boolean NOT NULL DEFAULT false,
  "albumId" uuid,
  "allowDownload" boolean NOT NULL DEFAULT true,
  "showExif" boolean NOT NULL DEFAULT true,
  "password" character varying,
  "slug" character varying,
  CONSTRAINT "shared_link_pkey" PRIMARY KEY ("id"),
  CONSTRAINT "shared_link_key_uq" UNIQUE ("key"),
  CONSTRAINT "shared_link_slug_uq" UNIQUE ("slug"),
  CONSTRAINT "shared_link_userId_fkey" FOREIGN KEY ("userId") REFERENCES "user" ("id") ON UPDATE CASCADE ON DELETE CASCADE,
  CONSTRAINT "shared_link_albumId_fkey" FOREIGN KEY ("albumId") REFERENCES "album" ("id") ON UPDATE CASCADE ON DELETE CASCADE
);
CREATE INDEX "shared_link_key_idx" ON "shared_link" ("key");
CREATE INDEX "shared_link_userId_idx" ON "shared_link" ("userId");
CREATE INDEX "shared_link_albumId_idx" ON "shared_link" ("albumId");

CREATE TABLE "shared_link_asset" (
  "assetId" uuid NOT NULL,
  "sharedLinkId" uuid NOT NULL,
  CONSTRAINT "shared_link_asset_pkey" PRIMARY KEY ("assetId", "sharedLinkId"),
  CONSTRAINT "shared_link_asset_assetId_fkey" FOREIGN KEY ("assetId") REFERENCES "asset" ("id") ON UPDATE CASCADE ON DELETE CASCADE,
  CONSTRAINT "shared_link_asset_sharedLinkId_fkey" FOREIGN KEY ("sharedLinkId") REFERENCES "shared_link" ("id") ON UPDATE CASCADE ON DELETE CASCADE
);
CREATE INDEX "shared_link_asset_assetId_idx" ON "shared_link_asset" ("assetId");
CREATE INDEX "shared_link_asset_sharedLinkId_idx" ON "shared_link_asset" ("sharedLinkId");
