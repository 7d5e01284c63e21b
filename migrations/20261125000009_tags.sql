-- Tags (Immich 3.0.3): a hierarchy per user (`value` is the full path, `a/b/c`), assets tagged,
-- and the closure of the hierarchy for "this tag or any below it".

CREATE TABLE "tag" (
  "id" uuid NOT NULL DEFAULT uuid_generate_v4(),
  "userId" uuid NOT NULL,
  "value" character varying NOT NULL,
  "createdAt" timestamp with time zone NOT NULL DEFAULT now(),
  "updatedAt" timestamp with time zone NOT NULL DEFAULT now(),
  "color" character varying DEFAULT NULL,
  "parentId" uuid,
  "updateId" uuid NOT NULL DEFAULT immich_uuid_v7(),
  CONSTRAINT "tag_pkey" PRIMARY KEY ("id"),
  CONSTRAINT "tag_userId_value_uq" UNIQUE ("userId", "value"),
  CONSTRAINT "tag_userId_fkey" FOREIGN KEY ("userId") REFERENCES "user" ("id") ON UPDATE CASCADE ON DELETE CASCADE,
  CONSTRAINT "tag_parentId_fkey" FOREIGN KEY ("parentId") REFERENCES "tag" ("id") ON UPDATE NO ACTION ON DELETE CASCADE
);
CREATE INDEX "tag_parentId_idx" ON "tag" ("parentId");
CREATE INDEX "tag_updateId_idx" ON "tag" ("updateId");
CREATE TRIGGER "tag_updatedAt" BEFORE UPDATE ON "tag" FOR EACH ROW EXECUTE FUNCTION updated_at();

CREATE TABLE "tag_asset" (
  "assetId" uuid NOT NULL,
  "tagId" uuid NOT NULL,
  CONSTRAINT "tag_asset_pkey" PRIMARY KEY ("assetId", "tagId"),
  CONSTRAINT "tag_asset_assetId_fkey" FOREIGN KEY ("assetId") REFERENCES "asset" ("id") ON UPDATE CASCADE ON DELETE CASCADE,
  CONSTRAINT "tag_asset_tagId_fkey" FOREIGN KEY ("tagId") REFERENCES "tag" ("id") ON UPDATE CASCADE ON DELETE CASCADE
);
CREATE INDEX "tag_asset_assetId_idx" ON "tag_asset" ("assetId");
CREATE INDEX "tag_asset_tagId_idx" ON "tag_asset" ("tagId");
CREATE INDEX "tag_asset_assetId_tagId_idx" ON "tag_asset" ("assetId", "tagId");

CREATE TABLE "tag_closure" (
  "id_ancestor" uuid NOT NULL,
  "id_descendant" uuid NOT NULL,
  CONSTRAINT "tag_closure_pkey" PRIMARY KEY ("id_ancestor", "id_descendant"),
  CONSTRAINT "tag_closure_id_ancestor_fkey" FOREIGN KEY ("id_ancestor") REFERENCES "tag" ("id") ON UPDATE NO ACTION ON DELETE CASCADE,
  CONSTRAINT "tag_closure_id_descendant_fkey" FOREIGN KEY ("id_descendant") REFERENCES "tag" ("id") ON UPDATE NO ACTION ON DELETE CASCADE
);
CREATE INDEX "tag_closure_id_ancestor_idx" ON "tag_closure" ("id_ancestor");
CREATE INDEX "tag_closure_id_descendant_idx" ON "tag_closure" ("id_descendant");
