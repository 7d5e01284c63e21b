-- The EXIF columns the web timeline shows (projection, city, country, position), filed by owner
-- and local day. A month of the timeline then reads them in one index range instead of looking
-- up each of its ~9,000 assets' `asset_exif` row (4 buffer visits each): on a 2-core machine
-- that halves the month's query. Darkroom's own table, kept by triggers; Immich ignores it.

CREATE TABLE "timeline_exif" (
  "assetId" uuid NOT NULL,
  "ownerId" uuid NOT NULL,
  -- the day of the asset's local time, as the timeline groups it
  "localDay" date NOT NULL,
  "projectionType" character varying,
  "city" character varying,
  "country" character varying,
  "latitude" double precision,
  "longitude" double precision,
  CONSTRAINT "timeline_exif_pkey" PRIMARY KEY ("assetId"),
  CONSTRAINT "timeline_exif_assetId_fkey" FOREIGN KEY ("assetId") REFERENCES "asset_exif" ("assetId") ON UPDATE CASCADE ON DELETE CASCADE
);
-- Covering, so a month is an index-only scan.
CREATE INDEX "timeline_exif_ownerId_localDay_idx" ON "timeline_exif" ("ownerId", "localDay")
  INCLUDE ("assetId", "projectionType", "city", "country", "latitude", "longitude");

INSERT INTO "timeline_exif"
SELECT e."assetId", a."ownerId", (a."localDateTime" AT TIME ZONE 'UTC')::date, e."projectionType", e.city, e.country, e.latitude, e.longitude
FROM asset_exif e JOIN asset a ON a.id = e."assetId";

-- New EXIF rows, a statement at a time (an import inserts many at once).
CREATE OR REPLACE FUNCTION timeline_exif_insert()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
  INSERT INTO timeline_exif
  SELECT n."assetId", a."ownerId", (a."localDateTime" AT TIME ZONE 'UTC')::date, n."projectionType", n.city, n.country, n.latitude, n.longitude
  FROM inserted_exif n JOIN asset a ON a.id = n."assetId"
  ON CONFLICT ("assetId") DO NOTHING;
  RETURN NULL;
END;
$$;
CREATE OR REPLACE TRIGGER "timeline_exif_insert" AFTER INSERT ON "asset_exif" REFERENCING NEW TABLE AS "inserted_exif"
  FOR EACH STATEMENT EXECUTE FUNCTION timeline_exif_insert();

-- Changed EXIF columns. Each trigger sets only its own columns from NEW, so an EXIF change and
-- an asset change racing each other both land (they queue on the timeline row's lock).
CREATE OR REPLACE FUNCTION timeline_exif_update()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
  UPDATE timeline_exif SET "projectionType" = NEW."projectionType", city = NEW.city, country = NEW.country,
                           latitude = NEW.latitude, longitude = NEW.longitude
   WHERE "assetId" = NEW."assetId";
  RETURN NULL;
END;
$$;
CREATE OR REPLACE TRIGGER "timeline_exif_update" AFTER UPDATE OF "projectionType", city, country, latitude, longitude ON "asset_exif"
  FOR EACH ROW
  WHEN (OLD."projectionType" IS DISTINCT FROM NEW."projectionType" OR OLD.city IS DISTINCT FROM NEW.city
        OR OLD.country IS DISTINCT FROM NEW.country OR OLD.latitude IS DISTINCT FROM NEW.latitude
        OR OLD.longitude IS DISTINCT FROM NEW.longitude)
  EXECUTE FUNCTION timeline_exif_update();

-- An asset moved in time (a new date) or to another owner.
CREATE OR REPLACE FUNCTION timeline_exif_asset_update()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
  UPDATE timeline_exif SET "ownerId" = NEW."ownerId", "localDay" = (NEW."localDateTime" AT TIME ZONE 'UTC')::date
   WHERE "assetId" = NEW.id;
  RETURN NULL;
END;
$$;
CREATE OR REPLACE TRIGGER "timeline_exif_asset_update" AFTER UPDATE OF "localDateTime", "ownerId" ON "asset"
  FOR EACH ROW
  WHEN (OLD."localDateTime" IS DISTINCT FROM NEW."localDateTime" OR OLD."ownerId" IS DISTINCT FROM NEW."ownerId")
  EXECUTE FUNCTION timeline_exif_asset_update();
