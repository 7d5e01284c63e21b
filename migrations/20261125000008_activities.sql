-- Album activity (Immich 3.0.3): comments and likes on an album or on one of its assets. An
-- asset's activity goes when the asset leaves the album.

CREATE TABLE "activity" (
  "id" uuid NOT NULL DEFAULT uuid_generate_v4(),
  "createdAt" timestamp with time zone NOT NULL DEFAULT now(),
  "updatedAt" timestamp with time zone NOT NULL DEFAULT now(),
  "albumId" uuid NOT NULL,
  "userId" uuid NOT NULL,
  "assetId" uuid,
  "comment" text,
  "isLiked" boolean NOT NULL DEFAULT false,
  "updateId" uuid NOT NULL DEFAULT immich_uuid_v7(),
  CONSTRAINT "activity_pkey" PRIMARY KEY ("id"),
  CONSTRAINT "activity_albumId_fkey" FOREIGN KEY ("albumId") REFERENCES "album" ("id") ON UPDATE CASCADE ON DELETE CASCADE,
  CONSTRAINT "activity_userId_fkey" FOREIGN KEY ("userId") REFERENCES "user" ("id") ON UPDATE CASCADE ON DELETE CASCADE,
  CONSTRAINT "activity_assetId_fkey" FOREIGN KEY ("assetId") REFERENCES "asset" ("id") ON UPDATE CASCADE ON DELETE CASCADE,
  CONSTRAINT "activity_albumId_assetId_fkey" FOREIGN KEY ("albumId", "assetId") REFERENCES "album_asset" ("albumId", "assetId") ON UPDATE NO ACTION ON DELETE CASCADE,
  CONSTRAINT "activity_like_check" CHECK (("comment" IS NULL AND "isLiked" = true) OR ("comment" IS NOT NULL AND "isLiked" = false))
);
CREATE UNIQUE INDEX "activity_like_idx" ON "activity" ("assetId", "userId", "albumId") WHERE ("isLiked" = true);
CREATE INDEX "activity_albumId_idx" ON "activity" ("albumId");
CREATE INDEX "activity_userId_idx" ON "activity" ("userId");
CREATE INDEX "activity_assetId_idx" ON "activity" ("assetId");
CREATE INDEX "activity_albumId_assetId_idx" ON "activity" ("albumId", "assetId");
CREATE INDEX "activity_updateId_idx" ON "activity" ("updateId");
CREATE TRIGGER "activity_updatedAt" BEFORE UPDATE ON "activity" FOR EACH ROW EXECUTE FUNCTION updated_at();
