-- How many assets each owner has per month (by local time) in each state the timeline
-- filters on, kept by a trigger, so the month list of a library of a million photos is a
-- read of a few thousand rows instead of a scan of a million.

CREATE TABLE "asset_month_count" (
  "ownerId" uuid NOT NULL,
  "month" timestamp without time zone NOT NULL,
  "visibility" asset_visibility_enum NOT NULL,
  "isFavorite" boolean NOT NULL,
  -- live, trashed or deleted (trashed and gone for good once the trash is emptied)
  "state" character varying NOT NULL,
  -- in a stack (the primary as well as the others)
  "stacked" boolean NOT NULL,
  "count" bigint NOT NULL,
  CONSTRAINT "asset_month_count_pkey" PRIMARY KEY ("ownerId", "month", "visibility", "isFavorite", "state", "stacked"),
  CONSTRAINT "asset_month_count_ownerId_fkey" FOREIGN KEY ("ownerId") REFERENCES "user" ("id") ON UPDATE CASCADE ON DELETE CASCADE
);

CREATE OR REPLACE FUNCTION asset_month_state("deletedAt" timestamp with time zone, status assets_status_enum) RETURNS character varying
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT CASE WHEN status = 'deleted' THEN 'deleted' WHEN "deletedAt" IS NOT NULL THEN 'trashed' ELSE 'live' END $$;

CREATE OR REPLACE FUNCTION asset_month_count_update()
RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
  old_month timestamp;
  new_month timestamp;
BEGIN
  IF TG_OP <> 'INSERT' THEN
    old_month := date_trunc('MONTH', OLD."localDateTime" AT TIME ZONE 'UTC');
  END IF;
  IF TG_OP <> 'DELETE' THEN
    new_month := date_trunc('MONTH', NEW."localDateTime" AT TIME ZONE 'UTC');
  END IF;
  IF TG_OP = 'UPDATE'
     AND OLD."ownerId" = NEW."ownerId" AND old_month = new_month AND OLD.visibility = NEW.visibility
     AND OLD."isFavorite" = NEW."isFavorite" AND (OLD."stackId" IS NULL) = (NEW."stackId" IS NULL)
     AND asset_month_state(OLD."deletedAt", OLD.status) = asset_month_state(NEW."deletedAt", NEW.status) THEN
    RETURN NULL;
  END IF;
  IF TG_OP <> 'INSERT' THEN
    UPDATE asset_month_count SET count = count - 1
    WHERE "ownerId" = OLD."ownerId" AND month = old_month AND visibility = OLD.visibility AND "isFavorite" = OLD."isFavorite"
      AND state = asset_month_state(OLD."deletedAt", OLD.status) AND stacked = (OLD."stackId" IS NOT NULL);
  END IF;
  IF TG_OP <> 'DELETE' THEN
    INSERT INTO asset_month_count ("ownerId", month, visibility, "isFavorite", state, stacked, count)
    VALUES (NEW."ownerId", new_month, NEW.visibility, NEW."isFavorite", asset_month_state(NEW."deletedAt", NEW.status), NEW."stackId" IS NOT NULL, 1)
    ON CONFLICT ("ownerId", month, visibility, "isFavorite", state, stacked) DO UPDATE SET count = asset_month_count.count + 1;
  END IF;
  RETURN NULL;
END;
$$;
CREATE TRIGGER "asset_month_count" AFTER INSERT OR DELETE OR UPDATE OF "ownerId", "localDateTime", visibility, "isFavorite", "deletedAt", status, "stackId"
  ON "asset" FOR EACH ROW EXECUTE FUNCTION asset_month_count_update();

INSERT INTO asset_month_count ("ownerId", month, visibility, "isFavorite", state, stacked, count)
SELECT "ownerId", date_trunc('MONTH', "localDateTime" AT TIME ZONE 'UTC'), visibility, "isFavorite", asset_month_state("deletedAt", status), "stackId" IS NOT NULL, count(*)
FROM asset GROUP BY 1, 2, 3, 4, 5, 6;
