-- Places for reverse geocoding (`/map/reverse-geocode`, the city/state/country of photos)
-- and `/search/places`, under Immich's names: a database Immich filled keeps its table and
-- indexes, and the server fills an empty one from `$IMMICH_BUILD_DATA/geodata` at start.

CREATE TABLE IF NOT EXISTS "geodata_places" (
  "id" integer NOT NULL,
  "name" character varying(200) NOT NULL,
  "longitude" double precision NOT NULL,
  "latitude" double precision NOT NULL,
  "countryCode" character(2) NOT NULL,
  "admin1Code" character varying(20),
  "admin2Code" character varying(80),
  "modificationDate" date NOT NULL,
  "admin1Name" character varying,
  "admin2Name" character varying,
  "alternateNames" character varying,
  CONSTRAINT "geodata_places_pkey" PRIMARY KEY ("id")
);

CREATE INDEX IF NOT EXISTS "IDX_geodata_gist_earthcoord" ON "geodata_places" USING gist (ll_to_earth_public(latitude, longitude));
CREATE INDEX IF NOT EXISTS "idx_geodata_places_name" ON "geodata_places" USING gin (f_unaccent("name") gin_trgm_ops);
CREATE INDEX IF NOT EXISTS "idx_geodata_places_admin1_name" ON "geodata_places" USING gin (f_unaccent("admin1Name") gin_trgm_ops);
CREATE INDEX IF NOT EXISTS "idx_geodata_places_admin2_name" ON "geodata_places" USING gin (f_unaccent("admin2Name") gin_trgm_ops);
CREATE INDEX IF NOT EXISTS "idx_geodata_places_alternate_names" ON "geodata_places" USING gin (f_unaccent("alternateNames") gin_trgm_ops);

-- Country borders (Natural Earth), for positions with no place within 25 km.
CREATE TABLE IF NOT EXISTS "naturalearth_countries" (
  "id" integer NOT NULL GENERATED ALWAYS AS IDENTITY,
  "admin" character varying(50) NOT NULL,
  "admin_a3" character varying(3) NOT NULL,
  "type" character varying(50) NOT NULL,
  "coordinates" polygon NOT NULL,
  CONSTRAINT "naturalearth_countries_pkey" PRIMARY KEY ("id")
);
